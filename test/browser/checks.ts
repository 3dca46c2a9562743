// The smoke checks: the same ops, seeded inputs, float64 references and tolerances
// as the Node tests, on small awkward shapes (SwiftShader is slow).
import type { Runtime } from '../../src/runtime/runtime.ts';
import { conv2d, prepareConv2d } from '../../src/ops/conv2d.ts';
import { add, sigmoid } from '../../src/ops/elementwise.ts';
import { memoryRead } from '../../src/ops/memory-read.ts';
import { uniform } from '../_lib/random.ts';
import type { CloseOptions } from '../_lib/tolerance.ts';
import { conv2dRef } from '../cpu/conv2d.ts';
import { addRef, sigmoidRef } from '../cpu/elementwise.ts';
import { maxAbsScore, memoryReadRef } from '../cpu/memory-read.ts';

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
];
