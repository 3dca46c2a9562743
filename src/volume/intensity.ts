// Intensities to 8-bit images, browser-safe.
//
// 'minmax' is the Mem3D seed's preprocessing (preprocess/images_nii2png.py), per
// slice and in float64: np.rint(255 * ((s - min) / (max - min))) cast to uint8, with
// np.rint's round-half-to-even. A constant slice divides 0 by 0; numpy's NaN -> uint8
// cast gives 0 there, so such a slice becomes all 0. `clip` first clamps the values,
// as the seed's images_nii2png_z-score.py does (np.clip(s, -79, 304)) before min-max.
// Deviation: NaN voxels are left out of min/max and map to 0 (numpy would turn the
// whole slice to 0).
//
// 'window' is a fixed CT window: [level - width/2, level + width/2] maps linearly to
// 0..255 (same rounding), values outside are clamped.

import type { GrayImage } from '../io/png.ts';
import { getSlice, getSliceTransposed, sliceShape, type Axis } from './slice.ts';
import type { Volume } from './volume.ts';

export type IntensityMapping =
  | { readonly kind: 'minmax'; readonly clip?: readonly [number, number] }
  | { readonly kind: 'window'; readonly level: number; readonly width: number };

export const SEED_MAPPING: IntensityMapping = { kind: 'minmax' };

/** np.rint: nearest integer, ties to even. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function checkMapping(m: IntensityMapping): void {
  if (m.kind === 'window') {
    if (!Number.isFinite(m.level) || !Number.isFinite(m.width) || m.width <= 0) {
      throw new RangeError(`intensity window level ${m.level}, width ${m.width}: both must be finite and width > 0`);
    }
  } else if (m.kind === 'minmax') {
    if (m.clip && !(m.clip[0] <= m.clip[1])) throw new RangeError(`intensity clip [${m.clip}] must be [low, high] with low <= high`);
  } else {
    throw new RangeError(`intensity mapping kind ${JSON.stringify((m as { kind: unknown }).kind)} is not 'minmax' or 'window'`);
  }
}

/** Maps values (one slice) to 0..255. */
export function intensityToUint8(values: ArrayLike<number>, mapping: IntensityMapping = SEED_MAPPING, out?: Uint8Array): Uint8Array {
  checkMapping(mapping);
  const n = values.length;
  const dst = out ?? new Uint8Array(n);
  if (dst.length !== n) throw new RangeError(`intensityToUint8: ${n} values, output holds ${dst.length}`);
  let lo: number;
  let hi: number;
  if (mapping.kind === 'window') {
    lo = mapping.level - mapping.width / 2;
    hi = mapping.level + mapping.width / 2;
  } else {
    const [cl, ch] = mapping.clip ?? [-Infinity, Infinity];
    lo = Infinity;
    hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = Math.min(Math.max(values[i], cl), ch);
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (!(hi > lo)) return dst.fill(0);
  }
  const range = hi - lo;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    dst[i] = v !== v ? 0 : roundHalfEven(255 * ((Math.min(Math.max(v, lo), hi) - lo) / range));
  }
  return dst;
}

/**
 * One slice as an 8-bit image (layout as getSlice, or getSliceTransposed's with
 * `transposed`), computed in float64 from the stored values.
 */
export function sliceToUint8(volume: Volume, axis: Axis, index: number, mapping: IntensityMapping = SEED_MAPPING, transposed = false): GrayImage {
  const { width, height } = sliceShape(volume, axis);
  const s = (transposed ? getSliceTransposed : getSlice)(volume, axis, index, new Float64Array(width * height));
  return { width: s.width, height: s.height, data: intensityToUint8(s.data, mapping) };
}
