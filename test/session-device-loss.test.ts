// Device loss in the middle of a propagation (issue 13): the slices finished keep their
// masks, the rest stays pending, and after rebind() onto new networks the next
// propagate() ends with the masks an uninterrupted propagation gives. The scripted
// network's answers depend on its memory (the masks it memorized), so a resumed run
// that rebuilt its memory wrongly would show.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DeviceLostError } from '../src/runtime/runtime.ts';
import type { MemorySlot, SliceMemoryNetwork } from '../src/session/memory.ts';
import { Interactive3DSession, type SliceStack } from '../src/session/session.ts';
import type { SliceImage, SliceSegmenter } from '../src/session/slice-segmenter.ts';

const W = 5, H = 4, D = 12, N = W * H;

/** Pixel 0 of slice z holds z; the rest a pattern that varies with z. */
const stack: SliceStack = { width: W, height: H, depth: D, slice: (z) => Uint8Array.from({ length: N }, (_, i) => (i === 0 ? z : (i * 7 + z * 3) % 11)) };

interface Slot extends MemorySlot {
  mask: Float32Array;
  frame: Uint8Array;
}

/** Foreground: the memory's masks averaged, nudged by the frame; throws DeviceLostError on segment call number `lossAt` (1-based). */
class ScriptedMemory implements SliceMemoryNetwork<Slot> {
  calls = 0;
  lost = false;
  readonly segmented: number[] = [];
  constructor(private readonly lossAt = Infinity) {}

  memorize(frame: SliceImage, mask: Float32Array): Slot {
    if (this.lost) throw new DeviceLostError('destroyed', 'scripted', 'memorize');
    return { mask: mask.slice(), frame: frame.data.slice(), dispose: () => {} };
  }

  async segment(frame: SliceImage, memory: readonly Slot[]): Promise<{ foreground: Float32Array; quality: number | null }> {
    if (this.lost || ++this.calls === this.lossAt) {
      this.lost = true;
      throw new DeviceLostError('destroyed', 'scripted', 'segment');
    }
    this.segmented.push(frame.data[0]);
    const foreground = Float32Array.from({ length: N }, (_, i) => {
      const mean = memory.reduce((s, m) => s + m.mask[i] * (1 + (m.frame[i] % 3)), 0) / (2 * memory.length);
      return Math.min(1, Math.max(0, mean + (frame.data[i] - 5) / 40));
    });
    return { foreground, quality: foreground[1] };
  }
}

const NO_2D: SliceSegmenter = { segment: async () => assert.unreachable('the 2D network is not used here') as never };
const annotation = (k: number) => Uint8Array.from({ length: N }, (_, i) => ((i + k) % 3 === 0 ? 1 : 0));

function annotated(memory: ScriptedMemory): Interactive3DSession {
  const s = new Interactive3DSession(null, stack, { segmenter: NO_2D, memory }, { memoryEvery: 2 });
  s.setSliceMask(3, annotation(0));
  s.setSliceMask(9, annotation(1));
  return s;
}

const masksOf = (s: Interactive3DSession) => Array.from({ length: D }, (_, z) => Array.from(s.sliceMask(z)));

test('a device lost mid-propagation: finished slices keep their masks, rebind + propagate ends as an uninterrupted run', async () => {
  const reference = annotated(new ScriptedMemory());
  const order: number[] = [];
  await reference.propagate({ onProgress: (p) => order.push(p.slice) });
  // Runs: 3 down (2, 1, 0), 3 up (4, 5, 6), 9 down (8, 7), 9 up (10, 11).
  assert.equal(order, [2, 1, 0, 4, 5, 6, 8, 7, 10, 11]);
  const expected = masksOf(reference);
  const propagated = order.map((z) => expected[z].join(''));
  assert.ok(propagated.every((m) => /0/.test(m) && /1/.test(m)), 'every propagated mask has object and background');
  assert.ok(new Set(propagated).size >= 5, 'the masks differ from slice to slice');

  const lossAt = 5; // slice 5: the second slice of the run 3 up
  const s = annotated(new ScriptedMemory(lossAt));
  const done: number[] = [];
  const err = await s.propagate({ onProgress: (p) => done.push(p.slice) }).then(() => null, (e: unknown) => e);
  assert.instance(err, DeviceLostError);
  assert.equal(done, [2, 1, 0, 4]);
  const after = masksOf(s);
  for (const z of done) {
    assert.equal(after[z], expected[z], `slice ${z}, finished before the loss, keeps its mask`);
    assert.is(s.state(z).source, 'propagated');
  }
  for (const z of [5, 6, 7, 8, 10, 11]) assert.is(s.state(z).source, 'empty', `slice ${z} was not reached`);
  assert.equal(s.annotatedSlices, [3, 9]);
  assert.equal([after[3], after[9]], [Array.from(annotation(0)), Array.from(annotation(1))], 'annotations survive');
  assert.is(s.pendingSlices, 3 + 2 + 2, 'what is left: the interrupted run 3 up and both runs from 9');

  const fresh = new ScriptedMemory();
  s.rebind(null, { segmenter: NO_2D, memory: fresh });
  const resumed: number[] = [];
  await s.propagate({ onProgress: (p) => resumed.push(p.slice) });
  assert.equal(resumed, [4, 5, 6, 8, 7, 10, 11], 'the finished run 3 down is skipped; the interrupted run restarts at its annotated slice');
  assert.equal(fresh.segmented, resumed);
  assert.equal(masksOf(s), expected, 'every slice as in the uninterrupted propagation');
  assert.equal(Array.from(s.volumeMask()), Array.from(reference.volumeMask()));
  for (let z = 0; z < D; z++) assert.equal(s.state(z), reference.state(z), `slice ${z} state`);
  assert.is(s.pendingSlices, 0);
});

test('after a loss, a new annotation makes the next propagate() recompute every run it touches', async () => {
  const s = annotated(new ScriptedMemory(5));
  await s.propagate().catch(() => {});
  const fresh = new ScriptedMemory();
  s.rebind(null, { segmenter: NO_2D, memory: fresh });
  s.setSliceMask(3, annotation(2)); // the source of the finished run changed: it must not be skipped
  await s.propagate();
  const reference = annotated(new ScriptedMemory());
  reference.setSliceMask(3, annotation(2));
  await reference.propagate();
  assert.equal(masksOf(s), masksOf(reference));
  assert.equal(fresh.segmented, [2, 1, 0, 4, 5, 6, 8, 7, 10, 11]);
});

test('a cancel still rolls back, also of a resumed propagation; rebind is refused while propagating', async () => {
  const s = annotated(new ScriptedMemory(5));
  await s.propagate().catch(() => {});
  const lost = s.snapshot();
  s.rebind(null, { segmenter: NO_2D, memory: new ScriptedMemory() });
  const ctrl = new AbortController();
  const run = s.propagate({ onProgress: (p) => p.slice === 5 && ctrl.abort(), signal: ctrl.signal });
  assert.throws(() => s.rebind(null, { segmenter: NO_2D, memory: new ScriptedMemory() }), /a propagation is running/);
  await run.then(() => assert.unreachable('cancelled'), () => {});
  assert.equal(s.snapshot(), lost, 'back to the state the loss left');
  assert.is(s.pendingSlices, 7, 'the run finished before the loss is still skipped');
});

test.run();
