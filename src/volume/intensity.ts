// Intensities to 8-bit images, browser-safe.
//
// 'minmax' is the Mem3D seed's preprocessing (preprocess/images_nii2png.py), per
// slice and in float64: np.rint(255 * ((s - min) / (max - min))) cast to uint8, with
// np.rint's round-half-to-even. A constant slice divides 0 by 0; numpy's NaN -> uint8
// cast gives 0 there, so such a slice becomes all 0. `clip` first clamps the values,
// as the seed's images_nii2png_z-score.py does (np.clip(s, -79, 304)) before min-max.
// Deviation: NaN and infinite voxels are left out of min/max; NaN maps to 0, +Inf to 255
// and -Inf to 0 (numpy would turn the whole slice to 0: one stray Inf in a float volume
// would blank its slice).
//
// 'window' is a fixed CT window: [level - width/2, level + width/2] maps linearly to
// 0..255 (same rounding), values outside are clamped.

import type { GrayImage } from '../io/png.ts';
import { getSlice, getSliceTransposed, rawSliceRange, sliceShape, tableSlice, type Axis } from './slice.ts';
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

/** Refuses a mapping that cannot map (a window of width 0, an unknown kind); `where` names it in the message. */
export function checkIntensityMapping(m: IntensityMapping, where = 'intensity'): void {
  if (m?.kind === 'window') {
    if (!Number.isFinite(m.level) || !Number.isFinite(m.width) || m.width <= 0) {
      throw new RangeError(`${where}: window level ${m.level}, width ${m.width}: both must be finite and width > 0`);
    }
  } else if (m?.kind === 'minmax') {
    if (m.clip && !(m.clip[0] <= m.clip[1])) throw new RangeError(`${where}: clip [${m.clip}] must be [low, high] with low <= high`);
  } else {
    throw new RangeError(`${where}: mapping kind ${JSON.stringify((m as { kind?: unknown } | null)?.kind)} is not 'minmax' or 'window'`);
  }
}

/** The bounds min-max clamps values to before taking their min and max (none for a window). */
function clipBounds(mapping: IntensityMapping): readonly [number, number] {
  return mapping.kind === 'minmax' && mapping.clip ? mapping.clip : [-Infinity, Infinity];
}

/** The [lo, hi] a mapping takes to [0, 255] for values whose clipped min and max are `min`, `max` (minmax). */
function mappedRange(mapping: IntensityMapping, min: number, max: number): [number, number] {
  return mapping.kind === 'window' ? [mapping.level - mapping.width / 2, mapping.level + mapping.width / 2] : [min, max];
}

/** One value to 0..255 once [lo, hi] is known (hi > lo): the seed's formula, shared by every path. */
function mapValue(v: number, lo: number, hi: number): number {
  return v !== v ? 0 : roundHalfEven(255 * ((Math.min(Math.max(v, lo), hi) - lo) / (hi - lo)));
}

/** Maps values (one slice) to 0..255. */
export function intensityToUint8(values: ArrayLike<number>, mapping: IntensityMapping = SEED_MAPPING, out?: Uint8Array): Uint8Array {
  checkIntensityMapping(mapping);
  const n = values.length;
  const dst = out ?? new Uint8Array(n);
  if (dst.length !== n) throw new RangeError(`intensityToUint8: ${n} values, output holds ${dst.length}`);
  let min = Infinity;
  let max = -Infinity;
  if (mapping.kind === 'minmax') {
    const [cl, ch] = clipBounds(mapping);
    for (let i = 0; i < n; i++) {
      const v = Math.min(Math.max(values[i], cl), ch);
      if (v === Infinity || v === -Infinity) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  const [lo, hi] = mappedRange(mapping, min, max);
  if (!(hi > lo)) return dst.fill(0);
  for (let i = 0; i < n; i++) dst[i] = mapValue(values[i], lo, hi);
  return dst;
}

/** Integer voxel arrays: a slice's stored values can index a table. */
const isIntegerData = (d: Volume['data']): boolean => !(d instanceof Float32Array || d instanceof Float64Array);

/** Integer slices whose stored values span at most this many (and at most the slice's pixel count) go through a table. */
const TABLE_MAX_ENTRIES = 1 << 16;

/**
 * One slice as an 8-bit image (layout as getSlice, or getSliceTransposed's with
 * `transposed`), computed in float64 from the stored values.
 */
export function sliceToUint8(volume: Volume, axis: Axis, index: number, mapping: IntensityMapping = SEED_MAPPING, transposed = false): GrayImage {
  checkIntensityMapping(mapping);
  const { width, height } = sliceShape(volume, axis);
  if (isIntegerData(volume.data)) {
    // CT and MR are stored as integers: map each stored value of the slice once, through a
    // table, instead of each voxel in float64 (2-4x faster on a 512x512 int16 slice). The
    // same values: a stored value r is the real value r * slope + inter as getSlice makes it,
    // and clipping and scaling are monotonic in r, so the slice's clipped min and max are
    // those of its smallest and largest stored values.
    const [rMin, rMax] = rawSliceRange(volume, axis, index);
    const entries = rMax - rMin + 1;
    if (entries <= TABLE_MAX_ENTRIES && entries <= width * height) {
      const real = (r: number) => r * volume.slope + volume.inter;
      const [cl, ch] = clipBounds(mapping);
      const clipped = [real(rMin), real(rMax)].map((v) => Math.min(Math.max(v, cl), ch));
      const [lo, hi] = mappedRange(mapping, Math.min(...clipped), Math.max(...clipped));
      if (!(hi > lo)) return { width: transposed ? height : width, height: transposed ? width : height, data: new Uint8Array(width * height) };
      const table = new Uint8Array(entries);
      for (let i = 0; i < entries; i++) table[i] = mapValue(real(rMin + i), lo, hi);
      return tableSlice(volume, axis, index, table, rMin, transposed);
    }
  }
  const s = (transposed ? getSliceTransposed : getSlice)(volume, axis, index, new Float64Array(width * height));
  return { width: s.width, height: s.height, data: intensityToUint8(s.data, mapping) };
}
