// The exact Euclidean distance transform the original's IOG interior point uses
// (helpers.iog_points: scipy.ndimage.distance_transform_edt of `mask > 0.5` padded
// with one ring of zeros), computed with Felzenszwalb & Huttenlocher's separable
// lower-envelope algorithm (Theory of Computing 8, 2012): two passes of a 1-D squared
// distance transform, O(pixels), exact in float64 (squared distances are integers).
import type { Point } from './crop.ts';
import type { Plane } from './resample.ts';

/** Larger than any squared distance inside an image, small enough that sums stay exact. */
const FAR = 1e20;

/** 1-D squared distance transform of `f` (length n) into `d`, with scratch v (n ints) and z (n + 1). */
function edt1d(f: Float64Array, n: number, d: Float64Array, v: Int32Array, z: Float64Array): void {
  let k = 0;
  v[0] = 0;
  z[0] = -Infinity;
  z[1] = Infinity;
  for (let q = 1; q < n; q++) {
    // z[0] = -Infinity ends the loop: every f is finite, so s is too.
    let s = (f[q] + q * q - (f[v[k]] + v[k] * v[k])) / (2 * (q - v[k]));
    while (s <= z[k]) {
      k--;
      s = (f[q] + q * q - (f[v[k]] + v[k] * v[k])) / (2 * (q - v[k]));
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q) k++;
    d[q] = (q - v[k]) ** 2 + f[v[k]];
  }
}

/**
 * For each pixel of `mask` with value > 0.5, its Euclidean distance to the nearest
 * pixel <= 0.5, pixels outside the image counting as background (the original's
 * one-pixel zero padding); 0 on background pixels.
 */
export function distanceToBackground(mask: Plane): Float64Array {
  const { width, height } = mask;
  if (mask.data.length !== width * height) throw new RangeError(`distanceToBackground: mask has ${mask.data.length} values, ${width}x${height} needs ${width * height}`);
  const [W, H] = [width + 2, height + 2];
  const grid = new Float64Array(W * H);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if (mask.data[y * width + x] > 0.5) grid[(y + 1) * W + x + 1] = FAR;
  const n = Math.max(W, H);
  const [f, d, v, z] = [new Float64Array(n), new Float64Array(n), new Int32Array(n), new Float64Array(n + 1)];
  for (let x = 0; x < W; x++) {
    for (let y = 0; y < H; y++) f[y] = grid[y * W + x];
    edt1d(f, H, d, v, z);
    for (let y = 0; y < H; y++) grid[y * W + x] = d[y];
  }
  const out = new Float64Array(width * height);
  for (let y = 1; y <= height; y++) {
    for (let x = 0; x < W; x++) f[x] = grid[y * W + x];
    edt1d(f, W, d, v, z);
    for (let x = 1; x <= width; x++) out[(y - 1) * width + x - 1] = Math.sqrt(d[x]);
  }
  return out;
}

/** The first maximum in row-major order (numpy's argmax), as a pixel; null when `values` is empty. */
export function argmaxPixel(values: ArrayLike<number>, width: number): Point | null {
  if (values.length === 0) return null;
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return { x: best % width, y: Math.floor(best / width) };
}
