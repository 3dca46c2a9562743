// One check per kernel family, on a small awkward shape, against the float64
// reference with the Node tests' tolerances (like ggml's test-backend-ops): run by
// `npm run selfcheck` on this machine's adapter and by the browser smoke test.
import type { Runtime } from '../../src/runtime/runtime.ts';
import { concatChannels, argmaxChannels, softmaxChannels } from '../../src/ops/channels.ts';
import { conv2d, prepareConv2d } from '../../src/ops/conv2d.ts';
import { add, sigmoid } from '../../src/ops/elementwise.ts';
import { linear, prepareLinear } from '../../src/ops/linear.ts';
import { memoryRead } from '../../src/ops/memory-read.ts';
import { adaptiveAvgPool2d, avgPool2d, maxPool2d } from '../../src/ops/pool.ts';
import { resizeBilinear } from '../../src/ops/resize.ts';
import { softAggregation } from '../../src/ops/soft-aggregation.ts';
import type { Tensor } from '../../src/runtime/tensor.ts';
import { uniform } from './random.ts';
import type { CloseOptions } from './tolerance.ts';
import { argmaxRef, concatRef, softmaxRef } from '../cpu/channels.ts';
import { conv2dRef } from '../cpu/conv2d.ts';
import { addRef, sigmoidRef } from '../cpu/elementwise.ts';
import { linearRef } from '../cpu/linear.ts';
import { maxAbsScore, memoryReadRef } from '../cpu/memory-read.ts';
import { adaptiveAvgPoolRef, avgPoolRef, maxPoolRef } from '../cpu/pool.ts';
import { resizeBilinearRef } from '../cpu/resize.ts';
import { softAggregationRef } from '../cpu/soft-aggregation.ts';

export interface CheckOutput {
  actual: ArrayLike<number>;
  expected: ArrayLike<number>;
  opts: CloseOptions;
}

export interface Check {
  name: string;
  run(rt: Runtime): Promise<CheckOutput>;
}

const EW_SHAPE = [1, 13, 11, 5];
const X = [1, 13, 11, 5] as const;

/** Runs `op` on a seeded [1, 13, 11, 5] input and reads the result back. */
async function onInput(rt: Runtime, seed: number, op: (t: Tensor) => Tensor): Promise<{ x: Float32Array; actual: ArrayLike<number> }> {
  const x = uniform(count(X), seed, -3, 3);
  const tx = rt.upload(X, x);
  const out = op(tx);
  const actual = await out.read();
  tx.dispose();
  out.dispose();
  return { x, actual };
}

const count = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

// 3x3 stride 2 pad 1 on an odd 13x11 input: outputs on all four edges read padding;
// 5 and 7 channels take the non-vec4 load and store paths.
const CONV = { x: [1, 13, 11, 5], w: [7, 5, 3, 3], stride: [2, 2], padding: [1, 1], dilation: [1, 1] } as const;

// 3 memory frames of 5x7 positions read by a 6x5 query: M = 105 positions, 30 queries
// and 24 value channels all end in partial tiles of the default tiling.
const MEM = { keys: [3, 5, 7, 16], values: [3 * 5 * 7, 24], query: [1, 6, 5, 16] } as const;

export const CHECKS: Check[] = [
  {
    name: `elementwise add [${EW_SHAPE}]`,
    async run(rt) {
      const a = uniform(count(EW_SHAPE), 1, -12, 12);
      const b = uniform(count(EW_SHAPE), 2, -3, 3);
      const ta = rt.upload(EW_SHAPE, a);
      const tb = rt.upload(EW_SHAPE, b);
      const out = add(rt, ta, tb);
      const actual = await out.read();
      for (const t of [ta, tb, out]) t.dispose();
      return { actual, expected: addRef(a, b), opts: {} };
    },
  },
  {
    name: `elementwise sigmoid [${EW_SHAPE}]`,
    async run(rt) {
      const a = uniform(count(EW_SHAPE), 3, -12, 12);
      const ta = rt.upload(EW_SHAPE, a);
      const out = sigmoid(rt, ta);
      const actual = await out.read();
      ta.dispose();
      out.dispose();
      return { actual, expected: sigmoidRef(a), opts: { factor: 64 } };
    },
  },
  {
    name: `conv2d 3x3/2 pad 1 bias relu [${CONV.x}]x[${CONV.w}]`,
    async run(rt) {
      const [O, I, KH, KW] = CONV.w;
      const x = uniform(count(CONV.x), 11);
      const weight = uniform(O * I * KH * KW, 12, -0.5, 0.5);
      const bias = uniform(O, 13);
      const w = prepareConv2d(rt, { weight, shape: CONV.w, bias, label: 'smoke conv' });
      const tx = rt.upload(CONV.x, x);
      const out = conv2d(rt, tx, w, { stride: CONV.stride, padding: CONV.padding, dilation: CONV.dilation, relu: true });
      const actual = await out.read();
      for (const t of [tx, out, w]) t.dispose();
      const ref = conv2dRef({ x, xShape: CONV.x, weight, wShape: CONV.w, bias, stride: CONV.stride, padding: CONV.padding, dilation: CONV.dilation, relu: true });
      return { actual, expected: ref.out, opts: { k: I * KH * KW } };
    },
  },
  {
    name: `memoryRead keys [${MEM.keys}] values [${MEM.values}] query [${MEM.query}]`,
    async run(rt) {
      const dk = MEM.keys[3];
      const dv = MEM.values[1];
      const mk = uniform(count(MEM.keys), 21, -2, 2);
      const mv = uniform(count(MEM.values), 22);
      const q = uniform(count(MEM.query), 23);
      const tk = rt.upload(MEM.keys, mk);
      const tv = rt.upload(MEM.values, mv);
      const tq = rt.upload(MEM.query, q);
      const out = memoryRead(rt, tk, tv, tq);
      const actual = await out.read();
      for (const t of [tk, tv, tq, out]) t.dispose();
      // As in test/memory-read.test.ts: the error scales with max|v| and the score error.
      const m = MEM.values[0];
      const maxV = mv.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
      const scale = maxV * (1 + 2 * maxAbsScore(mk, q, dk) * Math.sqrt(dk / m));
      return { actual, expected: memoryReadRef(mk, mv, q, dk, dv), opts: { k: m, scale } };
    },
  },
  {
    name: `maxPool2d 3x3/2 pad 1 [${X}]`,
    async run(rt) {
      const { x, actual } = await onInput(rt, 31, (t) => maxPool2d(rt, t, { kernel: 3, stride: 2, padding: 1 }));
      return { actual, expected: maxPoolRef(x, X, { kernel: [3, 3], stride: [2, 2], padding: [1, 1] }).data, opts: { factor: 0 } };
    },
  },
  {
    name: `avgPool2d 2x2 [${X}]`,
    async run(rt) {
      const { x, actual } = await onInput(rt, 32, (t) => avgPool2d(rt, t, { kernel: 2 }));
      return { actual, expected: avgPoolRef(x, X, { kernel: [2, 2], stride: [2, 2], padding: [0, 0] }).data, opts: { k: 4 } };
    },
  },
  {
    name: `adaptiveAvgPool2d to 6x6 (overlapping bins) [${X}]`,
    async run(rt) {
      const { x, actual } = await onInput(rt, 33, (t) => adaptiveAvgPool2d(rt, t, [6, 6]));
      return { actual, expected: adaptiveAvgPoolRef(x, X, [6, 6]), opts: { k: 12 } };
    },
  },
  {
    name: `resizeBilinear to 29x7, align_corners False [${X}]`,
    async run(rt) {
      const { x, actual } = await onInput(rt, 34, (t) => resizeBilinear(rt, t, [29, 7], { alignCorners: false }));
      return { actual, expected: resizeBilinearRef(x, X, [29, 7], false), opts: { k: 4 } };
    },
  },
  {
    name: `resizeBilinear to 29x7, align_corners True [${X}]`,
    async run(rt) {
      const { x, actual } = await onInput(rt, 35, (t) => resizeBilinear(rt, t, [29, 7], { alignCorners: true }));
      return { actual, expected: resizeBilinearRef(x, X, [29, 7], true), opts: { k: 4 } };
    },
  },
  {
    name: `concatChannels 5 + 3 [${X}]`,
    async run(rt) {
      const b = uniform(13 * 11 * 3, 36);
      const tb = rt.upload([1, 13, 11, 3], b);
      const { x, actual } = await onInput(rt, 37, (t) => concatChannels(rt, [t, tb]));
      tb.dispose();
      return { actual, expected: concatRef([{ data: x, c: 5 }, { data: b, c: 3 }], 13 * 11), opts: { factor: 0 } };
    },
  },
  {
    name: `softmaxChannels [${X}]`,
    async run(rt) {
      const { x, actual } = await onInput(rt, 38, (t) => softmaxChannels(rt, t));
      return { actual, expected: softmaxRef(x, 5), opts: { k: 5, factor: 32 } };
    },
  },
  {
    name: `argmaxChannels [${X}]`,
    async run(rt) {
      const { x, actual } = await onInput(rt, 39, (t) => argmaxChannels(rt, t));
      return { actual, expected: argmaxRef(x, 5), opts: { factor: 0 } };
    },
  },
  {
    name: 'linear 37 -> 5, ReLU, 3 rows',
    async run(rt) {
      const x = uniform(3 * 37, 40);
      const weight = uniform(5 * 37, 41);
      const bias = uniform(5, 42);
      const w = prepareLinear(rt, { weight, shape: [5, 37], bias });
      const tx = rt.upload([3, 37], x);
      const out = linear(rt, tx, w, { relu: true });
      const actual = await out.read();
      for (const t of [tx, out, w]) t.dispose();
      return { actual, expected: linearRef(x, weight, bias, [5, 37], 'relu'), opts: { k: 37 } };
    },
  },
  {
    name: 'soft aggregation (Mem3D head) [1, 13, 11, 2]',
    async run(rt) {
      const logit = uniform(13 * 11 * 2, 43, -4, 4);
      const t = rt.upload([1, 13, 11, 2], logit);
      const out = softAggregation(rt, t);
      const actual = await out.ps.read();
      for (const x of [t, out.ps, out.logits, out.foreground, out.qualityInput]) x.dispose();
      return { actual, expected: softAggregationRef(logit).ps, opts: { factor: 16 } };
    },
  },
];
