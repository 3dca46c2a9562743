// 2-D slices of a volume along any axis, browser-safe.
//
// Orientation: the slice through voxel axis `a` at `index` keeps the two other axes
// p < q in index order; rows follow p and columns follow q, so pixel (row r, col c)
// is the voxel with a = index, p = r, q = c, at data[r * width + c]. That is numpy's
// img[i, :, :] / img[:, j, :] / img[:, :, k] of a nibabel array, which is how the
// Mem3D seed made its PNG slices (preprocess/images_nii2png*.py): an axial (z)
// slice has height nx and width ny. No flips are applied.
//
// Names: 'sagittal', 'coronal' and 'axial' pick the voxel axis that runs closest to
// world x (left-right), y (back-front) and z (foot-head) under the volume's affine,
// so 'axial' is z for the usual RAS/LPS-stored CT and the first axis for KiTS-style
// volumes stored slice-first; both then match the seed's slices. Numbers 0, 1, 2
// name voxel axes directly.

import type { Affine, Volume } from './volume.ts';

export type AxisName = 'sagittal' | 'coronal' | 'axial';
export type Axis = 0 | 1 | 2 | AxisName;
export type AxisIndex = 0 | 1 | 2;
export type SliceArray = Float32Array | Float64Array | Uint8Array;

export interface Slice<T extends SliceArray = Float32Array> {
  readonly width: number;
  readonly height: number;
  /** row-major, height x width */
  readonly data: T;
}

const WORLD_NAMES: readonly AxisName[] = ['sagittal', 'coronal', 'axial'];

/** Voxel axis of each anatomical name: greedy matching on the affine's normalised direction columns. */
export function anatomicalAxes(affine: Affine): Readonly<Record<AxisName, AxisIndex>> {
  const weight = (w: number, v: number) => {
    const norm = Math.hypot(affine[0][v], affine[1][v], affine[2][v]);
    return norm > 0 ? Math.abs(affine[w][v]) / norm : 0;
  };
  const out: Partial<Record<AxisName, AxisIndex>> = {};
  const freeWorld = [0, 1, 2];
  const freeVoxel: AxisIndex[] = [0, 1, 2];
  while (freeWorld.length > 0) {
    let best = { w: freeWorld[0], v: freeVoxel[0], x: -1 };
    for (const w of freeWorld) for (const v of freeVoxel) if (weight(w, v) > best.x) best = { w, v, x: weight(w, v) };
    out[WORLD_NAMES[best.w]] = best.v;
    freeWorld.splice(freeWorld.indexOf(best.w), 1);
    freeVoxel.splice(freeVoxel.indexOf(best.v), 1);
  }
  return out as Record<AxisName, AxisIndex>;
}

export function resolveAxis(volume: Volume, axis: Axis): AxisIndex {
  if (axis === 0 || axis === 1 || axis === 2) return axis;
  if (!WORLD_NAMES.includes(axis)) throw new RangeError(`slice axis ${JSON.stringify(axis)} is not 0, 1, 2, 'sagittal', 'coronal' or 'axial'`);
  return anatomicalAxes(volume.affine)[axis];
}

export interface SliceShape {
  readonly axis: AxisIndex;
  /** number of slices along the axis */
  readonly count: number;
  readonly width: number;
  readonly height: number;
}

export function sliceShape(volume: Volume, axis: Axis): SliceShape {
  const a = resolveAxis(volume, axis);
  const [p, q] = a === 0 ? [1, 2] : a === 1 ? [0, 2] : [0, 1];
  return { axis: a, count: volume.dims[a], width: volume.dims[q], height: volume.dims[p] };
}

interface Walk {
  readonly width: number;
  readonly height: number;
  readonly base: number;
  readonly rowStride: number;
  readonly colStride: number;
}

function walk(volume: Volume, axis: Axis, index: number, op: string): Walk {
  const { axis: a, count, width, height } = sliceShape(volume, axis);
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new RangeError(`${op} ${volume.source}: slice ${index} is outside 0..${count - 1} along axis ${a}${typeof axis === 'string' ? ` (${axis})` : ''}`);
  }
  const strides = [1, volume.dims[0], volume.dims[0] * volume.dims[1]];
  const [p, q] = a === 0 ? [1, 2] : a === 1 ? [0, 2] : [0, 1];
  return { width, height, base: index * strides[a], rowStride: strides[p], colStride: strides[q] };
}

/** The same slice walked with rows and columns swapped (getSliceTransposed's layout). */
const transpose = (w: Walk): Walk => ({ width: w.height, height: w.width, base: w.base, rowStride: w.colStride, colStride: w.rowStride });

/**
 * Real values (raw * slope + inter) of one slice, into a new Float32Array or into
 * `into` (Float64Array for full precision, Uint8Array for label volumes: values wrap
 * modulo 256 there as typed arrays do).
 */
export function getSlice<T extends SliceArray = Float32Array>(volume: Volume, axis: Axis, index: number, into?: T): Slice<T> {
  return readSlice('getSlice', volume, axis, index, into, false);
}

/**
 * getSlice's slice transposed (rows follow q, columns p: width and height swap), read in
 * one pass: the layout of networks trained on the other axis order (layout.ts), and for
 * an axial slice of an x-fastest volume a sequential read, where getSlice then a
 * transpose walks the volume with stride nx and the image once more.
 */
export function getSliceTransposed<T extends SliceArray = Float32Array>(volume: Volume, axis: Axis, index: number, into?: T): Slice<T> {
  return readSlice('getSliceTransposed', volume, axis, index, into, true);
}

function readSlice<T extends SliceArray>(op: string, volume: Volume, axis: Axis, index: number, into: T | undefined, transposed: boolean): Slice<T> {
  const w = walk(volume, axis, index, op);
  const n = w.width * w.height;
  const { width, height, rowStride, colStride } = transposed ? transpose(w) : w;
  const data = into ?? (new Float32Array(n) as T);
  if (data.length !== n) throw new RangeError(`${op} ${volume.source}: a ${height}x${width} slice needs ${n} values, the output holds ${data.length}`);
  const { slope, inter } = volume;
  const src = volume.data;
  if (colStride === 1 && slope === 1 && inter === 0) {
    // Rows contiguous in the volume, values as stored: the typed-array copy converts as assignment does.
    for (let r = 0; r < height; r++) data.set(src.subarray(w.base + r * rowStride, w.base + r * rowStride + width), r * width);
    return { width, height, data };
  }
  for (let r = 0; r < height; r++) {
    let s = w.base + r * rowStride;
    const o = r * width;
    for (let c = 0; c < width; c++, s += colStride) data[o + c] = src[s] * slope + inter;
  }
  return { width, height, data };
}

/** The smallest and largest stored (unscaled) value of one slice, read in the volume's memory order. */
export function rawSliceRange(volume: Volume, axis: Axis, index: number): [number, number] {
  const w = walk(volume, axis, index, 'rawSliceRange');
  // Order does not matter for a min and max: the inner loop takes the smaller stride.
  const [outer, inner, outerStride, innerStride] = w.rowStride <= w.colStride ? [w.width, w.height, w.colStride, w.rowStride] : [w.height, w.width, w.rowStride, w.colStride];
  const src = volume.data;
  let lo = Infinity;
  let hi = -Infinity;
  for (let o = 0; o < outer; o++) {
    let s = w.base + o * outerStride;
    for (let i = 0; i < inner; i++, s += innerStride) {
      const v = src[s];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return [lo, hi];
}

/**
 * One slice of an integer volume through a table of its stored values: pixel = table[raw -
 * offset], in getSlice's layout (getSliceTransposed's with `transposed`). The caller
 * covers every stored value of the slice (rawSliceRange).
 */
export function tableSlice(volume: Volume, axis: Axis, index: number, table: Uint8Array, offset: number, transposed: boolean): Slice<Uint8Array> {
  const w = walk(volume, axis, index, 'tableSlice');
  const { width, height, rowStride, colStride } = transposed ? transpose(w) : w;
  const data = new Uint8Array(width * height);
  const src = volume.data;
  for (let r = 0; r < height; r++) {
    let s = w.base + r * rowStride;
    const o = r * width;
    for (let c = 0; c < width; c++, s += colStride) data[o + c] = table[src[s] - offset];
  }
  return { width, height, data };
}

/** Stores a slice's values as they are (masks, unscaled volumes); the layout is getSlice's. */
export function setSlice(volume: Volume, axis: Axis, index: number, values: ArrayLike<number>): void {
  const w = walk(volume, axis, index, 'setSlice');
  if (volume.slope !== 1 || volume.inter !== 0) {
    throw new RangeError(`setSlice ${volume.source}: the volume is scaled (slope ${volume.slope}, inter ${volume.inter}); write its raw data instead`);
  }
  if (values.length !== w.width * w.height) {
    throw new RangeError(`setSlice ${volume.source}: a ${w.height}x${w.width} slice needs ${w.width * w.height} values, got ${values.length}`);
  }
  const dst = volume.data;
  for (let r = 0; r < w.height; r++) {
    let d = w.base + r * w.rowStride;
    const o = r * w.width;
    for (let c = 0; c < w.width; c++, d += w.colStride) dst[d] = values[o + c];
  }
}
