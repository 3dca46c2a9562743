// The real network through the multi-structure session (issue 15): the shipped phantom
// QAMN (weights/qamn-phantom) on a 64x64 crop of the two-structure phantom
// (src/phantom/organ.ts at 128x128 scale, the size the weights were trained at), 3 slices:
// an organ and the lesion inside it segmented together in the network's joint step
// (segmentObjects: query encoder once, each object's own memory, Soft_aggregation over
// background, organ and lesion). Checks on the real numbers: one joint step where both are
// active, locked (imported) and seeded slices kept voxel for voxel, one label per voxel,
// and one structure alone exactly the segment() path. The session's bookkeeping is tested
// with scripted networks (test/session-structures*.test.ts), the joint step's numbers
// against the original aggregation in test/memory-network-objects.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { overlap } from '../src/eval/metrics.ts';
import type { MemoryEntry } from '../src/networks/mem3d/memory-network.ts';
import { LESION_LABEL, ORGAN_LABEL, PHANTOM_STRUCTURES, phantomOrganVolume } from '../src/phantom/organ.ts';
import { loadMemoryNetwork, type LoadedMemoryNetwork } from '../src/pretrained/node.ts';
import { GpuSliceMemory } from '../src/session/memory.ts';
import { Interactive3DSession } from '../src/session/session.ts';
import type { SliceSegmenter } from '../src/session/slice-segmenter.ts';
import { stackMask, volumeStack } from '../src/session/volume-stack.ts';
import { ENGINE_SLICE_LAYOUT } from '../src/volume/layout.ts';
import { createVolume } from '../src/volume/volume.ts';
import { testRuntime } from './_lib/gpu.ts';

// Seed 4: the lesion is on generated slices 2..4 (379, 501, 372 pixels at 128x128x7); the
// stack is those three slices, the middle one seeded.
const SEED = 4;
const SIDE = 64;
const FIRST = 2;
const DEPTH = 3;
const MID = 1;
const PLANE = SIDE * SIDE;

/**
 * The phantom cropped to SIDE x SIDE around the organ, stored as the project's NIfTI
 * volumes are (voxel (x, y, z) = generator pixel (x, y) of slice z), so the session
 * gets its slices as from a file, in the layout the shipped weights were trained on.
 */
function croppedPhantom() {
  const v = phantomOrganVolume({ seed: SEED, width: 128, height: 128, depth: 7 });
  let [x0, x1, y0, y1] = [v.width, -1, v.height, -1];
  for (let z = FIRST; z < FIRST + DEPTH; z++) {
    for (let y = 0; y < v.height; y++) {
      for (let x = 0; x < v.width; x++) {
        if (v.labels[(z * v.height + y) * v.width + x]) [x0, x1, y0, y1] = [Math.min(x0, x), Math.max(x1, x), Math.min(y0, y), Math.max(y1, y)];
      }
    }
  }
  const corner = (lo: number, hi: number, size: number) => Math.min(size - SIDE, Math.max(0, Math.round((lo + hi + 1 - SIDE) / 2)));
  const [cx, cy] = [corner(x0, x1, v.width), corner(y0, y1, v.height)];
  const image = new Uint8Array(PLANE * DEPTH);
  const labels = new Uint8Array(PLANE * DEPTH);
  for (let z = 0; z < DEPTH; z++) {
    for (let y = 0; y < SIDE; y++) {
      const from = ((z + FIRST) * v.height + y + cy) * v.width + cx;
      image.set(v.image.subarray(from, from + SIDE), (z * SIDE + y) * SIDE);
      labels.set(v.labels.subarray(from, from + SIDE), (z * SIDE + y) * SIDE);
    }
  }
  const spacing: [number, number, number] = [v.spacing.x, v.spacing.y, v.spacing.z];
  const volume = (data: Uint8Array) => createVolume({ dims: [SIDE, SIDE, DEPTH], data, spacing });
  return {
    stack: volumeStack(volume(image), 'axial', 'raw'),
    /** A structure's truth, slice-major in the engine's layout as the session keeps masks. */
    truth: (id: number) => stackMask(volume(Uint8Array.from(labels, (l) => (l === id ? 1 : 0))), 'axial'),
  };
}

const phantom = croppedPhantom();
const TRUTH = { organ: phantom.truth(ORGAN_LABEL), lesion: phantom.truth(LESION_LABEL) };
const slice = (mask: Uint8Array, z: number) => mask.subarray(z * PLANE, (z + 1) * PLANE);
const count = (mask: Uint8Array) => mask.reduce((n, v) => n + (v ? 1 : 0), 0);
const sliceDice = (s: Interactive3DSession, z: number, id: number, truth: Uint8Array) => overlap(s.sliceMask(z, id), slice(truth, z)).dice;

/** Seeds come from the truth through setSliceMask; the 2D network is never asked. */
const noSegmenter: SliceSegmenter = {
  segment: async () => {
    throw new Error('this test seeds slices with setSliceMask; the 2D network must not run');
  },
};

let loaded: LoadedMemoryNetwork | null = null;

async function session(): Promise<Interactive3DSession> {
  const rt = await testRuntime();
  loaded ??= loadMemoryNetwork(rt);
  return new Interactive3DSession(rt, phantom.stack, { segmenter: noSegmenter, memory: loaded.net });
}

test('the crop holds both structures on every slice', () => {
  for (let z = 0; z < DEPTH; z++) {
    assert.ok(count(slice(TRUTH.lesion, z)) > 300, `lesion on slice ${z}`);
    assert.ok(count(slice(TRUTH.organ, z)) > 300, `organ on slice ${z}`);
  }
});

/** One label per voxel, and each structure's mask is exactly its voxels of the label map. */
function assertNoOverlap(s: Interactive3DSession, ids: readonly number[]): void {
  const labels = s.labelMap();
  const masks = ids.map((id) => s.volumeMask(id));
  for (let i = 0; i < labels.length; i++) {
    const hits = ids.filter((_, k) => masks[k][i]);
    assert.ok(hits.length <= 1, `voxel ${i} is in structures ${hits}`);
    assert.is(labels[i], hits[0] ?? 0, `voxel ${i}: label ${labels[i]}, masks say ${hits[0] ?? 0}`);
  }
}

/** The truth's labels (organ 1, lesion 2) of slice z. */
const truthLabels = (z: number) => Uint8Array.from(slice(TRUTH.organ, z), (o, i) => (slice(TRUTH.lesion, z)[i] ? LESION_LABEL : o ? ORGAN_LABEL : 0));

test('organ and lesion in one joint step: the locked and the seeded slice kept voxel for voxel, one label per voxel', async () => {
  const s = await session();
  // Slice MID-1 locked for both from a label map (as an imported map), MID seeded by hand.
  const map = new Uint8Array(PLANE * DEPTH);
  map.set(truthLabels(MID - 1), (MID - 1) * PLANE);
  s.loadLabels(map, PHANTOM_STRUCTURES);
  s.setSliceMask(MID, slice(TRUTH.organ, MID), { structure: ORGAN_LABEL });
  s.setSliceMask(MID, slice(TRUTH.lesion, MID), { structure: LESION_LABEL });
  const steps: { slice: number; structures: number[] }[] = [];
  const t0 = performance.now();
  await s.propagate({ onProgress: (p) => steps.push({ slice: p.slice, structures: [...p.structures].sort() }) });
  const seconds = (performance.now() - t0) / 1000;
  assert.equal(steps, [{ slice: MID + 1, structures: [ORGAN_LABEL, LESION_LABEL] }], 'one joint step, past the seed; the locked slice is not recomputed');
  for (const [z, source] of [[MID - 1, 'locked'], [MID, 'annotated'], [MID + 1, 'propagated']] as const) {
    for (const id of [ORGAN_LABEL, LESION_LABEL]) assert.is(s.state(z, id).source, source, `slice ${z} structure ${id}`);
  }
  for (const z of [MID - 1, MID]) assert.equal([...s.sliceLabels(z)], [...truthLabels(z)], `slice ${z} changed`);
  assertNoOverlap(s, [ORGAN_LABEL, LESION_LABEL]);
  const organ = sliceDice(s, MID + 1, ORGAN_LABEL, TRUTH.organ);
  const lesion = sliceDice(s, MID + 1, LESION_LABEL, TRUTH.lesion);
  const predicted = [ORGAN_LABEL, LESION_LABEL].map((id) => count(s.sliceMask(MID + 1, id)));
  // Measured (lavapipe, 2026-11-30): organ Dice 0.072 (52 px), lesion 0.000 (0 px). The shipped
  // QAMN was trained with the lung tumour as its only target and has learnt a tumour detector:
  // its output hardly depends on the mask in its memory (bench/RESULTS.md), and it finds nothing
  // on this abdominal phantom. No Dice floor can be set with these weights (one would only pin
  // their failure); the checks above are what the real numbers must satisfy.
  console.log(`  joint step (${seconds.toFixed(1)} s): slice ${MID + 1} organ Dice ${organ.toFixed(3)} (${predicted[0]} px), lesion Dice ${lesion.toFixed(3)} (${predicted[1]} px)`);
});

test('the organ alone, through the single-structure calls, is exactly the segment() path', async () => {
  const rt = await testRuntime();
  const s = await session();
  s.setSliceMask(MID, slice(TRUTH.organ, MID));
  await s.propagate();
  // The reference by hand on GpuSliceMemory: the seed memorized, each neighbour read from
  // it. No transposition: the shipped weights are in the engine's layout.
  assert.is(loaded!.sliceLayout, ENGINE_SLICE_LAYOUT);
  const gpu = new GpuSliceMemory(rt, loaded!.net);
  const frame = (z: number) => ({ width: SIDE, height: SIDE, data: phantom.stack.slice(z) });
  for (const z of [MID - 1, MID + 1]) {
    const seed: MemoryEntry = gpu.memorize(frame(MID), Float32Array.from(slice(TRUTH.organ, MID)));
    try {
      const r = await gpu.segment(frame(z), [seed]);
      assert.equal([...s.sliceMask(z)], [...Uint8Array.from(r.foreground, (p) => (p > 0.5 ? 1 : 0))], `slice ${z}: the session's mask differs from segment()'s`);
      assert.is(s.state(z).qualityScore, r.quality, `slice ${z}: quality`);
      assert.ok(r.quality !== null, 'the QAMN scores the slice');
    } finally {
      seed.dispose();
    }
  }
});

test.after(() => loaded?.net.dispose());
test.run();
