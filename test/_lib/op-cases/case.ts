// One registry of op cases (ggml's test-backend-ops idea): each case prepares its
// inputs on a runtime, dispatches the op, and knows its float64 reference. The same
// cases run in test mode (the unit tests, `npm run selfcheck`, the browser smoke
// test) and in perf mode (`npm run bench:ops -- --op conv2d`).
import type { Runtime } from '../../../src/runtime/runtime.ts';
import type { Tensor } from '../../../src/runtime/tensor.ts';
import { compare, type CloseOptions, type Comparison } from '../tolerance.ts';

/**
 * Where a case runs. smoke: everywhere, the browser included (one small awkward
 * shape per kernel); unit: the unit tests and selfcheck; big: the unit tests only
 * (dispatches over 65,535 workgroups, hundreds of MB); perf: the bench only
 * (network-sized shapes whose float64 reference takes seconds).
 */
export type Tier = 'smoke' | 'unit' | 'big' | 'perf';

export interface Expected {
  shape: readonly number[];
  data: ArrayLike<number>;
  opts: CloseOptions;
}

export interface PreparedCase {
  /** Dispatches the op once on the uploaded inputs; the caller disposes the result. */
  run(): Tensor;
  /** The float64 CPU reference of run()'s result and the tolerance to hold it to. */
  expected(): Expected;
  /** Floating-point operations of one run, for perf mode (2 per multiply-add). */
  flop?: number;
  dispose(): void;
}

export interface OpCase {
  /** The op family, as the bench filter names it: conv2d, elementwise, pool, resize, channels, linear, memoryRead, softAggregation, frame. */
  op: string;
  name: string;
  tier: Tier;
  prepare(rt: Runtime): PreparedCase;
}

export interface CaseResult extends Comparison {
  shape: readonly number[];
  expectedShape: readonly number[];
  /** ok: values within tolerance and the shape as expected. */
  ok: boolean;
}

/** Test mode: one run against the reference; releases everything it created. */
export async function checkCase(rt: Runtime, c: OpCase): Promise<CaseResult> {
  const prepared = c.prepare(rt);
  try {
    const out = prepared.run();
    const actual = await out.read();
    const shape = [...out.shape];
    out.dispose();
    const want = prepared.expected();
    const comparison = compare(actual, want.data, { label: c.name, ...want.opts });
    const shapeOk = shape.join() === want.shape.join();
    return { ...comparison, shape, expectedShape: want.shape, ok: comparison.ok && shapeOk };
  } finally {
    prepared.dispose();
  }
}

/** Throws with the worst element or the shape mismatch: for the unit tests. */
export async function assertCase(rt: Runtime, c: OpCase): Promise<void> {
  const r = await checkCase(rt, c);
  if (r.shape.join() !== r.expectedShape.join()) throw new Error(`${c.name}: output shape [${r.shape}], expected [${r.expectedShape}]`);
  if (!r.ok) {
    throw new Error(`${c.name}: max abs error ${r.maxAbsError.toExponential(3)} > tolerance ${r.tolerance.toExponential(3)} (max |ref| ${r.maxAbsRef.toExponential(3)}) at [${r.worstIndex}]`);
  }
}

export const count = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

/** Uploads inputs and disposes them with the case. */
export function inputs(rt: Runtime) {
  const owned: { dispose(): void }[] = [];
  return {
    upload(shape: readonly number[], data: Float32Array): Tensor {
      const t = rt.upload(shape, data);
      owned.push(t);
      return t;
    },
    own<T extends { dispose(): void }>(x: T): T {
      owned.push(x);
      return x;
    },
    dispose(): void {
      for (const t of owned) t.dispose();
    },
  };
}
