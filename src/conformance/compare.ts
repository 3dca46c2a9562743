// Comparison of engine outputs with reference tensors, as the conformance
// commands and tests report it: one row per tensor.

export type Measure = 'relative' | 'absolute';

export interface ConformanceRow {
  tensor: string;
  maxAbsError: number;
  maxAbsRef: number;
  /** maxAbsError / maxAbsRef */
  relError: number;
  /** Bound on relError ('relative') or on maxAbsError ('absolute'). */
  tolerance: number;
  measure: Measure;
  pass: boolean;
}

export function compareTensor(tensor: string, actual: ArrayLike<number>, expected: ArrayLike<number>, measure: Measure, tolerance: number): ConformanceRow {
  if (actual.length !== expected.length) throw new Error(`${tensor}: engine gave ${actual.length} values, the reference has ${expected.length}`);
  let maxAbsError = 0;
  let maxAbsRef = 0;
  let nan = false;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i] - expected[i]);
    if (Number.isNaN(e)) nan = true;
    else if (e > maxAbsError) maxAbsError = e;
    maxAbsRef = Math.max(maxAbsRef, Math.abs(expected[i]));
  }
  if (nan) maxAbsError = NaN;
  const relError = maxAbsError / Math.max(maxAbsRef, 1e-30);
  const pass = !nan && (measure === 'relative' ? relError <= tolerance : maxAbsError <= tolerance);
  return { tensor, maxAbsError, maxAbsRef, relError, tolerance, measure, pass };
}

/** NHWC [1, H, W, C] to NCHW [1, C, H, W], the layout the PyTorch references are stored in. */
export function nhwcToNchw(x: ArrayLike<number>, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(h * w * c);
  for (let p = 0; p < h * w; p++) for (let k = 0; k < c; k++) out[k * h * w + p] = x[p * c + k];
  return out;
}

export function formatTable(rows: readonly ConformanceRow[]): string {
  const head = ['tensor', 'max abs err', 'max abs ref', 'rel err', 'tolerance', 'result'];
  const body = rows.map((r) => [
    r.tensor,
    r.maxAbsError.toExponential(3),
    r.maxAbsRef.toExponential(3),
    r.relError.toExponential(3),
    `${r.measure === 'relative' ? 'rel' : 'abs'} ${r.tolerance.toExponential(2)}`,
    r.pass ? 'pass' : 'FAIL',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
