// How a slice is laid out on screen: the radiological convention, derived from the
// volume's affine. Pure functions, no DOM (test/viewer-orientation.test.ts).
//
// World coordinates are NIfTI's RAS+ (x toward the patient's right... as nibabel
// names it: +x = R, +y = A, +z = S). On screen:
//   axial     patient right on screen left, anterior up        (R | L, A over P)
//   coronal   patient right on screen left, superior up        (R | L, S over I)
//   sagittal  anterior on screen left, superior up             (A | P, S over I)
// So screen columns always run toward -world (x, x, y) and screen rows toward
// -world (y, z, z): a column/row step goes away from R, A or S.
//
// A slice image (getSlice, src/volume/layout.ts) has row a and column b, the two
// in-plane voxel axes in file order. Each in-plane voxel axis is matched to the
// nearest patient axis (as src/volume/slice.ts's anatomicalAxes does for slicing);
// screen = a signed permutation of (a, b) plus an offset. An oblique volume is shown
// in its nearest orthogonal orientation and `obliqueDegrees` says how far off it is.
import { anatomicalAxes, type AxisIndex } from '../../src/volume/slice.ts';
import type { Affine, Vec3 } from '../../src/volume/volume.ts';

export type Plane = 'sagittal' | 'coronal' | 'axial';

export interface EdgeLabels {
  left: string;
  right: string;
  top: string;
  bottom: string;
}

export interface SliceOrientation {
  /** The patient plane the slices lie in (nearest orthogonal one). */
  plane: Plane;
  /** The slice image: rows = voxel axis a, columns = voxel axis b. */
  sliceRows: number;
  sliceCols: number;
  /** Screen image size (columns x rows). */
  width: number;
  height: number;
  /**
   * [col, row] = matrix * [a, b] + offset: each row of the matrix has one entry +-1.
   * `transposed`: screen columns follow voxel axis a.
   */
  matrix: readonly [readonly [number, number], readonly [number, number]];
  offset: readonly [number, number];
  transposed: boolean;
  /** Patient directions at the screen edges. */
  labels: EdgeLabels;
  /** Largest angle (degrees) between a voxel axis and the patient axis it is shown along; 0 when orthogonal. */
  obliqueDegrees: number;
  /** Physical size (mm) of one screen column / row step: the voxel sizes along the axes shown there. */
  mmPerCol: number;
  mmPerRow: number;
}

const WORLD: Record<Plane, { normal: number; col: number; row: number; labels: EdgeLabels }> = {
  axial: { normal: 2, col: 0, row: 1, labels: { left: 'R', right: 'L', top: 'A', bottom: 'P' } },
  coronal: { normal: 1, col: 0, row: 2, labels: { left: 'R', right: 'L', top: 'S', bottom: 'I' } },
  sagittal: { normal: 0, col: 1, row: 2, labels: { left: 'A', right: 'P', top: 'S', bottom: 'I' } },
};
const PLANE_OF_NORMAL: readonly Plane[] = ['sagittal', 'coronal', 'axial'];

/** Above this the volume counts as oblique (scanners write tiny rotations as rounding noise). */
export const OBLIQUE_NOTICE_DEGREES = 0.5;

function column(affine: Affine, v: number): Vec3 {
  return [affine[0][v], affine[1][v], affine[2][v]];
}

/** The two in-plane voxel axes of slices through `axis`, in file order (a, b). */
export function inPlaneAxes(axis: AxisIndex): [AxisIndex, AxisIndex] {
  return axis === 0 ? [1, 2] : axis === 1 ? [0, 2] : [0, 1];
}

/** The screen layout of slices through voxel axis `axis` of a volume with this affine and dims. */
export function sliceOrientation(affine: Affine, dims: Vec3, axis: AxisIndex): SliceOrientation {
  for (let v = 0; v < 3; v++) {
    if (!(Math.hypot(...column(affine, v)) > 0)) throw new RangeError(`orientation: the affine's voxel axis ${v} has no direction (column ${v} is zero)`);
  }
  const voxelOfWorld = anatomicalAxes(affine); // world axis name -> voxel axis
  const worldOfVoxel = [0, 0, 0];
  PLANE_OF_NORMAL.forEach((name, w) => (worldOfVoxel[voxelOfWorld[name]] = w));
  const plane = PLANE_OF_NORMAL[worldOfVoxel[axis]];
  const spec = WORLD[plane];
  const [a, b] = inPlaneAxes(axis);
  const size = [dims[a], dims[b]];

  // One screen direction: which in-plane axis (0 = a, 1 = b) it follows and whether reversed.
  const screenAxis = (world: number) => {
    const v = voxelOfWorld[PLANE_OF_NORMAL[world]];
    const k = v === a ? 0 : 1;
    // Screen steps go toward -world: reverse when the voxel axis points toward +world.
    const reversed = affine[world][v] > 0;
    const m: [number, number] = k === 0 ? [reversed ? -1 : 1, 0] : [0, reversed ? -1 : 1];
    return { k, m, offset: reversed ? size[k] - 1 : 0, mm: Math.hypot(...column(affine, v)) };
  };
  const col = screenAxis(spec.col);
  const row = screenAxis(spec.row);

  let obliqueDegrees = 0;
  for (let v = 0; v < 3; v++) {
    const d = column(affine, v);
    const cos = Math.min(1, Math.abs(d[worldOfVoxel[v]]) / Math.hypot(...d));
    obliqueDegrees = Math.max(obliqueDegrees, (Math.acos(cos) * 180) / Math.PI);
  }
  return {
    plane,
    sliceRows: size[0],
    sliceCols: size[1],
    width: size[col.k],
    height: size[row.k],
    matrix: [col.m, row.m],
    offset: [col.offset, row.offset],
    transposed: col.k === 0,
    labels: { ...spec.labels },
    obliqueDegrees,
    mmPerCol: col.mm,
    mmPerRow: row.mm,
  };
}

/** Screen position of in-plane voxel (a, b). */
export function screenFromVoxel(o: SliceOrientation, a: number, b: number): { col: number; row: number } {
  const [[m00, m01], [m10, m11]] = o.matrix;
  return { col: m00 * a + m01 * b + o.offset[0], row: m10 * a + m11 * b + o.offset[1] };
}

/** In-plane voxel (a, b) shown at screen (col, row): the inverse of screenFromVoxel. */
export function voxelFromScreen(o: SliceOrientation, col: number, row: number): [number, number] {
  // A signed permutation's inverse is its transpose.
  const [[m00, m01], [m10, m11]] = o.matrix;
  const c = col - o.offset[0];
  const r = row - o.offset[1];
  return [m00 * c + m10 * r, m01 * c + m11 * r];
}

/** A slice image (rows a, columns b, row-major) laid out as the screen shows it (a new array). */
export function toScreen<T extends Float32Array | Uint8Array | Uint16Array>(o: SliceOrientation, image: T): T {
  if (image.length !== o.sliceRows * o.sliceCols) throw new RangeError(`toScreen: ${image.length} values for a ${o.sliceRows}x${o.sliceCols} slice`);
  const out = new (image.constructor as { new (n: number): T })(image.length);
  for (let row = 0; row < o.height; row++) {
    for (let col = 0; col < o.width; col++) {
      const [a, b] = voxelFromScreen(o, col, row);
      out[row * o.width + col] = image[a * o.sliceCols + b];
    }
  }
  return out;
}

/** One line for the user when the volume is oblique, else null. */
export function obliqueNotice(o: SliceOrientation): string | null {
  if (o.obliqueDegrees <= OBLIQUE_NOTICE_DEGREES) return null;
  return `This volume is tilted ${o.obliqueDegrees.toFixed(1)}° from the patient axes: it is shown in the nearest ${o.plane} orientation, so the edge letters are approximate.`;
}
