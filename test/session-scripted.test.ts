// The 3D session's logic against a scripted memory network that records every
// memorize/segment call (CPU only, no GPU): the original's memory rule, both
// directions, stops and splits, the quality rule, the strategies, the slice window,
// snapshots, cancellation and the network-boundary slice layout.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dice, overlap, pearson } from '../src/eval/metrics.ts';
import { runRobotRounds } from '../src/session/evaluate.ts';
import type { MemorySlot, SliceMemoryNetwork } from '../src/session/memory.ts';
import { dicePlotSvg } from '../src/session/plot.ts';
import { Interactive3DSession, type SessionOptions, type SliceStack } from '../src/session/session.ts';
import type { SliceImage, SliceSegmenter } from '../src/session/slice-segmenter.ts';
import type { SliceLayout } from '../src/volume/layout.ts';
import { seededRandom } from '../src/util/seeded-random.ts';

/** Pixel (0, 0) of slice z holds z (it stays put under a transpose); the rest is a pattern. */
function scriptedStack(width: number, height: number, depth: number): SliceStack {
  return { width, height, depth, slice: (z) => Uint8Array.from({ length: width * height }, (_, i) => (i === 0 ? z : 100 + ((i * 7) % 13))) };
}

interface Slot extends MemorySlot {
  slice: number;
  mask: number[];
  disposed: boolean;
}

type Output = { foreground: Float32Array; quality: number | null };

/** Records what it is given; segment answers from `script(slice, frame)`. */
class ScriptedMemory implements SliceMemoryNetwork<Slot> {
  readonly memorized: Slot[] = [];
  readonly segments: { slice: number; memory: number[]; frame: SliceImage }[] = [];
  readonly frames: SliceImage[] = [];
  constructor(private readonly script: (slice: number, frame: SliceImage) => Output, readonly sliceLayout?: SliceLayout) {}

  memorize(frame: SliceImage, mask: Float32Array): Slot {
    this.frames.push(frame);
    const slot: Slot = { slice: frame.data[0], mask: Array.from(mask), disposed: false, dispose: () => void (slot.disposed = true) };
    this.memorized.push(slot);
    return slot;
  }

  async segment(frame: SliceImage, memory: readonly Slot[]): Promise<Output> {
    assert.ok(memory.every((m) => !m.disposed), 'segment got a disposed memory slot');
    this.segments.push({ slice: frame.data[0], memory: memory.map((m) => m.slice), frame });
    return this.script(frame.data[0], frame);
  }

  /** Memory of each segmented slice, in call order. */
  memoryOf(): Record<number, number[]> {
    return Object.fromEntries(this.segments.map((s) => [s.slice, s.memory]));
  }

  get live(): number {
    return this.memorized.filter((s) => !s.disposed).length;
  }
}

/** A distinct probability map per slice, so a memorized mask can be traced to the slice that produced it. */
const foregroundOf = (z: number, n: number) => Float32Array.from({ length: n }, (_, i) => (((z * 31 + i) % 10) + 0.5) / 10);

const NO_2D: SliceSegmenter = { segment: async () => assert.unreachable('the 2D network is not used here') as never };

function session(memory: ScriptedMemory, stack: SliceStack, options: SessionOptions = {}, segmenter = NO_2D) {
  return new Interactive3DSession(null, stack, { segmenter, memory }, options);
}

/** A hand-drawn annotation: a block of ones. */
const block = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0));

test('memory rule, upwards: the annotated slice, every 5th propagated slice and the previous slice', async () => {
  const stack = scriptedStack(4, 3, 15);
  const net = new ScriptedMemory((z) => ({ foreground: foregroundOf(z, 12), quality: 0.5 }));
  const s = session(net, stack);
  s.setSliceMask(2, block(12));
  await s.propagate();
  // Written out by hand from eval_SAQ.py's rule (save_freq 5, annotated slice 2).
  assert.equal(net.memoryOf(), {
    1: [2], 0: [2, 1],
    3: [2], 4: [2, 3], 5: [2, 4], 6: [2, 5], 7: [2, 6], 8: [2, 7], 9: [2, 7, 8], 10: [2, 7, 9], 11: [2, 7, 10], 12: [2, 7, 11], 13: [2, 7, 12], 14: [2, 7, 12, 13],
  });
  // The annotated slice enters memory as its 0 / 1 mask; every other slice with the probability it got.
  for (const slot of net.memorized) {
    const expected = slot.slice === 2 ? Array.from(block(12)) : Array.from(foregroundOf(slot.slice, 12));
    assert.equal(slot.mask, expected, `mask memorized with slice ${slot.slice}`);
  }
  assert.is(net.live, 0, 'every memory slot disposed after propagation');
  for (let z = 0; z < 15; z++) assert.is(s.state(z).source, z === 2 ? 'annotated' : 'propagated');
});

test('memory rule, downwards to the volume start', async () => {
  const net = new ScriptedMemory((z) => ({ foreground: foregroundOf(z, 6), quality: null }));
  const s = session(net, scriptedStack(3, 2, 13));
  s.setSliceMask(12, block(6));
  await s.propagate();
  assert.equal(net.memoryOf(), { 11: [12], 10: [12, 11], 9: [12, 10], 8: [12, 9], 7: [12, 8], 6: [12, 7], 5: [12, 7, 6], 4: [12, 7, 5], 3: [12, 7, 4], 2: [12, 7, 3], 1: [12, 7, 2], 0: [12, 7, 2, 1] });
  assert.equal(net.segments.map((c) => c.slice), [11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
});

test('re-propagation stops at the next annotated slice and leaves it alone', async () => {
  const net = new ScriptedMemory((z) => ({ foreground: foregroundOf(z, 6), quality: 0.9 }));
  const s = session(net, scriptedStack(3, 2, 12));
  s.setSliceMask(2, block(6));
  await s.propagate();
  const slice2 = s.sliceMask(2);
  net.segments.length = 0;
  s.setSliceMask(8, block(6));
  await s.propagate();
  assert.equal(net.segments.map((c) => c.slice), [7, 6, 5, 4, 3, 9, 10, 11]);
  assert.equal(net.memoryOf()[3], [8, 4], 'slice 3 reads from the new annotation, not slice 2');
  assert.equal(s.sliceMask(2), slice2);
});

test('two new annotations split the gap between them at its middle', async () => {
  const net = new ScriptedMemory((z) => ({ foreground: foregroundOf(z, 6), quality: 0.9 }));
  const s = session(net, scriptedStack(3, 2, 12));
  s.setSliceMask(2, block(6));
  s.setSliceMask(9, block(6));
  await s.propagate();
  const memory = net.memoryOf();
  assert.equal(net.segments.map((c) => c.slice), [1, 0, 3, 4, 5, 8, 7, 6, 10, 11]);
  for (const z of [3, 4, 5]) assert.is(memory[z][0], 2, `slice ${z} from slice 2`);
  for (const z of [6, 7, 8]) assert.is(memory[z][0], 9, `slice ${z} from slice 9`);
});

test('quality rule: the head counts only above 100 px over 0.95 at 512x512, scaled with the frame area', async () => {
  for (const [side, minPixels] of [[512, 100], [128, 6.25]] as const) {
    const n = side * side;
    // Slice 1: exactly the threshold of confident pixels (not trusted); slice 2: one more (trusted).
    const confident = (z: number) => (z === 1 ? Math.floor(minPixels) : Math.floor(minPixels) + 1);
    const net = new ScriptedMemory((z) => ({ foreground: Float32Array.from({ length: n }, (_, i) => (i < confident(z) ? 0.97 : 0.01)), quality: 0.3 }));
    const s = session(net, scriptedStack(side, side, 3));
    assert.is(s.qualityMinPixels, minPixels);
    s.setSliceMask(0, new Uint8Array(n).fill(1));
    await s.propagate();
    assert.is(s.state(1).quality, 1, `${side}: ${confident(1)} confident pixels are too few to trust the score`);
    assert.is(s.state(1).qualityScore, 0.3, 'the head score is kept');
    assert.is(s.state(2).quality, 0.3, `${side}: ${confident(2)} confident pixels`);
  }
});

test('each strategy picks the slice it must on a scripted volume', async () => {
  const [W, H, D] = [4, 4, 6];
  const n = W * H;
  // Propagated from slice 0. Per slice: quality score, confidence of the object pixels, and how many
  // of the 8 true object pixels the prediction gets.
  const quality = [1, 0.8, 0.2, 0.9, 0.7, 0.6];
  const p = [1, 0.99, 0.99, 0.99, 0.6, 0.99];
  const hits = [8, 8, 8, 8, 8, 2];
  const truth = new Uint8Array(n * D);
  for (let z = 0; z < D; z++) for (let i = 0; i < 8; i++) truth[z * n + i] = 1;
  const net = new ScriptedMemory((z) => ({ foreground: Float32Array.from({ length: n }, (_, i) => (i < hits[z] ? p[z] : 0)), quality: quality[z] }));
  const s = session(net, scriptedStack(W, H, D), { qualityMinPixels: 0 });
  s.setSliceMask(0, truth.subarray(0, n));
  await s.propagate();
  assert.is(s.recommendSlice('quality'), 2);
  assert.is(s.recommendSlice('uncertainty'), 4);
  assert.is(s.recommendSlice('oracle', { groundTruth: truth }), 5);
  // Random: the candidates ordered by one seeded draw each, in slice order.
  const draws = seededRandom(7);
  const expected = [1, 2, 3, 4, 5].map((z) => [z, draws()] as const).sort((a, b) => a[1] - b[1])[0][0];
  assert.is(s.recommendSlice('random', { seed: 7 }), expected);
  assert.ok(new Set([1, 2, 3, 4, 5, 6, 7, 8].map((seed) => s.recommendSlice('random', { seed }))).size > 1, 'the seed matters');
  s.setSliceMask(2, truth.subarray(2 * n, 3 * n));
  assert.is(s.recommendSlice('quality'), 5, 'an annotated slice is never recommended');
  assert.throws(() => s.recommendSlice('oracle'), /ground truth/);
});

test('without a quality head (STM): ranking by quality is refused, not slice order; the others rank', async () => {
  const [W, H, D] = [4, 4, 5];
  const n = W * H;
  const p = [1, 0.99, 0.6, 0.99, 0.8];
  const net = new ScriptedMemory((z) => ({ foreground: Float32Array.from({ length: n }, (_, i) => (i < 8 ? p[z] : 0)), quality: null }));
  const s = session(net, scriptedStack(W, H, D), { qualityMinPixels: 0 });
  s.setSliceMask(0, Uint8Array.from({ length: n }, (_, i) => (i < 8 ? 1 : 0)));
  await s.propagate();
  assert.is(s.state(1).qualityScore, null);
  assert.throws(() => s.recommendSlice('quality'), /rankSlices\('quality'\): slice 1 has no quality score: the memory network has no quality head \(STM weights\); rank by 'uncertainty'/);
  assert.is(s.recommendSlice('uncertainty'), 2);
  // Once every propagated slice is fixed, nothing unscored is left to rank.
  for (const z of [1, 2, 3, 4]) s.acceptSlice(z);
  assert.is(s.recommendSlice('quality'), null);
});

test('slice window: propagation stops at its ends and ranking stays inside', async () => {
  const net = new ScriptedMemory((z) => ({ foreground: foregroundOf(z, 6), quality: z / 10 }));
  const s = session(net, scriptedStack(3, 2, 10));
  s.setSliceWindow(3, 7);
  assert.throws(() => s.setSliceMask(1, block(6)), /outside the session's slices 3..7/);
  s.setSliceMask(5, block(6));
  await s.propagate();
  assert.equal(net.segments.map((c) => c.slice), [4, 3, 6, 7]);
  assert.equal(s.rankSlices('quality'), [3, 4, 6, 7]);
  for (const z of [0, 1, 2, 8, 9]) assert.is(s.state(z).source, 'empty');
  assert.throws(() => s.setSliceWindow(4, 10), /not within 0..9/);
});

test('snapshot and restore are bit-identical; a cancelled propagation leaves the session as it was', async () => {
  const net = new ScriptedMemory((z) => ({ foreground: foregroundOf(z, 6), quality: 0.25 + z / 100 }));
  const s = session(net, scriptedStack(3, 2, 9));
  s.setSliceMask(4, block(6));
  await s.propagate();
  const before = s.snapshot();
  const states = Array.from({ length: 9 }, (_, z) => s.state(z));
  s.setSliceMask(7, new Uint8Array(6).fill(1));
  const controller = new AbortController();
  let error: unknown = null;
  await s.propagate({ signal: controller.signal, onProgress: (p) => p.done === 1 && controller.abort() }).catch((e) => (error = e));
  assert.is((error as Error)?.name, 'AbortError');
  assert.is(s.state(7).source, 'annotated', 'the cancel restores to before propagate, not before setSliceMask');
  assert.equal(s.state(6), states[6], 'slice 6, propagated before the cancel, is back');
  s.restore(before);
  assert.equal(s.volumeMask(), before.masks);
  assert.equal(Array.from({ length: 9 }, (_, z) => s.state(z)), states);
  assert.equal(s.annotatedSlices, [4]);
  // The restored session propagates nothing new: slice 4 was already propagated.
  net.segments.length = 0;
  await s.propagate();
  assert.is(net.segments.length, 0);
  assert.is(net.live, 0, 'a cancelled run disposes its memory');
});

test('annotate: a cancel during the 2D step drops its result', async () => {
  const controller = new AbortController();
  const segmenter: SliceSegmenter = {
    segment: async (image) => {
      controller.abort();
      return new Uint8Array(image.width * image.height).fill(1);
    },
  };
  const s = session(new ScriptedMemory(() => assert.unreachable() as never), scriptedStack(3, 2, 4), {}, segmenter);
  let error: unknown = null;
  await s.annotate(1, { kind: 'extreme-points', points: [] }, { signal: controller.signal }).catch((e) => (error = e));
  assert.is((error as Error)?.name, 'AbortError');
  assert.is(s.state(1).source, 'empty');
  assert.equal(s.annotatedSlices, []);
});

test('a network trained on the other slice layout gets transposed frames and masks, and its output is transposed back', async () => {
  const [W, H] = [4, 3];
  const stack = scriptedStack(W, H, 3);
  // The network marks its own first row: in the engine's layout that is the first column.
  const net = new ScriptedMemory((_z, frame) => {
    assert.equal([frame.width, frame.height], [H, W], 'the frame arrives transposed');
    return { foreground: Float32Array.from({ length: W * H }, (_, i) => (i < frame.width ? 1 : 0)), quality: 0.5 };
  }, 'rows-second-axis');
  const s = session(net, stack);
  const annotation = Uint8Array.from([1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // the engine's first row, two pixels
  s.setSliceMask(0, annotation);
  await s.propagate();
  const frame = net.frames[0];
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) assert.is(frame.data[x * H + y], stack.slice(0)[y * W + x], `pixel (${x}, ${y})`);
  assert.equal(net.memorized[0].mask, [1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0], 'the annotation arrives transposed');
  assert.equal(Array.from(s.sliceMask(1)), [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0], 'first column in the engine layout');
  // The same network declared in the engine's layout by the caller: nothing is transposed.
  const plain = new ScriptedMemory(() => ({ foreground: new Float32Array(W * H), quality: 0.5 }), 'rows-second-axis');
  const s2 = session(plain, stack, { memoryLayout: 'rows-first-axis' });
  s2.setSliceMask(0, annotation);
  await s2.propagate();
  assert.equal([plain.frames[0].width, plain.frames[0].height], [W, H]);
});

test("a stack's own transposed slices reach a network in the other layout, as the session's transpose would; a wrong size is refused", async () => {
  const [W, H] = [4, 3];
  const plain = scriptedStack(W, H, 3);
  const frames = async (stack: SliceStack) => {
    const net = new ScriptedMemory(() => ({ foreground: new Float32Array(W * H), quality: 0.5 }), 'rows-second-axis');
    const s = session(net, stack);
    s.setSliceMask(1, new Uint8Array(W * H).fill(1));
    await s.propagate();
    return [...net.frames, ...net.segments.map((g) => g.frame)].map((f) => [f.width, f.height, ...f.data]);
  };
  const calls: number[] = [];
  const transposed = (z: number) => {
    calls.push(z);
    const s = plain.slice(z);
    return Uint8Array.from({ length: W * H }, (_, i) => s[(i % H) * W + Math.floor(i / H)]);
  };
  assert.equal(await frames({ ...plain, sliceTransposed: transposed }), await frames(plain));
  assert.equal([...new Set(calls)].sort(), [0, 1, 2], 'every slice came from sliceTransposed');
  const wrong = session(new ScriptedMemory(() => ({ foreground: new Float32Array(W * H), quality: 0.5 }), 'rows-second-axis'), { ...plain, sliceTransposed: () => new Uint8Array(5) });
  wrong.setSliceMask(1, new Uint8Array(W * H).fill(1));
  await wrong.propagate().then(() => assert.unreachable('a wrong size went through'), (e: Error) => assert.match(e.message, /sliceTransposed\(1\) has 5 values for a 4x3 slice/));
});

test('setSliceMask refuses a mask of the wrong size; bad slice indices are refused', () => {
  const s = session(new ScriptedMemory(() => assert.unreachable() as never), scriptedStack(3, 2, 4));
  assert.throws(() => s.setSliceMask(0, new Uint8Array(5)), /5 pixels, the slice 3x2 = 6/);
  assert.throws(() => s.setSliceMask(4, new Uint8Array(6)), /outside the volume/);
  assert.throws(() => s.state(-1), /outside the volume/);
});

test('robot rounds: volume-wise Dice and IoU per round, and the quality score against the true IoU of propagated slices', async () => {
  const [W, H, D] = [4, 4, 5];
  const n = W * H;
  const truth = new Uint8Array(n * D);
  const size = [4, 8, 12, 8, 4];
  for (let z = 0; z < D; z++) for (let i = 0; i < size[z]; i++) truth[z * n + i] = 1;
  // The scripted propagation predicts 8 pixels everywhere, with a quality equal to its true IoU.
  const iouOf = (z: number) => Math.min(8, size[z]) / Math.max(8, size[z]);
  const net = new ScriptedMemory((z) => ({ foreground: Float32Array.from({ length: n }, (_, i) => (i < 8 ? 0.99 : 0)), quality: iouOf(z) }));
  const robotSegmenter: SliceSegmenter = { segment: async (image) => truth.slice(image.data[0] * n, (image.data[0] + 1) * n) };
  const s = new Interactive3DSession(null, scriptedStack(W, H, D), { segmenter: robotSegmenter, memory: net }, { qualityMinPixels: 0 });
  const rounds = await runRobotRounds(s, truth, { rounds: 2, strategy: 'quality', seed: 1 });
  assert.is(rounds[0].slice, 2, 'round 1: the largest object');
  assert.is(rounds[1].slice, 0, 'round 2: the lowest quality (IoU 0.5 at slices 0 and 4; ties go to the lower slice)');
  // Round 1: slices 1, 3 exact; 0, 4 predict 8 of which 4 are true: 36 true voxels, 44 predicted, all true ones hit.
  const expected1 = { dice: 72 / 80, iou: 36 / 44 };
  assert.equal({ dice: rounds[0].dice, iou: rounds[0].iou }, expected1);
  assert.is(rounds[0].sliceDice, 1);
  assert.ok(rounds[1].dice >= rounds[0].dice);
  assert.is(rounds[0].qualityIoU.slices, 4);
  assert.ok(Math.abs(rounds[0].qualityIoU.r! - 1) < 1e-12, `quality equals IoU: r = ${rounds[0].qualityIoU.r}`);
});

test('robot rounds: strategies going on from a shared round 1 (snapshot, restore, fromRound 2) get what separate runs get', async () => {
  const [W, H, D] = [4, 4, 7];
  const n = W * H;
  const size = [2, 5, 9, 12, 9, 6, 3];
  const truth = new Uint8Array(n * D);
  for (let z = 0; z < D; z++) for (let i = 0; i < size[z]; i++) truth[z * n + i] = 1;
  // Predictions and qualities vary with the slice, so the strategies pick different slices.
  const predicted = (z: number) => [6, 4, 8, 8, 7, 9, 5][z];
  const fresh = () => {
    const net = new ScriptedMemory((z) => ({ foreground: Float32Array.from({ length: n }, (_, i) => (i < predicted(z) ? 0.97 - 0.05 * z : 0.02 * z)), quality: ((z * 5) % 7) / 7 }));
    const robotSegmenter: SliceSegmenter = { segment: async (image) => truth.slice(image.data[0] * n, (image.data[0] + 1) * n) };
    return new Interactive3DSession(null, scriptedStack(W, H, D), { segmenter: robotSegmenter, memory: net }, { qualityMinPixels: 0 });
  };
  const strip = (rs: { seconds: number }[]) => rs.map(({ seconds, ...r }) => r);
  const shared = fresh();
  const first = await runRobotRounds(shared, truth, { rounds: 1, strategy: 'quality', seed: 3 });
  const afterFirst = shared.snapshot();
  const picked = new Set<number>();
  for (const strategy of ['quality', 'uncertainty', 'oracle', 'random'] as const) {
    const alone = await runRobotRounds(fresh(), truth, { rounds: 4, strategy, seed: 3 });
    shared.restore(afterFirst);
    const later = await runRobotRounds(shared, truth, { rounds: 4, fromRound: 2, strategy, seed: 3 });
    assert.equal(strip([...first, ...later]), strip(alone), strategy);
    assert.is(later[0].round, 2);
    picked.add(later[0].slice);
  }
  assert.ok(picked.size > 1, `the strategies pick different round-2 slices: ${[...picked]}`);
  const refused = await runRobotRounds(fresh(), truth, { rounds: 2, fromRound: 0, strategy: 'quality' }).then(() => null, (e: Error) => e.message);
  assert.match(refused ?? 'accepted', /fromRound must be a positive integer/);
});

test('metrics: Dice, IoU and Pearson on hand-computed cases', () => {
  assert.equal(overlap([1, 1, 0, 0], [1, 0, 1, 0]), { dice: 0.5, iou: 1 / 3 });
  assert.equal(overlap([1, 1, 1, 0], [1, 1, 1, 0]), { dice: 1, iou: 1 });
  assert.equal(overlap([0, 0], [0, 0]), { dice: 1, iou: 1 });
  assert.equal(overlap([1, 0], [0, 1]), { dice: 0, iou: 0 });
  assert.is(dice([1, 1, 0, 0], [1, 0, 1, 0]), 0.5);
  assert.throws(() => overlap([1], [1, 0]), /1 and 2 pixels/);
  assert.is(pearson([1, 2, 3], [2, 4, 6]), 1);
  assert.is(pearson([1, 2, 3], [3, 2, 1]), -1);
  assert.ok(Math.abs(pearson([1, 2, 3, 4], [1, 3, 2, 4])! - 0.8) < 1e-12);
  assert.is(pearson([1, 1], [1, 2]), null);
  assert.is(pearson([1], [1]), null);
});

test('the Dice plot is an SVG with one line per strategy', () => {
  const svg = dicePlotSvg([{ label: 'quality', dice: [0.5, 0.7, 0.8] }, { label: 'random <b>', dice: [0.5, 0.6, 0.65] }]);
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.is(svg.match(/<polyline/g)?.length, 2);
  assert.match(svg, /random &#60;b&#62;/);
});

test.run();
