// The session's pipelined path (SweepWalk, src/session/propagation.ts: step z + 1
// queued, memorizing slice z's mask where the network holds it, before step z is read
// back and stored) against its step-by-step path, with a scripted CPU network whose
// output depends on every mask it memorized: the same memory rule, memorized masks and
// results bit for bit, the step ahead really queued first, and failures and cancels that
// release everything.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SliceMemoryNetwork } from '../src/session/memory.ts';
import { Interactive3DSession } from '../src/session/session.ts';
import type { SliceSegmenter } from '../src/session/slice-segmenter.ts';
import { assertCancelRestores, D, JointScriptedMemory, N, ScriptedMemory, stack, stepByStep, type Slot } from './_lib/scripted-memory.ts';

const NO_2D: SliceSegmenter = { segment: async () => assert.unreachable('the 2D network is not used here') as never };
const session = (memory: SliceMemoryNetwork<Slot>) => new Interactive3DSession(null, stack, { segmenter: NO_2D, memory }, { memoryLayout: 'rows-second-axis' });
const annotation = Uint8Array.from({ length: N }, (_, i) => (i % 3 === 0 ? 1 : 0));

test('ahead and step by step: the same memory rule, memorized masks and results, bit for bit (transposed network layout)', async () => {
  const runs = [];
  for (const ahead of [true, false]) {
    const net = new ScriptedMemory('rows-second-axis');
    const s = session(ahead ? net : stepByStep(net));
    s.setSliceMask(4, annotation);
    const progress: number[] = [];
    await s.propagate({ onProgress: (p) => progress.push(p.slice) });
    runs.push({
      log: net.log,
      masks: net.memorized.map((m) => Array.from(new Uint32Array(m.mask.buffer))),
      states: Array.from({ length: D }, (_, z) => s.state(z)),
      labels: Array.from(s.volumeMask()),
      progress,
      leftover: net.memorized.filter((m) => !m.disposed).length,
    });
  }
  const [ahead, step] = runs;
  assert.equal(ahead.log, step.log, 'the same calls, in order');
  assert.equal(ahead.masks, step.masks, 'the same memorized masks');
  assert.equal(ahead.states, step.states);
  assert.equal(ahead.labels, step.labels);
  assert.equal(ahead.progress, step.progress);
  assert.equal(ahead.progress, [3, 2, 1, 0, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.is(ahead.leftover, 0, 'every memory slot released');
  assert.ok(ahead.states.every((st, z) => z === 4 || st.source === 'propagated'));
});

test('ahead: step z + 1 is queued before step z is stored, and every held mask is released', async () => {
  const net = new ScriptedMemory('rows-second-axis');
  const s = session(net);
  s.setSliceMask(0, annotation);
  const storedWhenQueued: Record<number, string> = {};
  net.onQueue = (z) => {
    if (z > 1) storedWhenQueued[z] = s.state(z - 1).source;
  };
  await s.propagate();
  assert.ok(Object.keys(storedWhenQueued).length === D - 2);
  for (const [z, source] of Object.entries(storedWhenQueued)) assert.is(source, 'empty', `slice ${Number(z) - 1} not yet stored when step ${z} was queued`);
  assert.is(net.held.length, D - 1);
  assert.ok(net.held.every((h) => h.disposed), 'held masks released');
});

test('ahead: a failing step rejects propagate with its error, stores nothing after it, releases every slot and held mask, and leaves no unhandled rejection', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    const net = new ScriptedMemory('rows-second-axis');
    net.failAt = 7;
    const s = session(net);
    s.setSliceMask(4, annotation);
    let error: unknown = null;
    await s.propagate().catch((e) => (error = e));
    await new Promise((r) => setTimeout(r, 20));
    assert.match(String(error), /step 7 failed/);
    assert.is(s.state(6).source, 'propagated', 'slices before the failure are kept');
    for (const z of [7, 8]) assert.is(s.state(z).source, 'empty', `slice ${z}`);
    assert.ok(net.memorized.every((m) => m.disposed), 'memory slots released');
    assert.ok(net.held.every((h) => h.disposed), 'held masks released');
    assert.equal(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('ahead: a cancel mid-run restores the session and releases everything', async () => {
  const net = new ScriptedMemory('rows-second-axis');
  const s = session(net);
  s.setSliceMask(4, annotation);
  await assertCancelRestores(s, net, 4, 2);
});

/** The organ annotated on slice 4, the lesion on 8, propagated through `memory` (backed by `net`): what the session and the network did. */
async function twoStructures(net: ScriptedMemory, memory: SliceMemoryNetwork<Slot>) {
  const s = session(memory);
  const lesion = s.addStructure('lesion').id;
  s.setSliceMask(4, annotation);
  s.setSliceMask(8, Uint8Array.from({ length: N }, (_, i) => (i % 4 === 1 ? 1 : 0)), { structure: lesion });
  await s.propagate();
  return {
    log: net.log,
    masks: net.memorized.map((m) => Array.from(new Uint32Array(m.mask.buffer))),
    states: [1, lesion].map((structure) => Array.from({ length: D }, (_, z) => s.state(z, structure))),
    labels: Array.from(s.labelMap()),
    released: net.memorized.every((m) => m.disposed) && net.held.every((h) => h.disposed),
    heldMasks: net.held.length,
  };
}

function assertSameRuns(ahead: Awaited<ReturnType<typeof twoStructures>>, step: Awaited<ReturnType<typeof twoStructures>>): void {
  assert.equal(ahead.log, step.log, 'the same calls, in order');
  assert.equal(ahead.masks, step.masks, 'the same memorized masks');
  assert.equal(ahead.states, step.states);
  assert.equal(ahead.labels, step.labels);
  assert.ok(ahead.released && step.released, 'every slot and held mask released');
}

test('two structures: slices with one structure go ahead, joint slices wait, and the results are the step-by-step ones', async () => {
  const aheadNet = new ScriptedMemory('rows-second-axis');
  const stepNet = new ScriptedMemory('rows-second-axis');
  const [ahead, step] = [await twoStructures(aheadNet, aheadNet), await twoStructures(stepNet, stepByStep(stepNet))];
  assertSameRuns(ahead, step);
  // Upwards: slices 5-8 the organ alone, 9-12 both; downwards: 7-4 the lesion alone, 3-0 both.
  assert.is(ahead.heldMasks, 8, 'the eight single-structure slices went ahead');
  assert.is(step.heldMasks, 0);
});

test('two structures with a joint step that holds its masks: every slice goes ahead, with the step-by-step results', async () => {
  const aheadNet = new JointScriptedMemory('rows-second-axis');
  const stepNet = new JointScriptedMemory('rows-second-axis');
  const [ahead, step] = [
    await twoStructures(aheadNet, aheadNet),
    await twoStructures(stepNet, { ...stepByStep(stepNet), segmentObjects: (f, m) => stepNet.segmentObjects(f, m) }),
  ];
  assertSameRuns(ahead, step);
  assert.ok(ahead.log.some((l) => l.startsWith('segmentObjects')), 'joint steps ran');
  // 8 single-structure slices and 8 joint slices of two objects.
  assert.is(ahead.heldMasks, 8 + 2 * 8);
});

test.run();
