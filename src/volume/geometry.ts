// The volume's geometry and voxel types, shared by volume.ts and nifti-header.ts
// (so neither imports the other's module: the header knows nothing of volumes).
// Browser-safe.

export type VoxelType = 'uint8' | 'int8' | 'int16' | 'uint16' | 'int32' | 'float32' | 'float64';
export type Vec3 = readonly [number, number, number];
export type Row4 = readonly [number, number, number, number];
/** Row-major 4x4 voxel-index (i, j, k, 1) to world (x, y, z, 1) matrix, as nibabel prints it. */
export type Affine = readonly [Row4, Row4, Row4, Row4];

export function diagonalAffine(spacing: Vec3): Affine {
  return [[spacing[0], 0, 0, 0], [0, spacing[1], 0, 0], [0, 0, spacing[2], 0], [0, 0, 0, 1]];
}
