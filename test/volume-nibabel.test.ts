// Our reader against files written by nibabel (an independent implementation) and
// our 8-bit slices against the seed's numpy preprocessing run on nibabel's data:
// test/fixtures/nibabel/make.py made the files and expected.json.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sliceToUint8 } from '../src/volume/intensity.ts';
import { readNifti, writeNifti } from '../src/volume/nifti-node.ts';
import { sliceShape } from '../src/volume/slice.ts';
import { maskLike, voxelCount } from '../src/volume/volume.ts';

const FIXTURES = new URL('./fixtures/nibabel/', import.meta.url).pathname;
const TMP = mkdtempSync(join(tmpdir(), 'mem3d-nibabel-'));

interface Expected {
  name: string;
  shape: number[];
  fdata: number[];
  affine: number[][];
  zooms: number[];
  seed0: number[][];
  seed2: number[][];
}

const CASES: Expected[] = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8'));

test('the fixtures cover every datatype, gzip, big endian, scaling, sform and qform-only files', () => {
  const names = CASES.map((c) => c.name);
  for (const n of ['ct_int16.nii.gz', 'ct_slope.nii', 'kits.nii.gz', 'rot_q.nii', 'be_f64.nii', 'u8.nii.gz', 'u16.nii', 'i32.nii.gz', 'i8.nii']) assert.ok(names.includes(n), n);
});

for (const e of CASES) {
  test(`${e.name}: values, affine and voxel sizes as nibabel reads them; seed slices as numpy makes them`, () => {
    const v = readNifti(join(FIXTURES, e.name));
    assert.equal([...v.dims], e.shape);
    for (let i = 0; i < voxelCount(v.dims); i++) {
      if (v.data[i] * v.slope + v.inter !== e.fdata[i]) assert.unreachable(`voxel ${i}: ${v.data[i] * v.slope + v.inter}, nibabel ${e.fdata[i]}`);
    }
    for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) {
      assert.ok(Math.abs(v.affine[r][c] - e.affine[r][c]) <= 1e-5, `affine[${r}][${c}] = ${v.affine[r][c]}, nibabel ${e.affine[r][c]}`);
    }
    v.spacing.forEach((s, i) => assert.ok(Math.abs(s - e.zooms[i]) <= 1e-6, `spacing ${v.spacing} vs ${e.zooms}`));
    e.seed0.forEach((s, i) => assert.equal(Array.from(sliceToUint8(v, 0, i).data), s, `images_nii2png.py slice ${i}`));
    e.seed2.forEach((s, i) => assert.equal(Array.from(sliceToUint8(v, 2, i, { kind: 'minmax', clip: [-79, 304] }).data), s, `z-score script slice ${i}`));
    // A mask written for it lands on the same grid.
    const mask = maskLike(v);
    mask.data[0] = 1;
    const out = join(TMP, `mask-${e.name}.gz`.replace('.gz.gz', '.gz'));
    writeNifti(out, mask);
    assert.equal(readNifti(out).affine, v.affine);
  });
}

test("'axial' is the first axis of the KiTS-style volume (as the seed slices it) and z elsewhere", () => {
  for (const e of CASES) assert.is(sliceShape(readNifti(join(FIXTURES, e.name)), 'axial').axis, e.name === 'kits.nii.gz' ? 0 : 2, e.name);
});

test.after(() => rmSync(TMP, { recursive: true, force: true }));

test.run();
