// f16 weights (the conv2d_f16 kernel) against float64 CPU references on the awkward
// shapes: Cin not a multiple of 4, stride 2, dilation, odd sizes, partial tiles,
// residual + ReLU; every variant (tiled and direct read the weights differently) on
// the first case (stride, dilation, two images, padded Cin), the runtime's choice on the others.
//
// Two references per case:
//  - the f64 conv with the f16-rounded weights: the kernel must match it to f32
//    accuracy (the f32 rule of test/_lib/tolerance.ts), i.e. it computes exactly
//    with the stored halves and accumulates in f32;
//  - the f64 conv with the original weights: the difference is the weight rounding,
//    bounded per output by u16 * sum_i |x_i w_i| (u16 = 2^-11, f16's unit roundoff;
//    every |w - f16(w)| <= u16 |w| for normal halves, and the synthetic weights here
//    are all normal), checked element by element, plus the f32 tolerance.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UsageError } from '../src/cli/args.ts';
import { planWeights } from '../src/cli/networks.ts';
import { encodeF16, f16BitsToF32 } from '../src/io/float16.ts';
import { assertF16Weights, conv2dF16Source } from '../src/ops/conv2d-f16.ts';
import { CONV2D_VARIANTS, conv2d, prepareConv2d, winogradVariantIneligible, type Conv2dVariantName } from '../src/ops/conv2d.ts';
import { roundConv2dWeightsF16 } from '../src/ops/conv2d-weights.ts';
import { tensorCoresEnabled } from '../src/ops/conv2d-mma.ts';
import type { Runtime } from '../src/runtime/runtime.ts';
import { ParamLoader } from '../src/weights/loader.ts';
import type { WeightSource } from '../src/weights/source.ts';
import { testRuntime } from './_lib/gpu.ts';
import { uniform } from './_lib/random.ts';
import { assertClose, compare } from './_lib/tolerance.ts';
import { conv2dRef } from './cpu/conv2d.ts';

type Shape4 = [number, number, number, number];
type Pair = [number, number];
interface Case { name: string; x: Shape4; w: Shape4; stride?: Pair; padding?: Pair; dilation?: Pair; residual?: boolean; relu?: boolean; variants?: 'all' }

const U16 = 2 ** -11;

const CASES: Case[] = [
  { name: 'Cin 5 (padded to 8), Cout 7, 3x3 stride 2 dilation (2, 1) pad 1 on 13x11, N 2', x: [2, 13, 11, 5], w: [7, 5, 3, 3], stride: [2, 2], padding: [1, 1], dilation: [2, 1], relu: true, variants: 'all' },
  { name: 'Cin 3, Cout 16, dilation 2, 3x5 kernel, stride (2, 1)', x: [1, 12, 15, 3], w: [16, 3, 3, 5], stride: [2, 1], padding: [2, 3], dilation: [2, 2] },
  { name: 'Cin 20, Cout 70 (partial tiles), N 2, residual + ReLU', x: [2, 9, 7, 20], w: [70, 20, 3, 3], padding: [1, 1], residual: true, relu: true },
  { name: 'Cin 10, Cout 3, 1x1 on 17x9', x: [1, 17, 9, 10], w: [3, 10, 1, 1] },
  { name: 'Cin 66, Cout 136, 145 pixels (K = 612 > one tile of 16)', x: [1, 29, 5, 66], w: [136, 66, 3, 3], padding: [1, 1] },
];

const ALL = Object.keys(CONV2D_VARIANTS) as Conv2dVariantName[];

/** The kernel tests fail, never skip, on an adapter without shader-f16 (CI's lavapipe has it; SwiftShader 5.0 does not). */
function needF16(rt: Runtime): void {
  assert.ok(rt.device.features.has('shader-f16'), `this adapter lacks shader-f16 (${rt.describe()}); the f16 kernel tests need it`);
}
const halfRound = (w: Float32Array): Float32Array => Float32Array.from(encodeF16(w), f16BitsToF32);
const abs = (a: ArrayLike<number>): Float64Array => Float64Array.from(a, Math.abs);

for (const c of CASES) {
  test(`f16 weights: ${c.name}`, async () => {
    const rt = await testRuntime();
    needF16(rt);
    const [O, I, KH, KW] = c.w;
    const geom = { stride: c.stride ?? [1, 1] as Pair, padding: c.padding ?? [0, 0] as Pair, dilation: c.dilation ?? [1, 1] as Pair };
    const xs = uniform(c.x.reduce((a, b) => a * b), 31);
    const ws = uniform(O * I * KH * KW, 32);
    const bias = uniform(O, 33);
    const wh = halfRound(ws);
    assert.ok(wh.some((v, i) => v !== ws[i]), 'the case has weights that f16 rounds');
    const res = c.residual ? uniform(conv2dRef({ x: xs, xShape: c.x, weight: ws, wShape: c.w, ...geom }).out.length, 34) : undefined;
    const exact = conv2dRef({ x: xs, xShape: c.x, weight: ws, wShape: c.w, bias, ...geom, residual: res, relu: c.relu });
    const rounded = conv2dRef({ x: xs, xShape: c.x, weight: wh, wShape: c.w, bias, ...geom, residual: res, relu: c.relu });
    const absSum = conv2dRef({ x: abs(xs), xShape: c.x, weight: abs(ws), wShape: c.w, ...geom }).out;

    const w = prepareConv2d(rt, { weight: ws, shape: c.w, bias }, 'f16');
    assert.is(w.precision, 'f16');
    assert.is(w.weight.dtype, 'f16');
    assert.is(w.weight.byteLength, KH * KW * Math.ceil(I / 4) * 4 * Math.ceil(O / 4) * 4 * 2, 'two bytes per padded weight');
    const x = rt.upload(c.x, xs);
    const r = res ? rt.upload(exact.shape, res) : undefined;
    try {
      for (const variant of c.variants === 'all' ? ALL : [undefined]) {
        const label = `${variant ?? 'default variant'}: ${c.name}`;
        // Winograd (both forms) runs 3x3 stride-1 convs only (its f16 cases: test/conv2d-winograd.test.ts); elsewhere conv2d refuses it.
        const why = variant ? winogradVariantIneligible(rt, CONV2D_VARIANTS[variant], { KH, KW, stride: geom.stride }) : null;
        // The matrix-unit kernel runs only after enableTensorCores (its f16-weight case: test/conv2d-mma.test.ts).
        if (variant && CONV2D_VARIANTS[variant].kind === 'mma' && !tensorCoresEnabled(rt)) {
          assert.throws(() => conv2d(rt, x, w, { ...geom, variant }), /needs enableTensorCores\(rt\) first/);
          continue;
        }
        if (why) {
          assert.throws(() => conv2d(rt, x, w, { ...geom, residual: r, relu: c.relu, variant }), (e: Error) => e instanceof RangeError && e.message.includes(`Winograd conv variant needs ${why}`));
          continue;
        }
        const y = conv2d(rt, x, w, { ...geom, residual: r, relu: c.relu, variant });
        assert.equal(y.shape, exact.shape);
        const got = await y.read();
        y.dispose();
        const f32 = assertClose(got, rounded.out, { k: KH * KW * I, label: `${label} vs f16-rounded weights` });
        // The weight rounding, element by element (ReLU only shrinks differences).
        for (let i = 0; i < got.length; i++) {
          const bound = U16 * absSum[i] + f32.tolerance;
          if (!(Math.abs(got[i] - exact.out[i]) <= bound)) {
            assert.unreachable(`${label}: [${i}] got ${got[i]}, f32-weight reference ${exact.out[i]}: off by more than u16 * sum |x w| + f32 tolerance = ${bound}`);
          }
        }
      }
      // The rounding is visible: the result is not the f32-weight one to f32 accuracy.
      const y = conv2d(rt, x, w, { ...geom, residual: r, relu: c.relu });
      assert.not.ok(compare(await y.read(), exact.out, { k: KH * KW * I }).ok, 'f16 weights change the result beyond f32 rounding (the f16 kernel ran)');
      y.dispose();
    } finally {
      x.dispose();
      r?.dispose();
      w.dispose();
    }
  });
}

test('f16 weights keep the bias f32 and fold BatchNorm before rounding', async () => {
  const rt = await testRuntime();
  needF16(rt);
  const xShape: Shape4 = [1, 7, 6, 6];
  const wShape: Shape4 = [5, 6, 3, 3];
  const xs = uniform(7 * 6 * 6, 41);
  const ws = uniform(5 * 6 * 9, 42);
  // A bias no f16 can hold exactly: it must come through to f32 accuracy.
  const bias = Float32Array.from({ length: 5 }, (_, i) => 1000.123 + i);
  const bn = { weight: uniform(5, 43, 0.5, 1.5), bias: uniform(5, 44), runningMean: uniform(5, 45), runningVar: uniform(5, 46, 0.5, 2), eps: 1e-5 };
  const geom = { stride: [1, 1] as Pair, padding: [1, 1] as Pair, dilation: [1, 1] as Pair };
  const exact = conv2dRef({ x: xs, xShape, weight: ws, wShape, bias, batchNorm: bn, ...geom });
  // Folded scale per output channel; the folded weight is rounded once to f16.
  const scale = Array.from({ length: 5 }, (_, o) => bn.weight[o] / Math.sqrt(bn.runningVar[o] + bn.eps));
  const folded = Float32Array.from(ws, (v, i) => v * scale[Math.floor(i / (6 * 9))]);
  const foldedBias = Float64Array.from(bias, (b, o) => (b - bn.runningMean[o]) * scale[o] + bn.bias[o]);
  const rounded = conv2dRef({ x: xs, xShape, weight: halfRound(folded), wShape, bias: foldedBias, ...geom });
  const w = prepareConv2d(rt, { weight: ws, shape: wShape, bias, batchNorm: bn }, 'f16');
  const x = rt.upload(xShape, xs);
  const got = await conv2d(rt, x, w, geom).read();
  // Scale: the conv terms, not the large bias, which adds no rounding of its own beyond f32's.
  const maxConv = Math.max(...conv2dRef({ x: abs(xs), xShape, weight: abs(folded), wShape, ...geom }).out);
  // An f16 bias would be off by up to 0.25 here (f16's spacing at 1000 is 0.5).
  assertClose(got, rounded.out, { k: 6 * 9, scale: Math.max(maxConv, Math.max(...foldedBias.map(Math.abs))), label: 'BatchNorm folded, then rounded' });
  const c = compare(got, exact.out, { k: 6 * 9 });
  assert.ok(c.maxAbsError <= U16 * maxConv + c.tolerance, `within the weight rounding of the unrounded reference (${c.maxAbsError} > ${U16 * maxConv + c.tolerance})`);
  x.dispose();
  w.dispose();
});

test('f16 tensors round-trip their bits, odd lengths included', async () => {
  const rt = await testRuntime();
  const bits = Uint16Array.from([0x3c00, 0x8001, 0x7bff, 0x0400, 0xc000]);
  const t = rt.upload([5], bits, 'f16', 'odd f16');
  assert.is(t.byteLength, 10);
  assert.equal([...(await t.read())], [...bits]);
  t.dispose();
  assert.throws(() => rt.upload([2], [1, 2], 'f16', 'numbers'), /f16 data must be a Uint16Array/);
});

test('f16 weights past f16 range are refused, not stored as Inf; the precision is checked', async () => {
  const ws = new Float32Array(4 * 4).fill(0.5);
  ws[7] = 70000;
  assert.throws(() => roundConv2dWeightsF16(ws, 'big'), /prepareConv2d 'big': weight 70000 .*outside f16's range.*'f32'/);
  ws[7] = 65504;
  assert.is(f16BitsToF32(roundConv2dWeightsF16(ws, 'max')[7]), 65504, "f16's largest value is kept");
  const rt = await testRuntime();
  assert.throws(() => prepareConv2d(rt, { weight: ws, shape: [4, 4, 1, 1] }, 'bf16' as 'f16'), /weight precision must be 'f32' or 'f16', got "bf16"/);
});

// An adapter without shader-f16, as far as the checks can see it.
const noF16 = { device: { features: new Set<string>() }, adapter: { vendor: 'acme', architecture: '', device: 'gpu9', description: '' } } as unknown as Runtime;

test('f16 weights are refused on an adapter without shader-f16, before any weight is read', () => {
  assert.throws(() => assertF16Weights(noF16, 'loading w'), /loading w: f16 weights need the WebGPU feature 'shader-f16', which acme \/ gpu9 does not offer; load with weight precision 'f32'/);
  let reads = 0;
  const source: WeightSource = {
    description: 'test weights',
    names: () => { reads++; return ['c.weight']; },
    has: () => { reads++; return true; },
    shape: () => { reads++; return [4, 4, 1, 1]; },
    float32: () => { reads++; return new Float32Array(16); },
  };
  assert.throws(() => ParamLoader.load(noF16, source, (p) => p.conv('c', [4, 4, 1, 1]), [], { weightPrecision: 'f16' }), /loading test weights: f16 weights need .*shader-f16/);
  assert.is(reads, 0, 'the source was not touched');
});

test("this runtime's own adapter: f16 weights load where it offers shader-f16 and are refused with the one-line error where not", async () => {
  const rt = await testRuntime();
  const spec = { weight: uniform(4 * 4, 51), shape: [4, 4, 1, 1] as Shape4, label: 'probe' };
  if (rt.device.features.has('shader-f16')) {
    const w = prepareConv2d(rt, spec, 'f16');
    assert.is(w.precision, 'f16');
    w.dispose();
  } else {
    assert.throws(() => prepareConv2d(rt, spec, 'f16'), /prepareConv2d 'probe': f16 weights need the WebGPU feature 'shader-f16', which .* does not offer; load with weight precision 'f32'/);
  }
});

test('the f16 kernel source is conv2d.wgsl with enable f16 and half weights; a changed weight binding fails loudly', () => {
  const f32 = 'struct P {}\n@group(0) @binding(1) var<storage, read> w: array<vec4f>;\nfn loadW(i: u32) -> vec4f { return w[i]; }\nfn main() {}\n';
  const f16 = conv2dF16Source(f32);
  assert.ok(f16.startsWith('enable f16;\n'));
  assert.ok(f16.includes('var<storage, read> w: array<vec4h>;') && f16.includes('return vec4f(w[i]);'));
  assert.not.ok(f16.includes('array<vec4f>'));
  assert.throws(() => conv2dF16Source('@group(0) @binding(1) var<storage, read> w: array<f32>;'), /expected its weight binding and loadW exactly once/);
});

test('the CLI takes --weights-precision f32|f16 for both networks and refuses anything else', () => {
  assert.is(planWeights({}).weightPrecision, 'f32');
  const plan = planWeights({ 'weights-precision': 'f16' });
  assert.is(plan.weightPrecision, 'f16');
  assert.ok(plan.report.some((l) => /f16 on the GPU/.test(l)), 'the plan says so');
  assert.throws(() => planWeights({ 'weights-precision': 'int8' }), (e: Error) => e instanceof UsageError && /--weights-precision must be f32 or f16, got 'int8'/.test(e.message));
});

test.run();
