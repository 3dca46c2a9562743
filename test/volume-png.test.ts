import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import UPNG from 'upng-js';
import { decodeGrayPng } from '../src/io/png.ts';
import { sliceToUint8 } from '../src/volume/intensity.ts';
import { decodeLabelPng, encodeGrayPng, encodeMaskPng } from '../src/volume/png-codec.ts';
import { parseCaseList, seedLayout, sortSliceFiles } from '../src/volume/png-dataset.ts';
import { detectLayout, listCases, readPngCase, writeCaseList, writePngCase } from '../src/volume/png-dataset-node.ts';
import { getSlice } from '../src/volume/slice.ts';
import { createVolume, maskLike } from '../src/volume/volume.ts';
import { rng } from './_lib/random.ts';
import { throwsNaming } from './_lib/volume-errors.ts';

const DIR = mkdtempSync(join(tmpdir(), 'mem3d-png-'));

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return ~c >>> 0;
}

/** A PNG assembled by hand (filter 0 rows of already-packed samples), for bit depths our writer never makes. */
function handPng(width: number, height: number, depth: number, ctype: number, rows: number[][], plte?: number[]): Uint8Array {
  const chunk = (type: string, body: Uint8Array) => {
    const out = new Uint8Array(12 + body.length);
    const v = new DataView(out.buffer);
    v.setUint32(0, body.length);
    out.set([...type].map((ch) => ch.charCodeAt(0)), 4);
    out.set(body, 8);
    v.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
    return [...out];
  };
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, width);
  new DataView(ihdr.buffer).setUint32(4, height);
  ihdr.set([depth, ctype, 0, 0, 0], 8);
  const raw = Uint8Array.from(rows.flatMap((r) => [0, ...r]));
  return Uint8Array.from([
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...chunk('IHDR', ihdr),
    ...(plte ? chunk('PLTE', Uint8Array.from(plte)) : []), ...chunk('IDAT', deflateSync(raw)), ...chunk('IEND', new Uint8Array(0)),
  ]);
}

test('gray PNG writer round-trips through decodeGrayPng (odd size, every byte value)', () => {
  const r = rng(3);
  const img = { width: 7, height: 5, data: Uint8Array.from({ length: 35 }, (_, i) => (i < 2 ? 255 * i : Math.floor(r() * 256))) };
  const back = decodeGrayPng(encodeGrayPng(img));
  assert.equal([back.width, back.height], [7, 5]);
  assert.equal(Array.from(back.data), Array.from(img.data));
  assert.is(UPNG.decode(encodeGrayPng(img).slice().buffer).ctype, 0);
});

test('mask PNG writer: palette indices are the labels (black 0, white others), read back as labels', () => {
  const img = { width: 3, height: 2, data: Uint8Array.from([0, 1, 2, 1, 0, 1]) };
  const png = encodeMaskPng(img);
  const decoded = UPNG.decode(png.slice().buffer);
  assert.equal([decoded.ctype, decoded.depth], [3, 8]);
  assert.equal(Array.from(decoded.tabs.PLTE!), [0, 0, 0, 255, 255, 255, 255, 255, 255]);
  assert.equal(Array.from(decodeLabelPng(png).data), [0, 1, 2, 1, 0, 1]);
  const binary = UPNG.decode(encodeMaskPng({ width: 2, height: 1, data: new Uint8Array(2) }).slice().buffer);
  assert.equal(Array.from(binary.tabs.PLTE!), [0, 0, 0, 255, 255, 255]);
});

test('label PNGs of 1-, 2- and 4-bit depth (gray and palette) unpack to per-pixel values', () => {
  // 5 pixels a row, so rows end mid-byte.
  const one = handPng(5, 2, 1, 0, [[0b10110000], [0b01001000]]);
  assert.equal(Array.from(decodeLabelPng(one).data), [1, 0, 1, 1, 0, 0, 1, 0, 0, 1]);
  const two = handPng(5, 1, 2, 3, [[0b00011011, 0b01000000]], [0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255]);
  assert.equal(Array.from(decodeLabelPng(two).data), [0, 1, 2, 3, 1]);
  const four = handPng(3, 1, 4, 0, [[0x0f, 0x20]]);
  assert.equal(Array.from(decodeLabelPng(four).data), [0, 15, 2]);
  // A colour PNG with equal channels falls back to its gray level; a coloured one is refused.
  assert.equal(Array.from(decodeLabelPng(handPng(2, 1, 8, 2, [[1, 1, 1, 0, 0, 0]])).data), [1, 0]);
  assert.throws(() => decodeLabelPng(handPng(1, 1, 8, 2, [[1, 2, 3]]), 'rgb.png'), /rgb\.png: pixel 0 is not gray/);
  throwsNaming(() => decodeLabelPng(handPng(1, 1, 16, 0, [[1, 0]]), 'deep.png'), 'deep.png', '16-bit');
  throwsNaming(() => decodeLabelPng(new Uint8Array([1, 2, 3]), 'junk.png'), 'junk.png', 'not a readable PNG');
});

test('slice files sort numerically; case lists parse like the seed', () => {
  const files = ['10.png', '2.png', '0.png', '1.png', '9.png', '.DS_Store', 'Thumbs.db', '3.PNG'];
  assert.equal(sortSliceFiles(files, 'case'), ['0.png', '1.png', '2.png', '3.PNG', '9.png', '10.png']);
  throwsNaming(() => sortSliceFiles(['1.png', 'a.png'], 'case'), 'case', '"a.png"', '<number>.png');
  throwsNaming(() => sortSliceFiles(['1.png', '01.png'], 'case'), 'case', '1.png and 01.png', 'slice 1');
  assert.equal(parseCaseList('colon_001\r\ncolon_011\n\ncolon_022', 'test.txt'), ['colon_001', 'colon_011', 'colon_022']);
  throwsNaming(() => parseCaseList('a\n../etc', 'test.txt'), 'test.txt', 'line 2');
  assert.equal(seedLayout(6), { imageSets: 'ImageSets06', imageDir: 'Task06_origin', maskDir: 'Task06_mask' });
});

/** The seed's layout with 11 slices of 3 rows x 4 columns; image slice k pixel (r, c) = 20k + 4r + c. */
function makeDataset(root: string): void {
  const layout = seedLayout('06');
  mkdirSync(join(root, layout.imageSets), { recursive: true });
  writeFileSync(join(root, layout.imageSets, 'test.txt'), 'lung_001\nlung_003');
  writeFileSync(join(root, layout.imageSets, 'train.txt'), 'lung_002\n');
  const img = join(root, layout.imageDir, 'lung_001');
  const msk = join(root, layout.maskDir, 'lung_001');
  mkdirSync(img, { recursive: true });
  mkdirSync(msk, { recursive: true });
  for (let k = 0; k <= 10; k++) {
    writeFileSync(join(img, `${k}.png`), handPng(4, 3, 8, 0, [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => 20 * k + 4 * r + c))));
    // Labels: pixel k % 12 is 1, pixel (k + 5) % 12 is 2 (another structure), the rest 0.
    const labels = new Uint8Array(12);
    labels[(k + 5) % 12] = 2;
    labels[k % 12] = 1;
    // The seed's masks are palette images; slice 4 is an 8-bit gray one, which PIL reads as values too.
    writeFileSync(join(msk, `${k}.png`), k === 4 ? encodeGrayPng({ width: 4, height: 3, data: labels }) : encodeMaskPng({ width: 4, height: 3, data: labels }));
  }
  writeFileSync(join(msk, '.DS_Store'), 'x');
}

test('PNG layout: cases listed, a case read as volumes with slices in numeric order, label 1 as foreground', () => {
  const root = join(DIR, 'MSD');
  makeDataset(root);
  assert.equal(detectLayout(root), seedLayout('06'));
  assert.equal(listCases(root, 'test'), ['lung_001', 'lung_003']);
  assert.equal(listCases(root, 'train'), ['lung_002']);
  const c = readPngCase(root, 'lung_001');
  assert.equal(c.slices, ['0.png', '1.png', '2.png', '3.png', '4.png', '5.png', '6.png', '7.png', '8.png', '9.png', '10.png']);
  assert.equal(c.image.dims, [3, 4, 11]);
  assert.equal(c.mask!.dims, [3, 4, 11]);
  for (let k = 0; k <= 10; k++) {
    const s = getSlice(c.image, 'axial', k, new Uint8Array(12));
    assert.equal([s.height, s.width], [3, 4]);
    assert.equal(Array.from(s.data), Array.from({ length: 12 }, (_, i) => 20 * k + 4 * Math.floor(i / 4) + (i % 4)), `slice ${k}`);
    const m = Array.from(getSlice(c.mask!, 2, k, new Uint8Array(12)).data);
    assert.equal(m, Array.from({ length: 12 }, (_, i) => (i === k % 12 ? 1 : 0)), `mask ${k}`);
  }
  // Voxel (x = row 2, y = column 3, z = 10) of the image is pixel (2, 3) of 10.png.
  assert.is(c.image.data[2 + 3 * (3 + 4 * 10)], 20 * 10 + 4 * 2 + 3);
  const any = readPngCase(root, 'lung_001', { foreground: 'nonzero' });
  assert.equal(Array.from(getSlice(any.mask!, 2, 7, new Uint8Array(12)).data), [1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
  const two = readPngCase(root, 'lung_001', { foreground: 2 });
  assert.is(two.mask!.data.reduce((a, b) => a + b, 0), 11);
});

test('PNG layout: missing, odd and inconsistent slices give errors naming the file', () => {
  const root = join(DIR, 'bad');
  makeDataset(root);
  const msk = join(root, 'Task06_mask', 'lung_001');
  const img = join(root, 'Task06_origin', 'lung_001');
  writeFileSync(join(msk, '11.png'), encodeMaskPng({ width: 4, height: 3, data: new Uint8Array(12) }));
  throwsNaming(() => readPngCase(root, 'lung_001'), join(img, '11.png'), 'cannot read image slice');
  writeFileSync(join(img, '11.png'), encodeGrayPng({ width: 3, height: 3, data: new Uint8Array(9) }));
  throwsNaming(() => readPngCase(root, 'lung_001'), img, 'slice 11.png is 3x3, slice 0.png is 4x3');
  writeFileSync(join(img, '11.png'), encodeGrayPng({ width: 4, height: 3, data: new Uint8Array(12) }));
  writeFileSync(join(msk, '11.png'), encodeMaskPng({ width: 2, height: 3, data: new Uint8Array(6) }));
  throwsNaming(() => readPngCase(root, 'lung_001'), join(msk, '11.png'), 'mask is 2x3, its image slice is 4x3');
  rmSync(join(msk, '11.png'));
  writeFileSync(join(msk, '5.png'), 'not a png');
  throwsNaming(() => readPngCase(root, 'lung_001'), join(msk, '5.png'), 'not a readable PNG');
  throwsNaming(() => readPngCase(root, 'lung_009'), join(img, '..', 'lung_009'), 'no such case folder');
  throwsNaming(() => listCases(root, 'val'), join(root, 'ImageSets06', 'val.txt'), 'cannot read case list');
  throwsNaming(() => detectLayout(DIR), DIR, 'no Task<NN>_origin');
  mkdirSync(join(root, 'Task10_origin'));
  throwsNaming(() => detectLayout(root), root, 'several tasks');
});

test('writing a case: slices as PNGs read back identically; no overwriting inputs or old slices', () => {
  const dims = [5, 3, 4] as const;
  const r = rng(11);
  const ct = createVolume({ dims, data: Int16Array.from({ length: 60 }, () => Math.floor(r() * 3000) - 1024), slope: 0.5, inter: 3, source: 'ct.nii' });
  const mask = maskLike(ct);
  mask.data.forEach((_, i) => (mask.data[i] = r() < 0.3 ? 1 : 0));
  const root = join(DIR, 'out');
  const window = { kind: 'window', level: 40, width: 400 } as const;
  writePngCase(root, 'case_7', { image: ct, mask }, { mapping: window });
  writeCaseList(root, 'test', ['case_7']);
  assert.equal(listCases(root, 'test'), ['case_7']);
  assert.equal(readdirSync(join(root, 'Task06_origin', 'case_7')).length, 4);
  const back = readPngCase(root, 'case_7');
  assert.equal(back.image.dims, [5, 3, 4]);
  for (let k = 0; k < 4; k++) {
    assert.equal(Array.from(getSlice(back.image, 2, k, new Uint8Array(15)).data), Array.from(sliceToUint8(ct, 2, k, window).data), `image ${k}`);
  }
  assert.equal(Array.from(back.mask!.data), Array.from(mask.data));
  // Slicing along x: 5 slices of 3 rows (y) x 4 columns (z).
  writePngCase(root, 'case_x', { image: ct, mask }, { axis: 0 });
  const xs = readPngCase(root, 'case_x');
  assert.equal(xs.mask!.dims, [3, 4, 5]);
  assert.equal(Array.from(getSlice(xs.mask!, 2, 4, new Uint8Array(12)).data), Array.from(getSlice(mask, 0, 4, new Uint8Array(12)).data));
  throwsNaming(() => writePngCase(root, 'case_7', { mask }), join(root, 'Task06_mask', 'case_7'), 'already holds 4 slices');
  writePngCase(root, 'case_7', { mask: maskLike(ct) }, { overwrite: true });
  assert.is(readPngCase(root, 'case_7').mask!.data.reduce((a, b) => a + b, 0), 0);
  // The case read from a folder is an input: writing it back there is refused, even with overwrite.
  const again = readPngCase(root, 'case_7');
  throwsNaming(() => writePngCase(root, 'case_7', { image: again.image }, { overwrite: true }), join(root, 'Task06_origin', 'case_7'), 'refusing');
  throwsNaming(() => writePngCase(join(root, 'Task06_origin'), 'nested', { mask }, { protect: [root] }), join(root, 'Task06_origin', 'Task06_mask', 'nested'), 'inside the input directory');
  const input = join(root, 'Task06_mask', 'case_x', '3.png');
  throwsNaming(() => writePngCase(root, 'case_x', { mask }, { protect: [input], overwrite: true }), join(root, 'Task06_mask', 'case_x'), 'holds the input');
  assert.ok(readdirSync(join(root, 'Task06_mask', 'case_x')).includes('3.png'));
});

test.after(() => rmSync(DIR, { recursive: true, force: true }));

test.run();
