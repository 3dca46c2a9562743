// Sweeps side by side (SessionOptions.lanes): a scripted network that batches
// (memorizeHeldBatch, segmentBatchAhead) answers each item as it answers it alone, so
// with two lanes every slice's state, every label and every memorized mask must be the
// one-lane run's bit for bit, while the log shows the two directions' steps batched.
// Also: more sweeps than lanes, joint steps in a lane, a failing batch, a cancel, and
// the option's checks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { HeldMask, SliceMemoryNetwork, StepOutput } from '../src/session/memory.ts';
import { Interactive3DSession, type SessionOptions } from '../src/session/session.ts';
import type { SliceImage, SliceSegmenter } from '../src/session/slice-segmenter.ts';
import { answer, assertCancelRestores, D, Held, JointScriptedMemory, N, ScriptedMemory, stack, type Slot } from './_lib/scripted-memory.ts';

/** The joint scripted network, plus batches of single-structure steps. */
class BatchScriptedMemory extends JointScriptedMemory {
  constructor(readonly preferredLanes?: number) {
    super('rows-second-axis');
  }

  memorizeHeldBatch(items: readonly { frame: SliceImage; held: HeldMask }[]): Slot[] {
    this.log.push(`memorizeBatch [${items.map((i) => i.frame.data[0])}]`);
    return items.map(({ frame, held }) => {
      assert.ok(held instanceof Held && !held.disposed, 'memorizeHeldBatch got a disposed or foreign mask');
      const slot: Slot = { slice: frame.data[0], mask: Float32Array.from((held as Held).mask), disposed: false, dispose: () => void (slot.disposed = true) };
      this.memorized.push(slot);
      return slot;
    });
  }

  segmentBatchAhead(items: readonly { frame: SliceImage; memory: readonly Slot[] }[]): { result: Promise<StepOutput[]>; held: Held[] } {
    for (const { memory } of items) assert.ok(memory.every((m) => !m.disposed), 'a batch got a disposed memory slot');
    const slices = items.map((i) => i.frame.data[0]);
    this.log.push(`segmentBatch [${items.map((i, b) => `${slices[b]}:[${i.memory.map((m) => m.slice)}]`)}]`);
    const outs = items.map((i) => answer(i.frame, i.memory));
    const held = outs.map((o) => new Held(o.foreground));
    this.held.push(...held);
    const fail = slices.includes(this.failAt ?? -1);
    const result = new Promise<StepOutput[]>((resolve, reject) => setTimeout(() => (fail ? reject(new Error(`batch [${slices}] failed`)) : resolve(outs)), 1));
    return { result, held };
  }
}

const NO_2D: SliceSegmenter = { segment: async () => assert.unreachable('the 2D network is not used here') as never };
const session = (memory: SliceMemoryNetwork<Slot>, options: SessionOptions = {}) =>
  new Interactive3DSession(null, stack, { segmenter: NO_2D, memory }, { memoryLayout: 'rows-second-axis', ...options });
const pattern = (k: number) => Uint8Array.from({ length: N }, (_, i) => (i % k === 0 ? 1 : 0));

/** Annotates structure 1 on `slices` (and, with `lesion`, a second structure on slice 8), propagates, and reports. */
async function run(net: ScriptedMemory, options: SessionOptions, slices: number[], lesion = false) {
  const s = session(net, options);
  const structures = [1];
  if (lesion) {
    structures.push(s.addStructure('lesion').id);
    s.setSliceMask(8, pattern(4), { structure: structures[1] });
  }
  slices.forEach((z, i) => s.setSliceMask(z, pattern(3 + i)));
  const progress: number[] = [];
  await s.propagate({ onProgress: (p) => progress.push(p.slice) });
  const masks = net.memorized.map((m) => `${m.slice}: ${new Uint32Array(m.mask.buffer).join(',')}`);
  return {
    log: net.log,
    // Lanes change the order of the memorize calls, not what is memorized.
    masks: [...masks].sort(),
    states: structures.map((structure) => Array.from({ length: D }, (_, z) => s.state(z, structure))),
    labels: Array.from(s.labelMap()),
    progress,
    released: net.memorized.every((m) => m.disposed) && net.held.every((h) => h.disposed),
  };
}

function assertSameResults(two: Awaited<ReturnType<typeof run>>, one: Awaited<ReturnType<typeof run>>): void {
  assert.equal(two.masks, one.masks, 'the same memorized masks');
  assert.equal(two.states, one.states, 'the same states');
  assert.equal(two.labels, one.labels, 'the same labels');
  assert.equal([...two.progress].sort((a, b) => a - b), [...one.progress].sort((a, b) => a - b), 'every slice once');
  assert.ok(two.released && one.released, 'every slot and held mask released');
}

test('two lanes: both directions step as one batch, with the one-lane results bit for bit', async () => {
  const one = await run(new BatchScriptedMemory(), { lanes: 1 }, [4]);
  const two = await run(new BatchScriptedMemory(2), {}, [4]);
  assertSameResults(two, one);
  assert.not.ok(one.log.some((l) => l.includes('Batch')), 'one lane: no batch');
  assert.equal(two.log.slice(0, 4), ['memorize 4', 'memorize 4', 'segmentBatch [3:[4],5:[4]]', 'memorizeBatch [3,5]']);
  assert.is(two.log[4], 'segmentBatch [2:[4,3],6:[4,5]]', 'each direction reads its own memory');
  // Downwards 4 slices, upwards 8: four batches, then the upward sweep alone.
  assert.is(two.log.filter((l) => l.startsWith('segmentBatch')).length, 4);
  assert.equal(two.log.slice(-2), ['memorize 11', 'segment 12 [4,9,11]']);
  assert.equal(two.progress, [3, 5, 2, 6, 1, 7, 0, 8, 9, 10, 11, 12]);
});

test('two lanes, six sweeps: a free lane takes the next sweep; the one-lane results bit for bit', async () => {
  const one = await run(new BatchScriptedMemory(), { lanes: 1 }, [2, 6, 10]);
  const two = await run(new BatchScriptedMemory(), { lanes: 2 }, [2, 6, 10]);
  assertSameResults(two, one);
  assert.ok(two.log.filter((l) => l.startsWith('segmentBatch')).length >= 3, 'sweeps batched');
  const three = await run(new BatchScriptedMemory(), { lanes: 3 }, [2, 6, 10]);
  assertSameResults(three, one);
  assert.ok(three.log.some((l) => /^segmentBatch \[[^\]]*\],[^\]]*\],[^\]]*\]\]$/.test(l)), 'three slices in one batch');
});

test('two lanes with a second structure: joint slices go one lane at a time, single ones batched; the one-lane results bit for bit', async () => {
  const one = await run(new BatchScriptedMemory(), { lanes: 1 }, [4], true);
  const two = await run(new BatchScriptedMemory(), { lanes: 2 }, [4], true);
  assertSameResults(two, one);
  assert.ok(two.log.some((l) => l.startsWith('segmentBatch')), 'single-structure slices batched');
  assert.ok(two.log.some((l) => l.startsWith('segmentObjects')), 'joint steps ran');
});

test('a network without batches walks one sweep at a time whatever the lanes', async () => {
  const plain = await run(new ScriptedMemory('rows-second-axis'), { lanes: 4 }, [4]);
  const one = await run(new ScriptedMemory('rows-second-axis'), {}, [4]);
  assert.equal(plain.log, one.log);
  assert.equal(plain.progress, [3, 2, 1, 0, 5, 6, 7, 8, 9, 10, 11, 12]);
});

test('two lanes: a failing batch rejects propagate, keeps the slices finished before it, releases everything, leaves no unhandled rejection', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    const net = new BatchScriptedMemory(2);
    net.failAt = 6;
    const s = session(net);
    s.setSliceMask(4, pattern(3));
    let error: unknown = null;
    await s.propagate().catch((e) => (error = e));
    await new Promise((r) => setTimeout(r, 20));
    assert.match(String(error), /batch \[2,6\] failed/);
    for (const z of [3, 5]) assert.is(s.state(z).source, 'propagated', `slice ${z} kept`);
    for (const z of [2, 6, 1, 7]) assert.is(s.state(z).source, 'empty', `slice ${z}`);
    assert.ok(net.memorized.every((m) => m.disposed), 'memory slots released');
    assert.ok(net.held.every((h) => h.disposed), 'held masks released');
    assert.equal(unhandled, []);
    // Resuming (the network works again) gives the uninterrupted results.
    net.failAt = null;
    await s.propagate();
    const clean = await run(new BatchScriptedMemory(2), {}, [4]);
    assert.equal(Array.from({ length: D }, (_, z) => s.state(z)), clean.states[0]);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('two lanes: a cancel mid-run restores the session and releases everything', async () => {
  const net = new BatchScriptedMemory(2);
  const s = session(net);
  s.setSliceMask(4, pattern(3));
  await assertCancelRestores(s, net, 4, 3);
});

test('lanes must be a positive integer', () => {
  for (const lanes of [0, -1, 1.5, NaN]) assert.throws(() => session(new BatchScriptedMemory(), { lanes }), /session: lanes must be a positive integer/);
});

test.run();
