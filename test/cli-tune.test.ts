// mem3d tune: refuses bad input before touching the GPU, writes the per-adapter conv2d
// table to the cache named by MEM3D_TUNING_CACHE, and every later command installs it;
// it meets the shape classes of one frame, of the batches a session's lanes make and of
// memory reads of several sizes.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { conv2dShapeClass, installedConv2dChoices, untunedConv2dShapes } from '../src/ops/conv2d-variants.ts';
import { MAX_READ_FRAMES, MAX_TUNE_SIZE, recordMemoryNetworkShapes } from '../src/cli/tune.ts';
import { planWeights } from '../src/cli/networks.ts';
import { createCliRuntime } from '../src/cli/runtime.ts';
import { fileTuningStore } from '../src/runtime/autotune-node.ts';
import { loadMemoryNetwork } from '../src/pretrained/node.ts';
import { DEFAULT_LANES } from '../src/session/memory.ts';
import { mem3d } from './_lib/cli-run.ts';

const dir = mkdtempSync(join(tmpdir(), 'mem3d-tune-'));
const cache = join(dir, 'autotune.json');
const saved = process.env.MEM3D_TUNING_CACHE;
const withCache = async <T>(value: string, fn: () => Promise<T>): Promise<T> => {
  process.env.MEM3D_TUNING_CACHE = value;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.MEM3D_TUNING_CACHE;
    else process.env.MEM3D_TUNING_CACHE = saved;
  }
};

test('tune refuses bad sizes, unknown networks and a switched-off cache before the GPU, writing nothing', async () => {
  for (const [args, message] of [
    [['--size', '100'], /multiples of 16/],
    [['--size', `128,${MAX_TUNE_SIZE + 16}`], new RegExp(`at most ${MAX_TUNE_SIZE}`)],
    [['--size', '128,x'], /--size must be a decimal integer/],
    [['--networks', 'qamn,unet'], /unknown network 'unet'/],
    [['--budget-s', '0'], /--budget-s must be a decimal integer >= 1/],
    [['extra'], /no positional arguments/],
  ] as const) {
    const r = await withCache(cache, () => mem3d('tune', ...args));
    assert.is(r.code, 2, args.join(' '));
    assert.match(r.err, message);
    assert.not.match(r.err, /adapter:/, 'refused before the GPU');
  }
  const off = await withCache('off', () => mem3d('tune'));
  assert.is(off.code, 2);
  assert.match(off.err, /MEM3D_TUNING_CACHE is off/);
  assert.not.ok(existsSync(cache));
});

test('tune refuses a cache it could not write, naming MEM3D_TUNING_CACHE, before the GPU', async () => {
  const folder = join(dir, 'a-folder');
  mkdirSync(folder);
  const weights = planWeights({}).files[0];
  const weightsBefore = statSync(weights).mtimeMs;
  for (const [path, message] of [
    ['/proc/x.json', /cannot write in \/proc/],
    [folder, /is a folder/],
    [weights, /refusing to write over the input/],
  ] as const) {
    const r = await withCache(path, () => mem3d('tune', '--size', '32', '--networks', 'qamn', '--budget-s', '1'));
    assert.is(r.code, 2, path);
    assert.match(r.err, message);
    assert.match(r.err, /^mem3d tune: tuning cache .*MEM3D_TUNING_CACHE/);
    assert.is(r.err.split('\n').length, 1, r.err);
  }
  assert.equal(readdirSync(folder), []);
  assert.is(statSync(weights).mtimeMs, weightsBefore);
});

test('a tuning store that cannot save leaves no temporary file behind', async () => {
  const folder = join(dir, 'cache-is-a-folder');
  mkdirSync(folder);
  let error: unknown;
  await fileTuningStore(folder).save('adapter', { conv2d: {} }).catch((e) => (error = e));
  assert.equal(readdirSync(dir).filter((f) => f.includes('tmp')), []);
  assert.match(String(error), /cannot write/);
});

/** The conv shape classes tune's recording meets at 32x32 with the shipped QAMN, and those of a one-frame step alone. */
async function recordedClasses(): Promise<{ all: Set<string>; single: Set<string> }> {
  const rt = await withCache('off', () => createCliRuntime());
  try {
    const { net } = loadMemoryNetwork(rt);
    await rt.scope(async () => {
      const frame = rt.upload([1, 32, 32, 3], new Float32Array(32 * 32 * 3));
      const entry = net.memorize(frame, rt.upload([1, 32, 32, 1], new Float32Array(32 * 32)));
      await net.segment(frame, [entry]).probability.read();
      entry.dispose();
    });
    const single = new Set(untunedConv2dShapes(rt).keys());
    await recordMemoryNetworkShapes(rt, net, 32);
    net.dispose();
    return { all: new Set(untunedConv2dShapes(rt).keys()), single };
  } finally {
    rt.destroy();
  }
}

test('tune records one frame, batches of the default lanes and memory reads up to MAX_READ_FRAMES frames', async () => {
  const { all, single } = await recordedClasses();
  for (const cls of single) assert.ok(all.has(cls), `the one-frame class ${cls}`);
  // Encoder_Q's 7x7 stride-2 conv: 16x16 outputs per frame, twice that in a batch of two.
  const conv1 = (frames: number) => conv2dShapeClass({ KH: 7, KW: 7, M: 256 * frames, Cin: 3, Cout: 64, stride: [2, 2] });
  assert.ok(single.has(conv1(1)) && !single.has(conv1(DEFAULT_LANES)) && all.has(conv1(DEFAULT_LANES)), `batch class ${conv1(DEFAULT_LANES)}`);
  // The gemm read's scores at 32x32: 4 queries against 4 positions per frame.
  for (let frames = 1; frames <= MAX_READ_FRAMES; frames *= 2) {
    const scores = conv2dShapeClass({ KH: 1, KW: 1, M: 4, Cin: 128, Cout: 4 * frames });
    assert.ok(all.has(scores), `read of ${frames} frames: ${scores}`);
  }
});

test('tune caches choices for this adapter and the next command installs them', async () => {
  const r = await withCache(cache, () => mem3d('tune', '--size', '32', '--networks', 'qamn', '--budget-s', '1'));
  assert.is(r.code, 0, r.err);
  assert.match(r.err, /^adapter: /m, 'on stderr, as in every command');
  assert.not.match(r.out, /adapter:/);
  const [, tuned, left] = /tuned (\d+) shape classes[^;]*(?:; (\d+) left to the fixed rule)?/.exec(r.out) ?? [];
  assert.ok(Number(tuned) >= 1, r.out);
  assert.is(Number(tuned) + Number(left ?? 0), (await recordedClasses()).all.size, 'every class the recording meets, tuned or left');
  const all = JSON.parse(readFileSync(cache, 'utf8')) as Record<string, { conv2d: Record<string, string> }>;
  const [key] = Object.keys(all);
  const table = all[key].conv2d;
  assert.ok(Object.keys(table).length >= 1);

  const lines: string[] = [];
  const rt = await withCache(cache, () => createCliRuntime({ log: (m) => lines.push(m), error: (m) => lines.push(m) }));
  try {
    const installed = new Map(installedConv2dChoices(rt));
    assert.equal(Object.fromEntries([...installed].filter(([cls]) => cls in table)), table);
    assert.match(lines.join('\n'), new RegExp(`conv2d: ${Object.keys(table).length} shape classes tuned for this adapter`));
  } finally {
    rt.destroy();
  }
  // Switched off, the same machine runs the fixed rule.
  const plain = await withCache('off', () => createCliRuntime());
  try {
    assert.is(installedConv2dChoices(plain).size, 0);
  } finally {
    plain.destroy();
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
