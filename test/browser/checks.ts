// The smoke checks: the same ops, seeded inputs, float64 references and tolerances
// as the Node tests, on small awkward shapes (SwiftShader is slow).
import type { Runtime } from '../../src/runtime/runtime.ts';
import { add, sigmoid } from '../../src/ops/elementwise.ts';
import { uniform } from '../_lib/random.ts';
import type { CloseOptions } from '../_lib/tolerance.ts';
import { addRef, sigmoidRef } from '../cpu/elementwise.ts';

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
const EW_SIZE = 13 * 11 * 5;

export const CHECKS: Check[] = [
  { name: 'throws', async run(rt) { rt.upload([2], [1]); throw new Error('x'); } },
  { name: 'uncaught', async run() { setTimeout(() => { throw new Error('boom'); }); return { actual: [1], expected: [1], opts: {} }; } },
  {
    name: `elementwise add [${EW_SHAPE}]`,
    async run(rt) {
      const a = uniform(EW_SIZE, 1, -12, 12);
      const b = uniform(EW_SIZE, 2, -3, 3);
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
      const a = uniform(EW_SIZE, 3, -12, 12);
      const ta = rt.upload(EW_SHAPE, a);
      const out = sigmoid(rt, ta);
      const actual = await out.read();
      ta.dispose();
      out.dispose();
      return { actual, expected: sigmoidRef(a), opts: { factor: 0.01 } };
    },
  },
];
