// The Winograd F(2x2, 3x3) conv2d variants, the CPU kernel (kernels/conv2d_winograd.wgsl;
// 'wino-*' in CONV2D_VARIANTS) and the GEMM form for GPUs (kernels/conv2d_winograd_gemm.wgsl
// around conv2d_gpu.wgsl's split-K GEMM; 'wgemm-*'), which the every-variant tests also
// run where they are eligible, against the float64 reference where these kernels have
// their own edges: odd output sizes
// (tiles straddle the bottom and right edges), dilation (tiles on the dil-subsampled
// grid), padding 0 / 1 / 2, Cin not a multiple of 4 or 8 (U rows past Cin, scalar x
// loads), Cout not a multiple of the 8-32 channels an invocation owns, N = 2, more tiles
// than one workgroup (and, for the GEMM, more tiles than one GEMM tile and channels past
// a K slice), residual + ReLU, a channel window, f16 weights; weights derived once per
// layout and freed with the weights; ineligible shapes refused.
//
// Tolerance: Winograd F(2,3) in f32 rounds in the transforms as well as in the sums.
// Each output is A^T (sum over ci of (B^T d B) . (G g G^T)) A. The transforms add
// values up: per dimension B^T's rows sum 2 inputs, A^T's rows 3 products (|.| at most
// 2 and 3 times the largest), and G's rows have absolute sums up to 1.5, so the values
// rounded are up to (2 * 3 * 1.5)^2 = 81 times the |x| |w| products a direct conv rounds,
// in the worst case; cancellation then brings the result back to the direct conv's size.
// As rounding errors add like a random walk, we allow sqrt(81) = 9 times the direct
// conv's bound on the same scale: max |err| <= 8 eps32 sqrt(9 Cin) * 9 S, with S the
// largest sum over (ci, kh, kw) of |x| |w| of any output plus |bias| + |residual| (the
// scale a direct conv's error is proportional to; >= max |ref|). F(4x4, 3x3) (wgemm4-*)
// by the same argument: B^T's rows have absolute sums up to 10, A^T's up to 19 and G's
// up to 1, so (10 * 19)^2 = 36100 in the worst case and sqrt(36100) = 190 times the direct
// conv's bound (it measures about 15 times F2's error).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeF16, f16BitsToF32 } from '../src/io/float16.ts';
import {
  CONV2D_VARIANTS, conv2d, conv2dShapeClass, defaultConv2dVariant, installConv2dChoices, installedConv2dChoices, isCpuAdapter, prepareConv2d,
  WINOGRAD_MIN_FILL, WINOGRAD_MIN_M, WINOGRAD_TWO_TILES_M, type Conv2dShape, type Conv2dVariantName,
} from '../src/ops/conv2d.ts';
import { winogradIneligible, winogradSupported, winogradTiles } from '../src/ops/conv2d-winograd.ts';
import { winogradGemmBuffers, winogradGemmIneligible } from '../src/ops/conv2d-winograd-gemm.ts';
import { conv2dCandidates } from '../src/ops/conv2d-autotune.ts';
import { dispatchesMade } from './_lib/dispatch-spy.ts';
import type { Runtime } from '../src/runtime/runtime.ts';
import { testRuntime } from './_lib/gpu.ts';
import { uniform } from './_lib/random.ts';
import { assertClose } from './_lib/tolerance.ts';
import { conv2dRef } from './cpu/conv2d.ts';
import { channelWindow } from './_lib/channel-window.ts';
import type { Shape4, Pair } from './_lib/conv-case.ts';

const WINO = (Object.keys(CONV2D_VARIANTS) as Conv2dVariantName[]).filter((n) => CONV2D_VARIANTS[n].kind === 'winograd' || CONV2D_VARIANTS[n].kind === 'winograd-gemm');

interface Case { name: string; x: Shape4; cout: number; padding: Pair; dilation?: Pair; residual?: boolean; relu?: boolean; f4?: boolean; gemmOnly?: boolean }

const CASES: Case[] = [
  { name: 'Cin 16, Cout 32, pad 1 on 9x7 (odd: tiles straddle both edges)', x: [1, 9, 7, 16], cout: 32, padding: [1, 1], f4: true },
  { name: 'Cin 20 (8 + 8 + 4), Cout 40, pad 0 on 8x11 (valid: OH 6, OW 9)', x: [1, 8, 11, 20], cout: 40, padding: [0, 0], relu: true },
  { name: 'Cin 6 (scalar loads), Cout 13, pad 1 on 5x6, N 2, residual + ReLU', x: [2, 5, 6, 6], cout: 13, padding: [1, 1], residual: true, relu: true, f4: true },
  { name: 'Cin 12, Cout 36, dilation 2, pad 2 on 13x10 (phases of odd length)', x: [1, 13, 10, 12], cout: 36, padding: [2, 2], dilation: [2, 2], f4: true },
  { name: 'Cin 9, Cout 8, dilation (3, 2), pad (3, 1) on 11x9', x: [1, 11, 9, 9], cout: 8, padding: [3, 1], dilation: [3, 2] },
  { name: 'Cin 32, Cout 70, pad 1 on 27x21 (154 tiles: more than a workgroup of either variant)', x: [1, 27, 21, 32], cout: 70, padding: [1, 1], residual: true },
  { name: 'Cin 37 (3 K slices of the GEMM), Cout 132 (past a 128-channel GEMM tile), pad 1 on 24x23, N 2 (288 tiles)', x: [2, 24, 23, 37], cout: 132, padding: [1, 1], relu: true, f4: true, gemmOnly: true },
  { name: 'Cin 1, Cout 1, pad 1 on 3x3, N 2 (wino-t2c16\'s turn: its batch index)', x: [2, 3, 3, 1], cout: 1, padding: [1, 1] },
];

/** The largest sum of |x| |w| over the products of one output: the scale of its rounding error. */
function absScale(xs: Float32Array, xShape: Shape4, ws: Float32Array, wShape: Shape4, padding: Pair, dilation: Pair): number {
  const ref = conv2dRef({ x: xs.map(Math.abs), xShape, weight: ws.map(Math.abs), wShape, stride: [1, 1], padding, dilation });
  return ref.out.reduce((a, b) => Math.max(a, b), 0);
}

/** F(m x m, 3x3)'s output tile m. */
const tileOf = (v: Conv2dVariantName): number => { const c = CONV2D_VARIANTS[v]; return c.kind === 'winograd-gemm' ? (c.winogradGemm.m ?? 2) : 2; };
const CPU_WINO = WINO.filter((n) => CONV2D_VARIANTS[n].kind === 'winograd');
// Two GEMM tiles, shared by F2 and F4 (a GEMM tile compiles for seconds on lavapipe,
// cold; the every-variant tests run all of them, test/conv2d-variants.test.ts).
const GEMM2: Conv2dVariantName[] = ['wgemm-128x128', 'wgemm-64x64'];
const GEMM4: Conv2dVariantName[] = ['wgemm4-128x128', 'wgemm4-64x64'];
/** Cases both CPU kernels run: tiles straddling odd edges, dilation phases, more tiles than a workgroup. */
const BOTH_CPU = new Set([0, 3, 5]);
/**
 * The CPU kernel's variants (unless `gemmOnly`: a case about the GEMM's edges; each CPU
 * pipeline, one per variant and epilogue, compiles for 4-11 s on lavapipe, cold): both in
 * the BOTH_CPU cases, taking turns elsewhere (they differ in tiles per invocation only);
 * one GEMM tile of F2, the tiles taking turns over the cases, and of F4 in the cases that
 * `f4` marks (its transforms share F2's layout code).
 */
const winoVariants = (i: number, f4 = true, gemmOnly = false): Conv2dVariantName[] => [
  ...(gemmOnly ? [] : BOTH_CPU.has(i) ? CPU_WINO : [CPU_WINO[i % CPU_WINO.length]]),
  GEMM2[i % GEMM2.length],
  ...(f4 ? [GEMM4[i % GEMM4.length]] : []),
];

/** Winograd's tolerance: 9x (F2) or 190x (F4) a direct conv's for the same K, on the |x| |w| scale (header). */
const winoClose = (variant: Conv2dVariantName, got: ArrayLike<number>, want: ArrayLike<number>, k: number, scale: number, label: string) =>
  assertClose(got, want, { k, scale: (tileOf(variant) === 4 ? 190 : 9) * scale, label });

function requireSubgroups(rt: Awaited<ReturnType<typeof testRuntime>>): void {
  assert.ok(winogradSupported(rt), `this adapter (${rt.describe()}) lacks subgroups of 8; the Winograd cases need them`);
}

test('the Winograd variants are registered', () => {
  assert.equal(WINO, ['wino-t1c16', 'wino-t2c16', 'wgemm-128x128', 'wgemm-128x64', 'wgemm-64x128', 'wgemm-64x64', 'wgemm4-128x128', 'wgemm4-64x128', 'wgemm4-64x64']);
});

for (const [i, c] of CASES.entries()) {
  test(`winograd conv: ${c.name}`, async () => {
    const rt = await testRuntime();
    requireSubgroups(rt);
    const cin = c.x[3];
    const wShape: Shape4 = [c.cout, cin, 3, 3];
    const dilation = c.dilation ?? [1, 1];
    const xs = uniform(c.x.reduce((a, b) => a * b), 71);
    const ws = uniform(c.cout * cin * 9, 72);
    const bias = uniform(c.cout, 73);
    const plain = conv2dRef({ x: xs, xShape: c.x, weight: ws, wShape, bias, stride: [1, 1], padding: c.padding, dilation });
    const res = c.residual ? uniform(plain.out.length, 74) : undefined;
    const ref = conv2dRef({ x: xs, xShape: c.x, weight: ws, wShape, bias, stride: [1, 1], padding: c.padding, dilation, residual: res, relu: c.relu });
    const scale = absScale(xs, c.x, ws, wShape, c.padding, dilation) + 2; // + |bias| + |residual| <= 1 each
    const w = prepareConv2d(rt, { weight: ws, shape: wShape, bias });
    const x = rt.upload(c.x, xs);
    const residual = res ? rt.upload(ref.shape, res) : undefined;
    for (const variant of winoVariants(i, c.f4 === true, c.gemmOnly)) {
      const y = conv2d(rt, x, w, { padding: c.padding, dilation, residual, relu: c.relu, variant });
      assert.equal(y.shape, ref.shape);
      winoClose(variant, await y.read(), ref.out, 9 * cin, scale, `${variant}: ${c.name}`);
      y.dispose();
    }
    x.dispose();
    residual?.dispose();
    w.dispose();
  });
}

test('winograd conv writes a channel window (scalar and vec4 stores) and leaves the rest', async () => {
  const rt = await testRuntime();
  requireSubgroups(rt);
  for (const [k, [cout, offset, channels]] of [[6, 3, 11], [20, 4, 28]].entries()) {
    const xShape: Shape4 = [1, 7, 5, 10];
    const xs = uniform(7 * 5 * 10, 81);
    const ws = uniform(cout * 10 * 9, 82);
    const ref = conv2dRef({ x: xs, xShape, weight: ws, wShape: [cout, 10, 3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1] });
    const scale = absScale(xs, xShape, ws, [cout, 10, 3, 3], [1, 1], [1, 1]);
    const w = prepareConv2d(rt, { weight: ws, shape: [cout, 10, 3, 3] });
    const x = rt.upload(xShape, xs);
    for (const variant of winoVariants(k + 1, k === 0)) {
      const before = uniform(35 * channels, 83, 5, 6);
      const out = rt.upload([1, 7, 5, channels], before);
      conv2d(rt, x, w, { padding: 1, out: { tensor: out, channelOffset: offset }, variant });
      const window = channelWindow(await out.read(), before, { pixels: 35, channels, offset, count: cout, label: variant });
      winoClose(variant, window, ref.out, 90, scale, `${variant} window Cout ${cout}`);
      out.dispose();
    }
    x.dispose();
    w.dispose();
  }
});

test('winograd conv, f16 weights: transformed in f32 from the f16-rounded weights', async () => {
  const rt = await testRuntime();
  requireSubgroups(rt);
  assert.ok(rt.hasFeature('shader-f16'), `this adapter lacks shader-f16 (${rt.describe()}); the f16 case needs it`);
  const xShape: Shape4 = [1, 7, 6, 20];
  const wShape: Shape4 = [24, 20, 3, 3];
  const xs = uniform(7 * 6 * 20, 91);
  const ws = uniform(24 * 20 * 9, 92);
  const wh = Float32Array.from(encodeF16(ws), f16BitsToF32);
  const ref = conv2dRef({ x: xs, xShape, weight: wh, wShape, stride: [1, 1], padding: [1, 1], dilation: [1, 1], relu: true });
  const scale = absScale(xs, xShape, wh, wShape, [1, 1], [1, 1]);
  const w = prepareConv2d(rt, { weight: ws, shape: wShape }, 'f16');
  const x = rt.upload(xShape, xs);
  // F4 too: the autotuner may pick it for f16 weights (their F4 transform is a pipeline of its own).
  for (const variant of winoVariants(3, true)) {
    const y = conv2d(rt, x, w, { padding: 1, relu: true, variant });
    winoClose(variant, await y.read(), ref.out, 180, scale, `${variant} f16`);
    y.dispose();
  }
  x.dispose();
  w.dispose();
});

// The transforms only add and subtract (never multiply by a zero coefficient), so an
// Inf input reaches only the outputs whose 3x3 window holds it, even in tiles that also
// hold other outputs (Inf - Inf inside the tile must not leak to them as NaN).
test('winograd conv keeps a non-finite input inside its receptive field', async () => {
  const rt = await testRuntime();
  requireSubgroups(rt);
  const xShape: Shape4 = [1, 7, 7, 8];
  const xs = uniform(7 * 7 * 8, 121);
  const hot = [3, 4]; // row 3 (patch row 3 of tile row 0, row 1 of tile row 2), column 4
  xs[(hot[0] * 7 + hot[1]) * 8 + 2] = Infinity;
  const ws = uniform(8 * 8 * 9, 122);
  const ref = conv2dRef({ x: xs, xShape, weight: ws, wShape: [8, 8, 3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1] });
  const finite = uniform(7 * 7 * 8, 121);
  const scale = absScale(finite, xShape, ws, [8, 8, 3, 3], [1, 1], [1, 1]);
  const w = prepareConv2d(rt, { weight: ws, shape: [8, 8, 3, 3] });
  const x = rt.upload(xShape, xs);
  const outside = (_: number, i: number): boolean => {
    const p = Math.floor(i / 8);
    return Math.abs(Math.floor(p / 7) - hot[0]) > 1 || Math.abs((p % 7) - hot[1]) > 1;
  };
  for (const variant of [...CPU_WINO, GEMM2[1]]) {
    const y = conv2d(rt, x, w, { padding: 1, variant });
    const got = await y.read();
    winoClose(variant, got.filter(outside), ref.out.filter(outside), 72, scale, `${variant}: outputs away from the Inf`);
    assert.ok(got.filter((_, i) => !outside(_, i)).some((v) => !Number.isFinite(v)), `${variant}: the Inf reaches its own outputs`);
    y.dispose();
  }
  x.dispose();
  w.dispose();
});

// F(4x4, 3x3)'s transforms spread each input over its whole 4x4 tile (exact sums cancel,
// Inf - Inf does not): a non-finite input reaches the tiles whose 6x6 patches hold it,
// and no other output.
test('winograd F(4x4) keeps a non-finite input inside the tiles whose patches hold it', async () => {
  const rt = await testRuntime();
  const xShape: Shape4 = [1, 12, 12, 8];
  const xs = uniform(12 * 12 * 8, 151);
  xs[(1 * 12 + 1) * 8 + 5] = Infinity; // input (1, 1): only tile (0, 0)'s patch (rows and columns -1..4) holds it
  const ws = uniform(8 * 8 * 9, 152);
  const ref = conv2dRef({ x: xs, xShape, weight: ws, wShape: [8, 8, 3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1] });
  const scale = absScale(uniform(12 * 12 * 8, 151), xShape, ws, [8, 8, 3, 3], [1, 1], [1, 1]);
  const w = prepareConv2d(rt, { weight: ws, shape: [8, 8, 3, 3] });
  const x = rt.upload(xShape, xs);
  const outside = (_: number, i: number): boolean => Math.floor(i / 8 / 12) >= 4 || Math.floor(i / 8) % 12 >= 4;
  for (const variant of [GEMM4[1]]) {
    const y = conv2d(rt, x, w, { padding: 1, variant });
    const got = await y.read();
    winoClose(variant, got.filter(outside), ref.out.filter(outside), 72, scale, `${variant}: outputs of the other tiles`);
    assert.ok(got.filter((_, i) => !outside(_, i)).some((v) => !Number.isFinite(v)), `${variant}: the Inf reaches its own outputs`);
    y.dispose();
  }
  x.dispose();
  w.dispose();
});

test('winograd weights: derived once per weights object, outside scopes, freed with the weights', async () => {
  const rt = await testRuntime();
  requireSubgroups(rt);
  const w = prepareConv2d(rt, { weight: uniform(8 * 8 * 9, 101), shape: [8, 8, 3, 3] });
  const x = rt.upload([1, 4, 4, 8], uniform(128, 102));
  const dispatches = rt.dispatchCount;
  rt.scope(() => conv2d(rt, x, w, { padding: 1, variant: 'wino-t1c16' }).dispose());
  assert.is(rt.dispatchCount - dispatches, 2, 'first use: transform + conv');
  const u = w.derivedTensor('winograd');
  assert.ok(u && !u.disposed, 'U outlives the scope it was made in');
  conv2d(rt, x, w, { padding: 1, variant: 'wino-t2c16' }).dispose();
  assert.is(rt.dispatchCount - dispatches, 3, 'later uses: the conv only');
  await rt.sync();
  w.dispose();
  assert.ok(u.disposed, 'U is disposed with the weights');
  x.dispose();
});

test('winograd GEMM weights: their own layout per K slice, derived once, beside the CPU kernel\'s, freed with the weights', async () => {
  const rt = await testRuntime();
  const w = prepareConv2d(rt, { weight: uniform(24 * 8 * 9, 105), shape: [24, 8, 3, 3] });
  const x = rt.upload([1, 4, 4, 8], uniform(128, 106));
  const first = dispatchesMade(rt, () => rt.scope(() => conv2d(rt, x, w, { padding: 1, variant: 'wgemm-64x64' }).dispose()));
  assert.equal(first.map((d) => `${d.kernel}:${d.entryPoint ?? 'main'}`), [
    'conv2d_winograd_weights:main', 'conv2d_winograd_gemm:input', 'conv2d_gpu:main', 'conv2d_winograd_gemm:output',
  ], 'first use: U, input transform, GEMM, output transform');
  const u = w.derivedTensor('winograd-gemm-16');
  assert.ok(u && !u.disposed, 'U outlives the scope it was made in');
  assert.equal(u.shape, [16 * 16, 24], '16 positions x 8 channels padded to the K slice of 16, x Cout');
  const later = dispatchesMade(rt, () => conv2d(rt, x, w, { padding: 1, variant: 'wgemm-128x128' }).dispose());
  assert.is(later.length, 3, 'later uses: the three conv dispatches');
  const f4 = dispatchesMade(rt, () => conv2d(rt, x, w, { padding: 1, variant: 'wgemm4-64x64' }).dispose());
  assert.equal(f4.map((d) => `${d.kernel}:${d.entryPoint ?? 'main'}`), [
    'conv2d_winograd_weights:f4', 'conv2d_winograd_gemm:input4', 'conv2d_gpu:main', 'conv2d_winograd_gemm:output4',
  ], 'F(4x4): its own U and transforms');
  assert.equal(w.derivedTensor('winograd4-gemm-16')?.shape, [36 * 16, 24], '36 positions');
  if (winogradSupported(rt)) {
    conv2d(rt, x, w, { padding: 1, variant: 'wino-t1c16' }).dispose();
    assert.ok(w.derivedTensor('winograd') && w.derivedTensor('winograd-gemm-16') === u, 'the layouts live side by side');
  }
  await rt.sync();
  w.dispose();
  assert.ok(u.disposed, 'U is disposed with the weights');
  x.dispose();
});

// Runtime.warmupFrom only records dispatches: U made then would stay empty, so it must
// not be kept; the first real run derives it.
test('winograd weights: a warm-up recording keeps no (empty) U; the next real run is right', async () => {
  const rt = await testRuntime();
  requireSubgroups(rt);
  for (const [variant, key] of [['wino-t1c16', 'winograd'], ['wgemm-64x64', 'winograd-gemm-16'], ['wgemm4-64x64', 'winograd4-gemm-16']] as const) {
  const xs = uniform(5 * 6 * 8, 131);
  const ws = uniform(24 * 8 * 9, 132);
  const ref = conv2dRef({ x: xs, xShape: [1, 5, 6, 8], weight: ws, wShape: [24, 8, 3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1] });
  const w = prepareConv2d(rt, { weight: ws, shape: [24, 8, 3, 3] });
  const x = rt.upload([1, 5, 6, 8], xs);
  const live = rt.memoryStats().liveBytes;
  await rt.warmupFrom(() => conv2d(rt, x, w, { padding: 1, variant }));
  assert.is(w.derivedTensor(key), undefined, `${variant}: nothing kept from the recording`);
  assert.is(rt.memoryStats().liveBytes, live, `${variant}: the recording released its U and scratch`);
  const y = conv2d(rt, x, w, { padding: 1, variant });
  winoClose(variant, await y.read(), ref.out, 72, absScale(xs, [1, 5, 6, 8], ws, [24, 8, 3, 3], [1, 1], [1, 1]), `${variant} after warm-up`);
  y.dispose();
  x.dispose();
  w.dispose();
  }
});

test('winograd conv refuses what it cannot run, with a plain message', async () => {
  const rt = await testRuntime();
  const x = rt.upload([1, 6, 6, 4], uniform(144, 111));
  const w3 = prepareConv2d(rt, { weight: uniform(4 * 4 * 9, 112), shape: [4, 4, 3, 3] });
  const w1 = prepareConv2d(rt, { weight: uniform(16, 113), shape: [4, 4, 1, 1] });
  const w5 = prepareConv2d(rt, { weight: uniform(4 * 4 * 15, 114), shape: [4, 4, 3, 5] });
  if (winogradSupported(rt)) {
    assert.throws(() => conv2d(rt, x, w3, { stride: 2, padding: 1, variant: 'wino-t1c16' }), (e: Error) => e instanceof RangeError && /needs stride 1 \(this conv: 2,2\)/.test(e.message));
    assert.throws(() => conv2d(rt, x, w1, { variant: 'wino-t1c16' }), (e: Error) => e instanceof RangeError && /needs a 3x3 kernel \(this conv: 1x1\)/.test(e.message));
    assert.throws(() => conv2d(rt, x, w5, { variant: 'wino-t2c16' }), /needs a 3x3 kernel \(this conv: 3x5\)/);
    assert.throws(() => conv2d(rt, x, w3, { variant: { kind: 'winograd', winograd: { WG: 64, TILES: 3 } } }), /unsupported Winograd conv shape/);
  } else {
    assert.throws(() => conv2d(rt, x, w3, { padding: 1, variant: 'wino-t1c16' }), /needs the 'subgroups' feature with subgroups of at least 8/);
  }
  // The GEMM form needs no subgroups: it refuses on every adapter for the same reasons.
  assert.throws(() => conv2d(rt, x, w3, { stride: 2, padding: 1, variant: 'wgemm-64x64' }), (e: Error) => e instanceof RangeError && /Winograd conv variant needs stride 1 \(this conv: 2,2\)/.test(e.message));
  assert.throws(() => conv2d(rt, x, w1, { variant: 'wgemm-128x128' }), (e: Error) => e instanceof RangeError && /Winograd conv variant needs a 3x3 kernel \(this conv: 1x1\)/.test(e.message));
  assert.throws(() => conv2d(rt, x, w3, { variant: { kind: 'winograd-gemm', winogradGemm: { gemm: { TM: 3, TN4: 1, WGX: 16, WGY: 16, BK: 16, splitK: false } } } }), /unsupported GPU conv tile/);
  for (const t of [x, w3, w1, w5]) t.dispose();
  // SwiftShader's subgroups are 4 wide (its compiler cannot take this kernel in a 4-lane form: conv2d-winograd.ts).
  const swiftShader = { adapter: { ...rt.adapter, subgroupMinSize: 4, subgroupMaxSize: 4 }, device: rt.device } as unknown as Runtime;
  assert.match(String(winogradIneligible(swiftShader, { KH: 3, KW: 3, stride: [1, 1] })), /subgroups of at least 8 \(this adapter: 4\)/);
});

// Its buffers (V: 4x the input, the products: 4x the output, U: 16/9 of the weights; 2.25x,
// 2.25x and 4x for F4) must each fit the adapter's bindings: a forced run that cannot is
// refused before anything is dispatched, and a tuned choice falls back to the fixed rule
// for that layer.
test('winograd GEMM: buffers past the binding limit are refused when forced, and a tuned choice falls back to the rule', async () => {
  const rt = await testRuntime();
  const max = Math.min(rt.device.limits.maxStorageBufferBindingSize, rt.device.limits.maxBufferSize);
  const side = 2 * Math.ceil(Math.sqrt(max / (16 * 4 * 256))) + 2; // even: (side/2)^2 tiles, whose 16 x 256-channel products exceed max
  const { products } = winogradGemmBuffers((side / 2) ** 2, 4, 256, 16);
  assert.ok(products > max, `${products} bytes of products exceed ${max}`);
  assert.match(String(winogradGemmIneligible(rt, { KH: 3, KW: 3, stride: [1, 1], tiles: (side / 2) ** 2, Cin: 4, Cout: 256 })), new RegExp(`a buffer of ${products} bytes \\(this adapter binds at most ${max}\\)`));
  assert.is(winogradGemmIneligible(rt, { KH: 3, KW: 3, stride: [1, 1], tiles: 64, Cin: 4, Cout: 256 }), null);
  // U: a layer with few pixels and many channels (QAMN's quality conv1, 1026 -> 1024, is one on lavapipe in F4).
  const cin = 16 * Math.ceil(max / (4 * 36 * 1024 * 16)) + 16;
  const { u } = winogradGemmBuffers(4, cin, 1024, 16, 4);
  assert.ok(u > max, `${u} bytes of U exceed ${max}`);
  assert.match(String(winogradGemmIneligible(rt, { KH: 3, KW: 3, stride: [1, 1], tiles: 4, Cin: cin, Cout: 1024, m: 4 })), new RegExp(`a buffer of ${u} bytes`));
  const x = rt.upload([1, side, side, 4], uniform(side * side * 4, 141));
  const w = prepareConv2d(rt, { weight: uniform(256 * 4 * 9, 142), shape: [256, 4, 3, 3] });
  const before = rt.dispatchCount;
  assert.throws(() => conv2d(rt, x, w, { padding: 1, variant: 'wgemm-64x64' }), (e: Error) => e instanceof RangeError && /Winograd conv variant needs a buffer of/.test(e.message));
  assert.is(rt.dispatchCount, before, 'nothing dispatched');
  const shape = { KH: 3, KW: 3, M: side * side, Cin: 4, Cout: 256, weights: 'f32' as const, stride: [1, 1] as const };
  const installed = installedConv2dChoices(rt);
  installConv2dChoices(rt, new Map([...installed, [conv2dShapeClass(shape), 'wgemm-64x64']]));
  try {
    const made = dispatchesMade(rt, () => conv2d(rt, x, w, { padding: 1 }).dispose());
    assert.not.ok(made.some((d) => d.kernel === 'conv2d_winograd_gemm'), 'the tuned GEMM choice gave way');
    assert.ok(made.length > 0);
  } finally {
    installConv2dChoices(rt, installed);
  }
  await rt.sync();
  x.dispose();
  w.dispose();
});

test('GPUs time the Winograd GEMM variants for 3x3 stride-1 convs (Cout > 16), CPU drivers two of them; the fixed rule never picks them', async () => {
  const rt = await testRuntime();
  const gpu = { adapter: { ...rt.adapter, vendor: 'nvidia', architecture: 'hopper', device: 'H200', description: 'NVIDIA' }, device: rt.device } as unknown as Runtime;
  const wgemm = (s: Partial<Conv2dShape>) => conv2dCandidates(gpu, { KH: 3, KW: 3, M: 1024, Cin: 256, Cout: 256, ...s }).filter((n) => n.startsWith('wgemm'));
  assert.equal(wgemm({}), ['wgemm-128x128', 'wgemm-128x64', 'wgemm-64x128', 'wgemm-64x64', 'wgemm4-128x128', 'wgemm4-64x128', 'wgemm4-64x64']);
  assert.equal(wgemm({ stride: [2, 2] }), []);
  assert.equal(wgemm({ KH: 1, KW: 1 }), []);
  assert.equal(wgemm({ Cout: 16 }), []);
  assert.equal(wgemm({ M: 2 ** 40 }), [], 'scratch past the binding limit');
  if (isCpuAdapter(rt)) {
    const cpu = conv2dCandidates(rt, { KH: 3, KW: 3, M: 1024, Cin: 256, Cout: 256 }).filter((n) => n.startsWith('wgemm'));
    assert.equal(cpu, ['wgemm4-128x128', 'wgemm4-64x128'], 'CPU drivers time F(4x4)\'s wide tiles beside their own kernels');
  }
  for (const M of [64, 1024, 16384, 262144]) {
    for (const Cin of [3, 256, 1026]) assert.not.ok(String(defaultConv2dVariant(gpu, { KH: 3, KW: 3, M, Cin, Cout: 256 })).startsWith('wgemm'));
  }
});

test('the fixed rule on CPU drivers with subgroups of 8: Winograd for 3x3 stride-1 convs from WINOGRAD_MIN_M pixels (Cin % 4 == 0 below WINOGRAD_TWO_TILES_M), Cout > 16, f32 weights', async () => {
  const rt = await testRuntime();
  const shape = { KH: 3, KW: 3, M: 4096, Cin: 256, Cout: 256 };
  const pick = (s: Partial<typeof shape> & { stride?: readonly [number, number]; weights?: 'f16'; winogradFill?: number }) => defaultConv2dVariant(rt, { ...shape, ...s });
  if (!(isCpuAdapter(rt) && winogradSupported(rt))) {
    assert.not.ok(String(pick({})).startsWith('wino'), 'Winograd only on CPU drivers with subgroups of 8');
    return;
  }
  assert.is(pick({}), 'wino-t2c16');
  assert.is(pick({ M: WINOGRAD_TWO_TILES_M }), 'wino-t2c16');
  assert.is(pick({ M: WINOGRAD_TWO_TILES_M - 1 }), 'wino-t1c16');
  assert.is(pick({ M: WINOGRAD_MIN_M }), 'wino-t1c16');
  assert.is(pick({ M: WINOGRAD_MIN_M - 1 }), 'cpu-p1c16');
  assert.is(pick({ stride: [2, 2] }), 'cpu-p2c32');
  assert.is(pick({ stride: [1, 2] }), 'cpu-p2c32');
  assert.is(pick({ KH: 1, KW: 1 }), 'cpu-p2c32');
  assert.is(pick({ Cin: 1026 }), 'wino-t2c16');
  assert.is(pick({ Cin: 1026, M: WINOGRAD_TWO_TILES_M - 1 }), 'cpu-p2c32');
  assert.is(pick({ Cout: 16 }), 'direct-p2c4');
  assert.is(pick({ weights: 'f16' }), 'cpu-p2c32');
  assert.is(pick({ winogradFill: WINOGRAD_MIN_FILL }), 'wino-t2c16');
  assert.is(pick({ winogradFill: 0.25 }), 'cpu-p2c32'); // dilation 8 on 8x8: one output per tile
  assert.is(winogradTiles(8, 8, 8, 8).fill, 0.25);
  assert.is(winogradTiles(7, 9, 1, 1).fill, 63 / 80);
  assert.is(winogradTiles(32, 32, 8, 8).fill, 1);
  assert.equal(winogradTiles(7, 9, 1, 1, 4), { tilesH: 2, tilesW: 3, fill: 63 / 96 });
  assert.equal(winogradTiles(13, 10, 2, 2, 4), { tilesH: 4, tilesW: 4, fill: 130 / 256 });
});

test.run();
