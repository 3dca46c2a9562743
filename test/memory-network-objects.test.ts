// Several objects in one memory-network step (MemoryNetwork.segmentObjects,
// GpuSliceMemory.segmentObjects) with the synth-v1 QAMN on a two-structure phantom
// (organ and the lesion inside it) at 64x64 and smaller. The untrained weights claim
// pixels for both objects at once (the shipped phantom QAMN finds nothing at 64x64),
// which is what the aggregation has to resolve:
//   K = 1 is segment() bit for bit; with K = 2 each object's probability is what segment()
//   gives from that object's memory alone (the decoder runs per object), and the aggregated
//   foregrounds and log-odds are the float64 original Soft_aggregation of those decoders'
//   logits; each object's quality is the head's score of its own binary view; no pixel is
//   won by two objects.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryNetwork, type MemoryEntry } from '../src/networks/mem3d/memory-network.ts';
import { preprocessFrame } from '../src/networks/mem3d/preprocess.ts';
import type { QualityHead } from '../src/networks/mem3d/quality.ts';
import { LESION_LABEL, ORGAN_LABEL } from '../src/phantom/organ.ts';
import { loadMemoryNetwork } from '../src/pretrained/node.ts';
import type { Tensor } from '../src/runtime/tensor.ts';
import { GpuSliceMemory } from '../src/session/memory.ts';
import { testRuntime } from './_lib/gpu.ts';
import { CROP, cropAroundOrgan, croppedImage, mask, plane, SIZE, slice } from './_lib/organ-slices.ts';
import { assertClose } from './_lib/tolerance.ts';
import { softAggregationObjectsRef } from './cpu/soft-aggregation-objects.ts';

const bits = (x: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(x).buffer));

let loaded: Promise<MemoryNetwork> | null = null;
async function network(): Promise<MemoryNetwork> {
  loaded ??= testRuntime().then((rt) => loadMemoryNetwork(rt, { weights: 'synth-v1' }).net);
  return loaded;
}

async function frame(z: number): Promise<Tensor> {
  const rt = await testRuntime();
  return rt.upload([1, SIZE, SIZE, 3], preprocessFrame(slice(z), SIZE, SIZE));
}

test('phantom: the organ is on slices 1 to 3, the lesion on 2 and 3', () => {
  for (const z of [1, 2, 3]) assert.ok(mask(z, ORGAN_LABEL).some((v) => v === 1), `organ on slice ${z}`);
  for (const z of [2, 3]) assert.ok(mask(z, LESION_LABEL).some((v) => v === 1), `lesion on slice ${z}`);
});

test('segmentObjects: one object is segment() bit for bit; two objects keep each decoder and aggregate them as the original', async () => {
  const rt = await testRuntime();
  const net = await network();
  // A first step on a CPU driver derives the Winograd weights of some convs, kept with the
  // weights (src/ops/conv2d-winograd.ts): take one before counting this test's tensors.
  const [f0, m0] = [await frame(1), rt.upload([1, SIZE, SIZE, 1], mask(1, ORGAN_LABEL))];
  const e0 = net.memorize(f0, m0);
  net.segment(f0, [e0]).dispose();
  for (const t of [e0, f0, m0]) t.dispose();
  const before = rt.memoryStats().liveBytes;
  const [f1, f2, f3] = await Promise.all([frame(1), frame(2), frame(3)]);
  const upload = (z: number, id: number) => rt.upload([1, SIZE, SIZE, 1], mask(z, id));
  const masks = [upload(1, ORGAN_LABEL), upload(2, ORGAN_LABEL), upload(2, LESION_LABEL)];
  // The organ remembers two slices, the lesion one: each object reads its own memory.
  const organ: MemoryEntry[] = [net.memorize(f1, masks[0]), net.memorize(f2, masks[1])];
  const lesion: MemoryEntry[] = [net.memorize(f2, masks[2])];

  const alone = [net.segment(f3, organ, { intermediates: true }), net.segment(f3, lesion, { intermediates: true })];
  const one = net.segmentObjects(f3, [organ]);
  assert.is(one.objects.length, 1);
  assert.equal(one.logits.shape, [1, SIZE, SIZE, 2]);
  assert.equal(bits(await one.objects[0].probability.read()), bits(await alone[0].probability.read()), 'K = 1: probability');
  assert.equal(bits(await one.objects[0].foreground.read()), bits(await alone[0].foreground.read()), 'K = 1: foreground');
  assert.equal(bits(await one.logits.read()), bits(await alone[0].logits.read()), 'K = 1: aggregated log-odds');
  assert.equal(bits(await one.objects[0].quality!.read()), bits(await alone[0].quality!.read()), 'K = 1: quality');
  one.dispose();

  const two = net.segmentObjects(f3, [organ, lesion]);
  assert.equal(two.logits.shape, [1, SIZE, SIZE, 3]);
  const decoderLogits = await Promise.all(alone.map((s) => s.intermediates!.decoderLogits.read()));
  const ref = softAggregationObjectsRef(decoderLogits);
  const fg: Float32Array[] = [];
  const quality: number[] = [];
  for (let k = 0; k < 2; k++) {
    const o = two.objects[k];
    assert.equal(bits(await o.probability.read()), bits(await alone[k].probability.read()), `K = 2: object ${k + 1}'s probability is its decoder's alone`);
    fg.push((await o.foreground.read()) as Float32Array);
    assertClose(fg[k], ref.objects[k].foreground, { label: `K = 2: foreground ${k + 1}`, factor: 16, k: 2 });
    quality.push((await o.quality!.read())[0]);
  }
  // The log-odds saturate at +-16.1 where a decoder is sure: compared against the clamped original, scale included.
  assertClose(await two.logits.read(), ref.logits, { label: 'K = 2: aggregated log-odds', factor: 16, k: 2 });

  // Labels from the binary views never overlap, though both decoders alone claim some pixels.
  const ps = await Promise.all(alone.map((s) => s.probability.read()));
  const won = [0, 0];
  let claimedByBoth = 0;
  for (let i = 0; i < plane; i++) {
    const wins = fg.map((f) => f[i] > 0.5);
    assert.ok(!(wins[0] && wins[1]), `pixel ${i} won by both objects (${fg[0][i]}, ${fg[1][i]})`);
    wins.forEach((w, k) => (won[k] += Number(w)));
    if (ps[0][i] > 0.5 && ps[1][i] > 0.5) claimedByBoth++;
  }
  assert.ok(won[0] > 20 && won[1] > 20, `each object wins pixels (${won})`);
  assert.ok(claimedByBoth > 20, `the decoders alone overlap (${claimedByBoth} pixels), so the check can fail`);

  // Given the query encoder's features, the same numbers; the encoding outlives the call.
  const query = net.encodeQuery(f3);
  const viaQuery = net.segmentObjects(query, [organ, lesion]);
  for (let k = 0; k < 2; k++) assert.equal(bits(await viaQuery.objects[k].foreground.read()), bits(fg[k]), `query encoding: foreground ${k + 1}`);
  viaQuery.dispose();
  // Object k's quality is the head's score of its own binary view (argmax, max of (1 - fg_k, fg_k)),
  // built here on the CPU from its foreground and scored by the network's head directly.
  const head = (net as unknown as { quality: QualityHead }).quality;
  const scored = [];
  for (let k = 0; k < 2; k++) {
    const view = new Float32Array(2 * plane);
    for (let i = 0; i < plane; i++) {
      const [f, b] = [fg[k][i], Math.fround(1 - fg[k][i])];
      view[2 * i] = f > b ? 1 : 0;
      view[2 * i + 1] = Math.max(f, b);
    }
    const score = rt.scope(() => head.forward(rt, query.r4, rt.upload([1, SIZE, SIZE, 2], view)));
    scored.push((await score.read())[0]);
    score.dispose();
  }
  // synth-v1's head barely tells the views apart (1.5e-4 here) but the scores agree to an ulp or two.
  assert.ok(Math.abs(scored[0] - scored[1]) > 1e-5, `the two views score apart (${scored}), so a swap shows`);
  for (let k = 0; k < 2; k++) assert.ok(Math.abs(quality[k] - scored[k]) < 1e-6, `K = 2: object ${k + 1}'s quality ${quality[k]} is its own view's score ${scored[k]}`);
  assert.not.ok(query.disposed, 'the caller keeps its query encoding');
  query.dispose();

  two.dispose();
  for (const s of alone) s.dispose();
  for (const e of [...organ, ...lesion]) e.dispose();
  for (const t of [f1, f2, f3, ...masks]) t.dispose();
  assert.is(rt.memoryStats().liveBytes, before, 'every tensor released');
});

test('segmentObjects refuses no objects, an empty or disposed memory and frames of another size, naming the object', async () => {
  const rt = await testRuntime();
  const net = await network();
  const f = await frame(2);
  const small = rt.upload([1, 48, 48, 3], new Float32Array(48 * 48 * 3));
  const m = rt.upload([1, SIZE, SIZE, 1], mask(2, ORGAN_LABEL));
  const entry = net.memorize(f, m);
  assert.throws(() => net.segmentObjects(f, []), /no objects/);
  assert.throws(() => net.segmentObjects(f, [[entry], []]), /object 2: the memory is empty/);
  assert.throws(() => net.segmentObjects(small, [[entry]]), /object 1: memory entry 0 was built from 64x64 frames, this frame is 48x48/);
  const query = net.encodeQuery(f);
  query.dispose();
  assert.throws(() => net.segmentObjects(query, [[entry]]), /query encoding was disposed/);
  entry.dispose();
  assert.throws(() => net.segmentObjects(f, [[entry]]), /object 1: memory entry 0 was disposed/);
  for (const t of [f, small, m]) t.dispose();
});

test('GpuSliceMemory.segmentObjects crops like segment(): one object gives its numbers; two objects never share a pixel', async () => {
  const rt = await testRuntime();
  const memory = new GpuSliceMemory(rt, await network());
  const organ = cropAroundOrgan(mask(2, ORGAN_LABEL));
  const lesion = cropAroundOrgan(mask(2, LESION_LABEL));
  assert.ok(organ.some((v) => v === 1) && lesion.some((v) => v === 1), 'both structures inside the crop');
  const memories = [[memory.memorize(croppedImage(2), organ)], [memory.memorize(croppedImage(2), lesion)]];
  const single = await memory.segment(croppedImage(3), memories[0]);
  const one = await memory.segmentObjects(croppedImage(3), memories.slice(0, 1));
  assert.is(one.objects[0].foreground.length, CROP.width * CROP.height);
  assert.equal(bits(one.objects[0].foreground), bits(single.foreground), 'K = 1: foreground');
  assert.is(one.objects[0].quality, single.quality, 'K = 1: quality');
  const two = await memory.segmentObjects(croppedImage(3), memories);
  assert.is(two.objects.length, 2);
  assert.equal(bits(two.objects[0].probability), bits(one.objects[0].probability), "K = 2: object 1's probability is its decoder's alone");
  for (let i = 0; i < CROP.width * CROP.height; i++) assert.ok(two.objects[0].foreground[i] <= 0.5 || two.objects[1].foreground[i] <= 0.5, `pixel ${i} won by both objects`);
  for (const m of memories.flat()) m.dispose();
});

test.after(async () => (await network()).dispose());

test.run();
