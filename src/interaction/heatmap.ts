// Guidance maps of the original transforms (helpers.make_gaussian / make_gt and
// ToImage): Gaussians exp(-4 ln2 ((x - x0)^2 + (y - y0)^2) / sigma^2), sigma the
// full width at half maximum, combined by a pixelwise max and min-max rescaled to 0..255.
import type { Point } from './crop.ts';

export const DEFAULT_SIGMA = 10;

/** max over `points` of their Gaussians on a width x height grid, in float64 (values in [0, 1]). */
export function gaussianMax(points: readonly Point[], width: number, height: number, sigma = DEFAULT_SIGMA): Float64Array {
  if (!(sigma > 0)) throw new RangeError(`gaussianMax: sigma must be positive, got ${sigma}`);
  const out = new Float64Array(width * height);
  const k = (-4 * Math.LN2) / (sigma * sigma);
  for (const p of points) {
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) throw new RangeError(`gaussianMax: point (${p.x}, ${p.y}) is not finite`);
    const gx = Float64Array.from({ length: width }, (_, x) => Math.exp(k * (x - p.x) ** 2));
    for (let y = 0; y < height; y++) {
      const gy = Math.exp(k * (y - p.y) ** 2);
      const row = y * width;
      for (let x = 0; x < width; x++) out[row + x] = Math.max(out[row + x], gy * gx[x]);
    }
  }
  return out;
}

/** ToImage: 255 (v - min) / (max - min + 1e-10); an all-zero map stays zero. */
export function rescaleTo255(values: Float64Array): Float64Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return values.map((v) => (255 * (v - lo)) / (hi - lo + 1e-10));
}

/** ToImage over several maps at once (the original normalises IOG_points' two channels together). */
export function rescaleJointlyTo255(maps: readonly Float64Array[]): Float64Array[] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const m of maps) {
    for (const v of m) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  return maps.map((m) => m.map((v) => (255 * (v - lo)) / (hi - lo + 1e-10)));
}
