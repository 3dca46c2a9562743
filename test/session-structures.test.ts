// Several structures in one session against a scripted memory network that records
// every memorize / segment / segmentObjects call (CPU only): each object's memory in
// both directions, joint steps where runs share a slice, the label map (no overlap,
// annotated and locked slices kept), accept, hand corrections, removeStructure,
// loadLabels, and undo/redo restoring bit-identical state within the history's bounds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DeviceLostError } from '../src/runtime/runtime.ts';
import type { MemorySlot, SliceMemoryNetwork } from '../src/session/memory.ts';
import { Interactive3DSession, type SessionOptions, type SliceStack } from '../src/session/session.ts';
import type { SliceImage, SliceSegmenter } from '../src/session/slice-segmenter.ts';

const W = 4, H = 3, N = W * H;

/** Pixel 0 of slice z holds z: the network knows which slice it is given. */
const stackOf = (depth: number, width = W, height = H): SliceStack => ({
  width,
  height,
  depth,
  slice: (z) => Uint8Array.from({ length: width * height }, (_, i) => (i === 0 ? z : 50 + ((i * 5 + z) % 7))),
});

interface Slot extends MemorySlot {
  slice: number;
  mask: number[];
  disposed: boolean;
}

type ObjectOut = { probability: Float32Array; foreground: Float32Array; quality: number | null };

/** Records every call; answers per object from `script(slice, that object's memory)`. */
class ScriptedMemory implements SliceMemoryNetwork<Slot> {
  readonly memorized: Slot[] = [];
  /** One entry per network call: the slice and each object's memory (slices), and whether it was joint. */
  readonly calls: { slice: number; memories: number[][]; joint: boolean }[] = [];
  segmentObjects?: SliceMemoryNetwork<Slot>['segmentObjects'];

  constructor(private readonly script: (slice: number, memory: readonly Slot[]) => ObjectOut, joint = true) {
    if (joint) {
      this.segmentObjects = async (frame: SliceImage, memories: readonly (readonly Slot[])[]) => {
        for (const m of memories) assert.ok(m.every((s) => !s.disposed), 'segmentObjects got a disposed slot');
        this.calls.push({ slice: frame.data[0], memories: memories.map((m) => m.map((s) => s.slice)), joint: true });
        return { objects: memories.map((m) => this.script(frame.data[0], m)) };
      };
    }
  }

  memorize(frame: SliceImage, mask: Float32Array): Slot {
    const slot: Slot = { slice: frame.data[0], mask: Array.from(mask), disposed: false, dispose: () => void (slot.disposed = true) };
    this.memorized.push(slot);
    return slot;
  }

  async segment(frame: SliceImage, memory: readonly Slot[]): Promise<{ foreground: Float32Array; quality: number | null }> {
    assert.ok(memory.every((s) => !s.disposed), 'segment got a disposed slot');
    this.calls.push({ slice: frame.data[0], memories: [memory.map((s) => s.slice)], joint: false });
    const r = this.script(frame.data[0], memory);
    return { foreground: r.probability, quality: r.quality };
  }

  get live(): number {
    return this.memorized.filter((s) => !s.disposed).length;
  }
}

const NO_2D: SliceSegmenter = { segment: async () => assert.unreachable('the 2D network is not used here') as never };

const session = (net: ScriptedMemory, depth: number, options: SessionOptions = {}) => new Interactive3DSession(null, stackOf(depth), { segmenter: NO_2D, memory: net }, { qualityMinPixels: 0, qualityConfidence: 0.5, ...options });

const maskOf = (ones: number[]) => Uint8Array.from({ length: N }, (_, i) => (ones.includes(i) ? 1 : 0));
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

// Structure 1 (the organ) is annotated on slice 3 with pixels 0..4, structure 2 (the lesion) on slice 6 with 5..8.
const A = maskOf(range(0, 5));
const B = maskOf(range(5, 9));

// The scripted network tells the objects apart by the annotation their memory starts with.
// Object 1 predicts pixels 0..5 at 0.8, object 2 pixels 4..8 at 0.7, and pixel 11 is unsure
// (0.4 and 0.45: the lesion's alone loses to the background, both together lose the background
// to the lesion); plus z / 1000, so every slice's map differs. The aggregated foreground an
// object memorizes next is 0.9 x that.
const object = (memory: readonly Slot[]) => (memory[0].mask.join('') === Array.from(A).join('') ? 1 : 2);
const P = (z: number, object: number) =>
  Float32Array.from({ length: N }, (_, i) => (i === 11 ? (object === 1 ? 0.4 : 0.45) : object === 1 ? (i < 6 ? 0.8 : 0.1) : i >= 4 && i < 9 ? 0.7 : 0.1) + z / 1000);
const F = (z: number, object: number) => P(z, object).map((p) => p * 0.9);
const quality = (z: number, object: number) => (object === 1 ? 0.5 + z / 100 : 0.3 + z / 100);
const script = (z: number, memory: readonly Slot[]): ObjectOut => ({ probability: P(z, object(memory)), foreground: F(z, object(memory)), quality: quality(z, object(memory)) });

/** Every network call as `slice: object -> memory slices`, in call order. */
const callsOf = (net: ScriptedMemory) => net.calls.map((c) => `${c.slice}${c.joint ? ' joint' : ''}: ${c.memories.map((m) => `[${m.join(',')}]`).join(' ')}`);

async function organAndLesion(net: ScriptedMemory, options: SessionOptions = {}) {
  const s = session(net, 12, options);
  const lesion = s.addStructure('lesion');
  assert.equal(lesion, { id: 2, name: 'lesion', color: [60, 160, 255] });
  s.setSliceMask(3, A);
  s.setSliceMask(6, B, { structure: 2 });
  await s.propagate();
  return s;
}

const JOINT = [1, 1, 1, 1, 1, 1, 2, 2, 2, 0, 0, 2]; // both propagated: 0..5 organ (0.8 beats 0.7 at 4, 5), 6..8 and 11 lesion
const FIXED = [1, 1, 1, 1, 1, 2, 2, 2, 2, 0, 0, 0]; // slice 3 (organ annotated) and 6 (lesion annotated)

test('two structures: each object reads its own memory, both directions, joint steps where the runs share a slice', async () => {
  const net = new ScriptedMemory(script);
  const s = await organAndLesion(net);
  // Written out by hand: organ runs 3 -> 2..0 and 3 -> 4..11, lesion runs 6 -> 5..0 and 6 -> 7..11 (save_freq 5).
  // Down: one sweep 5..0, the lesion alone on 5..3, both on 2..0. Up: one sweep 4..11, the organ alone on 4..6.
  assert.equal(callsOf(net), [
    '5: [6]', '4: [6,5]', '3: [6,4]',
    '2 joint: [3] [6,3]', '1 joint: [3,2] [6,2]', '0 joint: [3,1] [6,1]',
    '4: [3]', '5: [3,4]', '6: [3,5]',
    '7 joint: [3,6] [6]', '8 joint: [3,7] [6,7]', '9 joint: [3,8] [6,8]', '10 joint: [3,8,9] [6,9]', '11 joint: [3,8,10] [6,10]',
  ]);
  // What each object memorized before each call (the last slot of its memory): its annotation
  // as 0 / 1, else its own result there: the aggregated foreground after a joint step, the
  // probability after a step alone. The lone calls are the lesion's first three, then the organ's.
  const objectsOf = (i: number) => (net.calls[i].joint ? [1, 2] : [i < 3 ? 2 : 1]);
  const jointAt = new Map<string, boolean>();
  net.calls.forEach((c, i) => objectsOf(i).forEach((o) => jointAt.set(`${o}:${c.slice}`, c.joint)));
  let m = 0;
  net.calls.forEach((c, i) =>
    objectsOf(i).forEach((o, k) => {
      const slot = net.memorized[m++];
      const y = c.memories[k][c.memories[k].length - 1];
      assert.is(slot.slice, y);
      const expected = y === (o === 1 ? 3 : 6) ? Array.from(o === 1 ? A : B) : Array.from((jointAt.get(`${o}:${y}`) ? F : P)(y, o));
      assert.equal(slot.mask, expected, `object ${o}, slice ${y}, memorized for slice ${c.slice}`);
    }),
  );
  assert.is(m, net.memorized.length, 'one memorize per object and call');
  assert.is(net.live, 0, 'every memory slot disposed');
  for (let z = 0; z < 12; z++) {
    const labels = Array.from(s.sliceLabels(z));
    assert.equal(labels, z === 3 || z === 6 ? FIXED : JOINT, `labels of slice ${z}`);
    const organ = s.sliceMask(z, 1);
    const lesion = s.sliceMask(z, 2);
    assert.ok(organ.every((v, i) => !(v && lesion[i])), `slice ${z}: no pixel in both`);
    assert.equal(Array.from(organ), labels.map((l) => (l === 1 ? 1 : 0)));
  }
  assert.equal(s.sliceMask(3, 1), A, 'the annotated organ slice keeps its mask');
  assert.equal(Array.from(s.sliceMask(6, 2)), Array.from(B), 'the annotated lesion slice keeps its mask');
  assert.is(s.state(3, 1).source, 'annotated');
  assert.is(s.state(3, 2).source, 'propagated');
  assert.equal(s.state(9, 2), { source: 'propagated', quality: quality(9, 2), certainty: s.state(9, 2).certainty, qualityScore: quality(9, 2) });
  assert.is(s.state(9, 1).quality, quality(9, 1));
  const map = s.labelMap();
  assert.instance(map, Uint8Array);
  assert.equal(Array.from(map.subarray(9 * N, 10 * N)), JOINT);
});

test('rankSlices per structure, and over all structures the lowest score of those not fixed on a slice', async () => {
  const s = await organAndLesion(new ScriptedMemory(script));
  // Organ quality 0.5 + z/100 (slice 3 annotated), lesion 0.3 + z/100 (slice 6 annotated).
  assert.equal(s.rankSlices('quality', { structure: 1 }), [0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11]);
  assert.equal(s.rankSlices('quality', { structure: 2 }), [0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11]);
  assert.is(s.recommendSlice('quality'), 0);
  // Every slice scores the lesion's 0.3 + z/100 but slice 6, where only the organ is open (0.56).
  assert.equal(s.rankSlices('quality'), [0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 6]);
  // Oracle: the truth is a label map; a slice's Dice is its worst structure's.
  const truth = s.labelMap().slice();
  truth[8 * N + 9] = 2; // slice 8: one lesion pixel missed
  assert.is(s.recommendSlice('oracle', { groundTruth: truth }), 8);
  assert.is(s.recommendSlice('oracle', { groundTruth: truth, structure: 1 }), 0, 'the organ is right everywhere: ties keep slice order');
  assert.throws(() => s.rankSlices('quality', { structure: 5 }), /no structure 5/);
});

test('accept locks a propagated slice without changing a pixel; propagation stops at it and never changes it', async () => {
  const net = new ScriptedMemory(script);
  const s = await organAndLesion(net);
  const before = s.labelMap();
  s.acceptSlice(9, { structure: 1 });
  assert.equal(s.labelMap(), before, 'accepting changes no pixel');
  assert.equal(s.state(9, 1), { source: 'locked', quality: 1, certainty: 1 });
  assert.is(s.state(9, 2).source, 'propagated', 'the other structure is untouched');
  assert.throws(() => s.acceptSlice(3, { structure: 1 }), /slice 3 of structure 1 is annotated, not propagated/);
  // A new organ annotation on slice 11: its run down stops at the locked slice 9.
  net.calls.length = 0;
  s.setSliceMask(11, A);
  await s.propagate();
  assert.equal(callsOf(net), ['10: [11]']);
  assert.equal(Array.from(s.sliceLabels(9)), Array.from(before.subarray(9 * N, 10 * N)));
  assert.is(s.state(9, 1).source, 'locked');
  // The lesion propagated again from its annotation would not touch the organ's locked pixels either.
  assert.throws(() => s.acceptSlice(0, { structure: 7 }), /no structure 7/);
});

test('a hand correction of one structure takes its pixels from the other structure\'s annotation, which is propagated again', async () => {
  const net = new ScriptedMemory(script);
  const s = await organAndLesion(net);
  net.calls.length = 0;
  net.memorized.length = 0;
  // The lesion painted by hand on slice 3, over two organ pixels (3, 4).
  const painted = maskOf([3, 4, 5]);
  s.setSliceMask(3, painted, { structure: 2 });
  assert.equal(s.state(3, 2).source, 'annotated');
  assert.equal(s.state(3, 1).source, 'annotated');
  assert.equal(Array.from(s.sliceLabels(3)), [1, 1, 1, 2, 2, 2, 0, 0, 0, 0, 0, 0]);
  await s.propagate();
  // Both structures propagate from slice 3 again (the organ's annotation changed); the lesion's
  // run up meets its annotation on 6 (not pending): 4, 5. The organ goes up to the volume end.
  const carved = [1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  const organStarts = net.memorized.filter((m) => m.slice === 3 && m.mask.join() === carved.join());
  assert.is(organStarts.length, 2, 'the organ memorizes its carved annotation, once per direction');
  const lesionStarts = net.memorized.filter((m) => m.slice === 3 && m.mask.join() === Array.from(painted).join());
  assert.is(lesionStarts.length, 2, 'the lesion memorizes the hand-drawn mask like a 2D result');
  assert.equal(Array.from(s.sliceMask(6, 2)), Array.from(B), 'the lesion\'s annotated slice 6 kept');
  assert.equal(Array.from(s.sliceLabels(3)), [1, 1, 1, 2, 2, 2, 0, 0, 0, 0, 0, 0], 'annotated masks are never overwritten');
});

test('undo and redo restore bit-identical state; a new step clears redo; a cancelled propagation leaves no step', async () => {
  const net = new ScriptedMemory(script);
  const s = session(net, 12);
  const fingerprint = () =>
    JSON.stringify({
      structures: s.structures,
      labels: Array.from(s.labelMap()),
      states: s.structures.map((st) => Array.from({ length: 12 }, (_, z) => s.state(z, st.id))),
      pending: s.pendingSlices,
      annotated: s.annotatedSlices,
    });
  // The whole internal state too (every stored probability, mask, quality and pending slice).
  const states = [s.snapshot().state];
  const prints = [fingerprint()];
  const actions: (() => unknown)[] = [
    () => s.setSliceMask(3, A),
    () => s.addStructure('lesion', { color: [1, 2, 3] }),
    () => s.setSliceMask(6, B, { structure: 2 }),
    () => s.propagate(),
    () => s.acceptSlice(9, { structure: 1 }),
    () => s.setSliceMask(11, maskOf([9, 10]), { structure: 2 }),
    () => s.propagate(),
    () => s.removeStructure(1),
  ];
  let first: { calls: string[]; masks: string[] } | null = null;
  for (const act of actions) {
    await act();
    prints.push(fingerprint());
    states.push(s.snapshot().state);
    if (prints.length === 5) first = { calls: callsOf(net), masks: net.memorized.map((m) => m.mask.join()) };
  }
  assert.is(new Set(prints).size, prints.length, 'every action changed the state');
  for (let i = prints.length - 2; i >= 0; i--) {
    assert.ok(s.undo());
    assert.is(fingerprint(), prints[i], `undo back to after action ${i}`);
    assert.equal(s.snapshot().state, states[i], `undo: the whole state after action ${i}`);
  }
  assert.not.ok(s.undo(), 'nothing left to undo');
  assert.not.ok(s.canUndo);
  for (let i = 1; i < prints.length; i++) {
    assert.ok(s.redo());
    assert.is(fingerprint(), prints[i], `redo to after action ${i}`);
    assert.equal(s.snapshot().state, states[i], `redo: the whole state after action ${i}`);
  }
  assert.not.ok(s.canRedo);
  // Back to before the first propagation: propagating again makes exactly the same calls with the
  // same memorized masks (the stored probabilities came back bit for bit) and the same state.
  for (let i = 0; i < 5; i++) s.undo();
  assert.is(fingerprint(), prints[3]);
  net.calls.length = 0;
  net.memorized.length = 0;
  await s.propagate();
  assert.equal({ calls: callsOf(net), masks: net.memorized.map((m) => m.mask.join()) }, first);
  assert.is(fingerprint(), prints[4]);
  assert.equal(s.snapshot().state, states[4], 'propagating again stores the same probabilities');
  assert.not.ok(s.canRedo, 'a new step clears redo');
  // A cancelled propagation: no step, nothing changed.
  s.setSliceMask(9, A);
  const print = fingerprint();
  const steps = [s.canUndo, s.canRedo];
  const controller = new AbortController();
  const err = await s.propagate({ signal: controller.signal, onProgress: () => controller.abort() }).then(() => null, (e: unknown) => e);
  assert.is((err as Error)?.name, 'AbortError');
  assert.is(fingerprint(), print);
  assert.equal([s.canUndo, s.canRedo], steps);
  assert.ok(s.undo());
  assert.is(fingerprint(), prints[4], 'one undo takes back the annotation made before the cancelled propagation');
  assert.is(net.live, 0);
});

test('history: a step costs the changed slices plus references, and the step and byte bounds drop the oldest steps', async () => {
  const [w, h, d] = [128, 128, 20];
  const n = w * h;
  const net = new ScriptedMemory((z) => {
    const p = Float32Array.from({ length: n }, (_, i) => ((i + z) % 10) / 10);
    return { probability: p, foreground: p, quality: 0.5 };
  });
  const s = new Interactive3DSession(null, stackOf(d, w, h), { segmenter: NO_2D, memory: net });
  assert.is(s.historyBytes, 0);
  const disk = Uint8Array.from({ length: n }, (_, i) => ((i % w) - 64) ** 2 + (Math.floor(i / w) - 64) ** 2 < 400 ? 1 : 0);
  s.setSliceMask(5, disk);
  // The step holds the label slice 5 it replaced (n bytes, uint8) and one reference per slice of
  // the label map and of the structure's slices: 8 x (20 + 20).
  assert.is(s.historyBytes, n + 8 * 40);
  await s.propagate();
  // Undoing the propagation needs the 19 label slices it replaced and the references of the step before.
  assert.is(s.historyBytes, n + 8 * 40 + 19 * n + 8 * (40 + 1));

  // 20 steps with two structures, as a user would make them; measured against copying the whole state per step.
  const bounded = new Interactive3DSession(null, stackOf(d, w, h), { segmenter: NO_2D, memory: net }, { history: { steps: 100, bytes: 64 * 2 ** 20 } });
  bounded.addStructure('lesion');
  const stateBytes = () => d * n + bounded.structures.length * d * n * 4; // labels + a float map per structure and slice
  let fullCopies = 0;
  let steps = 1;
  for (let k = 0; steps < 20; k++) {
    fullCopies += stateBytes();
    bounded.setSliceMask((k * 7) % d, disk, { structure: 1 + (k % 2) });
    steps++;
    if (steps < 20) {
      fullCopies += stateBytes();
      await bounded.propagate();
      steps++;
    }
  }
  const bytes = bounded.historyBytes;
  assert.ok(bytes <= 64 * 2 ** 20);
  console.log(`history of 20 steps on ${w}x${h}x${d}, two structures: ${(bytes / 2 ** 20).toFixed(2)} MiB (whole-state copies: ${(fullCopies / 2 ** 20).toFixed(2)} MiB)`);
  assert.ok(bounded.canUndo);

  // The step bound: the two newest steps only.
  const few = new Interactive3DSession(null, stackOf(d, w, h), { segmenter: NO_2D, memory: net }, { history: { steps: 2 } });
  for (const z of [1, 2, 3, 4]) few.setSliceMask(z, disk);
  assert.ok(few.undo() && few.undo());
  assert.not.ok(few.undo(), 'the oldest steps were dropped');
  assert.equal(few.annotatedSlices, [1, 2]);
  // The byte bound: room for about one annotation step (n bytes + references) but not two.
  const tight = new Interactive3DSession(null, stackOf(d, w, h), { segmenter: NO_2D, memory: net }, { history: { bytes: n + 1000 } });
  for (const z of [1, 2, 3]) {
    tight.setSliceMask(z, disk);
    assert.ok(tight.historyBytes <= n + 1000, `after slice ${z}: ${tight.historyBytes} bytes`);
  }
  assert.ok(tight.undo());
  assert.not.ok(tight.undo());
  assert.equal(tight.annotatedSlices, [1, 2]);
});

test('removeStructure drops one structure; the others keep their slices and the label map follows', async () => {
  const s = await organAndLesion(new ScriptedMemory(script));
  s.removeStructure(2);
  assert.equal(s.structures.map((x) => x.id), [1]);
  // The organ alone: p > 0.5 on pixels 0..5, its annotation on slice 3.
  for (let z = 0; z < 12; z++) assert.equal(Array.from(s.sliceLabels(z)), z === 3 ? Array.from(A) : [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0], `slice ${z}`);
  assert.throws(() => s.sliceMask(0, 2), /no structure 2/);
  assert.equal(s.addStructure('again').id, 2, 'the lowest free id');
  s.undo();
  s.undo();
  assert.equal(s.structures.map((x) => x.name), ['object', 'lesion']);
  assert.equal(Array.from(s.sliceLabels(9)), JOINT);
});

test('loadLabels: each slice with voxels of a structure becomes locked for it; refining adds to the map without touching them', async () => {
  const net = new ScriptedMemory(script);
  const s = session(net, 12);
  const labels = new Uint8Array(12 * N);
  for (let z = 2; z <= 4; z++) labels.set(FIXED.map((l) => (l === 2 ? 3 : l)), z * N); // organ id 1, lesion id 3
  assert.throws(() => s.loadLabels(labels, [{ id: 1, name: 'organ' }]), /voxel 29 has label 3, which is not among the structures \(1\)/);
  assert.throws(() => s.loadLabels(labels.subarray(1), [{ id: 1, name: 'organ' }]), /143 voxels, the volume 4x3x12 = 144/);
  assert.throws(() => s.loadLabels(labels, [{ id: 1, name: 'organ' }, { id: 1, name: 'x' }]), /id 1 is defined twice/);
  s.loadLabels(labels, [{ id: 3, name: 'lesion', color: [0, 255, 0] }, { id: 1, name: 'organ' }]);
  assert.equal(s.structures, [{ id: 1, name: 'organ', color: [255, 60, 60] }, { id: 3, name: 'lesion', color: [0, 255, 0] }]);
  assert.equal(s.labelMap(), labels);
  for (let z = 0; z < 12; z++) for (const id of [1, 3]) assert.is(s.state(z, id).source, z >= 2 && z <= 4 ? 'locked' : 'empty');
  assert.is(s.pendingSlices, 0, 'a loaded map is refined, not propagated from');
  // Refining: a new structure annotated on slice 8 propagates down to slice 0 and up to 11;
  // the loaded slices keep every voxel.
  assert.equal(s.addStructure('cyst').id, 2);
  s.setSliceMask(8, maskOf([9, 10, 11]), { structure: 2 });
  await s.propagate();
  const map = s.labelMap();
  for (let z = 2; z <= 4; z++) for (let i = 0; i < N; i++) if (labels[z * N + i]) assert.is(map[z * N + i], labels[z * N + i], `slice ${z} pixel ${i}`);
  assert.ok(s.undo() && s.undo() && s.undo());
  assert.equal(s.labelMap(), labels);
  // Pending: the next propagate() starts from every loaded slice (a sparse map to complete).
  const sparse = session(new ScriptedMemory(script), 12);
  const one = new Uint8Array(12 * N);
  one.set(A, 3 * N);
  sparse.loadLabels(one, [{ id: 1, name: 'organ' }], { pending: true });
  assert.is(sparse.pendingSlices, 11);
  // Ids above 255 make a uint16 map.
  const wide = session(new ScriptedMemory(script), 12);
  const big = new Uint16Array(12 * N);
  big[5] = 300;
  wide.loadLabels(big, [{ id: 300, name: 'many' }]);
  const wmap = wide.labelMap();
  assert.instance(wmap, Uint16Array);
  assert.is(wmap[5], 300);
});

test('without a joint step the network segments each object alone and the session aggregates them (Soft_aggregation)', async () => {
  const net = new ScriptedMemory(script, false);
  const s = await organAndLesion(net);
  assert.ok(net.calls.every((c) => !c.joint && c.memories.length === 1));
  // Slice 1: after the joint step at slice 2 the organ memorized softmax of the log-odds of
  // (prod(1 - p), p1, p2) at slice 2, written out here from the original's formula.
  const p1 = P(2, 1), p2 = P(2, 2);
  const expected = Array.from({ length: N }, (_, i) => {
    const em = [(1 - p1[i]) * (1 - p2[i]), p1[i], p2[i]].map((e) => Math.min(1 - 1e-7, Math.max(1e-7, e)));
    const odds = em.map((e) => e / (1 - e));
    return Math.fround(odds[1] / (odds[0] + odds[1] + odds[2]));
  });
  const organAt2 = net.memorized.find((m) => m.slice === 2 && Math.abs(m.mask[0] - expected[0]) < 1e-6);
  assert.ok(organAt2, 'the organ memorized its aggregated slice 2');
  organAt2!.mask.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-6, `pixel ${i}: ${v} vs ${expected[i]}`));
  assert.equal(Array.from(s.sliceLabels(1)), JOINT);
});

test('a device lost in the middle of a joint sweep: the finished sweep is kept, rebind + propagate recompute only the interrupted one', async () => {
  const reference = await organAndLesion(new ScriptedMemory(script));
  const lossy = new ScriptedMemory(script);
  let calls = 0;
  const lose = () => {
    // Call 10: the first joint step of the upward sweep (slice 7), after the whole downward sweep.
    if (++calls === 10) throw new DeviceLostError('destroyed', 'scripted', 'segmentObjects');
  };
  const [segment, segmentObjects] = [lossy.segment.bind(lossy), lossy.segmentObjects!];
  lossy.segment = async (f, m) => (lose(), segment(f, m));
  lossy.segmentObjects = async (f, m) => (lose(), segmentObjects(f, m));
  const s = session(lossy, 12);
  s.addStructure('lesion');
  s.setSliceMask(3, A);
  s.setSliceMask(6, B, { structure: 2 });
  const err = await s.propagate().then(() => null, (e: unknown) => e);
  assert.instance(err, DeviceLostError);
  assert.is(lossy.live, 0, 'the failed sweep disposed its memory');
  for (const z of [0, 1, 2]) assert.equal(s.sliceLabels(z), reference.sliceLabels(z), `slice ${z} finished before the loss`);
  assert.is(s.pendingSlices, 8, 'the upward sweep, 4..11, is left');
  const fresh = new ScriptedMemory(script);
  s.rebind(null, { segmenter: NO_2D, memory: fresh });
  await s.propagate();
  assert.equal(callsOf(fresh), ['4: [3]', '5: [3,4]', '6: [3,5]', '7 joint: [3,6] [6]', '8 joint: [3,7] [6,7]', '9 joint: [3,8] [6,8]', '10 joint: [3,8,9] [6,9]', '11 joint: [3,8,10] [6,10]']);
  assert.equal(s.labelMap(), reference.labelMap());
  for (let z = 0; z < 12; z++) for (const id of [1, 2]) assert.equal(s.state(z, id), reference.state(z, id));
  assert.is(s.pendingSlices, 0);
  // The interrupted propagation and its resumption are one undo step.
  assert.ok(s.undo());
  for (let z = 0; z < 12; z++) assert.equal([s.state(z, 1).source, s.state(z, 2).source], [z === 3 ? 'annotated' : 'empty', z === 6 ? 'annotated' : 'empty'], `slice ${z}`);
  assert.ok(s.redo());
  assert.equal(s.labelMap(), reference.labelMap());
});

test('structures: names and colours are checked; the default structure 1 is the single-structure session', () => {
  const s = session(new ScriptedMemory(script), 4);
  assert.equal(s.structures, [{ id: 1, name: 'object', color: [255, 60, 60] }]);
  assert.throws(() => s.addStructure(''), /non-empty name/);
  assert.throws(() => s.addStructure('x', { color: [0, 0, 256] }), /three integers 0..255/);
  assert.throws(() => s.setSliceMask(0, A, { structure: 2 }), /no structure 2/);
  assert.throws(() => s.removeStructure(2), /no structure 2/);
  assert.not.ok(s.canUndo, 'refused calls leave no step');
});

test.run();
