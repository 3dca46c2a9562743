// Brush and eraser of the viewer: discs painted into one structure's slice mask (a
// slice image, row a, column b: src/volume/layout.ts). The disc is round in voxel
// indices, so on a slice with non-square voxels it is as many voxels across either
// way. A stroke paints a disc at every voxel along the line between two mouse
// positions, so a quick drag leaves no gaps. Pure: no DOM (test/viewer-brush.test.ts).
import type { VoxelPoint } from '../../src/volume/layout.ts';

/** Radius in voxels: 0 is one voxel, r a disc 2r + 1 voxels across (its centres within r). */
export const BRUSH_RADIUS = { min: 0, max: 30, initial: 3 } as const;

export interface SliceMaskImage {
  rows: number;
  cols: number;
  /** 0 / 1, rows * cols, row-major (pixel (a, b) at a * cols + b). */
  data: Uint8Array;
}

/** Sets the voxels within `radius` of (a, b) to `value`; the part outside the slice is dropped. */
export function paintDisc(mask: SliceMaskImage, [a, b]: VoxelPoint, radius: number, value: 0 | 1): void {
  const r = Math.max(0, Math.floor(radius));
  for (let da = -r; da <= r; da++) {
    const row = a + da;
    if (row < 0 || row >= mask.rows) continue;
    // Voxel centres within r of the disc's centre: radius 1 is a plus of five voxels.
    const half = Math.floor(Math.sqrt(r * r - da * da));
    for (let col = Math.max(0, b - half); col <= Math.min(mask.cols - 1, b + half); col++) mask.data[row * mask.cols + col] = value;
  }
}

/** Discs at every voxel of the line from `from` to `to` (both ends included). */
export function paintStroke(mask: SliceMaskImage, from: VoxelPoint, to: VoxelPoint, radius: number, value: 0 | 1): void {
  const steps = Math.max(Math.abs(to[0] - from[0]), Math.abs(to[1] - from[1]));
  for (let s = 0; s <= steps; s++) {
    const t = steps === 0 ? 0 : s / steps;
    paintDisc(mask, [Math.round(from[0] + (to[0] - from[0]) * t), Math.round(from[1] + (to[1] - from[1]) * t)], radius, value);
  }
}
