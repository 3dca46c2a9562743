// `mem3d eval` and `mem3d demo`: input the run would fail on only after the GPU setup
// (or at its end, losing every round) is refused before it, in one line, with nothing
// written. Each refusal is also set up so that, were it missing, the run stops early
// (an empty case, an existing output, weights that do not load) rather than writing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mem3d, refused } from './_lib/cli-run.ts';
import { ScriptedMemory } from './_lib/scripted-memory.ts';
import { evalCommand } from '../src/cli/eval.ts';
import { writeCaseList, writePngCase } from '../src/volume/png-dataset-node.ts';
import { createVolume } from '../src/volume/volume.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const scratch = () => mkdtempSync(join(tmpdir(), 'mem3d-cli-eval-'));

/** A PNG dataset (seed layout, task 06, split test) of 32x32x4 cases: 'a' with an object, 'empty' with an all-zero mask. */
function dataset(names: string[]): string {
  const root = scratch();
  const dims = [32, 32, 4] as const;
  for (const name of names) {
    const image = createVolume({ dims, data: new Uint8Array(32 * 32 * 4).map((_, i) => i % 251), source: `${name} image` });
    const mask = createVolume({ dims, data: new Uint8Array(32 * 32 * 4).map((_, i) => (name !== 'empty' && i % 32 > 10 && i % 32 < 20 ? 1 : 0)), source: `${name} mask` });
    writePngCase(root, name, { image, mask });
  }
  writeCaseList(root, 'test', names);
  return root;
}

test('eval and demo bound --rounds before the GPU (the summary has an array per round)', async () => {
  const root = dataset(['a', 'empty']);
  const out = join(scratch(), 'o');
  for (const n of ['9007199254740991', '101']) {
    refused(await mem3d('eval', root, '--rounds', n, '--out', out), 2, new RegExp(`--rounds must be at most 100 \\(each round annotates one more slice\\), got ${n}`), `eval --rounds ${n}`);
    refused(await mem3d('demo', '--rounds', n, '--out', out), 2, new RegExp(`--rounds must be at most 100 .*got ${n}`), `demo --rounds ${n}`);
  }
  // 100 passes the flag check: these stop at the next one.
  refused(await mem3d('eval', '/nonexistent-dataset', '--rounds', '100'), 1, /no such dataset folder/, 'eval --rounds 100');
  const full = scratch();
  writeFileSync(join(full, 'dice.svg'), '<svg/>');
  refused(await mem3d('demo', '--rounds', '100', '--out', full), 1, /dice\.svg: already exists/, 'demo --rounds 100');
  assert.match((await mem3d('eval', '--help')).out, /--rounds N +rounds, 1\.\.100/);
  assert.not.ok(existsSync(out), 'nothing written');
});

test('eval refuses a case with an empty mask before the GPU, naming it (alone or after a good case)', async () => {
  const root = dataset(['a', 'empty']);
  const out = join(scratch(), 'o');
  refused(await mem3d('eval', root, '--cases', 'empty', '--out', out), 1, /case 'empty' has an empty mask \(no voxel of label 1\)/, 'the empty case alone');
  refused(await mem3d('eval', root, '--out', out), 1, /case 'empty' has an empty mask/, 'the split, the empty case last');
  assert.not.ok(existsSync(out), 'nothing written');
});

test('eval --kind: kinds the shipped 4-channel IOG cannot take are refused before the GPU, naming those it takes', async () => {
  const root = dataset(['a']);
  const out = join(scratch(), 'o');
  for (const kind of ['inside-outside', 'two-points']) {
    refused(await mem3d('eval', root, '--kind', kind, '--out', out), 2,
      new RegExp(`--kind ${kind} needs a 5-channel IOG network; the shipped one \\(weights/iog-phantom\\) has 4 channels and takes extreme-points or scribble`), kind);
  }
  refused(await mem3d('eval', '/nonexistent-dataset', '--kind', 'scribble'), 1, /no such dataset folder/, 'scribble passes the flag check');
  assert.match((await mem3d('eval', '--help')).out, /--kind K .*extreme-points \(default\) or scribble/s);
  assert.not.ok(existsSync(out), 'nothing written');
});

test('eval --cases: names are folders of the dataset, as in the split file (no path out of it)', async () => {
  const parent = scratch();
  const other = dataset(['a']);
  const root = join(parent, 'ds');
  mkdirSync(join(root, 'Task06_origin'), { recursive: true });
  mkdirSync(join(root, 'Task06_mask'));
  const out = join(parent, 'o');
  // From <root>/Task06_origin/<name>, this is the other dataset's case 'a'.
  const outside = join('..', '..', '..', other.split('/').pop()!, 'Task06_origin', 'a');
  assert.ok(existsSync(join(root, 'Task06_origin', outside)), 'the path leads to a real case');
  for (const name of [outside, '..', '.', 'x/a', 'x\\a']) {
    refused(await mem3d('eval', root, '--cases', name, '--out', out), 2, /--cases: ".*" is not a case folder name \(no '\/', '\\', '\.' or '\.\.'/, `--cases ${name}`);
  }
  assert.equal(readdirSync(parent), ['ds'], 'nothing written');
});

test('eval and demo: every weights file read (shipped, or shards an index names) is an input the --out folder may not hold', async () => {
  // Were the check to miss, eval would stop at its empty case before the GPU, so nothing lands in weights/
  // (demo has no such stop: it is checked on a copy below).
  const root = dataset(['a', 'empty']);
  const shipped = ['weights/qamn-phantom', 'weights/iog-phantom'];
  const before = shipped.map((dir) => readdirSync(join(ROOT, dir)).sort());
  for (const dir of shipped) {
    refused(await mem3d('eval', root, '--out', join(ROOT, dir)), 1, new RegExp(`refusing to write into a folder that holds the input .*${dir}/`), `eval --out ${dir}`);
  }
  assert.equal(shipped.map((dir) => readdirSync(join(ROOT, dir)).sort()), before, 'nothing written in weights/');
  // A copy of the shipped QAMN whose index names its shards in a subfolder: --out that subfolder holds no file named on the command line.
  const weights = scratch();
  const shards = join(weights, 'shards');
  mkdirSync(shards);
  const index = JSON.parse(readFileSync(join(ROOT, 'weights/qamn-phantom/qamn.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
  for (const file of new Set(Object.values(index.weight_map))) copyFileSync(join(ROOT, 'weights/qamn-phantom', file), join(shards, file));
  for (const name of Object.keys(index.weight_map)) index.weight_map[name] = `shards/${index.weight_map[name]}`;
  const copy = join(weights, 'qamn.safetensors.index.json');
  writeFileSync(copy, JSON.stringify(index));
  const files = readdirSync(shards).sort();
  refused(await mem3d('eval', root, '--memory-weights', copy, '--out', shards), 1, /refusing to write into a folder that holds the input .*shards\/qamn-/, 'eval --out the shards');
  refused(await mem3d('demo', '--memory-weights', copy, '--rounds', '1', '--out', shards), 1, /refusing to write into a folder that holds the input .*shards\/qamn-/, 'demo --out the shards');
  assert.equal(readdirSync(shards).sort(), files, 'nothing written');
});

test('eval --kind scribble says the shipped IOG was trained on extreme points only', async () => {
  const root = dataset(['a']);
  const err: string[] = [];
  // Networks that fail to load end the run right after the note (the GPU is opened: eval takes no scripted runtime).
  const stop = () => { throw new Error('stop here'); };
  const code = await evalCommand([root, '--kind', 'scribble', '--out', join(scratch(), 'o')], { log: () => {}, error: (m) => err.push(m) }, { loadNetworks: stop });
  assert.is(code, 1);
  assert.ok(err.some((m) => /^NOTE: the shipped IOG was trained on extreme points only; its scribble Dice measures it outside its training$/.test(m)), err.join('\n'));
  assert.ok(err.at(-1)!.endsWith('stop here'), err.join('\n'));
});

test('eval.json names each case\'s slice files: slice k is the k-th PNG, also where numbering starts past 0 and has gaps', async () => {
  const root = dataset(['a']);
  // The slices as 3.png, 5.png, 7.png, 9.png.
  for (const dir of ['Task06_origin', 'Task06_mask']) {
    for (const k of [3, 2, 1, 0]) renameSync(join(root, dir, 'a', `${k}.png`), join(root, dir, 'a', `${2 * k + 3}.png`));
  }
  const out = join(scratch(), 'o');
  const block = Uint8Array.from({ length: 32 * 32 }, (_, i) => (i % 32 > 10 && i % 32 < 20 ? 1 : 0));
  const networks = () => ({ segmenter: { segment: async () => block.slice() }, memory: new ScriptedMemory(), memoryLayout: 'rows-first-axis' as const, dispose() {} });
  const code = await evalCommand([root, '--rounds', '2', '--strategy', 'random', '--out', out], { log: () => {}, error: () => {} }, { loadNetworks: networks });
  assert.is(code, 0);
  const { cases } = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8')) as { cases: { name: string; sliceFiles: string[]; rounds: { slice: number }[] }[] };
  assert.equal(cases[0].sliceFiles, ['3.png', '5.png', '7.png', '9.png']);
  assert.ok(cases[0].rounds.every((r) => r.slice >= 0 && r.slice < 4), 'slices index the files');
});

test.run();

