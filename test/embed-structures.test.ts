// The embedding API's structures (web/embed.ts) on a scripted session, CPU only: no
// GPU, no network weights. The memory network copies the mask it memorized last onto
// the next slice, the 2D network answers "everything inside the crop", so every voxel
// the API returns can be written down here from what the test gave it. What is checked
// is the adapter: structure routing, NIfTI voxel order (i fastest) of every mask and
// label map in and out, the session's own undo/redo, and the label map's round trip.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { IOGNetwork } from '../src/networks/iog/network.ts';
import type { MemoryNetwork } from '../src/networks/mem3d/memory-network.ts';
import type { Runtime } from '../src/runtime/runtime.ts';
import type { MemorySlot, SliceMemoryNetwork } from '../src/session/memory.ts';
import type { SliceImage } from '../src/session/slice-segmenter.ts';
import { createVolume, parseNifti, type Affine } from '../src/volume/index.ts';
import { createSegmenter, type SegmenterNetworks } from '../web/embed.ts';

// nx = 12 along i, ny = 9 along j, 6 axial slices; voxel (i, j, k) at i + 12 * (j + 9 * k).
const [NX, NY, NZ] = [12, 9, 6];
const AFFINE: Affine = [[-0.8, 0, 0, 40], [0, 1.1, 0, -12], [0, 0, 2.5, 7], [0, 0, 0, 1]];
const volume = createVolume({ dims: [NX, NY, NZ], data: Uint8Array.from({ length: NX * NY * NZ }, (_, v) => (v * 37) % 251), affine: AFFINE, source: 'scripted' });
const at = (i: number, j: number, k = 0) => i + NX * (j + NY * k);
const sum = (a: ArrayLike<number>) => {
  let n = 0;
  for (let v = 0; v < a.length; v++) n += a[v];
  return n;
};

interface Slot extends MemorySlot {
  mask: Float32Array;
}

/** Segments each slice as the mask memorized last: a propagation copies the annotation through the volume. */
class CopyingMemory implements SliceMemoryNetwork<Slot> {
  dispose(): void {}
  memorize(_frame: SliceImage, mask: Float32Array): Slot {
    return { mask: mask.slice(), dispose() {} };
  }
  async segment(_frame: SliceImage, memory: readonly Slot[]) {
    return { foreground: memory[memory.length - 1].mask.slice(), quality: 0.75 };
  }
}

/** A 2D network whose logits are high everywhere: the mask is the whole crop around the points. */
const everywhere = {
  inputChannels: 4,
  forward: () => ({ fine: { read: async () => new Float32Array(512 * 512).fill(20) }, dispose() {} }),
  dispose() {},
} as unknown as IOGNetwork;

/** Nothing here touches a GPU: uploads are handles the scripted networks ignore. */
const noGpu = { upload: () => ({ shape: [1, 1, 1, 1], dispose() {} }), describe: () => 'scripted (no GPU)', destroy() {} } as unknown as Runtime;

const scripted = async (): Promise<SegmenterNetworks> => ({
  iog: everywhere,
  memory: new CopyingMemory() as unknown as MemoryNetwork,
  iogLayout: 'rows-first-axis',
  memoryLayout: 'rows-first-axis',
});

const segmenter = () => createSegmenter({ runtime: noGpu, loadNetworks: scripted, cropSize: 32 });

/** A slice mask in voxel order from a predicate on (i, j). */
const sliceOf = (f: (i: number, j: number) => boolean) => Uint8Array.from({ length: NX * NY }, (_, v) => (f(v % NX, Math.floor(v / NX)) ? 1 : 0));
// Not symmetric under a transpose, and apart from each other.
const ORGAN = sliceOf((i, j) => (i < 6 && j === 2) || (i === 4 && j < 7));
const LESION = sliceOf((i, j) => i >= 8 && i <= 10 && j >= 5 && j <= 6);

test('structures: structure 1 from the start; add and remove are steps of the session\'s own undo/redo', async () => {
  const seg = await segmenter();
  seg.loadVolume(volume);
  assert.equal(seg.structures().map((s) => [s.id, s.name]), [[1, 'object']]);
  assert.not.ok(seg.canUndo(), 'a fresh session has nothing to undo');
  const lesion = seg.addStructure('lesion', { color: [10, 200, 30] });
  assert.equal([lesion.id, lesion.name, [...lesion.color]], [2, 'lesion', [10, 200, 30]]);
  assert.equal(seg.structures().map((s) => s.name), ['object', 'lesion']);
  assert.ok(seg.canUndo() && !seg.canRedo());
  assert.ok(await seg.undo());
  assert.equal(seg.structures().map((s) => s.name), ['object'], 'undo removes the added structure');
  assert.ok(seg.canRedo());
  assert.ok(await seg.redo());
  assert.equal(seg.structures().map((s) => s.name), ['object', 'lesion'], 'redo adds it again');
  seg.setSliceMask(3, LESION, { structure: 2 });
  seg.removeStructure(2);
  assert.equal(seg.structures().map((s) => s.id), [1]);
  assert.is(sum(seg.labelMap()), 0, 'its voxels went with it');
  await seg.undo();
  assert.equal(seg.sliceMask(3, { structure: 2 }), LESION, 'undoing the removal brings the structure and its voxels back');
  assert.ok(seg.historyBytes > 0, 'the history says what it holds');
  seg.dispose();
});

test('hand masks per structure in voxel order; labelMap and sliceLabels in voxel order; states per structure', async () => {
  const seg = await segmenter();
  seg.loadVolume(volume);
  seg.addStructure('lesion');
  seg.setSliceMask(2, ORGAN);
  seg.setSliceMask(2, LESION, { structure: 2 });
  assert.equal(seg.sliceMask(2), ORGAN, 'structure 1 by default');
  assert.equal(seg.sliceMask(2, { structure: 2 }), LESION);
  const labels = seg.labelMap();
  assert.instance(labels, Uint8Array);
  assert.is(labels.length, NX * NY * NZ);
  for (let k = 0; k < NZ; k++) {
    for (let j = 0; j < NY; j++) for (let i = 0; i < NX; i++) {
      const want = k !== 2 ? 0 : ORGAN[at(i, j)] ? 1 : LESION[at(i, j)] ? 2 : 0;
      assert.is(labels[at(i, j, k)], want, `voxel (${i}, ${j}, ${k})`);
    }
  }
  assert.equal(seg.sliceLabels(2), labels.subarray(at(0, 0, 2), at(0, 0, 3)), 'slice 2 of the label map');
  assert.equal(seg.mask({ structure: 2 }).subarray(at(0, 0, 2), at(0, 0, 3)), LESION);
  assert.equal(seg.states({ structure: 2 }).map((s) => s.source), ['empty', 'empty', 'annotated', 'empty', 'empty', 'empty']);
  assert.throws(() => seg.setSliceMask(2, LESION, { structure: 7 }), /7/);
  assert.throws(() => seg.sliceMask(2, { structure: 7 }), /7/);
  seg.dispose();
});

test('propagate carries every structure; acceptSlice locks one; undo and redo restore the label map bit for bit', async () => {
  const seg = await segmenter();
  seg.loadVolume(volume, { slices: [1, 4] });
  seg.addStructure('lesion');
  seg.setSliceMask(2, ORGAN);
  seg.setSliceMask(2, LESION, { structure: 2 });
  const beforePropagation = seg.labelMap();
  await seg.propagate();
  const labels = seg.labelMap();
  for (const k of [1, 3, 4]) assert.equal(labels.subarray(at(0, 0, k), at(0, 0, k + 1)), labels.subarray(at(0, 0, 2), at(0, 0, 3)), `slice ${k} carries slice 2's labels`);
  assert.is(sum(labels.subarray(0, at(0, 0, 1))), 0, 'slice 0 is outside the session');
  for (const structure of [1, 2]) assert.equal(seg.states({ structure }).map((s) => s.source), ['empty', 'propagated', 'annotated', 'propagated', 'propagated', 'empty'], `structure ${structure}`);
  assert.ok([1, 3, 4].includes(seg.recommend({ structure: 2 })!));

  seg.acceptSlice(3, { structure: 2 });
  assert.is(seg.states({ structure: 2 })[3].source, 'locked');
  assert.is(seg.states({ structure: 1 })[3].source, 'propagated', 'the other structure is not accepted with it');
  assert.equal(seg.labelMap(), labels, 'accepting changes no voxel');
  assert.throws(() => seg.acceptSlice(2, { structure: 2 }), /propagated|annotated/);

  await seg.undo();
  assert.is(seg.states({ structure: 2 })[3].source, 'propagated', 'undo takes the accept back');
  await seg.undo();
  assert.equal(seg.labelMap(), beforePropagation, 'undo takes the propagation back, voxel for voxel');
  assert.equal(seg.states({ structure: 1 }).map((s) => s.source), ['empty', 'empty', 'annotated', 'empty', 'empty', 'empty']);
  await seg.redo();
  await seg.redo();
  assert.equal(seg.labelMap(), labels, 'redo brings both steps back');
  assert.is(seg.states({ structure: 2 })[3].source, 'locked');
  seg.dispose();
});

test('annotate(slice, points, { structure }) gives that structure the 2D result, in voxel order', async () => {
  const seg = await segmenter();
  seg.loadVolume(volume);
  seg.addStructure('lesion');
  // Extreme points (i, j) inside the slice; the scripted network fills its crop, which holds them.
  const points = [[3, 1], [7, 4], [5, 0], [4, 6]] as const;
  const mask = await seg.annotate(4, points, { structure: 2 });
  assert.equal(seg.sliceMask(4, { structure: 2 }), mask);
  for (const [i, j] of points) assert.is(mask[at(i, j)], 1, `point (${i}, ${j}) is in the mask`);
  assert.is(sum(seg.sliceMask(4)), 0, 'structure 1 has nothing there');
  const labels = seg.sliceLabels(4);
  for (let v = 0; v < mask.length; v++) assert.is(labels[v], mask[v] ? 2 : 0, `voxel ${v}`);
  assert.is(seg.states({ structure: 2 })[4].source, 'annotated');
  await seg.undo();
  assert.is(sum(seg.sliceMask(4, { structure: 2 })), 0, 'undo takes the 2D step back');
  seg.dispose();
});

test('exportLabelMap: a NIfTI with the volume\'s geometry holding labelMap() and a sidecar; importLabelMap takes it back; another grid is refused', async () => {
  const seg = await segmenter();
  seg.loadVolume(volume);
  seg.addStructure('lesion', { color: [1, 2, 3] });
  seg.setSliceMask(1, ORGAN);
  seg.setSliceMask(4, LESION, { structure: 2 });
  const { nifti, sidecar } = seg.exportLabelMap();
  assert.equal([nifti[0], nifti[1]], [0x1f, 0x8b], 'gzipped');
  const written = parseNifti(nifti, 'exported');
  assert.equal(written.dims, [NX, NY, NZ]);
  assert.equal(written.affine.map((r) => r.map((x) => Math.fround(x))), AFFINE.map((r) => r.map((x) => Math.fround(x))), 'the volume\'s affine');
  assert.equal(Array.from(written.data), Array.from(seg.labelMap()), 'the voxels are labelMap()');
  assert.equal(JSON.parse(sidecar), { labels: { 1: { name: 'object', color: [255, 60, 60] }, 2: { name: 'lesion', color: [1, 2, 3] } } });

  const again = await segmenter();
  again.loadVolume(volume);
  const structures = again.importLabelMap(nifti, sidecar, { name: 'labels.nii.gz' });
  assert.equal(structures.map((s) => [s.id, s.name, [...s.color]]), [[1, 'object', [255, 60, 60]], [2, 'lesion', [1, 2, 3]]]);
  assert.equal(again.labelMap(), seg.labelMap(), 'the imported label map, voxel for voxel');
  assert.equal(again.states({ structure: 2 }).map((s) => s.source), ['empty', 'empty', 'empty', 'empty', 'locked', 'empty'], 'slices with voxels come in locked');
  await again.undo();
  assert.is(sum(again.labelMap()), 0, 'the import is one undoable step');

  const other = createVolume({ dims: [NX, NY + 1, NZ], data: new Uint8Array(NX * (NY + 1) * NZ), affine: AFFINE, source: 'other grid' });
  again.loadVolume(other);
  assert.throws(() => again.importLabelMap(nifti, sidecar, { name: 'labels.nii.gz' }), /dims 12x9x6/);
  assert.is(sum(again.labelMap()), 0, 'nothing was loaded');
  seg.dispose();
  again.dispose();
});

test.run();
