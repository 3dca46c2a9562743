// Label maps (src/volume/label-map*.ts): written with the input's geometry and read
// back voxel for voxel; geometry checked in the header bytes at nifti1.h's offsets
// (as nibabel reads them, independent of our reader) and against the affines nibabel
// itself reported for its fixtures (test/fixtures/nibabel/expected.json); nibabel-
// written uint8/uint16 maps imported as nibabel reads them; strict sidecar; refusals.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  checkLabelGeometry, decodeLabelMap, defaultLabel, labelSidecarPath, parseLabelSidecar, serializeLabelSidecar,
  stackLabels, unstackLabels, type LabelEntry,
} from '../src/volume/label-map.ts';
import { defaultColor } from '../src/session/structures.ts';
import { checkLabelMapOutput, readLabelMap, writeLabelMap } from '../src/volume/label-map-node.ts';
import { serializeNifti } from '../src/volume/nifti.ts';
import { defaultHeader } from '../src/volume/nifti-header.ts';
import { readNifti } from '../src/volume/nifti-node.ts';
import { createVolume, diagonalAffine, voxelCount, type Volume } from '../src/volume/volume.ts';

const FIXTURES = new URL('./fixtures/nibabel/', import.meta.url).pathname;
const TMP = mkdtempSync(join(tmpdir(), 'mem3d-labels-'));
const NIBABEL: { name: string; shape: number[]; fdata: number[]; affine: number[][] }[] = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8'));
const nibabel = (name: string) => NIBABEL.find((e) => e.name === name)!;
let n = 0;
const fresh = (ext = '.nii.gz') => join(TMP, `out-${n++}${ext}`);

/** The header fields nibabel builds the geometry from, straight from the bytes (nifti1.h offsets). */
function geometryFields(bytes: Uint8Array) {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const f32 = (at: number, k: number) => Array.from({ length: k }, (_, i) => v.getFloat32(at + 4 * i, true));
  return {
    dim: Array.from({ length: 8 }, (_, i) => v.getInt16(40 + 2 * i, true)),
    pixdim: f32(76, 4),
    xyzt_units: v.getUint8(123),
    qform_code: v.getInt16(252, true),
    sform_code: v.getInt16(254, true),
    quatern: f32(256, 6),
    srow: f32(280, 12),
  };
}

const fileBytes = (path: string) => {
  const raw = new Uint8Array(readFileSync(path));
  return path.endsWith('.gz') ? new Uint8Array(gunzipSync(raw)) : raw;
};

/** Voxels as the file stores them (x fastest), read by datatype code at vox_offset. */
function storedVoxels(bytes: Uint8Array): { datatype: number; values: number[] } {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = [1, 2, 3].map((i) => v.getInt16(40 + 2 * i, true));
  const datatype = v.getInt16(70, true);
  const offset = v.getFloat32(108, true);
  const size = datatype === 2 ? 1 : 2;
  const values = Array.from({ length: dims[0] * dims[1] * dims[2] }, (_, i) => (size === 1 ? v.getUint8(offset + i) : v.getUint16(offset + 2 * i, true)));
  return { datatype, values };
}

/** A label pattern on the grid, computed from voxel coordinates: a box of `a`, a smaller one of `b` inside it. */
function pattern(dims: readonly number[], a: number, b: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++) {
    const inA = i >= 1 && j >= 1 && k >= 1;
    const inB = inA && i === 1 && j <= 2;
    out.push(inB ? b : inA ? a : 0);
  }
  return out;
}

const LIVER: LabelEntry = { id: 1, name: 'liver', color: [220, 120, 60] };
const TUMOUR: LabelEntry = { id: 2, name: 'tumour', color: [250, 250, 0] };

for (const name of ['ct_int16.nii.gz', 'kits.nii.gz', 'rot_q.nii', 'ct_slope.nii']) {
  test(`uint8 label map for ${name}: the volume's geometry in the header, the affine nibabel gives the volume, voxels as written`, () => {
    const volume = readNifti(join(FIXTURES, name));
    const truth = pattern(volume.dims, 1, 2);
    const out = fresh(name.endsWith('.gz') ? '.nii.gz' : '.nii');
    writeLabelMap(out, Uint8Array.from(truth), volume, [LIVER, TUMOUR], { inputs: [], overwrite: false });
    const bytes = fileBytes(out);
    const source = fileBytes(join(FIXTURES, name));
    assert.equal(geometryFields(bytes), geometryFields(source), 'dims, pixdim, units, qform and sform as the volume');
    const { datatype, values } = storedVoxels(bytes);
    assert.is(datatype, 2, 'uint8');
    assert.equal(values, truth, 'voxels in file order');
    assert.is(new DataView(bytes.buffer, bytes.byteOffset).getInt16(68, true), 1002, 'intent NIFTI_INTENT_LABEL');
    const back = readNifti(out);
    const expected = nibabel(name).affine;
    for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) assert.ok(Math.abs(back.affine[r][c] - expected[r][c]) <= 1e-5, `affine[${r}][${c}] ${back.affine[r][c]}, nibabel ${expected[r][c]}`);
    assert.is(back.slope, 1, 'unscaled even when the volume is scaled');
    assert.is(back.inter, 0);
    // And read back through the importer.
    const map = readLabelMap(out, volume);
    assert.ok(map.labels instanceof Uint8Array);
    assert.equal(Array.from(map.labels), truth);
    assert.equal(map.structures, [LIVER, TUMOUR]);
  });
}

test('a header with both qform and sform (different codes), qfac -1 and units: all kept in the label map', () => {
  const dims = [5, 4, 3] as const;
  const header = {
    ...defaultHeader(dims, [0.9, 0.8, 3], diagonalAffine([0.9, 0.8, 3])),
    xyzt_units: 10, pixdim: [-1, 0.9, 0.8, 3, 0, 0, 0, 0], qform_code: 1, quatern_b: 0, quatern_c: 0, quatern_d: Math.SQRT1_2,
    qoffset_x: 4, qoffset_y: -2, qoffset_z: 9, sform_code: 2, srow_x: [0, -0.8, 0, 4], srow_y: [0.9, 0, 0, -2], srow_z: [0, 0, -3, 9],
  };
  const input = join(TMP, 'both.nii');
  writeFileSync(input, serializeNifti(createVolume({ dims, data: new Int16Array(60), spacing: [0.9, 0.8, 3], header, source: input })));
  const volume = readNifti(input);
  const out = fresh();
  writeLabelMap(out, Uint8Array.from(pattern(dims, 1, 2)), volume, [LIVER, TUMOUR], { inputs: [], overwrite: false });
  const written = geometryFields(fileBytes(out));
  assert.equal(written, geometryFields(fileBytes(input)));
  assert.is(written.xyzt_units, 10);
  assert.is(written.pixdim[0], -1);
  assert.equal([written.qform_code, written.sform_code], [1, 2]);
});

test('ids above 255 make a uint16 map; round trip voxel for voxel with the sidecar', () => {
  const volume = readNifti(join(FIXTURES, 'ct_int16.nii.gz'));
  const truth = pattern(volume.dims, 7, 300);
  const out = fresh();
  const entries: LabelEntry[] = [{ id: 7, name: 'kidney', color: [0, 0, 255] }, { id: 300, name: 'cyst', color: [1, 2, 3] }];
  writeLabelMap(out, Uint16Array.from(truth), volume, entries, { inputs: [], overwrite: false });
  const { datatype, values } = storedVoxels(fileBytes(out));
  assert.is(datatype, 512, 'uint16');
  assert.equal(values, truth);
  const map = readLabelMap(out, volume);
  assert.ok(map.labels instanceof Uint16Array);
  assert.equal(Array.from(map.labels), truth);
  assert.equal(map.structures, entries);
  assert.equal(JSON.parse(readFileSync(labelSidecarPath(out), 'utf8')), { labels: { 7: { name: 'kidney', color: [0, 0, 255] }, 300: { name: 'cyst', color: [1, 2, 3] } } });
});

test('a uint16 array whose ids fit in a byte is written as uint8; an empty structure is kept in the sidecar', () => {
  const volume = readNifti(join(FIXTURES, 'ct_int16.nii.gz'));
  const out = fresh();
  const empty: LabelEntry = { id: 5, name: 'spleen', color: [9, 9, 9] };
  writeLabelMap(out, Uint16Array.from(pattern(volume.dims, 1, 1)), volume, [LIVER, empty], { inputs: [], overwrite: false });
  assert.is(storedVoxels(fileBytes(out)).datatype, 2);
  assert.equal(readLabelMap(out, volume).structures, [LIVER, empty]);
});

/**
 * A label map file built byte by byte on a nibabel-written header (nibabel's own
 * fixtures are all float32): datatype and bitpix replaced, `values` stored little
 * endian at vox_offset in file order.
 */
function handMadeMap(headerOf: string, datatype: 2 | 4 | 512, values: readonly number[], path: string): void {
  const header = fileBytes(join(FIXTURES, headerOf)).subarray(0, 352);
  const size = datatype === 2 ? 1 : 2;
  const out = new Uint8Array(352 + size * values.length);
  out.set(header);
  const v = new DataView(out.buffer);
  v.setInt16(70, datatype, true);
  v.setInt16(72, 8 * size, true);
  v.setFloat32(108, 352, true);
  values.forEach((x, i) => (size === 1 ? v.setUint8(352 + i, x) : datatype === 4 ? v.setInt16(352 + 2 * i, x, true) : v.setUint16(352 + 2 * i, x, true)));
  writeFileSync(path, out);
}

test('uint8, uint16 and int16 maps on a nibabel header import voxel for voxel; ids without a sidecar get default names and the session\'s colours', () => {
  const volume = readNifti(join(FIXTURES, 'ct_int16.nii.gz'));
  const count = voxelCount(volume.dims);
  for (const [datatype, values] of [[2, pattern(volume.dims, 3, 14)], [512, pattern(volume.dims, 1, 65535)], [4, pattern(volume.dims, 9, 32767)]] as const) {
    const path = fresh('.nii');
    handMadeMap('ct_int16.nii.gz', datatype, values, path);
    const map = readLabelMap(path, volume);
    assert.is(map.labels.length, count);
    assert.equal(Array.from(map.labels), values, `datatype ${datatype}`);
    assert.ok(map.labels instanceof (Math.max(...values) > 255 ? Uint16Array : Uint8Array), `datatype ${datatype}: narrowest array`);
    const ids = [...new Set(values.filter((x) => x > 0))].sort((a, b) => a - b);
    assert.equal(map.structures.map((s) => s.id), ids);
    for (const s of map.structures) {
      assert.is(s.name, `label ${s.id}`);
      assert.equal(s.color, defaultColor(s.id), 'the colour a session gives that id');
    }
  }
});

test("nibabel's own files (float32, as nibabel wrote them) are refused as label maps, with what to do", () => {
  for (const name of ['u8.nii.gz', 'i8.nii', 'rot_q.nii']) {
    const path = join(FIXTURES, name);
    assert.throws(() => readLabelMap(path, readNifti(path)), new RegExp(`${name.replace('.', '\\.')}: holds float32 voxels; a label map holds integer ids \\(uint8 or uint16`));
  }
});

test('a sidecar entry is used where there is one, the default elsewhere', () => {
  const volume = readNifti(join(FIXTURES, 'ct_int16.nii.gz'));
  const out = fresh();
  writeFileSync(out, serializeNifti(createVolume({ dims: volume.dims, data: Uint8Array.from(pattern(volume.dims, 1, 2)), affine: volume.affine, spacing: volume.spacing }), { gzip: true }));
  writeFileSync(labelSidecarPath(out), JSON.stringify({ labels: { 2: { name: 'tumour', color: [250, 250, 0] } } }));
  assert.equal(readLabelMap(out, volume).structures, [defaultLabel(1), TUMOUR]);
});

test('a sidecar path that is a folder is refused, naming it', () => {
  const volume = readNifti(join(FIXTURES, 'ct_int16.nii.gz'));
  const out = fresh();
  writeFileSync(out, serializeNifti(createVolume({ dims: volume.dims, data: Uint8Array.from(pattern(volume.dims, 1, 2)), affine: volume.affine, spacing: volume.spacing }), { gzip: true }));
  mkdirSync(labelSidecarPath(out));
  assert.throws(() => readLabelMap(out, volume), /\.json: is a folder, not the label map's sidecar JSON/);
});

test('slice-major stacks in the engine layout: stackLabels / unstackLabels against hand-made indices, every axis', () => {
  const dims = [5, 4, 3] as const;
  const data = Uint16Array.from({ length: 60 }, (_, x) => (x * 7) % 301);
  const like = createVolume({ dims, data: new Uint8Array(60) });
  const at = (i: number, j: number, k: number) => data[i + 5 * (j + 4 * k)];
  // Slice along axis `along`: rows = first other axis (a), columns = the second (b).
  const cases: [0 | 1 | 2, (z: number, a: number, b: number) => number, number, number][] = [
    [2, (z, a, b) => at(a, b, z), 5, 4],
    [1, (z, a, b) => at(a, z, b), 5, 3],
    [0, (z, a, b) => at(z, a, b), 4, 3],
  ];
  for (const [axis, voxel, height, width] of cases) {
    const stack = stackLabels(data, like, axis);
    assert.ok(stack instanceof Uint16Array);
    for (let z = 0; z < dims[axis]; z++) for (let a = 0; a < height; a++) for (let b = 0; b < width; b++) {
      assert.is(stack[z * height * width + a * width + b], voxel(z, a, b), `axis ${axis} slice ${z} (${a}, ${b})`);
    }
    assert.equal(Array.from(unstackLabels(stack, like, axis)), Array.from(data), `axis ${axis} back`);
  }
});

test('sidecar: strict validation, one clear message naming the problem', () => {
  const bad: [string, RegExp][] = [
    ['not json', /not JSON/],
    ['[]', /expected \{"labels"/],
    ['{"labels": {}, "extra": 1}', /unexpected key "extra"/],
    ['{"labels": []}', /"labels" must be an object/],
    ['{"labels": {"0": {"name": "a", "color": [1, 2, 3]}}}', /label id "0" is not an integer 1\.\.65535/],
    ['{"labels": {"65536": {"name": "a", "color": [1, 2, 3]}}}', /label id "65536"/],
    ['{"labels": {"01": {"name": "a", "color": [1, 2, 3]}}}', /label id "01"/],
    ['{"labels": {"1.5": {"name": "a", "color": [1, 2, 3]}}}', /label id "1\.5"/],
    ['{"labels": {"-1": {"name": "a", "color": [1, 2, 3]}}}', /label id "-1"/],
    ['{"labels": {"1": "liver"}}', /label 1 must be \{"name"/],
    ['{"labels": {"1": {"name": "", "color": [1, 2, 3]}}}', /label 1: "name" must be a non-empty string/],
    ['{"labels": {"1": {"name": "  ", "color": [1, 2, 3]}}}', /label 1: "name" must be a non-empty string/],
    ['{"labels": {"1": {"name": 3, "color": [1, 2, 3]}}}', /label 1: "name" must be a non-empty string, got 3/],
    ['{"labels": {"1": {"name": "a\\nb", "color": [1, 2, 3]}}}', /control characters/],
    ['{"labels": {"1": {"name": "a", "color": [1, 2]}}}', /label 1: "color" must be \[r, g, b\]/],
    ['{"labels": {"1": {"name": "a", "color": [1, 2, 256]}}}', /"color" must be \[r, g, b\] with integers 0\.\.255, got \[1, 2, 256\]/],
    ['{"labels": {"1": {"name": "a", "color": [1, 2, 3.5]}}}', /"color"/],
    ['{"labels": {"1": {"name": "a", "color": "red"}}}', /"color"/],
    ['{"labels": {"1": {"name": "a"}}}', /"color"/],
    ['{"labels": {"1": {"name": "a", "color": [1, 2, 3], "colour": [1, 2, 3]}}}', /unexpected key "colour"/],
    ['{"labels": {"1": {"name": "a", "color": [1, 2, 3]}, "2": {"name": "a", "color": [1, 2, 3]}}}', /labels 1 and 2 are both named "a"/],
    [`{"labels": ${'['.repeat(50)}${']'.repeat(50)}}`, /nested deeper/],
  ];
  for (const [text, message] of bad) {
    try {
      parseLabelSidecar(text, 'x.json');
      assert.unreachable(`accepted ${text}`);
    } catch (e) {
      assert.instance(e, Error);
      assert.match((e as Error).message, /^x\.json: /, text);
      assert.match((e as Error).message, message, text);
      assert.not.match((e as Error).message, /\n/, 'one line');
    }
  }
  const good = parseLabelSidecar('{"labels": {"10": {"name": "b", "color": [0, 0, 0]}, "2": {"name": "a", "color": [255, 255, 255]}}}', 'x.json');
  assert.equal(good, [{ id: 2, name: 'a', color: [255, 255, 255] }, { id: 10, name: 'b', color: [0, 0, 0] }]);
  assert.equal(parseLabelSidecar(serializeLabelSidecar(good), 'y.json'), good, 'what we write we read');
});

test('a sidecar that is refused on reading is refused on writing too', () => {
  const volume = readNifti(join(FIXTURES, 'u8.nii.gz'));
  const labels = new Uint8Array(voxelCount(volume.dims));
  for (const entries of [[{ ...LIVER, name: '' }], [LIVER, { ...TUMOUR, name: 'liver' }], [{ ...LIVER, color: [0, 0, 300] as const }], [{ ...LIVER, id: 0 }], [LIVER, LIVER]]) {
    const out = fresh();
    assert.throws(() => writeLabelMap(out, labels, volume, entries as LabelEntry[], { inputs: [], overwrite: false }));
    assert.not.ok(existsSync(out) || existsSync(labelSidecarPath(out)), 'nothing written');
  }
});

/** A label volume on `like`'s grid with some fields changed. */
function relabel(like: Volume, changes: Partial<{ dims: [number, number, number]; affine: Volume['affine']; data: Volume['data']; slope: number }>): Volume {
  const dims = changes.dims ?? like.dims;
  return createVolume({ dims, data: changes.data ?? new Uint8Array(voxelCount(dims)), affine: changes.affine ?? like.affine, spacing: like.spacing, slope: changes.slope, source: 'map.nii.gz' });
}

test('mismatched geometry is refused, naming what differs; differences within float32 precision are not', () => {
  const volume = readNifti(join(FIXTURES, 'ct_int16.nii.gz'));
  const shift = (r: number, c: number, by: number) => volume.affine.map((row, i) => row.map((v, j) => (i === r && j === c ? v + by : v))) as unknown as Volume['affine'];
  const refusals: [Volume, RegExp][] = [
    [relabel(volume, { dims: [6, 5, 5] }), /^map\.nii\.gz: does not fit .*ct_int16\.nii\.gz: dims 6x5x5, the volume's 6x5x4$/],
    [relabel(volume, { affine: shift(0, 3, 0.5) }), /affine row 0 column 3, the origin \(x\), is -99\.5 in the label map and -100 in the volume/],
    [relabel(volume, { affine: shift(2, 2, 0.01) }), /affine row 2 column 2, the voxel axis k direction\/size \(z\)/],
    [relabel(volume, { affine: shift(1, 0, 0.01) }), /row 1 column 0/],
  ];
  for (const [map, message] of refusals) {
    assert.throws(() => checkLabelGeometry(map, volume), message);
    assert.throws(() => decodeLabelMap(map, undefined, volume), message);
  }
  checkLabelGeometry(relabel(volume, { affine: shift(0, 3, 3e-5) }), volume); // float32 rounding at 100 mm
});

test('float, negative, scaled and too large labels are refused', () => {
  const volume = readNifti(join(FIXTURES, 'ct_int16.nii.gz'));
  const count = voxelCount(volume.dims);
  const negative = new Int16Array(count);
  negative[1 + 6 * (2 + 5 * 3)] = -1;
  const big = new Int32Array(count);
  big[0] = 70000;
  const cases: [Volume, RegExp][] = [
    [relabel(volume, { data: new Float32Array(count) }), /holds float32 voxels; a label map holds integer ids/],
    [relabel(volume, { data: new Float64Array(count) }), /holds float64 voxels/],
    [relabel(volume, { data: negative }), /voxel \(1, 2, 3\) holds -1; label ids are >= 0/],
    [relabel(volume, { data: new Uint8Array(count), slope: 2 }), /is scaled \(scl_slope 2/],
    [relabel(volume, { data: big }), /holds label 70000; ids go up to 65535/],
  ];
  for (const [map, message] of cases) assert.throws(() => decodeLabelMap(map, undefined, volume), message);
  // A signed file on disk: the negative voxel named.
  const path = fresh('.nii');
  handMadeMap('ct_int16.nii.gz', 4, Array.from(negative), path);
  assert.throws(() => readLabelMap(path, volume), /out-\d+\.nii: voxel \(1, 2, 3\) holds -1/);
  // A non-negative int16 map is fine.
  const ok = new Int16Array(count);
  ok[3] = 4;
  assert.equal(decodeLabelMap(relabel(volume, { data: ok }), undefined, volume).structures, [defaultLabel(4)]);
});

test('a sidecar id default-named like another listed label is refused rather than silently duplicated', () => {
  const volume = readNifti(join(FIXTURES, 'u8.nii.gz'));
  const data = new Uint8Array(voxelCount(volume.dims));
  data[0] = 1;
  data[1] = 2;
  assert.throws(
    () => decodeLabelMap(relabel(volume, { data }), { text: '{"labels": {"1": {"name": "label 2", "color": [1, 2, 3]}}}', source: 's.json' }, volume),
    /labels 1 and 2 are both named "label 2"/,
  );
});

test('outputs: refused when there (either file) unless overwrite, never over an input, both files or neither', () => {
  const volumePath = join(FIXTURES, 'u8.nii.gz');
  const volume = readNifti(volumePath);
  const labels = new Uint8Array(voxelCount(volume.dims)).fill(1);
  const write = (out: string, overwrite = false, inputs: string[] = []) => writeLabelMap(out, labels, volume, [LIVER], { inputs, overwrite });
  assert.throws(() => write(volumePath, true), /refusing to write over the input/);
  assert.throws(() => write(join(TMP, 'labels.txt')), /must end in \.nii or \.nii\.gz/);
  // The sidecar alone being there blocks the pair.
  const out = fresh();
  writeFileSync(labelSidecarPath(out), 'old');
  assert.throws(() => write(out), /out-\d+\.json: already exists; pass --overwrite/);
  assert.not.ok(existsSync(out), 'the map was not written either');
  assert.is(readFileSync(labelSidecarPath(out), 'utf8'), 'old');
  write(out, true);
  assert.equal(readLabelMap(out, volume).structures, [LIVER]);
  assert.throws(() => write(out), /out-\d+\.nii\.gz: already exists/);
  // An input label map's sidecar is an input too (checked for both files).
  writeFileSync(join(TMP, 'x.json'), '{}');
  assert.throws(() => checkLabelMapOutput(join(TMP, 'x.nii.gz'), { inputs: [join(TMP, 'x.json')], overwrite: true }), /x\.json: refusing to write over the input/);
  // No temporary files left behind.
  assert.equal(readdirSync(TMP).filter((f) => f.startsWith('.')), []);
});

test.after(() => rmSync(TMP, { recursive: true, force: true }));

test.run();
