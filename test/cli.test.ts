// The mem3d command line, in process through main(argv, io): exit codes, one clear
// line on bad input, every check before any GPU work (no "adapter:" line, nothing
// written). One spawn per command checks that the executable passes exit codes and
// streams through. The one real network run is in test/orientation.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { mem3d, refused } from './_lib/cli-run.ts';
import { planWeights } from '../src/cli/networks.ts';
import { writeSafetensors } from '../src/io/safetensors-node.ts';
import { writeCaseList, writePngCase } from '../src/volume/png-dataset-node.ts';
import { serializeNifti } from '../src/volume/nifti.ts';
import { createVolume } from '../src/volume/volume.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const EXAMPLE = join(ROOT, 'examples/phantom/image.nii.gz'); // 128 x 128 x 10
const POINTS = '40,50;60,50;50,40;50,60';

function spawn(...argv: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/mem3d.mjs'), ...argv], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const scratch = () => mkdtempSync(join(tmpdir(), 'mem3d-cli-'));

const COMMANDS = ['demo', 'segment', 'eval', 'bench', 'tune', 'convert'];

test('no command lists the commands (exit 2); --help exits 0; every command has --help', async () => {
  const none = await mem3d();
  assert.is(none.code, 2);
  assert.match(none.err, /demo.*\n.*segment.*\n.*eval.*\n.*bench.*\n.*tune.*\n.*convert/s);
  assert.is(none.out, '', 'the usage of a bad call goes to stderr');
  const help = await mem3d('--help');
  assert.is(help.code, 0);
  assert.match(help.out, /demo.*\n.*segment.*\n.*eval.*\n.*bench.*\n.*tune.*\n.*convert/s);
  for (const cmd of COMMANDS) {
    const r = await mem3d(cmd, '--help');
    assert.is(r.code, 0, `${cmd} --help`);
    assert.match(r.out, new RegExp(`^usage: mem3d ${cmd}`), cmd);
  }
});

test('every network command lists --memory-weights, its default and --slice-layout', async () => {
  for (const cmd of ['demo', 'segment', 'eval', 'bench', 'tune']) {
    const r = await mem3d(cmd, '--help');
    assert.match(r.out, /--memory-weights/, cmd);
    assert.match(r.out, /Default: the QAMN trained\s+on synthetic phantoms \(weights\/qamn-phantom\),\s+for phantoms only/, cmd);
    assert.match(r.out, /real CT\s+needs converted Mem3D\/STM weights/, cmd);
    assert.match(r.out, /--slice-layout/, cmd);
  }
});

test('segment --help: points are voxel indices, with an example per axis convention', async () => {
  const r = await mem3d('segment', '--help');
  assert.match(r.out, /voxel indices/);
  assert.match(r.out, /NiiVue's vox is in its RAS-reoriented grid, the same only for\s+RAS-stored volumes/);
  assert.match(r.out, /the two voxel axes other than the slice's, in file\s+order/);
  assert.match(r.out, /axial slice k a\s+point\s+is\s+i,j/);
  assert.match(r.out, /coronal\s+slice\s+i,k/);
  assert.match(r.out, /sagittal\s+slice\s+j,k/);
  assert.match(r.out, /--points "210,300;260,305;236,280;240,330"/);
});

test('an unknown command or option is a usage error (exit 2) naming it', async () => {
  const r = await mem3d('segmnt');
  assert.is(r.code, 2);
  assert.match(r.err, /unknown command 'segmnt'/);
  refused(await mem3d('segment', 'x.nii', '--bogus'), 2, /--bogus/, 'unknown option');
});

test('segment refuses bad flags before touching any file', async () => {
  const base = ['segment', 'x.nii', '--out', 'm.nii.gz'];
  const cases: [string[], RegExp][] = [
    [['segment', 'x.nii', '--slice', '2', '--points', POINTS], /--out is required/],
    [[...base, '--points', POINTS], /--slice is required/],
    [[...base, '--slice', '2'], /--points is required/],
    [[...base, '--slice=-1', '--points', POINTS], /--slice must be a decimal integer >= 0, got '-1'/],
    [[...base, '--slice', '', '--points', POINTS], /--slice must be a decimal integer >= 0, got ''/],
    [[...base, '--slice', '0x10', '--points', POINTS], /--slice must be a decimal integer >= 0, got '0x10'/],
    [[...base, '--slice', '1e1', '--points', POINTS], /--slice must be a decimal integer/],
    [[...base, '--slice', '2', '--points', '1,2;3,4'], /exactly the 4 extreme points, got 2/],
    [[...base, '--slice', '2', '--points', `${POINTS};1,1`], /exactly the 4 extreme points, got 5/],
    [[...base, '--slice', '2', '--points', ',;,;,;,'], /point 1 ',' is not 'a,b'/],
    [[...base, '--slice', '2', '--points', '1,2;3;5,6;7,8'], /point 2 '3' is not 'a,b'/],
    [[...base, '--slice', '2', '--points', '1,2;0x3,4;5,6;7,8'], /point 2 '0x3,4' is not 'a,b'/],
    [[...base, '--slice', '2', '--points', '1,2;3.5,4;5,6;7,8'], /point 2 '3.5,4'/],
    [[...base, '--slice', '2', '--points', '1,2;-3,4;5,6;7,8'], /point 2 '-3,4'/],
    [[...base, '--slice', '2', '--points', '1,2,3;3,4;5,6;7,8'], /point 1 '1,2,3'/],
    [['segment', 'x.nii', '--slice', '2', '--points', POINTS, '--out', 'm.png'], /--out must end in \.nii or \.nii\.gz/],
    [[...base, '--slice', '2', '--points', POINTS, '--axis', 'up'], /--axis must be axial, coronal or sagittal/],
    [[...base, '--slice', '2', '--points', POINTS, '--window', '40'], /--window must be level,width/],
    [[...base, '--slice', '2', '--points', POINTS, '--window', '40,0x10'], /--window: '0x10' is not a finite decimal number/],
    [[...base, '--slice', '2', '--points', POINTS, '--window', '40,1e999'], /--window: '1e999' is not a finite decimal number/],
    [[...base, '--slice', '2', '--slice', '3', '--points', POINTS], /--slice is given more than once/],
    [[...base, '--slice', '-1', '--points', POINTS], /Option '--slice' argument is ambiguous\. Did you forget/],
    [[...base, '--slice', '2', '--points', POINTS, '--window', '40,-1'], /--window width must be > 0/],
    [[...base, '--slice', '2', '--points', POINTS, '--intensity', 'log'], /--intensity must be minmax or raw, got 'log'/],
    [[...base, '--slice', '2', '--points', POINTS, '--intensity', 'raw', '--window', '40,400'], /give --intensity or --window, not both/],
    [['segment', '--slice', '2', '--points', POINTS, '--out', 'm.nii'], /give exactly one volume, got 0/],
  ];
  for (const [args, message] of cases) refused(await mem3d(...args), 2, message, args.join(' '));
});

test('segment refuses bad files, slices, points and weights before the GPU, and writes nothing', async () => {
  const dir = scratch();
  const input = join(dir, 'ct.nii.gz');
  copyFileSync(EXAMPLE, input);
  const out = join(dir, 'mask.nii.gz');
  const seg = (...extra: string[]) => mem3d('segment', input, '--slice', '4', '--points', POINTS, '--out', out, ...extra);

  refused(await mem3d('segment', join(dir, 'none.nii.gz'), '--slice', '0', '--points', POINTS, '--out', out), 1, /none\.nii\.gz: no such file/, 'missing volume');
  refused(await mem3d('segment', dir, '--slice', '0', '--points', POINTS, '--out', out), 1, /: not a file/, 'a folder as the volume');
  refused(await mem3d('segment', input, '--slice', '0', '--points', POINTS, '--out', input), 1, /refusing to write over the input/, 'output = input');
  refused(await mem3d('segment', input, '--slice', '10', '--points', POINTS, '--out', out), 2, /--slice 10 is outside the volume: 10 axial slices \(0\.\.9\)/, 'slice out of range');
  refused(await mem3d('segment', input, '--slice', '4', '--points', '40,50;128,50;50,40;50,60', '--out', out), 2,
    /point 2 \(128,50\) is outside the axial slice \(along voxel axis k\): i,j must be within 0\.\.127, 0\.\.127/, 'point outside');
  refused(await mem3d('segment', input, '--axis', 'sagittal', '--slice', '4', '--points', '40,9;60,10;50,4;50,6', '--out', out), 2,
    /point 2 \(60,10\) is outside the sagittal slice \(along voxel axis i\): j,k must be within 0\.\.127, 0\.\.9/, 'point outside a sagittal slice');
  // User weights without slice_layout metadata, weights contradicting the flag, and bad layout flags.
  const bare = join(dir, 'bare.safetensors');
  writeSafetensors(bare, { w: { dtype: 'F32', shape: [1], data: new Float32Array([1]) } }, { format: 'pt' });
  refused(await seg('--memory-weights', bare), 1, /bare\.safetensors: the weights do not say which slice layout .* pass --slice-layout rows-first-axis\|rows-second-axis/, 'weights without a layout');
  refused(await seg('--memory-weights', join(ROOT, 'weights/iog-phantom'), '--slice-layout', 'rows-first-axis'), 1, /state slice layout rows-second-axis, --slice-layout says rows-first-axis/, 'contradicting layout');
  refused(await seg('--slice-layout', 'rows-first-axis'), 2, /--slice-layout describes --memory-weights/, 'layout without weights');
  refused(await seg('--memory-weights', bare, '--slice-layout', 'rows'), 2, /--slice-layout: slice layout 'rows' is not one of/, 'bad layout');
  refused(await seg('--memory-weights', join(dir, 'nothing')), 1, /weights not found at/, 'missing weights');
  // Raw grey levels need 8-bit voxels.
  const ct16 = join(dir, 'ct16.nii');
  writeFileSync(ct16, serializeNifti(createVolume({ dims: [32, 32, 3], data: new Int16Array(32 * 32 * 3), source: ct16 })));
  refused(await mem3d('segment', ct16, '--slice', '1', '--points', '1,2;3,4;5,6;7,8', '--intensity', 'raw', '--out', out), 2, /--intensity raw needs an unscaled uint8 volume; .*ct16\.nii holds int16/, 'raw on int16');
  // Outputs: an existing file without --overwrite, a folder, an unwritable place.
  writeFileSync(out, 'keep me');
  refused(await seg(), 1, /mask\.nii\.gz: already exists; pass --overwrite to replace it/, 'existing output');
  assert.is(readFileSync(out, 'utf8'), 'keep me', 'the existing output is untouched');
  mkdirSync(join(dir, 'folder.nii'));
  refused(await mem3d('segment', input, '--slice', '4', '--points', POINTS, '--out', join(dir, 'folder.nii')), 1, /folder\.nii: is a folder/, 'output is a folder');
  refused(await mem3d('segment', input, '--slice', '4', '--points', POINTS, '--out', join(input, 'm.nii')), 1, /is a file, not a folder/, 'output under a file');
  // Every weights file read is an input, also with --overwrite: here the shards an index names (on a copy:
  // were the guard to fail, the copy is what gets written over; the shipped ones: planWeights below).
  const weights = join(dir, 'qamn');
  cpSync(join(ROOT, 'weights/qamn-phantom'), weights, { recursive: true });
  const index = join(weights, 'qamn.safetensors.index.json');
  const shard = join(weights, Object.values(JSON.parse(readFileSync(index, 'utf8')).weight_map as Record<string, string>)[0]);
  refused(await seg('--memory-weights', index, '--profile-json', shard, '--overwrite'), 1, /refusing to write over the input/, 'a shard of --memory-weights as the profile');
  refused(await mem3d('bench', '--size', '32', '--depth', '2', '--rounds', '1', '--memory-weights', index, '--json', shard, '--overwrite'), 1, /refusing to write over the input/, 'bench --json over a shard');
  // Weights the memory network cannot load, refused before the GPU: another network's, a truncated shard.
  refused(await seg('--memory-weights', join(ROOT, 'weights/iog-phantom'), '--overwrite'), 1, /iog\.safetensors\.index\.json: not QAMN or STM memory-network weights: against QAMN \d+ tensors missing, 0 mis-shaped, \d+ unexpected/, 'IOG weights as the memory network');
  truncateSync(shard, statSync(shard).size - 1000);
  refused(await seg('--memory-weights', index, '--overwrite'), 1, /run past the end|truncated/, 'a truncated shard');
  assert.equal(readdirSync(dir).sort(), ['bare.safetensors', 'ct.nii.gz', 'ct16.nii', 'folder.nii', 'mask.nii.gz', 'qamn'], 'nothing else written');
});

test('planWeights lists every weights file a command reads, the shipped shards included (outputs may replace none)', () => {
  const shipped = ['weights/qamn-phantom', 'weights/iog-phantom'].flatMap((d) => readdirSync(join(ROOT, d)).filter((f) => f.endsWith('.safetensors') || f.endsWith('.index.json')).map((f) => join(ROOT, d, f)));
  assert.equal(planWeights({}).files.map((f) => resolve(f)).sort(), shipped.sort());
});

/** A 2-case PNG dataset (seed layout, task 06) in a new folder. */
function dataset(): string {
  const root = scratch();
  const dims = [32, 32, 4] as const;
  for (const name of ['a', 'b']) {
    const image = createVolume({ dims, data: new Uint8Array(32 * 32 * 4).map((_, i) => i % 251), source: `${name} image` });
    const mask = createVolume({ dims, data: new Uint8Array(32 * 32 * 4).map((_, i) => (i % 32 > 10 && i % 32 < 20 ? 1 : 0)), source: `${name} mask` });
    writePngCase(root, name, { image, mask });
  }
  writeCaseList(root, 'test', ['a', 'b']);
  return root;
}

test('eval refuses bad flags, folders, outputs and undecodable PNGs before the GPU', async () => {
  refused(await mem3d('eval', '/nonexistent-dataset', '--out', join(scratch(), 'o')), 1, /nonexistent-dataset: no such dataset folder/, 'no dataset');
  refused(await mem3d('eval', '/x', '--strategy', 'best'), 2, /--strategy must be/, 'strategy');
  refused(await mem3d('eval', '/x', '--rounds', '0'), 2, /--rounds must be a decimal integer >= 1/, 'rounds');
  refused(await mem3d('eval', '/x', '--cases', 'a,,b'), 2, /--cases has an empty name/, 'empty case');
  const root = dataset();
  refused(await mem3d('eval', root, '--out', join(root, 'eval-out')), 1, /refusing to write inside the input directory/, 'out inside the dataset');
  refused(await mem3d('eval', root, '--out', root), 1, /refusing to write over the input|inside the input/, 'out = dataset');
  const out = scratch();
  writeFileSync(join(out, 'eval.json'), '{}');
  refused(await mem3d('eval', root, '--out', out), 1, /eval\.json: already exists; pass --overwrite/, 'existing eval.json');
  // A truncated PNG is found up front, its case named (its file too, where the decoder says which).
  const png = join(root, 'Task06_origin', 'b', '2.png');
  assert.ok(existsSync(png), png);
  truncateSync(png, statSync(png).size - 20);
  refused(await mem3d('eval', root, '--out', join(scratch(), 'o')), 1, /Task06_origin\/b\/2\.png|case 'b' cannot be read/, 'truncated PNG');
});

test('demo and bench check their outputs and numbers before the GPU', async () => {
  const out = scratch();
  writeFileSync(join(out, 'dice.svg'), '<svg/>');
  refused(await mem3d('demo', '--out', out), 1, /dice\.svg: already exists; pass --overwrite/, 'demo output exists');
  refused(await mem3d('demo', '--rounds', '0x3'), 2, /--rounds must be a decimal integer/, 'demo rounds');
  refused(await mem3d('demo', 'extra'), 2, /no positional arguments/, 'demo positional');
  refused(await mem3d('bench', '--size', '40'), 2, /--size must be a multiple of 16/, 'bench size');
  refused(await mem3d('bench', '--size', '1048576'), 2, /--size is at most 2048, got 1048576/, 'bench size too large');
  refused(await mem3d('bench', '--depth', '100000'), 2, /--depth is at most 1024/, 'bench depth too large');
  const json = join(out, 'b.json');
  writeFileSync(json, '{}');
  refused(await mem3d('bench', '--json', json), 1, /b\.json: already exists/, 'bench json exists');
});

test('convert: a folder as the checkpoint, a file as --out and an earlier conversion get one clear line', async () => {
  const dir = scratch();
  refused(await mem3d('convert', dir, '--out', join(dir, 'w')), 1, /is a folder; give the checkpoint file/, 'checkpoint folder');
  const ckpt = join(dir, 'model.pth');
  writeFileSync(ckpt, 'not a checkpoint');
  const file = join(dir, 'file');
  writeFileSync(file, '');
  refused(await mem3d('convert', ckpt, '--out', file), 1, /--out is a file; give a folder/, 'out is a file');
  refused(await mem3d('convert', ckpt, '--out', join(file, 'sub')), 1, /is a file, not a folder/, 'out under a file');
  mkdirSync(join(dir, 'w'));
  writeFileSync(join(dir, 'w', 'qamn.safetensors.index.json'), '{}');
  refused(await mem3d('convert', ckpt, '--out', join(dir, 'w'), '--model', 'qamn'), 1, /holds an earlier conversion \(qamn\.safetensors\.index\.json\); pass --overwrite/, 'earlier conversion');
  refused(await mem3d('convert', ckpt, '--out', join(dir, 'w'), '--model', 'qamn', '--overwrite'), 1, /model\.pth/, 'unreadable checkpoint');
  assert.is(readFileSync(join(dir, 'w', 'qamn.safetensors.index.json'), 'utf8'), '{}', 'a failed conversion leaves the old files');
  // The shared flag rules: a flag given twice is refused (not last-wins), parseArgs' three-line message is one.
  refused(await mem3d('convert', ckpt, '--out', join(dir, 'a'), '--out', join(dir, 'b')), 2, /--out is given more than once/, 'convert --out twice');
  refused(await mem3d('convert', ckpt, '--out', '-1'), 2, /Option '--out' argument is ambiguous/, 'convert --out -1');
});

test('the executable: one spawn per command passes exit codes, stdout and stderr through', () => {
  const help = spawn('demo', '--help');
  assert.is(help.code, 0);
  assert.match(help.out, /^usage: mem3d demo/);
  const seg = spawn('segment', 'x.nii', '--slice', '1', '--points', '1,2', '--out', 'm.nii');
  assert.is(seg.code, 2);
  assert.match(seg.err, /^mem3d segment: --points needs exactly the 4 extreme points, got 1/);
  const ev = spawn('eval', '/nonexistent-dataset');
  assert.is(ev.code, 1);
  assert.match(ev.err, /^mem3d eval: \/nonexistent-dataset: no such dataset folder\n$/);
  const bench = spawn('bench', '--depth', '1');
  assert.is(bench.code, 2);
  assert.match(bench.err, /--depth must be a decimal integer >= 2/);
  const convert = spawn('convert');
  assert.is(convert.code, 2);
  assert.match(convert.err, /give exactly one checkpoint file/);
  assert.is(convert.out, '');
});

test.run();
