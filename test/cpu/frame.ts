// Float64 reference for kernels/frame.wgsl (src/ops/frame.ts): grey level g of pixel
// (x, y) becomes table row g; pixels past the slice take row 0.
export function greyFrameRef(
  grey: ArrayLike<number>, width: number, height: number, outWidth: number, outHeight: number,
  level: (g: number, c: number) => number, channels: number,
): Float64Array {
  const out = new Float64Array(outWidth * outHeight * channels);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      const g = x < width && y < height ? grey[y * width + x] : 0;
      for (let c = 0; c < channels; c++) out[(y * outWidth + x) * channels + c] = level(g, c);
    }
  }
  return out;
}

/** The memory network's normalisation in float64: (g / 255 - mean[c]) / std[c] (ImageNet mean and std). */
export function imagenetLevel(g: number, c: number): number {
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  return (g / 255 - mean[c]) / std[c];
}

/** Float64 reference for kernels/window.wgsl: x [N, H, W, C] with values outside the width x height window zeroed. */
export function zeroOutsideRef(x: ArrayLike<number>, shape: readonly number[], width: number, height: number): Float64Array {
  const [n, h, w, c] = shape;
  const out = new Float64Array(x.length);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < w; xx++) {
        for (let k = 0; k < c; k++) {
          const i = ((b * h + y) * w + xx) * c + k;
          out[i] = y < height && xx < width ? x[i] : 0;
        }
      }
    }
  }
  return out;
}
