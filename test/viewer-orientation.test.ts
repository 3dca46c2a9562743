// The viewer's radiological display (web/src/orientation.ts), checked against world
// coordinates computed here from the affine: patient right on screen left, anterior
// up on axial slices, superior up on coronal and sagittal ones, anterior left on
// sagittal ones; the edge letters name the patient direction found at that edge.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inPlaneAxes, obliqueNotice, screenFromVoxel, sliceOrientation, toScreen, voxelFromScreen, type SliceOrientation } from '../web/src/orientation.ts';
import { defaultHeader } from '../src/volume/nifti-header.ts';
import { parseNifti, serializeNifti } from '../src/volume/nifti.ts';
import { getSlice, sliceShape, type AxisIndex } from '../src/volume/slice.ts';
import { createVolume, type Affine, type Vec3 } from '../src/volume/volume.ts';

const IDENTITY: Affine = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]];
const diag = (x: number, y: number, z: number): Affine => [[x, 0, 0, 3], [0, y, 0, -7], [0, 0, z, 11], [0, 0, 0, 1]];

function world(affine: Affine, v: readonly number[]): Vec3 {
  const w = [0, 1, 2].map((r) => affine[r][0] * v[0] + affine[r][1] * v[1] + affine[r][2] * v[2] + affine[r][3]);
  return [w[0], w[1], w[2]];
}

/** The voxel (i, j, k) shown at a screen pixel of slice `index`. */
function voxelAt(o: SliceOrientation, axis: AxisIndex, index: number, col: number, row: number): number[] {
  const [a, b] = voxelFromScreen(o, col, row);
  const [pa, pb] = inPlaneAxes(axis);
  const v = [0, 0, 0];
  v[axis] = index;
  v[pa] = a;
  v[pb] = b;
  return v;
}

/** The patient direction of a world step: the letter of its largest component. */
function letter(d: Vec3): string {
  const w = [0, 1, 2].reduce((best, i) => (Math.abs(d[i]) > Math.abs(d[best]) ? i : best), 0);
  return d[w] > 0 ? 'RAS'[w] : 'LPI'[w];
}

/** Indices of the world axes across and down the screen for each plane. */
const SCREEN_WORLD = { axial: [0, 1], coronal: [0, 2], sagittal: [1, 2] } as const;

/**
 * The radiological rules, from world coordinates: every step right on screen lowers the
 * plane's horizontal world coordinate (x for axial/coronal: patient right on the left;
 * y for sagittal: anterior on the left), every step down lowers the vertical one (y:
 * anterior up; z: superior up); edge letters match the direction found at that edge;
 * screen <-> voxel is a bijection and toScreen draws getSlice's pixels where they belong.
 */
function checkRadiological(affine: Affine, dims: Vec3, axis: AxisIndex, label: string): SliceOrientation {
  const o = sliceOrientation(affine, dims, axis);
  const [across, down] = SCREEN_WORLD[o.plane];
  const index = Math.floor(dims[axis] / 2);
  const at = (col: number, row: number) => world(affine, voxelAt(o, axis, index, col, row));
  for (let row = 0; row < o.height; row++) {
    for (let col = 0; col + 1 < o.width; col++) {
      assert.ok(at(col, row)[across] > at(col + 1, row)[across], `${label}: world ${'xyz'[across]} must fall from screen column ${col} to ${col + 1}`);
    }
  }
  for (let col = 0; col < o.width; col++) {
    for (let row = 0; row + 1 < o.height; row++) {
      assert.ok(at(col, row)[down] > at(col, row + 1)[down], `${label}: world ${'xyz'[down]} must fall from screen row ${row} to ${row + 1}`);
    }
  }
  const step = (from: Vec3, to: Vec3): Vec3 => [to[0] - from[0], to[1] - from[1], to[2] - from[2]];
  const c = at(1, 1);
  assert.equal(o.labels, {
    left: letter(step(c, at(0, 1))), right: letter(step(c, at(2, 1))), top: letter(step(c, at(1, 0))), bottom: letter(step(c, at(1, 2))),
  }, `${label}: edge letters`);

  // Bijection and the inverse.
  const seen = new Set<number>();
  for (let a = 0; a < o.sliceRows; a++) {
    for (let b = 0; b < o.sliceCols; b++) {
      const s = screenFromVoxel(o, a, b);
      assert.ok(s.col >= 0 && s.col < o.width && s.row >= 0 && s.row < o.height, `${label}: (${a}, ${b}) lands on screen`);
      assert.equal(voxelFromScreen(o, s.col, s.row), [a, b], `${label}: inverse`);
      seen.add(s.row * o.width + s.col);
    }
  }
  assert.is(seen.size, o.width * o.height, `${label}: one voxel per screen pixel`);

  // Pixels: a volume whose value names its voxel, sliced by getSlice (row a, column b).
  const data = new Float32Array(dims[0] * dims[1] * dims[2]);
  for (let n = 0; n < data.length; n++) data[n] = n;
  const volume = createVolume({ dims, data, affine, source: label });
  const shown = toScreen(o, getSlice(volume, axis, index).data);
  for (let row = 0; row < o.height; row++) {
    for (let col = 0; col < o.width; col++) {
      const [i, j, k] = voxelAt(o, axis, index, col, row);
      assert.is(shown[row * o.width + col], i + dims[0] * (j + dims[1] * k), `${label}: screen pixel (${col}, ${row})`);
    }
  }
  return o;
}

test('identity (RAS) axial: voxel i runs right-to-left across the screen, j bottom-to-top', () => {
  const o = checkRadiological(IDENTITY, [4, 5, 3], 2, 'RAS');
  assert.is(o.plane, 'axial');
  assert.equal(o.labels, { left: 'R', right: 'L', top: 'A', bottom: 'P' });
  assert.equal([o.width, o.height], [4, 5]);
  // Worked by hand: screen-left is the largest i (largest x, patient right), top the largest j (anterior).
  assert.equal(voxelFromScreen(o, 0, 0), [3, 4]);
  assert.equal(voxelFromScreen(o, 3, 4), [0, 0]);
  assert.equal(screenFromVoxel(o, 1, 2), { col: 2, row: 2 });
  assert.ok(o.transposed);
  assert.is(obliqueNotice(o), null);
});

test('LPS-stored axial (DICOM order): no flip needed, voxel (0, 0) at the top left', () => {
  const o = checkRadiological(diag(-0.7, -0.7, 2.5), [6, 4, 3], 2, 'LPS');
  assert.equal(voxelFromScreen(o, 0, 0), [0, 0]);
  assert.equal(voxelFromScreen(o, 5, 3), [5, 3]);
  assert.is(o.mmPerCol, 0.7);
});

test('flipped axes: each flip of the affine flips the screen, coronal and sagittal too', () => {
  const dims: Vec3 = [5, 4, 6];
  for (const [x, y, z] of [[1, -1, 1], [-1, 1, 1], [1, 1, -1], [-1, -1, -1], [2, -0.5, 3]]) {
    for (const axis of [0, 1, 2] as AxisIndex[]) checkRadiological(diag(x, y, z), dims, axis, `diag(${x}, ${y}, ${z}) axis ${axis}`);
  }
  const sag = sliceOrientation(IDENTITY, dims, 0);
  assert.is(sag.plane, 'sagittal');
  assert.equal(sag.labels, { left: 'A', right: 'P', top: 'S', bottom: 'I' });
  // Sagittal: a = j (anterior), b = k (superior): the top-left pixel is the most anterior, most superior one.
  assert.equal(voxelFromScreen(sag, 0, 0), [3, 5]);
  const cor = sliceOrientation(IDENTITY, dims, 1);
  assert.equal(cor.labels, { left: 'R', right: 'L', top: 'S', bottom: 'I' });
  assert.equal(voxelFromScreen(cor, 0, 0), [4, 5]);
});

test('permuted axes: slice-first storage (KiTS) and in-plane axes swapped', () => {
  // i along z, j along x, k along y: the axial slices are through voxel axis 0.
  const sliceFirst: Affine = [[0, 0.8, 0, 0], [0, 0, -0.8, 0], [3, 0, 0, 0], [0, 0, 0, 1]];
  const dims: Vec3 = [4, 6, 5];
  const axial = sliceShape(createVolume({ dims, data: new Float32Array(120), affine: sliceFirst }), 'axial').axis;
  assert.is(axial, 0);
  const o = checkRadiological(sliceFirst, dims, axial, 'slice-first');
  assert.is(o.plane, 'axial');
  for (const axis of [1, 2] as AxisIndex[]) checkRadiological(sliceFirst, dims, axis, `slice-first axis ${axis}`);
  // i along y, j along -x: the slice image's rows already run across the patient.
  const swapped: Affine = [[0, -1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]];
  const s = checkRadiological(swapped, [3, 4, 2], 2, 'in-plane swapped');
  assert.not.ok(s.transposed);
});

test('qform-only NIfTI (sform_code 0, qfac -1): the qform decides the display', () => {
  const dims: Vec3 = [5, 6, 4];
  // 90° about z: i -> +y, j -> -x; qfac -1: k -> -z.
  const h = { ...defaultHeader(dims, [1, 1, 1], IDENTITY), qform_code: 1, sform_code: 0, quatern_d: Math.SQRT1_2, qoffset_x: 10, pixdim: [-1, 1, 1, 2, 0, 0, 0, 0] };
  // A misleading sform the reader must ignore (its code is 0).
  h.srow_x = [1, 0, 0, 0];
  h.srow_y = [0, 1, 0, 0];
  h.srow_z = [0, 0, 1, 0];
  const bytes = serializeNifti(createVolume({ dims, data: new Uint8Array(120), header: h, source: 'qform' }));
  const parsed = parseNifti(bytes, 'qform.nii');
  assert.ok(Math.abs(parsed.affine[1][0] - 1) < 1e-6 && Math.abs(parsed.affine[0][1] + 1) < 1e-6 && parsed.affine[2][2] === -2, `qform affine ${JSON.stringify(parsed.affine)}`);
  const o = checkRadiological(parsed.affine, dims, 2, 'qform-only');
  assert.not.ok(o.transposed);
  // Screen-left is patient right = +x: j runs toward -x, so the leftmost column is j = 0; top (anterior, +y) is i = 4.
  assert.equal(voxelFromScreen(o, 0, 0), [4, 0]);
});

test('oblique: nearest orthogonal orientation, with a notice saying how far off', () => {
  const t = (20 * Math.PI) / 180;
  const [c, s] = [Math.cos(t), Math.sin(t)];
  const rotated: Affine = [[0.8 * c, -0.8 * s, 0, 0], [0.8 * s, 0.8 * c, 0, 0], [0, 0, 2.5, 0], [0, 0, 0, 1]];
  const o = checkRadiological(rotated, [6, 5, 3], 2, 'oblique 20°');
  assert.ok(Math.abs(o.obliqueDegrees - 20) < 1e-6, `${o.obliqueDegrees}`);
  assert.match(obliqueNotice(o) ?? '', /20\.0°/);
  assert.equal(o.labels, { left: 'R', right: 'L', top: 'A', bottom: 'P' });
  // Tilted about x by 30°: coronal slices of a sagittal... any axis still obeys the rules.
  const u = (30 * Math.PI) / 180;
  const tilted: Affine = [[1, 0, 0, 0], [0, Math.cos(u), -Math.sin(u), 0], [0, Math.sin(u), Math.cos(u), 0], [0, 0, 0, 1]];
  for (const axis of [0, 1, 2] as AxisIndex[]) checkRadiological(tilted, [4, 5, 6], axis, `tilted axis ${axis}`);
});

test('bad input: an affine with a zero axis and an image of the wrong size are refused', () => {
  const flat: Affine = [[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]];
  assert.throws(() => sliceOrientation(flat, [2, 2, 2], 2), /voxel axis 1 has no direction/);
  assert.throws(() => toScreen(sliceOrientation(IDENTITY, [2, 3, 4], 2), new Float32Array(5)), /5 values for a 2x3 slice/);
});

test.run();
