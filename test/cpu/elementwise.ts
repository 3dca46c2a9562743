// Float64 references for kernels/elementwise.wgsl.
function map(a: ArrayLike<number>, f: (x: number, i: number) => number): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = f(a[i], i);
  return out;
}
export const addRef = (a: ArrayLike<number>, b: ArrayLike<number>): Float64Array => map(a, (x, i) => x + b[i]);
export const reluRef = (a: ArrayLike<number>): Float64Array => map(a, (x) => Math.max(x, 0));
export const sigmoidRef = (a: ArrayLike<number>): Float64Array => map(a, (x) => 1 / (1 + Math.exp(-x)));
export const clampRef = (a: ArrayLike<number>, lo: number, hi: number, scale = 1, shift = 0): Float64Array =>
  map(a, (x) => Math.min(hi, Math.max(lo, scale * x + shift)));
