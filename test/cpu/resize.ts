// Float64 reference for kernels/resize.wgsl, written from PyTorch's definition of bilinear
// interpolation (area_pixel_compute_source_index + guard_index_and_lambda in UpSample.h).
export type Shape4 = readonly [number, number, number, number];

function sourceIndex(d: number, inSize: number, outSize: number, alignCorners: boolean, scale: number | undefined): number {
  if (alignCorners) return outSize > 1 ? (d * (inSize - 1)) / (outSize - 1) : 0;
  const step = scale !== undefined ? 1 / scale : inSize / outSize;
  return Math.max((d + 0.5) * step - 0.5, 0);
}

function axis(outSize: number, inSize: number, alignCorners: boolean, scale: number | undefined): { i0: number; i1: number; l: number }[] {
  return Array.from({ length: outSize }, (_, d) => {
    const src = sourceIndex(d, inSize, outSize, alignCorners, scale);
    const i0 = Math.min(Math.floor(src), inSize - 1);
    return { i0, i1: i0 < inSize - 1 ? i0 + 1 : i0, l: Math.min(Math.max(src - i0, 0), 1) };
  });
}

export function resizeBilinearRef(x: ArrayLike<number>, [n, h, w, c]: Shape4, [oh, ow]: readonly [number, number], alignCorners: boolean, scale?: readonly [number, number]): Float64Array {
  const ys = axis(oh, h, alignCorners, scale?.[0]);
  const xs = axis(ow, w, alignCorners, scale?.[1]);
  const at = (b: number, y: number, xx: number, ch: number) => x[((b * h + y) * w + xx) * c + ch];
  const out = new Float64Array(n * oh * ow * c);
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (const ty of ys) {
      for (const tx of xs) {
        for (let ch = 0; ch < c; ch++) {
          const top = (1 - tx.l) * at(b, ty.i0, tx.i0, ch) + tx.l * at(b, ty.i0, tx.i1, ch);
          const bottom = (1 - tx.l) * at(b, ty.i1, tx.i0, ch) + tx.l * at(b, ty.i1, tx.i1, ch);
          out[o++] = (1 - ty.l) * top + ty.l * bottom;
        }
      }
    }
  }
  return out;
}
