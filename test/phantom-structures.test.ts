// The two-structure phantom (src/phantom/organ.ts), and the pin that adding it left the
// single-structure generator (the shipped weights' training data, the bundled example)
// byte for byte as it was.
import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EXAMPLE_ORGAN_PHANTOM } from '../src/phantom/example.ts';
import { LESION_LABEL, ORGAN_LABEL, phantomOrganVolume, structureMask } from '../src/phantom/organ.ts';
import { readLabelMap } from '../src/volume/label-map-node.ts';
import { readNifti } from '../src/volume/nifti-node.ts';
import { phantomSlice, phantomVolume } from '../src/phantom/phantom.ts';

const sha256 = (...parts: Uint8Array[]) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest('hex');

// Regression pin: sha256 of image then mask, computed with the generator of commit 6943ed2
// (before organ.ts existed) by running phantomVolume / phantomSlice with these options.
const PINNED_VOLUMES = [
  [{ seed: 0, width: 64, height: 48, depth: 6 }, '8dbb679292a36ab2cfd6c51e0194b75c885808369ac6e306c5c81e07a5dec472'],
  [{ seed: 1, width: 128, height: 128, depth: 10 }, '99db722b2650a6d2a02bd9a0481de89ab1929af3e5b0c6d13553be954671d332'],
  [{ seed: 12345, width: 96, height: 80, depth: 3 }, '0af5508658a353b0d12173d5fb0b15402b3db1b384d75fc0a2e9903d79f424f8'],
  [{ seed: 7, width: 128, height: 128, depth: 10 }, '04337192a266372cf5549c3e5f5304ed1e8dd57c3a8b5f4d9c2d6ccfb3de3b7a'], // EXAMPLE_PHANTOM
] as const;
const PINNED_SLICES = [
  [{ seed: 3, width: 512, height: 512 }, '0693bff4e1269082a63435db8b5cd2cefb28c989e9f4f04e97f1b884e6d3f245'],
  [{ seed: 4, width: 100, height: 60 }, '6dbc1303485ba6d89e67cd9e317134678507497de44e181c1c2561e90a7ffbb3'],
] as const;

test('the single-structure generator gives the bytes it gave before the two-structure one was added', () => {
  for (const [options, hash] of PINNED_VOLUMES) {
    const v = phantomVolume(options);
    assert.is(sha256(v.image, v.mask), hash, `phantomVolume(${JSON.stringify(options)})`);
  }
  for (const [options, hash] of PINNED_SLICES) {
    const v = phantomSlice(options);
    assert.is(sha256(v.image, v.mask), hash, `phantomSlice(${JSON.stringify(options)})`);
  }
});

const plane = (v: { width: number; height: number }) => v.width * v.height;
const countPerSlice = (v: { width: number; height: number; depth: number; labels: Uint8Array }, id: number) =>
  Array.from({ length: v.depth }, (_, z) => v.labels.subarray(z * plane(v), (z + 1) * plane(v)).reduce((n, l) => n + (l === id ? 1 : 0), 0));

test('phantomOrganVolume is deterministic from its seed and seeds differ', () => {
  const a = phantomOrganVolume({ seed: 5, width: 64, height: 64, depth: 4 });
  const b = phantomOrganVolume({ seed: 5, width: 64, height: 64, depth: 4 });
  const c = phantomOrganVolume({ seed: 6, width: 64, height: 64, depth: 4 });
  assert.is(sha256(a.image, a.labels), sha256(b.image, b.labels));
  assert.is.not(sha256(a.image, a.labels), sha256(c.image, c.labels));
  assert.equal(a.structures, [{ id: 1, name: 'organ' }, { id: 2, name: 'lesion' }]);
  assert.equal(a.spacing, { x: 0.8, y: 0.8, z: 2.5 });
});

test('labels: 0, organ 1 on every slice, lesion 2 on one run of slices clear of both ends, inside the organ, with contrast', () => {
  for (let seed = 0; seed < 12; seed++) {
    const v = phantomOrganVolume({ seed, width: 128, height: 96, depth: 9 });
    const { width, height, depth, labels, image } = v;
    assert.is(labels.length, width * height * depth);
    assert.ok(labels.every((l) => l <= 2), `seed ${seed}: labels beyond 2`);
    const organ = countPerSlice(v, ORGAN_LABEL);
    const lesion = countPerSlice(v, LESION_LABEL);
    assert.ok(organ.every((n) => n > 200), `seed ${seed}: organ pixels per slice ${organ}`);
    const lesionSlices = lesion.flatMap((n, z) => (n > 0 ? [z] : []));
    assert.ok(lesionSlices.length >= 1, `seed ${seed}: no lesion`);
    assert.is(lesionSlices[lesionSlices.length - 1] - lesionSlices[0] + 1, lesionSlices.length, `seed ${seed}: lesion slices ${lesionSlices} not one run`);
    assert.ok(lesionSlices[0] > 0 && lesionSlices[lesionSlices.length - 1] < depth - 1, `seed ${seed}: lesion on an end slice (${lesionSlices})`);
    // The lesion lies inside the organ: organ and lesion together form one convex
    // (ellipse) section per slice, each row and column one run, so no lesion pixel
    // sticks out of the organ's outline.
    for (let z = 0; z < depth; z++) {
      const union = (x: number, y: number) => labels[z * width * height + y * width + x] !== 0;
      for (let y = 0; y < height; y++) assert.ok(runs(width, (x) => union(x, y)) <= 1, `seed ${seed} slice ${z} row ${y}: the outline is not convex`);
      for (let x = 0; x < width; x++) assert.ok(runs(height, (y) => union(x, y)) <= 1, `seed ${seed} slice ${z} column ${x}: the outline is not convex`);
    }
    const mean = (id: number) => {
      let [sum, n] = [0, 0];
      for (let i = 0; i < labels.length; i++) if (labels[i] === id) [sum, n] = [sum + image[i], n + 1];
      return sum / n;
    };
    assert.ok(Math.abs(mean(LESION_LABEL) - mean(ORGAN_LABEL)) > 25, `seed ${seed}: lesion grey ${mean(LESION_LABEL)} vs organ ${mean(ORGAN_LABEL)}`);
    assert.ok(mean(ORGAN_LABEL) - mean(0) > 30, `seed ${seed}: the organ does not stand out`);
  }
});

test('structureMask takes one label as 0 / 1; the two masks never overlap', () => {
  const v = phantomOrganVolume({ seed: 2, width: 48, height: 40, depth: 7 });
  const organ = structureMask(v, ORGAN_LABEL);
  const lesion = structureMask(v, LESION_LABEL);
  for (let i = 0; i < v.labels.length; i++) {
    assert.is(organ[i] + lesion[i], v.labels[i] === 0 ? 0 : 1);
    assert.is(lesion[i], v.labels[i] === 2 ? 1 : 0);
  }
});

test('a one-slice volume holds the organ and the lesion\'s full cross-section', () => {
  const v = phantomOrganVolume({ seed: 3, width: 96, height: 96, depth: 1 });
  assert.ok(countPerSlice(v, ORGAN_LABEL)[0] > 0 && countPerSlice(v, LESION_LABEL)[0] > 0);
});

test('bad sizes are refused with a RangeError naming the parameter', () => {
  assert.throws(() => phantomOrganVolume({ seed: 0, width: 0 }), (e: Error) => e instanceof RangeError && /width/.test(e.message));
  assert.throws(() => phantomOrganVolume({ seed: 0, depth: 2.5 }), (e: Error) => e instanceof RangeError && /depth/.test(e.message));
});

test('examples/phantom-organ holds the generator volume and its label map with names, voxel for voxel', () => {
  const dir = new URL('../examples/phantom-organ/', import.meta.url).pathname;
  const { width, height, depth } = EXAMPLE_ORGAN_PHANTOM;
  const v = phantomOrganVolume(EXAMPLE_ORGAN_PHANTOM);
  const image = readNifti(`${dir}image.nii.gz`);
  assert.equal([...image.dims], [width, height, depth]);
  assert.equal([...image.spacing], [v.spacing.x, v.spacing.y, v.spacing.z].map(Math.fround), "spacing (float32 in NIfTI)");
  const map = readLabelMap(`${dir}labels.nii.gz`, image);
  for (const [name, expected, got] of [['image', v.image, image.data], ['labels', v.labels, map.labels]] as const) {
    let differ = 0;
    for (let i = 0; i < expected.length; i++) if (got[i] !== expected[i]) differ++;
    assert.is(differ, 0, `${name}: ${differ} voxels differ from the generator (run tools/make-example.ts)`);
  }
  assert.equal(map.structures.map((s) => [s.id, s.name]), [[1, 'organ'], [2, 'lesion']]);
});

/** Runs of true values in positions 0..n-1. */
function runs(n: number, at: (i: number) => boolean): number {
  let count = 0;
  for (let i = 0; i < n; i++) if (at(i) && (i === 0 || !at(i - 1))) count++;
  return count;
}

test.run();
