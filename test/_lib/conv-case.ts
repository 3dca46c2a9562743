// One conv2d test case on the GPU and in float64: random input, weights, bias and
// (optionally) a residual from `seed`, uploaded, with the reference output. Shared by
// the tests that run every conv variant over the same kind of awkward shapes.
import { prepareConv2d, type Conv2dWeights } from '../../src/ops/conv2d.ts';
import type { Runtime } from '../../src/runtime/runtime.ts';
import type { Tensor } from '../../src/runtime/tensor.ts';
import { conv2dRef } from '../cpu/conv2d.ts';
import { uniform } from './random.ts';

export type Shape4 = [number, number, number, number];
export type Pair = [number, number];
export interface ConvCase { name: string; x: Shape4; w: Shape4; stride?: Pair; padding?: Pair; dilation?: Pair; residual?: boolean; relu?: boolean }

export interface ConvCaseOnGpu {
  x: Tensor;
  w: Conv2dWeights;
  ref: { out: Float64Array; shape: Shape4 };
  /** conv2d's options for the case (the residual tensor included). */
  options: { stride: Pair; padding: Pair; dilation: Pair; residual?: Tensor; relu?: boolean };
  /** Products summed per output (the tolerance's K). */
  k: number;
  dispose(): void;
}

export function convCaseOnGpu(rt: Runtime, c: ConvCase, seed: number): ConvCaseOnGpu {
  const [O, I, KH, KW] = c.w;
  const stride = c.stride ?? [1, 1];
  const padding = c.padding ?? [0, 0];
  const dilation = c.dilation ?? [1, 1];
  const xs = uniform(c.x.reduce((a, b) => a * b), seed);
  const ws = uniform(O * I * KH * KW, seed + 1);
  const bias = uniform(O, seed + 2);
  const base = conv2dRef({ x: xs, xShape: c.x, weight: ws, wShape: c.w, bias, stride, padding, dilation });
  const res = c.residual ? uniform(base.out.length, seed + 3) : undefined;
  const ref = conv2dRef({ x: xs, xShape: c.x, weight: ws, wShape: c.w, bias, stride, padding, dilation, residual: res, relu: c.relu });
  const w = prepareConv2d(rt, { weight: ws, shape: c.w, bias });
  const x = rt.upload(c.x, xs);
  const residual = res ? rt.upload(ref.shape, res) : undefined;
  return {
    x, w, ref, k: KH * KW * I,
    options: { stride, padding, dilation, residual, relu: c.relu },
    dispose() {
      x.dispose();
      residual?.dispose();
      w.dispose();
    },
  };
}
