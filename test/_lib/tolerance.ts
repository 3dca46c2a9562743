// Tolerance policy for GPU float32 results against float64 CPU references.
//
// An output that is a sum of K float32 products carries rounding error that grows
// like sqrt(K) (random-walk accumulation) times the unit roundoff, times the
// magnitude of the values involved. We therefore require
//
//     max |gpu - ref|  <=  factor * EPS32 * sqrt(K) * max(|ref|)  (+ a floor for all-zero refs)
//
// with `factor` 8 by default (headroom for the order of accumulation and fused
// multiply-add differences) and higher only for transcendental functions, whose
// WGSL accuracy is specified in ULPs that grow with |x| (exp: 3 + 2|x| ULP).
// The scale is the largest reference magnitude over the whole tensor: relative to
// the magnitude of the reference, never per element (cancellation would make a
// per-element relative bound meaningless).

export const EPS32 = 2 ** -23;

export interface CloseOptions {
  /** Reduction length: terms summed into each output (1 for elementwise ops). */
  k?: number;
  factor?: number;
  /** Overrides the scale max(|ref|). */
  scale?: number;
  label?: string;
}

export interface Comparison {
  maxAbsError: number;
  maxAbsRef: number;
  tolerance: number;
  worstIndex: number;
  ok: boolean;
}

export function compare(actual: ArrayLike<number>, expected: ArrayLike<number>, opts: CloseOptions = {}): Comparison {
  if (actual.length !== expected.length) throw new Error(`${opts.label ?? 'compare'}: length ${actual.length} vs reference ${expected.length}`);
  let maxAbsRef = 0;
  for (let i = 0; i < expected.length; i++) maxAbsRef = Math.max(maxAbsRef, Math.abs(expected[i]));
  let maxAbsError = 0;
  let worstIndex = -1;
  for (let i = 0; i < actual.length; i++) {
    const e = Math.abs(actual[i] - expected[i]);
    // NaN never compares greater, so test it explicitly: a NaN output must fail.
    if (Number.isNaN(e)) return { maxAbsError: NaN, maxAbsRef, tolerance: 0, worstIndex: i, ok: false };
    if (e > maxAbsError) { maxAbsError = e; worstIndex = i; }
  }
  const scale = opts.scale ?? Math.max(maxAbsRef, 1e-30);
  const tolerance = (opts.factor ?? 8) * EPS32 * Math.sqrt(Math.max(1, opts.k ?? 1)) * scale;
  return { maxAbsError, maxAbsRef, tolerance, worstIndex, ok: maxAbsError <= tolerance };
}

/** Throws with the worst element when the GPU result is out of tolerance. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, opts: CloseOptions = {}): Comparison {
  const c = compare(actual, expected, opts);
  if (!c.ok) {
    const i = c.worstIndex;
    throw new Error(
      `${opts.label ?? 'result'}: max abs error ${c.maxAbsError.toExponential(3)} > tolerance ${c.tolerance.toExponential(3)} ` +
        `(max |ref| ${c.maxAbsRef.toExponential(3)}); worst at [${i}]: got ${actual[i]}, want ${expected[i]}`,
    );
  }
  return c;
}
