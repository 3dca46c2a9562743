// Between volumes (any axis, any datatype) and the session's stack of 8-bit slices.
import { sliceToUint8, type IntensityMapping } from '../volume/intensity.ts';
import { getSlice, getSliceTransposed, setSlice, sliceShape, type Axis } from '../volume/slice.ts';
import { maskLike, type MaskVolume, type Volume } from '../volume/volume.ts';
import type { SliceStack } from './session.ts';

/**
 * The volume's slices along `axis` as 8-bit images: `mapping` converts intensities
 * (per-slice min-max as the Mem3D seed does, or a CT window); 'raw' takes uint8
 * voxels as they are (PNG datasets are 8-bit already).
 */
export function volumeStack(volume: Volume, axis: Axis, mapping: IntensityMapping | 'raw' = { kind: 'minmax' }): SliceStack {
  const shape = sliceShape(volume, axis);
  return {
    width: shape.width,
    height: shape.height,
    depth: shape.count,
    slice: (z) => (mapping === 'raw' ? getSlice(volume, axis, z, new Uint8Array(shape.width * shape.height)).data : sliceToUint8(volume, axis, z, mapping).data),
    sliceTransposed: (z) =>
      mapping === 'raw' ? getSliceTransposed(volume, axis, z, new Uint8Array(shape.width * shape.height)).data : sliceToUint8(volume, axis, z, mapping, true).data,
  };
}

/** A mask volume's slices along `axis`, slice-major as the session keeps them (0 / 1). */
export function stackMask(mask: Volume, axis: Axis): Uint8Array {
  const shape = sliceShape(mask, axis);
  const n = shape.width * shape.height;
  const out = new Uint8Array(n * shape.count);
  for (let z = 0; z < shape.count; z++) {
    const s = getSlice(mask, axis, z).data;
    for (let i = 0; i < n; i++) out[z * n + i] = s[i] > 0 ? 1 : 0;
  }
  return out;
}

/** The session's slice-major mask written back into a uint8 volume with `like`'s geometry. */
export function unstackMask(masks: Uint8Array, like: Volume, axis: Axis): MaskVolume {
  const shape = sliceShape(like, axis);
  const n = shape.width * shape.height;
  if (masks.length !== n * shape.count) throw new RangeError(`unstackMask: ${masks.length} voxels for a ${shape.count}-slice stack of ${shape.width}x${shape.height}`);
  const out = maskLike(like);
  for (let z = 0; z < shape.count; z++) setSlice(out, axis, z, masks.subarray(z * n, (z + 1) * n));
  return out;
}
