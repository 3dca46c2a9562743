// The discrete-GPU conv2d variants (kernels/conv2d_gpu.wgsl; 'gpu-*' in
// CONV2D_VARIANTS, which test/conv2d-variants.test.ts also runs on its shapes, all of
// them unsplit) against the float64 reference where split-K runs: large K, few output
// tiles, Cin and Cout not multiples of 4, stride, dilation, N = 2, residual + ReLU, a
// channel-window output, f16 weights; the split rule itself; the tile checks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeF16, f16BitsToF32 } from '../src/io/float16.ts';
import { CONV2D_VARIANTS, conv2d, isCpuAdapter, prepareConv2d, type Conv2dVariant } from '../src/ops/conv2d.ts';
import {
  checkGpuTile, conv2dGpuSplits, CPU_CONV_TARGET_WORKGROUPS, GPU_CONV_TARGET_WORKGROUPS, MIN_K_TILES_PER_SPLIT, type Conv2dGpu,
} from '../src/ops/conv2d-gpu.ts';
import type { Runtime } from '../src/runtime/runtime.ts';
import { testRuntime } from './_lib/gpu.ts';
import { uniform } from './_lib/random.ts';
import { assertClose } from './_lib/tolerance.ts';
import { conv2dRef } from './cpu/conv2d.ts';
import { channelWindow } from './_lib/channel-window.ts';
import { convCaseOnGpu, type ConvCase, type Pair, type Shape4 } from './_lib/conv-case.ts';

interface Case extends ConvCase { variants?: string[] }

const GPU_VARIANTS = Object.entries(CONV2D_VARIANTS).filter(([, v]) => v.kind === 'gpu') as [string, Conv2dVariant & { kind: 'gpu' }][];

const target = (rt: Runtime): number => (isCpuAdapter(rt) ? CPU_CONV_TARGET_WORKGROUPS : GPU_CONV_TARGET_WORKGROUPS);
const outSize = (n: number, k: number, s: number, p: number, d: number): number => Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;
const geometry = (c: Case) => ({ stride: c.stride ?? [1, 1] as Pair, padding: c.padding ?? [0, 0] as Pair, dilation: c.dilation ?? [1, 1] as Pair });

/** The split the op will use for case c with tile t on this runtime. */
function splitsFor(rt: Runtime, c: Case, t: Conv2dGpu): number {
  const g = geometry(c);
  const m = c.x[0] * outSize(c.x[1], c.w[2], g.stride[0], g.padding[0], g.dilation[0]) * outSize(c.x[2], c.w[3], g.stride[1], g.padding[1], g.dilation[1]);
  const k = c.w[2] * c.w[3] * Math.ceil(c.w[1] / 4) * 4;
  return conv2dGpuSplits(t, m, c.w[0], k, target(rt)).splits;
}

// K = 9 * 68 = 612 (39 slices of 16) over 35 pixels: one output tile, so the rule splits K.
// Every tile on the first case; one each on the others (each compiles for seconds on lavapipe).
const CASES: Case[] = [
  { name: 'Cin 67, Cout 70, 3x3 pad 1 on 5x7, residual + ReLU', x: [1, 5, 7, 67], w: [70, 67, 3, 3], padding: [1, 1], residual: true, relu: true },
  { name: 'Cin 36, Cout 9, 3x3 stride 2 dilation 2, N 2', x: [2, 11, 13, 36], w: [9, 36, 3, 3], stride: [2, 2], padding: [2, 2], dilation: [2, 2], variants: ['gpu-64x64'] },
  { name: 'Cin 130, Cout 4, 1x3 stride (1, 2) on 3x9', x: [1, 3, 9, 130], w: [4, 130, 1, 3], stride: [1, 2], padding: [0, 1], variants: ['gpu-128x64'] },
];

for (const c of CASES) {
  test(`gpu variants, split K: ${c.name}`, async () => {
    const rt = await testRuntime();
    const k = convCaseOnGpu(rt, c, 41);
    for (const [name, v] of GPU_VARIANTS.filter(([n]) => !c.variants || c.variants.includes(n))) {
      for (const splitK of [true, false]) {
        const variant: Conv2dVariant = { kind: 'gpu', gpu: { ...v.gpu, splitK } };
        const splits = splitsFor(rt, c, variant.gpu);
        if (splitK) assert.ok(splits > 1, `${name}: the case must split K (got ${splits} split)`);
        const y = conv2d(rt, k.x, k.w, { ...k.options, variant });
        assert.equal(y.shape, k.ref.shape);
        assertClose(await y.read(), k.ref.out, { k: k.k, label: `${name} (${splits} splits): ${c.name}` });
        y.dispose();
      }
    }
    k.dispose();
  });
}

test('gpu variants, split K: a channel-window output (scalar stores) leaves the other channels', async () => {
  const rt = await testRuntime();
  const xShape: Shape4 = [1, 4, 3, 70];
  const xs = uniform(4 * 3 * 70, 51);
  const ws = uniform(3 * 70 * 9, 52);
  const ref = conv2dRef({ x: xs, xShape, weight: ws, wShape: [3, 70, 3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1] });
  const w = prepareConv2d(rt, { weight: ws, shape: [3, 70, 3, 3] });
  const x = rt.upload(xShape, xs);
  for (const [name, v] of GPU_VARIANTS) {
    assert.ok(splitsFor(rt, { name, x: xShape, w: [3, 70, 3, 3], padding: [1, 1] }, v.gpu) > 1, `${name}: must split`);
    const before = uniform(12 * 10, 53, 5, 6);
    const out = rt.upload([1, 4, 3, 10], before);
    conv2d(rt, x, w, { padding: 1, out: { tensor: out, channelOffset: 5 }, variant: name as keyof typeof CONV2D_VARIANTS });
    const got = await out.read();
    const window = channelWindow(got, before, { pixels: 12, channels: 10, offset: 5, count: 3, label: name });
    assertClose(window, ref.out, { k: 9 * 70, label: `${name} window` });
    out.dispose();
  }
  x.dispose();
  w.dispose();
});

test('gpu variants, split K, f16 weights: f32 accuracy against the f16-rounded weights', async () => {
  const rt = await testRuntime();
  assert.ok(rt.hasFeature('shader-f16'), `this adapter lacks shader-f16 (${rt.describe()}); the f16 case needs it`);
  const c = CASES[0];
  const [O, I, KH, KW] = c.w;
  const g = geometry(c);
  const xs = uniform(c.x.reduce((a, b) => a * b), 61);
  const ws = uniform(O * I * KH * KW, 62);
  const wh = Float32Array.from(encodeF16(ws), f16BitsToF32);
  const ref = conv2dRef({ x: xs, xShape: c.x, weight: wh, wShape: c.w, ...g, relu: true });
  const w = prepareConv2d(rt, { weight: ws, shape: c.w }, 'f16');
  const x = rt.upload(c.x, xs);
  for (const [name, v] of GPU_VARIANTS.filter(([n]) => n === 'gpu-128x128' || n === 'gpu-64x64')) {
    assert.ok(splitsFor(rt, c, v.gpu) > 1, `${name}: must split`);
    const y = conv2d(rt, x, w, { ...g, relu: true, variant: name as keyof typeof CONV2D_VARIANTS });
    assertClose(await y.read(), ref.out, { k: KH * KW * I, label: `${name} f16` });
    y.dispose();
  }
  x.dispose();
  w.dispose();
});

test('conv2dGpuSplits: enough splits for the target, each at least MIN_K_TILES_PER_SPLIT slices, none empty', () => {
  const t: Conv2dGpu = { TM: 8, TN4: 2, WGX: 16, WGY: 16, BK: 16, splitK: true };
  // res5 at 512x512: 3x3 512->512 on 16x16, K = 4608 = 288 slices, 2 x 4 = 8 output tiles of 128x128.
  const res5 = conv2dGpuSplits(t, 256, 512, 4608, 264);
  assert.is(res5.splits, 32);
  assert.is(res5.kTilesPerSplit, 9);
  assert.ok(res5.kTilesPerSplit >= MIN_K_TILES_PER_SPLIT && (res5.splits - 1) * res5.kTilesPerSplit < 288 && res5.splits * res5.kTilesPerSplit >= 288);
  // Short K: never below MIN_K_TILES_PER_SPLIT slices per split.
  assert.is(conv2dGpuSplits(t, 256, 512, 16 * 15, 264).splits, 1);
  assert.is(conv2dGpuSplits(t, 256, 512, 16 * 16, 264).splits, 2);
  // Enough output tiles: no split; splitK false: never.
  assert.is(conv2dGpuSplits(t, 128 * 264, 128, 4608, 264).splits, 1);
  assert.is(conv2dGpuSplits({ ...t, splitK: false }, 256, 512, 4608, 264).splits, 1);
  // Rounding up the slices per split never leaves an empty split (res5 above: 33 wanted, 32 of 9 slices).
  for (let kTiles = 8; kTiles < 400; kTiles += 7) {
    const s = conv2dGpuSplits(t, 100, 100, 16 * kTiles, 264);
    assert.ok((s.splits - 1) * s.kTilesPerSplit < kTiles && s.splits * s.kTilesPerSplit >= kTiles, `K slices ${kTiles}: ${JSON.stringify(s)}`);
  }
});

test('gpu conv tiles outside the kernel assumptions are refused', async () => {
  const rt = await testRuntime();
  const ok: Conv2dGpu = { TM: 8, TN4: 2, WGX: 16, WGY: 16, BK: 16, splitK: true };
  assert.equal(checkGpuTile('t', ok, rt.device.limits), [128, 128]);
  assert.throws(() => checkGpuTile('t', { ...ok, TM: 32, WGX: 32, WGY: 8 }, rt.device.limits), /unsupported GPU conv tile/);
  assert.throws(() => checkGpuTile('t', { ...ok, TN4: 3 }, rt.device.limits), /unsupported GPU conv tile/);
  assert.throws(() => checkGpuTile('t', { ...ok, BK: 6 }, rt.device.limits), /unsupported GPU conv tile/);
  assert.throws(() => checkGpuTile('t', { ...ok, WGX: 12 }, rt.device.limits), /unsupported GPU conv tile/);
  // 2 buffers x 64 x 256 x 4 bytes = 128 KiB of workgroup memory.
  assert.throws(() => checkGpuTile('t', { ...ok, BK: 64 }, rt.device.limits), /unsupported GPU conv tile/);
});

test.run();
