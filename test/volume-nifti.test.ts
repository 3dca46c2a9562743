import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseNifti, serializeNifti } from '../src/volume/nifti.ts';
import { defaultHeader, type NiftiHeader } from '../src/volume/nifti-header.ts';
import { readNifti, writeNifti } from '../src/volume/nifti-node.ts';
import { assertNotInput } from '../src/volume/safe-write-node.ts';
import { getSlice } from '../src/volume/slice.ts';
import { createVolume, maskLike, type Affine, type Vec3, type VoxelArray } from '../src/volume/volume.ts';
import { rng } from './_lib/random.ts';
import { throwsNaming } from './_lib/volume-errors.ts';

const DIR = mkdtempSync(join(tmpdir(), 'mem3d-nifti-'));

interface Hand {
  le?: boolean;
  sizeof?: number;
  magic?: string;
  dim: number[];
  datatype: number;
  bitpix: number;
  pixdim?: number[];
  voxOffset?: number;
  slope?: number;
  inter?: number;
  qform?: { code: number; b: number; c: number; d: number; x: number; y: number; z: number };
  sform?: { code: number; rows: number[][] };
}

/** A .nii assembled field by field at nifti1.h's offsets, independent of our header table. */
function handNifti(h: Hand, data: Uint8Array): Uint8Array {
  const le = h.le ?? true;
  const off = h.voxOffset ?? 352;
  const out = new Uint8Array(Math.max(off, 348) + data.length);
  const v = new DataView(out.buffer);
  v.setInt32(0, h.sizeof ?? 348, le);
  h.dim.forEach((d, i) => v.setInt16(40 + 2 * i, d, le));
  v.setInt16(70, h.datatype, le);
  v.setInt16(72, h.bitpix, le);
  (h.pixdim ?? [1, 1, 1, 1, 0, 0, 0, 0]).forEach((p, i) => v.setFloat32(76 + 4 * i, p, le));
  v.setFloat32(108, off, le);
  v.setFloat32(112, h.slope ?? 1, le);
  v.setFloat32(116, h.inter ?? 0, le);
  if (h.qform) {
    v.setInt16(252, h.qform.code, le);
    [h.qform.b, h.qform.c, h.qform.d, h.qform.x, h.qform.y, h.qform.z].forEach((q, i) => v.setFloat32(256 + 4 * i, q, le));
  }
  if (h.sform) {
    v.setInt16(254, h.sform.code, le);
    h.sform.rows.forEach((row, r) => row.forEach((s, c) => v.setFloat32(280 + 16 * r + 4 * c, s, le)));
  }
  for (let i = 0; i < 4; i++) out[344 + i] = (h.magic ?? 'n+1\0').charCodeAt(i) || 0;
  out.set(data, off);
  return out;
}

function int16Bytes(values: number[], le: boolean): Uint8Array {
  const b = new Uint8Array(2 * values.length);
  values.forEach((x, i) => new DataView(b.buffer).setInt16(2 * i, x, le));
  return b;
}

function assertAffine(actual: Affine, expected: number[][], tol = 0, what = 'affine'): void {
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) {
    const ok = tol === 0 ? Object.is(actual[r][c] + 0, expected[r][c] + 0) : Math.abs(actual[r][c] - expected[r][c]) <= tol;
    assert.ok(ok, `${what}[${r}][${c}] = ${actual[r][c]}, expected ${expected[r][c]}`);
  }
}

const RAW = [-3, 0, 7, 32767, -32768, 1, 2, 3, 4, 5, 6, 100];
const HAND: Hand = {
  dim: [3, 3, 2, 2, 1, 1, 1, 1], datatype: 4, bitpix: 16, pixdim: [-1, 0.5, 0.75, 2.5, 0, 0, 0, 0], slope: 2, inter: -1,
  qform: { code: 1, b: 0, c: 0, d: 1, x: 10, y: -20, z: 30 },
};

for (const le of [true, false]) {
  test(`hand-built ${le ? 'little' : 'big'}-endian int16 file: values, scaling, spacing, qform affine`, () => {
    const path = join(DIR, `hand-${le ? 'le' : 'be'}.nii`);
    writeFileSync(path, handNifti({ ...HAND, le }, int16Bytes(RAW, le)));
    const v = readNifti(path);
    assert.equal(v.dims, [3, 2, 2]);
    assert.instance(v.data, Int16Array);
    assert.equal(Array.from(v.data), RAW);
    assert.is(v.slope, 2);
    assert.is(v.inter, -1);
    assert.equal(v.spacing, [0.5, 0.75, 2.5]);
    // quaternion (0, 0, 1): a = 0, R = diag(-1, -1, 1); qfac = pixdim[0] = -1 flips the third column.
    assertAffine(v.affine, [[-0.5, 0, 0, 10], [0, -0.75, 0, -20], [0, 0, -2.5, 30], [0, 0, 0, 1]]);
    assert.is(v.source, path);
    // Axial slice z = 1: rows x (3), columns y (2); voxel (x, y, 1) is RAW[x + 3y + 6].
    const s = getSlice(v, 2, 1);
    assert.is(s.height, 3);
    assert.is(s.width, 2);
    const expected: number[] = [];
    for (let x = 0; x < 3; x++) for (let y = 0; y < 2; y++) expected.push(2 * RAW[x + 3 * y + 6] - 1);
    assert.equal(Array.from(s.data), expected);
  });
}

test('qform: a general rotation matches the axis-angle (Rodrigues) matrix', () => {
  const r = rng(7);
  for (let trial = 0; trial < 20; trial++) {
    const axis = [r() - 0.5, r() - 0.5, r() - 0.5];
    const n = Math.hypot(...axis);
    const u = axis.map((x) => x / n);
    const theta = (r() * 2 - 1) * Math.PI;
    const [b, c, d] = u.map((x) => Math.fround(x * Math.sin(theta / 2)));
    const qfac = r() < 0.5 ? -1 : 1;
    const sp = [0.5 + r(), 0.5 + r(), 0.5 + r()].map(Math.fround);
    const bytes = handNifti({
      dim: [3, 1, 1, 1, 1, 1, 1, 1], datatype: 2, bitpix: 8, pixdim: [qfac, ...sp, 0, 0, 0, 0],
      qform: { code: 2, b, c, d, x: 1.5, y: 2.5, z: -3.5 },
    }, new Uint8Array(1));
    const v = parseNifti(bytes, 'rot.nii');
    const cos = Math.cos(theta), sin = Math.sin(theta);
    const R = [0, 1, 2].map((i) => [0, 1, 2].map((j) => {
      const cross = [[0, -u[2], u[1]], [u[2], 0, -u[0]], [-u[1], u[0], 0]][i][j];
      return (i === j ? cos : 0) + sin * cross + (1 - cos) * u[i] * u[j];
    }));
    const expected = R.map((row, i) => [...row.map((x, j) => x * sp[j] * (j === 2 ? qfac : 1)), [1.5, 2.5, -3.5][i]]);
    assertAffine(v.affine, [...expected, [0, 0, 0, 1]], 1e-6, `trial ${trial}`);
  }
});

test('affine: sform wins when sform_code > 0, pixdim scaling when neither code is set', () => {
  const rows = [[0, 0, -0.8, 5], [0, -0.8, 0, 6], [-3, 0, 0, 7]];
  const base: Hand = { dim: [3, 1, 1, 1, 1, 1, 1, 1], datatype: 2, bitpix: 8, pixdim: [1, 2, 3, 4, 0, 0, 0, 0] };
  const both = parseNifti(handNifti({ ...base, qform: { code: 1, b: 0, c: 0, d: 0, x: 9, y: 9, z: 9 }, sform: { code: 1, rows } }, new Uint8Array(1)));
  assertAffine(both.affine, [...rows.map((r) => r.map(Math.fround)), [0, 0, 0, 1]]);
  const qOnly = parseNifti(handNifti({ ...base, qform: { code: 1, b: 0, c: 0, d: 0, x: 9, y: 8, z: 7 } }, new Uint8Array(1)));
  assertAffine(qOnly.affine, [[2, 0, 0, 9], [0, 3, 0, 8], [0, 0, 4, 7], [0, 0, 0, 1]]);
  const none = parseNifti(handNifti(base, new Uint8Array(1)));
  assertAffine(none.affine, [[2, 0, 0, 0], [0, 3, 0, 0], [0, 0, 4, 0], [0, 0, 0, 1]]);
  // b² + c² + d² rounds a hair above 1 in f32: nifti1_io's normalisation, not NaN.
  const s = Math.fround(Math.SQRT1_2);
  const edge = parseNifti(handNifti({ ...base, qform: { code: 1, b: s, c: s, d: 0, x: 0, y: 0, z: 0 } }, new Uint8Array(1)));
  assertAffine(edge.affine, [[0, 3, 0, 0], [2, 0, 0, 0], [0, 0, -4, 0], [0, 0, 0, 1]], 1e-6);
});

const DTYPES: [string, (n: number, r: () => number) => VoxelArray][] = [
  ['uint8', (n, r) => Uint8Array.from({ length: n }, (_, i) => (i === 0 ? 255 : Math.floor(r() * 256)))],
  ['int8', (n, r) => Int8Array.from({ length: n }, (_, i) => (i === 0 ? -128 : Math.floor(r() * 256) - 128))],
  ['int16', (n, r) => Int16Array.from({ length: n }, (_, i) => (i === 0 ? -32768 : Math.floor(r() * 65536) - 32768))],
  ['uint16', (n, r) => Uint16Array.from({ length: n }, (_, i) => (i === 0 ? 65535 : Math.floor(r() * 65536)))],
  ['int32', (n, r) => Int32Array.from({ length: n }, (_, i) => (i === 0 ? -(2 ** 31) : Math.floor(r() * 2 ** 32) - 2 ** 31))],
  ['float32', (n, r) => Float32Array.from({ length: n }, (_, i) => (i === 0 ? -0 : (r() - 0.5) * 1e6))],
  ['float64', (n, r) => Float64Array.from({ length: n }, (_, i) => (i === 0 ? Number.MIN_VALUE : (r() - 0.5) * 1e300))],
];

/** A header exercising every field kind: both transforms, units, strings, odd pixdims. */
function richHeader(dims: Vec3): NiftiHeader {
  return {
    ...defaultHeader(dims, [0.7, 0.8, 2.5], [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]),
    dim_info: 57, intent_code: 0, slice_start: 1, slice_end: 4, slice_code: 1, xyzt_units: 10,
    pixdim: [-1, 0.7, 0.8, 2.5, 1.5, 0, 0, 0].map(Math.fround), cal_min: -1000, cal_max: 3000, toffset: 0.25,
    descrip: 'round trip test', aux_file: 'aux', qform_code: 1, sform_code: 2,
    quatern_b: 0, quatern_c: Math.fround(0.6), quatern_d: Math.fround(0.8), qoffset_x: -100.5, qoffset_y: 20.25, qoffset_z: 7,
    srow_x: [-0.7, 0, 0, 100].map(Math.fround), srow_y: [0, 0.8, 0.1, -50].map(Math.fround), srow_z: [0, 0, 2.5, 3], intent_name: 'name',
  };
}

for (const [name, make] of DTYPES) {
  for (const gz of [false, true]) {
    test(`round trip ${name} with scl_slope, ${gz ? '.nii.gz' : '.nii'}: header fields and data identical`, () => {
      const dims: Vec3 = [3, 4, 5];
      const slope = Math.fround(0.5), inter = Math.fround(-12.25);
      const src = createVolume({ dims, data: make(60, rng(name.length + (gz ? 100 : 0))), slope, inter, header: richHeader(dims), source: 'synthetic' });
      const path = join(DIR, `rt-${name}.nii${gz ? '.gz' : ''}`);
      writeNifti(path, src);
      const back = readNifti(path);
      assert.instance(back.data, src.data.constructor as new () => VoxelArray);
      assert.equal(new Uint8Array(back.data.buffer, back.data.byteOffset, back.data.byteLength), new Uint8Array(src.data.buffer));
      assert.is(back.slope, slope);
      assert.is(back.inter, inter);
      const { datatype, bitpix, scl_slope, scl_inter, ...rest } = back.header!;
      const { datatype: _d, bitpix: _b, scl_slope: _s, scl_inter: _i, ...restSrc } = src.header!;
      assert.equal(rest, restSrc);
      assert.equal([datatype, bitpix, scl_slope, scl_inter], [{ uint8: 2, int8: 256, int16: 4, uint16: 512, int32: 8, float32: 16, float64: 64 }[name], 8 * src.data.BYTES_PER_ELEMENT, slope, inter]);
      assertAffine(back.affine, [...[src.header!.srow_x, src.header!.srow_y, src.header!.srow_z].map((r) => r.map(Math.fround)), [0, 0, 0, 1]]);
      // Reading and writing again gives the same file.
      const again = join(DIR, `rt2-${name}.nii${gz ? '.gz' : ''}`);
      writeNifti(again, back);
      assert.equal(readFileSync(again), readFileSync(path));
      // The portable (fflate) path reads the same volume as the Node (zlib) one.
      const portable = parseNifti(readFileSync(path), path);
      assert.equal(portable.header, back.header);
      assert.equal(Array.from(portable.data), Array.from(back.data));
    });
  }
}

test('a mask written for a volume keeps its grid: dims, pixdim, qform, sform, units', () => {
  const dims: Vec3 = [4, 3, 2];
  const ctPath = join(DIR, 'ct.nii.gz');
  writeNifti(ctPath, createVolume({ dims, data: new Int16Array(24).fill(-1000), header: richHeader(dims), source: 'synthetic ct' }));
  const ct = readNifti(ctPath);
  const mask = maskLike(ct);
  mask.data[5] = 1;
  const out = join(DIR, 'mask.nii.gz');
  writeNifti(out, mask, { protect: [ct.source] });
  const back = readNifti(out);
  assert.instance(back.data, Uint8Array);
  assert.equal(Array.from(back.data), Array.from(mask.data));
  const geometry = ['dim', 'pixdim', 'qform_code', 'sform_code', 'quatern_b', 'quatern_c', 'quatern_d', 'qoffset_x', 'qoffset_y', 'qoffset_z', 'srow_x', 'srow_y', 'srow_z', 'xyzt_units', 'dim_info'] as const;
  for (const k of geometry) assert.equal(back.header![k], ct.header![k], k);
  assert.equal(back.affine, ct.affine);
  assert.equal([back.header!.datatype, back.header!.bitpix, back.header!.scl_slope, back.header!.cal_max], [2, 8, 1, 0]);
});

test('a volume without a header is written with its affine as the sform (or none when it is diag(spacing))', () => {
  const affine: Affine = [[0, -2, 0, 1], [3, 0, 0, 2], [0, 0, 4, 3], [0, 0, 0, 1]];
  const v = createVolume({ dims: [2, 2, 2], data: new Uint8Array(8), spacing: [3, 2, 4], affine });
  const back = parseNifti(serializeNifti(v, { gzip: true }));
  assert.equal(back.affine, affine);
  assert.is(back.header!.sform_code, 2);
  const plain = parseNifti(serializeNifti(createVolume({ dims: [2, 2, 2], data: new Uint8Array(8), spacing: [3, 2, 4] })));
  assert.is(plain.header!.sform_code, 0);
  assert.equal(plain.affine, [[3, 0, 0, 0], [0, 2, 0, 0], [0, 0, 4, 0], [0, 0, 0, 1]]);
});

test('bad files: each error names the file and says what is wrong', () => {
  const ok: Hand = { dim: [3, 2, 2, 2, 1, 1, 1, 1], datatype: 4, bitpix: 16 };
  const data = new Uint8Array(16);
  const cases: [string, Uint8Array, string[]][] = [
    ['magic.nii', handNifti({ ...ok, magic: 'nx1\0' }, data), ['wrong magic', '"nx1"', '"n+1"']],
    ['pair.nii', handNifti({ ...ok, magic: 'ni1\0' }, data), ['.hdr/.img']],
    ['nifti2.nii', handNifti({ ...ok, sizeof: 540 }, data), ['NIfTI-2']],
    ['png.nii', new Uint8Array(400).fill(7), ['not a NIfTI-1 file', 'sizeof_hdr']],
    ['short.nii', handNifti(ok, data).slice(0, 200), ['truncated', '200 bytes']],
    ['truncated.nii', handNifti(ok, data).slice(0, 352 + 15), ['truncated', '16 bytes', 'only 15']],
    ['rgb.nii', handNifti({ ...ok, datatype: 128, bitpix: 24 }, data), ['unsupported datatype 128', 'RGB24']],
    ['int64.nii', handNifti({ ...ok, datatype: 1024, bitpix: 64 }, data), ['unsupported datatype 1024', 'int64']],
    ['offset.nii', handNifti({ ...ok, voxOffset: 4000 }, new Uint8Array(0)).slice(0, 400), ['vox_offset 4000', 'past the end']],
    ['dims.nii', handNifti({ ...ok, dim: [3, 2, 0, 2, 1, 1, 1, 1] }, data), ['dim[2] = 0']],
    ['negdims.nii', handNifti({ ...ok, dim: [3, -2, 2, 2, 1, 1, 1, 1] }, data), ['dim[1] = -2']],
    ['ndim.nii', handNifti({ ...ok, dim: [0, 2, 2, 2, 1, 1, 1, 1] }, data), ['dim[0] = 0']],
    ['4d.nii', handNifti({ ...ok, dim: [4, 2, 2, 2, 3, 1, 1, 1] }, new Uint8Array(48)), ['4-D', 'only 3-D']],
    ['gz.nii.gz', gzipSync(handNifti(ok, data)).subarray(0, 40), ['gzip']],
    ['empty.nii', new Uint8Array(0), ['truncated', '0 bytes']],
  ];
  for (const [name, bytes, parts] of cases) {
    const path = join(DIR, name);
    writeFileSync(path, bytes);
    throwsNaming(() => readNifti(path), path, ...parts);
    throwsNaming(() => parseNifti(bytes, name), name, ...parts);
  }
  throwsNaming(() => readNifti(join(DIR, 'missing.nii')), join(DIR, 'missing.nii'), 'cannot read');
  throwsNaming(() => writeNifti(join(DIR, 'out.img'), maskLike(readNifti(join(DIR, 'hand-le.nii')))), join(DIR, 'out.img'), '.nii or .nii.gz');
});

test('nothing is written over an input: same path, symlink, hard link, inside an input folder', () => {
  const input = join(DIR, 'hand-le.nii');
  const before = readFileSync(input);
  const v = readNifti(input);
  throwsNaming(() => writeNifti(input, v), input, 'refusing', input);
  const mask = maskLike(v);
  const aliases = [relative(process.cwd(), input), join(DIR, 'link.nii'), join(DIR, 'hard.nii')];
  symlinkSync(input, aliases[1]);
  linkSync(input, aliases[2]);
  for (const a of aliases) throwsNaming(() => writeNifti(a, mask, { protect: [input] }), a, 'refusing');
  const dataset = join(DIR, 'dataset');
  mkdirSync(dataset);
  throwsNaming(() => assertNotInput(join(dataset, 'sub', 'x.png'), [dataset]), join(dataset, 'sub', 'x.png'), 'inside the input directory');
  assert.equal(readFileSync(input), before);
  assertNotInput(join(DIR, 'fresh.nii.gz'), [input, dataset, join(DIR, 'not-there.nii')]);
  writeNifti(join(DIR, 'fresh.nii.gz'), mask, { protect: [input] });
});

test.after(() => rmSync(DIR, { recursive: true, force: true }));

test.run();
