// A 3-D scalar volume in NIfTI index order (x fastest), browser-safe. Voxels stay in
// the file's own typed array (a 512x512x300 int16 CT is 150 MB as f32, 75 MB as it
// is); scaling (scl_slope/scl_inter) is applied when a slice is read.

import { diagonalAffine, type Affine, type Vec3, type VoxelType } from './geometry.ts';
import { maskHeader, type NiftiHeader } from './nifti-header.ts';

export { diagonalAffine, type Affine, type Row4, type Vec3, type VoxelType } from './geometry.ts';
export type VoxelArray = Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Float32Array | Float64Array;

export interface Volume {
  /** [nx, ny, nz]; voxel (x, y, z) is data[x + nx * (y + ny * z)] */
  readonly dims: Vec3;
  /** stored values; the real value is raw * slope + inter */
  readonly data: VoxelArray;
  readonly slope: number;
  readonly inter: number;
  /** voxel size along x, y, z (pixdim[1..3]; 1 where the file has none) */
  readonly spacing: Vec3;
  readonly affine: Affine;
  /** the NIfTI header the volume was read with: a mask written for it keeps its geometry */
  readonly header?: NiftiHeader;
  /** file name or label, used in error messages */
  readonly source: string;
}

/** A volume whose data type is known, e.g. VolumeOf<Uint8Array> for masks. */
export type VolumeOf<T extends VoxelArray> = Volume & { readonly data: T };
export type MaskVolume = VolumeOf<Uint8Array>;

/** A problem with a volume file or dataset; the message starts with the file's name. */
export class VolumeError extends Error {
  constructor(readonly source: string, message: string, options?: ErrorOptions) {
    super(`${source}: ${message}`, options);
    this.name = 'VolumeError';
  }
}

const TYPE_OF: ReadonlyArray<readonly [new (n: number) => VoxelArray, VoxelType]> = [
  [Uint8Array, 'uint8'], [Int8Array, 'int8'], [Int16Array, 'int16'], [Uint16Array, 'uint16'],
  [Int32Array, 'int32'], [Float32Array, 'float32'], [Float64Array, 'float64'],
];

export function voxelType(data: VoxelArray): VoxelType {
  const hit = TYPE_OF.find(([ctor]) => data instanceof ctor);
  if (!hit) throw new TypeError(`voxelType: unsupported array ${(data as object).constructor.name}`);
  return hit[1];
}

export function voxelCount(dims: Vec3): number {
  return dims[0] * dims[1] * dims[2];
}

export interface VolumeInit<T extends VoxelArray = VoxelArray> {
  dims: Vec3;
  data: T;
  slope?: number;
  inter?: number;
  spacing?: Vec3;
  /** defaults to diag(spacing) */
  affine?: Affine;
  header?: NiftiHeader;
  source?: string;
}

/** Checks the parts and builds a volume (the data array is used, not copied). */
export function createVolume<T extends VoxelArray>(init: VolumeInit<T>): VolumeOf<T> {
  const source = init.source ?? '<volume>';
  const { dims, data } = init;
  if (dims.length !== 3 || !dims.every((d) => Number.isSafeInteger(d) && d >= 1)) {
    throw new RangeError(`createVolume ${source}: dims [${dims}] must be three integers >= 1`);
  }
  voxelType(data);
  if (data.length !== voxelCount(dims)) {
    throw new RangeError(`createVolume ${source}: dims [${dims}] need ${voxelCount(dims)} voxels, data has ${data.length}`);
  }
  const slope = init.slope ?? 1;
  const inter = init.inter ?? 0;
  if (!Number.isFinite(slope) || slope === 0 || !Number.isFinite(inter)) {
    throw new RangeError(`createVolume ${source}: scaling slope ${slope}, inter ${inter} must be finite with slope != 0`);
  }
  const spacing = init.spacing ?? [1, 1, 1];
  if (spacing.length !== 3 || !spacing.every((s) => Number.isFinite(s) && s > 0)) {
    throw new RangeError(`createVolume ${source}: spacing [${spacing}] must be three finite numbers > 0`);
  }
  const affine = init.affine ?? diagonalAffine(spacing);
  if (affine.length !== 4 || !affine.every((row) => row.length === 4 && row.every(Number.isFinite))) {
    throw new RangeError(`createVolume ${source}: affine must be 4 rows of 4 finite numbers`);
  }
  const volume: VolumeOf<T> = { dims: [dims[0], dims[1], dims[2]], data, slope, inter, spacing, affine, source };
  return init.header ? { ...volume, header: init.header } : volume;
}

/**
 * An all-zero uint8 volume on the same grid: dims, spacing, affine and the header's
 * geometry (pixdim, qform, sform, units), so a mask written from it overlays the source.
 */
export function maskLike(volume: Volume, source = `mask of ${volume.source}`): MaskVolume {
  return createVolume({
    dims: volume.dims, data: new Uint8Array(voxelCount(volume.dims)), spacing: volume.spacing,
    affine: volume.affine, header: volume.header && maskHeader(volume.header), source,
  });
}
