// Output guards of src/volume/safe-write-node.ts: atomic replacement, refusal of
// existing outputs without overwrite, of folders and of places that take no files.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertWritableFolder, checkOutputFile, checkOutputFolder, writeFileAtomic } from '../src/volume/safe-write-node.ts';

const scratch = () => mkdtempSync(join(tmpdir(), 'mem3d-safe-write-'));

test('writeFileAtomic writes and replaces a file whole, leaving no temporary file', () => {
  const dir = scratch();
  const path = join(dir, 'out.bin');
  writeFileAtomic(path, new Uint8Array([1, 2, 3]));
  assert.equal([...readFileSync(path)], [1, 2, 3]);
  writeFileAtomic(path, 'text');
  assert.is(readFileSync(path, 'utf8'), 'text');
  assert.equal(readdirSync(dir), ['out.bin']);
});

test('writeFileAtomic creates the folders checkOutputFile accepted at an existing ancestor (a whole run must not end in ENOENT)', () => {
  const dir = scratch();
  const path = join(dir, 'new', 'deeper', 'mask.nii.gz');
  checkOutputFile(path, { inputs: [], overwrite: false });
  writeFileAtomic(path, new Uint8Array([7]));
  assert.equal([...readFileSync(path)], [7]);
  assert.equal(readdirSync(join(dir, 'new', 'deeper')), ['mask.nii.gz']);
});

test('writeFileAtomic: a failed rename leaves the target as it was and removes its temporary file', () => {
  const dir = scratch();
  const target = join(dir, 'taken');
  mkdirSync(target);
  writeFileSync(join(target, 'inside'), 'x');
  assert.throws(() => writeFileAtomic(target, 'data'), /taken: cannot write \(E/);
  assert.equal(readdirSync(dir), ['taken'], 'no temporary file left');
  assert.is(readFileSync(join(target, 'inside'), 'utf8'), 'x');
});

test('checkOutputFile: existing output only with overwrite; never an input (also through a symlink); not a folder', () => {
  const dir = scratch();
  const input = join(dir, 'in.nii');
  writeFileSync(input, 'volume');
  const out = join(dir, 'out.nii');
  checkOutputFile(out, { inputs: [input], overwrite: false });
  writeFileSync(out, 'old');
  assert.throws(() => checkOutputFile(out, { inputs: [input], overwrite: false }), /out\.nii: already exists; pass --overwrite/);
  checkOutputFile(out, { inputs: [input], overwrite: true });
  assert.throws(() => checkOutputFile(input, { inputs: [input], overwrite: true }), /refusing to write over the input/);
  const link = join(dir, 'link.nii');
  symlinkSync(input, link);
  assert.throws(() => checkOutputFile(link, { inputs: [input], overwrite: true }), /refusing to write over the input/);
  assert.throws(() => checkOutputFile(dir, { inputs: [], overwrite: true }), /is a folder; give a file name/);
  assert.throws(() => checkOutputFile(join(input, 'x.nii'), { inputs: [], overwrite: false }), /is a file, not a folder/);
  assert.equal(readdirSync(dir).sort(), ['in.nii', 'link.nii', 'out.nii'], 'the checks wrote nothing');
});

test('checkOutputFile: an empty path and a folder path (trailing separator) are refused before any work', () => {
  const dir = scratch();
  assert.throws(() => checkOutputFile('', { inputs: [], overwrite: true }), /an empty output path/);
  assert.throws(() => checkOutputFile(join(dir, 'new') + '/', { inputs: [], overwrite: true }), /ends in a separator/);
});

test('checkOutputFolder: a listed file that is a folder is refused, also with overwrite', () => {
  const dir = scratch();
  mkdirSync(join(dir, 'eval.json'));
  assert.throws(() => checkOutputFolder(dir, ['eval.json'], { inputs: [], overwrite: true }), /eval\.json: is a folder/);
});

test('checkOutputFolder: listed files refused without overwrite; a folder holding or inside an input refused', () => {
  const root = scratch();
  const dataset = join(root, 'data');
  mkdirSync(dataset);
  const out = join(root, 'out');
  checkOutputFolder(out, ['eval.json'], { inputs: [dataset], overwrite: false });
  mkdirSync(out);
  writeFileSync(join(out, 'eval.json'), '{}');
  assert.throws(() => checkOutputFolder(out, ['eval.json'], { inputs: [dataset], overwrite: false }), /eval\.json: already exists/);
  checkOutputFolder(out, ['eval.json'], { inputs: [dataset], overwrite: true });
  assert.throws(() => checkOutputFolder(join(dataset, 'o'), ['eval.json'], { inputs: [dataset], overwrite: true }), /inside the input directory/);
  assert.throws(() => checkOutputFolder(root, ['eval.json'], { inputs: [dataset], overwrite: true }), /holds the input/);
  writeFileSync(join(root, 'file'), '');
  assert.throws(() => checkOutputFolder(join(root, 'file'), [], { inputs: [], overwrite: true }), /is a file; give a folder/);
});

test('assertWritableFolder: a folder to be created is checked at its nearest existing ancestor', () => {
  const dir = scratch();
  assertWritableFolder(join(dir, 'a', 'b', 'c'));
  assert.equal(readdirSync(dir), [], 'the probe file is gone and nothing was created');
});

test.run();
