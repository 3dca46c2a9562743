// The session refuses what would silently go wrong (found by an audit of its API): a
// window moved under a running propagation, snapshots of another session or with a
// window outside the volume, masks of NaN or strings, a 2D result of the wrong size,
// an annotation landing outside a window moved while the 2D network ran, options that
// are no probabilities. Scripted networks, no GPU.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Interactive3DSession, type SessionOptions, type SliceStack } from '../src/session/session.ts';
import type { SliceSegmenter } from '../src/session/slice-segmenter.ts';
import { D, H, N, ScriptedMemory, stack, W } from './_lib/scripted-memory.ts';

const CLICK = { kind: 'extreme-points' as const, points: [{ x: 0, y: 0 }, { x: 1, y: 0 }, { x: 0, y: 1 }, { x: 1, y: 1 }] };
const ones = () => new Uint8Array(N).fill(1);
/** A 2D network that answers `mask` after `gate` resolves. */
const segmenter = (mask: () => Uint8Array, gate: Promise<void> = Promise.resolve()): SliceSegmenter => ({ segment: async () => (await gate, mask()) });
const session = (options: SessionOptions = {}, seg: SliceSegmenter = segmenter(ones), from: SliceStack = stack) =>
  new Interactive3DSession(null, from, { segmenter: seg, memory: new ScriptedMemory() }, options);

test('the window cannot move under a running propagation (its end would clear annotations it never propagated)', async () => {
  const s = session();
  s.setSliceMask(10, ones());
  s.setSliceWindow(4, 8);
  s.setSliceMask(6, ones());
  let refused = '';
  await s.propagate({ onProgress: () => { try { s.setSliceWindow(0, D - 1); } catch (e) { refused ||= (e as Error).message; } } });
  assert.match(refused, /setSliceWindow: a propagation is running/);
  s.setSliceWindow(0, D - 1);
  assert.ok(s.pendingSlices > 0, 'slice 10 still waits to be propagated');
  await s.propagate();
  assert.is(s.state(12).source, 'propagated');
});

test('restore takes this session\'s snapshots only, with a window inside the volume, and changes nothing when it refuses', async () => {
  const s = session();
  s.setSliceMask(3, ones());
  const snap = s.snapshot();
  const transposed = session({}, segmenter(ones), { ...stack, width: H, height: W });
  assert.throws(() => transposed.restore(snap), /restore: the snapshot is not of this session/);
  assert.throws(() => session().restore(snap), /not of this session/, 'another session of the same volume');
  assert.throws(() => s.restore(JSON.parse(JSON.stringify(snap))), /not of this session/);
  s.setSliceMask(5, ones());
  const before = s.snapshot();
  for (const window of [[0, D + 3], [Number.NaN, 3], [4, 2]] as [number, number][]) {
    assert.throws(() => s.restore({ ...snap, window }), /restore: the snapshot's window: slices .* are not within 0\.\.12/);
  }
  assert.throws(() => s.restore({ ...snap, window: undefined as never }));
  assert.equal(s.snapshot().state, before.state, 'a refused restore changes nothing');
  assert.is(s.state(5).source, 'annotated');
});

test('undoing a restore brings the window back with the rest', () => {
  const s = session();
  s.setSliceWindow(3, 6);
  const snap = s.snapshot();
  s.setSliceWindow(0, D - 1);
  s.setSliceMask(8, ones());
  s.restore(snap);
  assert.equal(s.sliceWindow, [3, 6]);
  s.undo();
  assert.equal(s.sliceWindow, [0, D - 1]);
  assert.is(s.state(8).source, 'annotated');
  s.redo();
  assert.equal(s.sliceWindow, [3, 6]);
});

test('setSliceMask refuses NaN, strings and holes; any other number is 0 / non-zero', () => {
  const s = session();
  const with_ = (i: number, v: unknown) => Object.assign(Array.from(ones()) as unknown[], { [i]: v }) as unknown as number[];
  assert.throws(() => s.setSliceMask(2, with_(4, Number.NaN)), /setSliceMask: pixel 4 of the mask is NaN/);
  assert.throws(() => s.setSliceMask(2, with_(7, '0')), /pixel 7 of the mask is string/);
  assert.throws(() => s.setSliceMask(2, { length: N } as ArrayLike<number>), /pixel 0 of the mask is undefined/);
  assert.throws(() => s.setSliceMask(2, null as never), /setSliceMask: the mask must be an array of 15 numbers/);
  assert.not.ok(s.canUndo, 'nothing was recorded');
  s.setSliceMask(2, Float32Array.from({ length: N }, (_, i) => [0, 0.5, -1, 255][i % 4]));
  assert.equal(Array.from(s.sliceMask(2)), Array.from({ length: N }, (_, i) => (i % 4 ? 1 : 0)));
});

test('annotate checks the 2D result\'s size, returns the 0/1 mask it keeps, and refuses a slice the window left meanwhile', async () => {
  const short = session({}, segmenter(() => new Uint8Array(3).fill(1)));
  let message = '';
  await short.annotate(1, CLICK).catch((e) => (message = (e as Error).message));
  assert.match(message, /annotate: the 2D network returned 3 values for a 5x3 slice/);
  assert.not.ok(short.canUndo);
  const raw = session({}, segmenter(() => Uint8Array.from({ length: N }, (_, i) => (i % 2 ? 200 : 0))));
  assert.equal(Array.from(await raw.annotate(1, CLICK)), Array.from({ length: N }, (_, i) => i % 2));
  let open!: () => void;
  const slow = session({}, segmenter(ones, new Promise((r) => (open = r))));
  const pending = slow.annotate(1, CLICK).then(() => '', (e) => (e as Error).message);
  slow.setSliceWindow(4, 8);
  open();
  assert.match(await pending, /annotate: slice 1 is outside the session's slices 4\.\.8/);
  assert.is(slow.state(1).source, 'empty');
});

test('annotate without an interaction and loadLabels without a map or structures say what they need', async () => {
  const s = session();
  let message = '';
  await s.annotate(1, null as never).catch((e) => (message = (e as Error).message));
  assert.match(message, /annotate: the interaction must be an object with a kind .*, got null/);
  assert.throws(() => s.loadLabels(null as never, []), /loadLabels: the label map must be an array of 195 structure ids, got null/);
  assert.throws(() => s.loadLabels(new Uint8Array(N * D), null as never), /loadLabels: the structures must be an array of \{ id, name, color\? \}, got null/);
  assert.not.ok(s.canUndo, 'nothing was recorded');
});

test('options that are no probabilities or counts, a layout that is none, and fractional sides are refused', () => {
  for (const [options, message] of [
    [{ threshold: Number.NaN }, /threshold is a probability in \[0, 1\), got NaN/],
    [{ threshold: 2 }, /threshold is a probability/],
    [{ qualityConfidence: Number.NaN }, /qualityConfidence is a probability/],
    [{ qualityMinPixels: -5 }, /qualityMinPixels must be a finite count >= 0, got -5/],
    [{ memoryLayout: 'bogus' as never }, /session: memoryLayout: slice layout 'bogus' is not one of/],
  ] as [SessionOptions, RegExp][]) assert.throws(() => session(options), message, JSON.stringify(options));
  assert.throws(() => session({}, segmenter(ones), { ...stack, width: 1.5 }), /session: a volume of 1\.5x3x13 slices/);
});

test('ranking: a random seed is an integer, the oracle\'s ground truth holds numbers', () => {
  const s = session();
  s.setSliceMask(3, ones());
  assert.throws(() => s.rankSlices('random', { seed: 1.7 }), /rankSlices\('random'\): seed must be an integer, got 1\.7/);
  assert.throws(() => s.rankSlices('random', { seed: Number.NaN }), /got NaN/);
  assert.equal(s.rankSlices('random', { seed: 7 }).length, D - 1);
  const truth = new Float32Array(N * D);
  truth[N * 5 + 2] = Number.NaN;
  assert.throws(() => s.rankSlices('oracle', { groundTruth: truth }), /ground-truth voxel 77 is NaN/);
});

test.run();
