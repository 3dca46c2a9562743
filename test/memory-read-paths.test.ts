// The memory read's two kernels (flat: kernels/memory_read.wgsl; subgroup:
// kernels/memory_read_subgroup.wgsl, with and without the memory split and its
// combine pass) against the float64 reference on awkward shapes: M from 1 to a few
// thousand and not a multiple of the tile, Dk and Dv not multiples of 4, every tile
// set, rows wider than the adapter's subgroup (R > subgroupMinSize: the extra
// workgroup-memory step) and scores that rise across splits (the combine rescales).
// The 'gemm' path (memory-read-gemm.ts: the products on the conv2d kernels, the
// affinities written out) on the same shapes, a query laid out as a frame, and the
// scores that rise to +-80. The subgroup cases need the `subgroups` feature: without it they fail saying so
// (lavapipe and SwiftShader offer it), never pass unrun.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CPU_TARGET_WORKGROUPS, DEFAULT_TILES, gemmFits, GPU_TARGET_WORKGROUPS, MEMORY_READ_TILE_SETS, memoryRead, planMemoryRead,
  type MemoryReadOptions,
} from '../src/ops/memory-read.ts';
import { isCpuAdapter } from '../src/ops/conv2d-variants.ts';
import type { Runtime } from '../src/runtime/runtime.ts';
import { dispatchesMade } from './_lib/dispatch-spy.ts';
import { testRuntime } from './_lib/gpu.ts';
import { uniform } from './_lib/random.ts';
import { assertClose } from './_lib/tolerance.ts';
import { maxAbsScore, memoryReadRef } from './cpu/memory-read.ts';

async function subgroupRuntime(): Promise<Runtime> {
  const rt = await testRuntime();
  if (!rt.hasFeature('subgroups')) throw new Error(`the subgroup memory read did not run: ${rt.describe()} lacks 'subgroups'`);
  return rt;
}

interface Shape { q: number; m: number; dk: number; dv: number; offset?: number; slope?: number }

/** Runs memoryRead with opts on random data of shape s and checks it against the float64 reference (tolerance of test/memory-read.test.ts). */
async function check(rt: Runtime, s: Shape, opts: MemoryReadOptions, seed: number, label: string): Promise<void> {
  const mk = uniform(s.m * s.dk, seed, -1, 1);
  const mv = uniform(s.m * s.dv, seed + 1, -1, 1);
  const q = uniform(s.q * s.dk, seed + 2, -1, 1);
  if (s.offset !== undefined) {
    for (let i = 0; i < s.q; i++) q[i * s.dk] = 1;
    for (let j = 0; j < s.m; j++) mk[j * s.dk] = Math.fround(s.offset + (s.slope ?? 0) * j + mk[j * s.dk]);
  }
  const tk = rt.upload([s.m, s.dk], mk);
  const tv = rt.upload([s.m, s.dv], mv);
  const tq = rt.upload([s.q, s.dk], q);
  const out = memoryRead(rt, tk, tv, tq, opts);
  const got = await out.read();
  for (const t of [tk, tv, tq, out]) t.dispose();
  const maxV = mv.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
  const scale = maxV * (1 + 2 * maxAbsScore(mk, q, s.dk) * Math.sqrt(s.dk / s.m));
  assertClose(got, memoryReadRef(mk, mv, q, s.dk, s.dv), { k: s.m, scale, label });
}

const name = (s: Shape): string => `Q ${s.q}, M ${s.m}, Dk ${s.dk}, Dv ${s.dv}`;

// M not a multiple of BM (64), Dk and Dv not multiples of 4 or of the Dk chunk (32), Dv over one channel block (512).
const SHAPES: Shape[] = [
  { q: 3, m: 1, dk: 5, dv: 3 },
  { q: 17, m: 7, dk: 5, dv: 3 },
  { q: 9, m: 65, dk: 33, dv: 17 },
  { q: 30, m: 301, dk: 13, dv: 6 },
  { q: 5, m: 1000, dk: 130, dv: 7 },
  { q: 11, m: 3001, dk: 7, dv: 9 },
  { q: 4, m: 190, dk: 6, dv: 600 },
];

for (const [i, s] of SHAPES.entries()) {
  test(`flat path: ${name(s)}`, async () => check(await testRuntime(), s, { path: 'flat' }, 100 + 10 * i, `flat ${name(s)}`));
  test(`subgroup path, one split: ${name(s)}`, async () => check(await subgroupRuntime(), s, { path: 'subgroup', splits: 1 }, 100 + 10 * i, `subgroup ${name(s)}`));
  test(`subgroup path, the rule's split: ${name(s)}`, async () => check(await subgroupRuntime(), s, { path: 'subgroup' }, 100 + 10 * i, `subgroup rule ${name(s)}`));
  // Memories of one tile (M 1, 7) cannot split: planMemoryRead caps splits at the tiles, so they are not listed as split.
  if (Math.ceil(s.m / DEFAULT_TILES.BM) >= 3) {
    test(`subgroup path, 3 splits (last one short): ${name(s)}`, async () => {
      const rt = await subgroupRuntime();
      assert.is(planMemoryRead(rt, s.q, s.m, s.dv, { path: 'subgroup', splits: 3 }).splits, 3, 'the read splits three ways');
      await check(rt, s, { path: 'subgroup', splits: 3 }, 100 + 10 * i, `subgroup 3 splits ${name(s)}`);
    });
  }
}

for (const [i, s] of SHAPES.entries()) {
  test(`gemm path: ${name(s)}`, async () => check(await testRuntime(), s, { path: 'gemm' }, 100 + 10 * i, `gemm ${name(s)}`));
}

test('gemm path: a query laid out as a frame [1, H, W, Dk] gives [1, H, W, Dv], the flat path\'s numbers to f32 rounding; large scores', async () => {
  const rt = await testRuntime();
  const [h, w, m, dk, dv] = [5, 3, 70, 12, 10];
  const tk = rt.upload([m, dk], uniform(m * dk, 3, -1, 1));
  const tv = rt.upload([2, 35, dv], uniform(m * dv, 4, -1, 1));
  const tq = rt.upload([1, h, w, dk], uniform(h * w * dk, 5, -1, 1));
  const gemm = memoryRead(rt, tk, tv, tq, { path: 'gemm' });
  const flat = memoryRead(rt, tk, tv, tq, { path: 'flat' });
  assert.equal(gemm.shape, [1, h, w, dv]);
  assertClose(await gemm.read(), await flat.read(), { k: m, label: 'gemm against flat' });
  for (const t of [tk, tv, tq, gemm, flat]) t.dispose();
  await check(rt, { q: 9, m: 320, dk: 16, dv: 8, offset: -320, slope: 2 }, { path: 'gemm' }, 77, 'gemm rising scores');
  await check(rt, { q: 9, m: 320, dk: 16, dv: 8, offset: 1200 }, { path: 'gemm' }, 78, 'gemm scores near +300');
  const t = rt.upload([4, 4], new Float32Array(16));
  assert.throws(() => memoryRead(rt, t, t, t, { path: 'gemm', splits: 2 }), /the gemm memory read takes no tiles or splits/);
  t.dispose();
});

// Every tile set on both paths; q4c8 has 16 threads per softmax row, wider than lavapipe's
// (8) and SwiftShader's (4) subgroups, so its reductions take the workgroup-memory step.
for (const [tileName, tiles] of Object.entries(MEMORY_READ_TILE_SETS)) {
  const s: Shape = { q: 37, m: 777, dk: 35, dv: 523 };
  test(`tiles ${tileName}, flat: ${name(s)}`, async () => check(await testRuntime(), s, { path: 'flat', tiles }, 7, `flat ${tileName}`));
  test(`tiles ${tileName}, subgroup, 5 splits: ${name(s)}`, async () => check(await subgroupRuntime(), s, { path: 'subgroup', tiles, splits: 5 }, 7, `subgroup ${tileName}`));
}

test('subgroup path: scores rising -80 to +80 across 6 splits (each split rescales, the combine weighs them by e^(max_s - max))', async () => {
  const rt = await subgroupRuntime();
  await check(rt, { q: 9, m: 320, dk: 16, dv: 8, offset: -320, slope: 2 }, { path: 'subgroup', splits: 6 }, 77, 'rising scores');
  await check(rt, { q: 9, m: 320, dk: 16, dv: 8, offset: 1200 }, { path: 'subgroup', splits: 4 }, 78, 'scores near +300');
});

test('the subgroup path runs its kernels: one dispatch unsplit, main then combine split', async () => {
  const rt = await subgroupRuntime();
  const [tk, tv, tq] = [rt.upload([300, 4], uniform(1200, 5)), rt.upload([300, 4], uniform(1200, 6)), rt.upload([2, 4], uniform(8, 7))];
  const made = (splits: number) => dispatchesMade(rt, () => memoryRead(rt, tk, tv, tq, { path: 'subgroup', splits }).dispose()).map((d) => `${d.kernel}:${d.entryPoint ?? 'main'}`);
  assert.equal(made(1), ['memory_read_subgroup:main']);
  assert.equal(made(2), ['memory_read_subgroup:main', 'memory_read_subgroup:combine']);
  for (const t of [tk, tv, tq]) t.dispose();
});

test('the default is the gemm path where its affinities fit one binding (gemmFits), else the fused rule', async () => {
  const rt = await testRuntime();
  const limit = rt.device.limits.maxStorageBufferBindingSize;
  assert.ok(gemmFits(rt, 1024, 5120), 'a 512x512 step with 5 frames');
  assert.ok(gemmFits(rt, 1, limit / 4), 'exactly the limit');
  assert.not.ok(gemmFits(rt, 1, limit / 4 + 1), 'M rounded up to 4 past the limit');
  const dispatches = async (opts: MemoryReadOptions) => {
    const before = rt.dispatchCount;
    await check(rt, { q: 6, m: 50, dk: 8, dv: 4 }, opts, 9, `dispatches ${JSON.stringify(opts)}`);
    return rt.dispatchCount - before;
  };
  const gemm = await dispatches({ path: 'gemm' });
  assert.is(await dispatches({}), gemm, 'the default dispatches what the gemm path does');
  assert.ok(gemm >= 5, `gemm: pad K^T, S, softmax, pad V, PV (${gemm} dispatches)`);
  assert.is(await dispatches({ path: 'flat' }), 1, 'the flat kernel is one dispatch');
});

test('planMemoryRead: the rule', async () => {
  const rt = await testRuntime();
  const cpu = isCpuAdapter(rt);
  const target = cpu ? CPU_TARGET_WORKGROUPS : GPU_TARGET_WORKGROUPS;
  const sub = rt.hasFeature('subgroups');
  // Path: subgroup exactly where the adapter has subgroups.
  assert.is(planMemoryRead(rt, 64, 320, 512).path, sub ? 'subgroup' : 'flat');
  assert.is(planMemoryRead(rt, 64, 320, 512, { path: 'flat' }).splits, 1);
  if (!sub) throw new Error(`the split rule was not checked: ${rt.describe()} lacks 'subgroups'`);
  // One query block (Q 8, BQ 8), one channel block, 5120 positions = 80 tiles: splits up to the target, at least 4 tiles each.
  const one = planMemoryRead(rt, 8, 5120, 512);
  assert.is(one.splits, Math.min(target, 80 / 4));
  assert.ok(one.chunk % DEFAULT_TILES.BM === 0 && (one.splits - 1) * one.chunk < 5120 && one.splits * one.chunk >= 5120, `chunk ${one.chunk}`);
  // Enough query blocks for the target: no split.
  assert.is(planMemoryRead(rt, 8 * target, 5120, 512).splits, 1);
  // Short memory: a split keeps at least 4 tiles, so 3 tiles never split.
  assert.is(planMemoryRead(rt, 8, 190, 512).splits, 1);
  // Forced splits are capped at the tile count, and the flat path refuses them.
  assert.is(planMemoryRead(rt, 8, 130, 512, { splits: 9 }).splits, 3);
  assert.throws(() => planMemoryRead(rt, 8, 130, 512, { path: 'flat', splits: 2 }), /flat memory read does not split/);
  assert.throws(() => planMemoryRead(rt, 8, 130, 512, { splits: 0 }), /splits must be a positive integer/);
  // Shuffle lanes: min(threads per softmax row, the adapter's smallest subgroup).
  const sgMin = rt.adapter.subgroupMinSize || 4;
  assert.is(planMemoryRead(rt, 8, 130, 512, { tiles: MEMORY_READ_TILE_SETS.q4c8 }).sgr, Math.min(16, sgMin));
});

test.run();
