// Float64 references for kernels/channels.wgsl over NHWC data: each pixel owns c consecutive values.
function perPixel(x: ArrayLike<number>, c: number, f: (v: number[]) => number[]): Float64Array {
  const out: number[] = [];
  for (let p = 0; p * c < x.length; p++) out.push(...f(Array.from({ length: c }, (_, i) => x[p * c + i])));
  return Float64Array.from(out);
}

export function concatRef(parts: { data: ArrayLike<number>; c: number }[], pixels: number): Float64Array {
  const out: number[] = [];
  for (let p = 0; p < pixels; p++) for (const { data, c } of parts) for (let ch = 0; ch < c; ch++) out.push(data[p * c + ch]);
  return Float64Array.from(out);
}

/** The textbook formula, without the max shift the kernel uses: the test inputs keep exp in range. */
export const softmaxRef = (x: ArrayLike<number>, c: number): Float64Array =>
  perPixel(x, c, (v) => {
    const e = v.map(Math.exp);
    const sum = e.reduce((s, t) => s + t, 0);
    return e.map((t) => t / sum);
  });

/** First index of the maximum, like torch.argmax on CPU. */
export const argmaxRef = (x: ArrayLike<number>, c: number): Float64Array => perPixel(x, c, (v) => [v.indexOf(Math.max(...v))]);

export const maxRef = (x: ArrayLike<number>, c: number): Float64Array => perPixel(x, c, (v) => [Math.max(...v)]);
