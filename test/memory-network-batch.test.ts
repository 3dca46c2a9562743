// Batches of the memory network (MemoryNetwork.memorizeBatch / segmentBatch,
// GpuSliceMemory.memorizeHeldBatch / segmentBatchAhead, a session with two lanes) with
// the synth-v1 QAMN on the organ phantom at 64x64 and smaller: item b of a batch is what
// the network gives frame b alone, each frame reading its own memory, up to f32
// rounding: a batch may get other conv kernels than one frame (the rules weigh the
// output's size; on lavapipe some 48x48 layers do), so another summation order. Items
// must agree to 1e-4 of the largest value (the f32 conformance errors are 1e-5 to 5e-4);
// the memories differ enough that reading another item's would be far outside that.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryNetwork } from '../src/networks/mem3d/memory-network.ts';
import { preprocessFrame } from '../src/networks/mem3d/preprocess.ts';
import { ORGAN_LABEL } from '../src/phantom/organ.ts';
import { loadMemoryNetwork } from '../src/pretrained/node.ts';
import type { Tensor } from '../src/runtime/tensor.ts';
import type { Runtime } from '../src/runtime/runtime.ts';
import { GpuSliceMemory } from '../src/session/memory.ts';
import { Interactive3DSession } from '../src/session/session.ts';
import type { SliceSegmenter } from '../src/session/slice-segmenter.ts';
import { testRuntime } from './_lib/gpu.ts';
import { CROP, cropAroundOrgan, croppedImage, mask as maskOf, SIZE, slice } from './_lib/organ-slices.ts';
import { compare } from './_lib/tolerance.ts';

const mask = (z: number) => maskOf(z, ORGAN_LABEL);

let loaded: Promise<MemoryNetwork> | null = null;
async function network(): Promise<MemoryNetwork> {
  loaded ??= testRuntime().then((rt) => loadMemoryNetwork(rt, { weights: 'synth-v1' }).net);
  return loaded;
}

const frames = (rt: Runtime, zs: number[]) =>
  rt.upload([zs.length, SIZE, SIZE, 3], Float32Array.from(zs.flatMap((z) => Array.from(preprocessFrame(slice(z), SIZE, SIZE)))));
const masks = (rt: Runtime, zs: number[]) => rt.upload([zs.length, SIZE, SIZE, 1], Float32Array.from(zs.flatMap((z) => Array.from(mask(z)))));

async function item(t: Tensor, b: number): Promise<Float32Array> {
  const all = (await t.read()) as Float32Array;
  const n = all.length / t.shape[0];
  return all.subarray(b * n, (b + 1) * n);
}

/** A batch item against the frame alone, within 1e-4 of the largest value (see the top). */
function assertSameItem(batch: ArrayLike<number>, alone: ArrayLike<number>, label: string): void {
  const c = compare(batch, alone, { factor: 1e-4 / 2 ** -23 });
  assert.ok(c.ok, `${label}: max abs difference ${c.maxAbsError} (max |value| ${c.maxAbsRef})`);
}

/** Loads every kernel and derived weight (Winograd weights stay with the network) that one frame and a batch of `n` use. */
function warmUp(rt: Runtime, net: MemoryNetwork, n: number): void {
  rt.scope(() => {
    const entries = [...net.memorizeBatch(frames(rt, [1]), masks(rt, [1])), ...net.memorizeBatch(frames(rt, Array(n).fill(1)), masks(rt, Array(n).fill(1)))];
    net.segment(frames(rt, [2]), [entries[0]]);
    net.segmentBatch(frames(rt, Array(n).fill(2)), Array(n).fill([entries[0]]));
    for (const e of entries) e.dispose();
  });
}

test('memorizeBatch and segmentBatch: item b is frame b alone, each reading its own memory (memories of 1 and 2 entries, one shared)', async () => {
  const rt = await testRuntime();
  const net = await network();
  warmUp(rt, net, 3);
  const before = rt.memoryStats().liveBytes;
  const single = [1, 2].map((z) => rt.scope(() => net.memorize(frames(rt, [z]), masks(rt, [z]))));
  const batch = rt.scope(() => net.memorizeBatch(frames(rt, [1, 2]), masks(rt, [1, 2])));
  assert.is(batch.length, 2);
  for (let b = 0; b < 2; b++) {
    assert.equal(batch[b].key.shape, [1, 4, 4, 128]);
    assert.equal(batch[b].frameSize, [SIZE, SIZE]);
    for (const k of ['key', 'value'] as const) assertSameItem(await batch[b][k].read(), await single[b][k].read(), `entry ${b} ${k}`);
  }
  const memories = [[single[0]], [single[0], single[1]], [batch[1]]];
  const zs = [3, 4, 5];
  const alone = zs.map((z, b) => rt.scope(() => net.segment(frames(rt, [z]), memories[b])));
  const together = rt.scope(() => net.segmentBatch(frames(rt, zs), memories));
  assert.equal(together.probability.shape, [3, SIZE, SIZE, 1]);
  assert.equal(together.quality!.shape, [3, 1]);
  for (let b = 0; b < 3; b++) {
    for (const k of ['probability', 'logits', 'foreground', 'quality'] as const) assertSameItem(await item(together[k]!, b), await alone[b][k]!.read(), `frame ${b} ${k}`);
  }
  // The memories differ enough that reading the wrong one shows.
  const p = await Promise.all(alone.map((a) => a.probability.read()));
  assert.ok(compare(p[0], p[1]).maxAbsError > 0.1 && compare(p[1], p[2]).maxAbsError > 0.1, 'the three memories give different answers');
  for (const r of [...alone, together]) r.dispose();
  for (const e of [...single, ...batch]) e.dispose();
  assert.is(rt.memoryStats().liveBytes, before, 'every tensor released');
});

test('batches refuse mismatched counts, single-frame calls refuse batches, and a bad memory names its frame', async () => {
  const rt = await testRuntime();
  const net = await network();
  const [one, two, three] = [[1], [1, 2], [1, 2, 3]].map((zs) => frames(rt, zs));
  const [m1, m2] = [[1], [1, 2]].map((zs) => masks(rt, zs));
  const entry = net.memorize(one, m1);
  assert.throws(() => net.segmentBatch(three, [[entry], [entry]]), /segmentBatch: 2 memories for 3 frames/);
  assert.throws(() => net.segmentBatch(two, [[entry], []]), /segmentBatch: frame 1: the memory is empty/);
  assert.throws(() => net.segment(two, [entry]), /segment: frame must be an f32 \[1, H, W, 3\] tensor/);
  assert.throws(() => net.memorize(two, m2), /memorize: frame must be an f32 \[1, H, W, 3\] tensor/);
  assert.throws(() => net.encodeQuery(two), /encodeQuery: frame must be an f32 \[1, H, W, 3\] tensor/);
  assert.throws(() => net.memorizeBatch(two, m1), /memorizeBatch: mask must be \[2, 64, 64, 1\]/);
  entry.dispose();
  for (const t of [one, two, three, m1, m2]) t.dispose();
});

test('GpuSliceMemory batches: held masks, crops and scores are the single calls\' (44 x 38 slices padded to 48 x 48)', async () => {
  const rt = await testRuntime();
  const memory = new GpuSliceMemory(rt, await network());
  const memories = [[memory.memorize(croppedImage(1), cropAroundOrgan(mask(1)))], [memory.memorize(croppedImage(4), cropAroundOrgan(mask(4)))]];
  const alone = [memory.segmentAhead(croppedImage(2), memories[0]), memory.segmentAhead(croppedImage(3), memories[1])];
  const together = memory.segmentBatchAhead([{ frame: croppedImage(2), memory: memories[0] }, { frame: croppedImage(3), memory: memories[1] }]);
  const [a, t] = [await Promise.all(alone.map((s) => s.result)), await together.result];
  assert.is(t.length, 2);
  for (let b = 0; b < 2; b++) {
    assert.is(t[b].foreground.length, CROP.width * CROP.height);
    assertSameItem(t[b].foreground, a[b].foreground, `slice ${b} foreground`);
    assertSameItem([t[b].quality!], [a[b].quality!], `slice ${b} quality`);
  }
  // Memorizing the held masks in a batch: each entry is the single memorizeHeld's.
  const fromBatch = memory.memorizeHeldBatch([{ frame: croppedImage(2), held: together.held[0] }, { frame: croppedImage(3), held: together.held[1] }]);
  const fromSingle = [memory.memorizeHeld(croppedImage(2), alone[0].held), memory.memorizeHeld(croppedImage(3), alone[1].held)];
  for (let b = 0; b < 2; b++) assertSameItem(await fromBatch[b].value.read(), await fromSingle[b].value.read(), `held entry ${b}`);
  for (const held of [...together.held, ...alone.map((s) => s.held)]) held.dispose();
  assert.throws(() => memory.memorizeHeldBatch([{ frame: croppedImage(2), held: together.held[0] }]), /memorizeHeldBatch: the mask must come from this memory network's/);
  assert.throws(() => memory.segmentBatchAhead([{ frame: croppedImage(2), memory: memories[0] }, { frame: { width: SIZE, height: SIZE, data: slice(3) }, memory: memories[1] }]), /frames differ in size \(44x38, 64x64\)/);
  for (const e of [...memories.flat(), ...fromBatch, ...fromSingle]) e.dispose();
});

test('a session with two lanes: every state and label of the one-lane propagation', async () => {
  const rt = await testRuntime();
  const net = await network();
  const NO_2D: SliceSegmenter = { segment: async () => assert.unreachable('the 2D network is not used here') as never };
  const stack = { width: SIZE, height: SIZE, depth: 6, slice: (z: number) => slice(z) };
  const runs = [];
  for (const lanes of [1, 2]) {
    const s = new Interactive3DSession(rt, stack, { segmenter: NO_2D, memory: net }, { lanes });
    s.setSliceMask(2, Uint8Array.from(mask(2)));
    await s.propagate();
    runs.push({ states: Array.from({ length: 6 }, (_, z) => s.state(z)), labels: s.volumeMask() });
  }
  const [one, two] = runs;
  assert.ok(one.states.every((st, z) => z === 2 || st.source === 'propagated'));
  two.states.forEach((st, z) => {
    assert.is(st.source, one.states[z].source, `slice ${z} source`);
    assert.ok(Math.abs((st.quality ?? 1) - (one.states[z].quality ?? 1)) < 1e-4, `slice ${z} quality ${st.quality} vs ${one.states[z].quality}`);
  });
  // A voxel at probability 0.5 +- 1e-4 may flip; none is expected.
  const differ = two.labels.reduce((n, v, i) => n + Number(v !== one.labels[i]), 0);
  assert.ok(differ <= 4, `${differ} voxels labelled differently`);
  assert.ok(one.labels.some((v) => v === 1), 'the propagation labels voxels');
});

test.after(async () => (await network()).dispose());

test.run();
