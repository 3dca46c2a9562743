// Where a user's voxel coordinates meet slice images: the one convention, in one place.
//
// Users give and get voxel indices of the volume as stored (ITK-SNAP, 3D Slicer,
// nibabel; NiiVue's `vox` is in its RAS-reoriented grid, so NiiVue positions come in
// as mm): on axial slice k a point is (i, j), on coronal slice j (i, k), on sagittal
// slice i (j, k) — the two in-plane voxel axes in file order, (a, b).
//
// Slice images inside the engine (getSlice, the session's stacks, PNG datasets) are
// the Mem3D seed's numpy slices: row = a, column = b, pixel at data[a * width + b]
// with width = the size of axis b. So voxel point (a, b) is image pixel
// { x: b, y: a }; nothing is transposed on the way.
//
// Networks state the layout their weights were trained with (safetensors metadata
// `slice_layout`): 'rows-first-axis' is the seed's layout above (converted Mem3D/STM
// checkpoints); 'rows-second-axis' is its transpose. A network whose layout differs
// from the engine's gets each slice transposed at its boundary, and only there.

export type SliceLayout = 'rows-first-axis' | 'rows-second-axis';

/** The layout of every slice image in the engine. */
export const ENGINE_SLICE_LAYOUT: SliceLayout = 'rows-first-axis';

export const SLICE_LAYOUTS: readonly SliceLayout[] = ['rows-first-axis', 'rows-second-axis'];

/** The metadata key weights record their layout under. */
export const SLICE_LAYOUT_KEY = 'slice_layout';

export function parseSliceLayout(value: unknown, where: string): SliceLayout {
  if (typeof value === 'string' && (SLICE_LAYOUTS as readonly string[]).includes(value)) return value as SliceLayout;
  const shown = typeof value === 'string' ? `'${value.slice(0, 40)}'` : typeof value;
  throw new RangeError(`${where}: slice layout ${shown} is not one of ${SLICE_LAYOUTS.join(', ')}`);
}

/** In-plane voxel indices (a, b) of a point on a slice: axial (i, j), coronal (i, k), sagittal (j, k). */
export type VoxelPoint = readonly [number, number];

/** A pixel of a slice image: x = column, y = row. */
export interface PixelPoint {
  x: number;
  y: number;
}

export function pixelFromVoxel([a, b]: VoxelPoint): PixelPoint {
  return { x: b, y: a };
}

export function voxelFromPixel(p: PixelPoint): VoxelPoint {
  return [p.y, p.x];
}

/** Side of the square blocks transposeImage moves: a block's rows and columns both stay in cache. */
const TRANSPOSE_BLOCK = 32;

/** A height x width row-major image as its width x height transpose (a new array). */
export function transposeImage<T extends Uint8Array | Float32Array>(data: T, width: number, height: number): T {
  if (data.length !== width * height) throw new RangeError(`transposeImage: ${data.length} values for ${width}x${height}`);
  const out = new (data.constructor as { new (n: number): T })(data.length);
  // By blocks: 1.8x faster than row by row on a 512x512 f32 slice (a step of a session transposes two).
  for (let y0 = 0; y0 < height; y0 += TRANSPOSE_BLOCK) {
    const y1 = Math.min(height, y0 + TRANSPOSE_BLOCK);
    for (let x0 = 0; x0 < width; x0 += TRANSPOSE_BLOCK) {
      const x1 = Math.min(width, x0 + TRANSPOSE_BLOCK);
      for (let y = y0; y < y1; y++) for (let x = x0, i = y * width + x0; x < x1; x++, i++) out[x * height + y] = data[i];
    }
  }
  return out;
}
