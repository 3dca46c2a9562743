// The matrix-unit conv2d's cases (src/ops/conv2d-mma.ts) and their check, shared by
// test/conv2d-mma.test.ts (the emulated form, on CI) and bench/device/tensor-cores.ts
// (the hardware form, on a GPU with matrix units). Two references per case, as for f16
// weights (test/conv2d-f16.test.ts):
//  - the f64 conv of the f16-rounded activations and weights (bias and residual stay
//    f32, activations past f16's range saturate): the kernel must match it to f32
//    accumulation accuracy;
//  - the f64 conv of the original operands: the difference is the two roundings, at most
//    2 u16 sum |x w| per output (u16 = 2^-11), checked element by element.
import * as assert from 'uvu/assert';
import { encodeF16, f16BitsToF32 } from '../../src/io/float16.ts';
import { conv2d, prepareConv2d, type Conv2dVariant } from '../../src/ops/conv2d.ts';
import type { Runtime } from '../../src/runtime/runtime.ts';
import { conv2dRef } from '../cpu/conv2d.ts';
import { uniform } from './random.ts';
import { assertClose, compare } from './tolerance.ts';

type Shape4 = [number, number, number, number];
type Pair = [number, number];

export interface MmaCase {
  name: string;
  x: Shape4;
  w: Shape4;
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  residual?: boolean;
  relu?: boolean;
  /** [index, value] of inputs set past f16's range (they saturate at +-65504). */
  outOfRange?: [number, number][];
  /** The case exists to split K (with 16x16x16 matrices, on CPU drivers and GPUs alike); others may split too. */
  mustSplit?: boolean;
}

export const mmaCases: MmaCase[] = [
  { name: 'Cin 5, Cout 70 (partial tiles, scalar loads and stores), 3x3 stride 2 pad 1 on 13x11, ReLU', x: [1, 13, 11, 5], w: [70, 5, 3, 3], stride: [2, 2], padding: [1, 1], relu: true },
  { name: 'Cin 66, Cout 136, 145 pixels: K = 612 in 20 slices, residual + ReLU', x: [1, 29, 5, 66], w: [136, 66, 3, 3], padding: [1, 1], residual: true, relu: true },
  { name: 'Cin 36, Cout 24, 3x5 kernel, stride (2, 1), dilation 2, N 2', x: [2, 12, 15, 36], w: [24, 36, 3, 5], stride: [2, 1], padding: [2, 3], dilation: [2, 2] },
  { name: '1x1 64 -> 64 on 9x9 (vec4 paths), two inputs past f16 range', x: [1, 9, 9, 64], w: [64, 64, 1, 1], outOfRange: [[5, 7e4], [200, -1e5]] },
  // Two output tiles over K = 612 (20 slices of 32): split-K, then conv2d_gpu.wgsl's reduce.
  { name: 'Cin 67, Cout 70, 3x3 pad 1 on 5x7: K split in two, residual + ReLU', x: [1, 5, 7, 67], w: [70, 67, 3, 3], padding: [1, 1], residual: true, relu: true, mustSplit: true },
];

const U16 = 2 ** -11;
const F16_MAX = 65504;
/** f16 rounding as the kernel does it: saturating at +-65504. */
export const halfRound = (a: Float32Array): Float32Array =>
  Float32Array.from(encodeF16(a.map((v) => Math.max(-F16_MAX, Math.min(F16_MAX, v)))), f16BitsToF32);
const abs = (a: ArrayLike<number>): Float64Array => Float64Array.from(a, Math.abs);

/**
 * Runs case c with `variant`; throws (uvu assertions) unless it matches both references.
 * Returns the largest difference from the f16-operand reference and whether the result
 * also matches the f32-operand one to f32 accuracy (it must not: the operands are rounded).
 */
export async function checkMmaCase(rt: Runtime, c: MmaCase, variant: Conv2dVariant, seed: number, weights: 'f32' | 'f16' = 'f32'): Promise<{ maxAbsError: number; tolerance: number; f32Exact: boolean }> {
  const [O, I, KH, KW] = c.w;
  const geom = { stride: c.stride ?? [1, 1] as Pair, padding: c.padding ?? [0, 0] as Pair, dilation: c.dilation ?? [1, 1] as Pair };
  const xs = uniform(c.x.reduce((a, b) => a * b), seed);
  for (const [i, v] of c.outOfRange ?? []) xs[i] = v;
  const ws = uniform(O * I * KH * KW, seed + 1);
  const bias = uniform(O, seed + 2);
  const plain = conv2dRef({ x: xs, xShape: c.x, weight: ws, wShape: c.w, bias, ...geom });
  const res = c.residual ? uniform(plain.out.length, seed + 3) : undefined;
  const exact = conv2dRef({ x: xs, xShape: c.x, weight: ws, wShape: c.w, bias, ...geom, residual: res, relu: c.relu });
  const rounded = conv2dRef({ x: halfRound(xs), xShape: c.x, weight: halfRound(ws), wShape: c.w, bias, ...geom, residual: res, relu: c.relu });
  const absSum = conv2dRef({ x: abs(xs), xShape: c.x, weight: abs(ws), wShape: c.w, ...geom }).out;
  const w = prepareConv2d(rt, { weight: ws, shape: c.w, bias }, weights);
  const x = rt.upload(c.x, xs);
  const r = res ? rt.upload(exact.shape, res) : undefined;
  try {
    const y = conv2d(rt, x, w, { ...geom, residual: r, relu: c.relu, variant });
    assert.equal(y.shape, exact.shape);
    const got = await y.read();
    y.dispose();
    const label = `${c.name} (${JSON.stringify(variant)}, ${weights} weights)`;
    const f32 = assertClose(got, rounded.out, { k: KH * KW * I, label: `${label} vs f16-rounded operands` });
    // Saturated inputs are no rounding: the f32-operand bound does not hold for them.
    if (!c.outOfRange) {
      for (let i = 0; i < got.length; i++) {
        const bound = 2 * U16 * absSum[i] + f32.tolerance;
        if (!(Math.abs(got[i] - exact.out[i]) <= bound)) {
          assert.unreachable(`${label}: [${i}] got ${got[i]}, f32 reference ${exact.out[i]}: off by more than 2 u16 sum |x w| + f32 tolerance = ${bound}`);
        }
      }
    }
    return { maxAbsError: f32.maxAbsError, tolerance: f32.tolerance, f32Exact: compare(got, exact.out, { k: KH * KW * I }).ok };
  } finally {
    x.dispose();
    r?.dispose();
    w.dispose();
  }
}
