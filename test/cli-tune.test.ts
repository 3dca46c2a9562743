// mem3d tune: refuses bad input before touching the GPU, writes the per-adapter conv2d
// table to the cache named by MEM3D_TUNING_CACHE, and every later command installs it;
// it meets the shape classes of one frame and of the batches a session's lanes make.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { installedConv2dChoices, untunedConv2dShapes } from '../src/ops/conv2d-variants.ts';
import { createCliRuntime } from '../src/cli/runtime.ts';
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

test('tune refuses bad sizes, unknown networks and a switched-off cache, writing nothing', async () => {
  for (const [args, message] of [
    [['--size', '100'], /multiples of 16/],
    [['--size', '128,x'], /--size must be a decimal integer/],
    [['--networks', 'qamn,unet'], /unknown network 'unet'/],
    [['--budget-s', '0'], /--budget-s must be a decimal integer >= 1/],
    [['extra'], /no positional arguments/],
  ] as const) {
    const r = await withCache(cache, () => mem3d('tune', ...args));
    assert.is(r.code, 2, args.join(' '));
    assert.match(r.err, message);
  }
  const off = await withCache('off', () => mem3d('tune'));
  assert.is(off.code, 2);
  assert.match(off.err, /MEM3D_TUNING_CACHE is off/);
  assert.not.ok(existsSync(cache));
});

/** The conv shape classes a 32x32 step of one frame and of a batch of DEFAULT_LANES meet, with the shipped QAMN. */
async function stepClasses(): Promise<number> {
  const rt = await withCache('off', () => createCliRuntime());
  try {
    const { net } = loadMemoryNetwork(rt);
    for (const n of [1, DEFAULT_LANES]) {
      await rt.scope(async () => {
        const frames = rt.upload([n, 32, 32, 3], new Float32Array(n * 32 * 32 * 3));
        const entries = net.memorizeBatch(frames, rt.upload([n, 32, 32, 1], new Float32Array(n * 32 * 32)));
        await net.segmentBatch(frames, entries.map((e) => [e])).probability.read();
        for (const e of entries) e.dispose();
      });
      if (n === 1) assert.ok(untunedConv2dShapes(rt).size > 0, 'one frame meets shape classes');
    }
    net.dispose();
    return untunedConv2dShapes(rt).size;
  } finally {
    rt.destroy();
  }
}

test('tune caches choices for this adapter and the next command installs them', async () => {
  const r = await withCache(cache, () => mem3d('tune', '--size', '32', '--networks', 'qamn', '--budget-s', '1'));
  assert.is(r.code, 0, r.err);
  const [, tuned, left] = /tuned (\d+) shape classes[^;]*(?:; (\d+) left to the fixed rule)?/.exec(r.out) ?? [];
  assert.ok(Number(tuned) >= 1, r.out);
  assert.is(Number(tuned) + Number(left ?? 0), await stepClasses(), 'every class of one frame and of a batch met (tuned or left)');
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
