// Float64 reference for kernels/channels.wgsl over NHWC data: each pixel owns c consecutive values.
export function concatRef(parts: { data: ArrayLike<number>; c: number }[], pixels: number): Float64Array {
  const out: number[] = [];
  for (let p = 0; p < pixels; p++) for (const { data, c } of parts) for (let ch = 0; ch < c; ch++) out.push(data[p * c + ch]);
  return Float64Array.from(out);
}
