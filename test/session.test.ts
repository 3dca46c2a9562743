// The 3D session's logic on a small volume: the real memory network (synth-v1 QAMN)
// with a scripted 2D segmenter, so what is checked is the round structure, not the
// 2D network (tested in test/iog-*.test.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { readSafetensors } from '../src/io/safetensors-node.ts';
import { MemoryNetwork } from '../src/networks/mem3d/memory-network.ts';
import { runRobotRounds } from '../src/session/evaluate.ts';
import { overlap } from '../src/eval/metrics.ts';
import { dicePlotSvg } from '../src/session/plot.ts';
import { Interactive3DSession, type SliceStack } from '../src/session/session.ts';
import type { Interaction, SliceImage, SliceSegmenter } from '../src/session/slice-segmenter.ts';
import { synthWeightSource, type SynthManifest } from '../src/weights/safetensors-source.ts';
import { testRuntime } from './_lib/gpu.ts';

const REF = new URL('../../shared/reference/', import.meta.url).pathname;
const W = 40;
const H = 36;
const D = 9;

// A bright disc whose radius varies along z, on a noisy background.
const stack: SliceStack = {
  width: W,
  height: H,
  depth: D,
  slice: (z) => Uint8Array.from({ length: W * H }, (_, i) => {
    const x = i % W, y = Math.floor(i / W);
    const r = 6 + Math.abs(z - 4);
    return (x - 20) ** 2 + (y - 18) ** 2 < r * r ? 200 : 40 + ((i * 7919) % 23);
  }),
};

/** Segments the disc by thresholding. */
class ScriptedSegmenter implements SliceSegmenter {
  async segment(image: SliceImage, _interaction: Interaction): Promise<Uint8Array> {
    return Uint8Array.from(image.data, (v) => (v > 128 ? 1 : 0));
  }
}

const CLICK: Interaction = { kind: 'extreme-points', points: [{ x: 14, y: 18 }, { x: 26, y: 18 }, { x: 20, y: 12 }, { x: 20, y: 24 }] };
let net: MemoryNetwork | null = null;

async function session(): Promise<Interactive3DSession> {
  const rt = await testRuntime();
  if (!net) {
    const manifest = JSON.parse(readFileSync(`${REF}qamn_manifest.json`, 'utf8')) as SynthManifest;
    net = MemoryNetwork.load(rt, synthWeightSource(manifest, readSafetensors(`${REF}qamn_small.safetensors`)), { variant: 'qamn' });
  }
  return new Interactive3DSession(rt, stack, { segmenter: new ScriptedSegmenter(), memory: net });
}

test('every slice gets a mask and a quality; the annotated slice keeps its 2D result', async () => {
  const s = await session();
  const mask4 = await s.annotate(4, CLICK);
  const visited: number[] = [];
  await s.propagate({ onProgress: (p) => visited.push(p.slice) });
  assert.equal([...visited].sort((a, b) => a - b), [0, 1, 2, 3, 5, 6, 7, 8]);
  for (let z = 0; z < D; z++) {
    const st = s.state(z);
    assert.is(st.source, z === 4 ? 'annotated' : 'propagated');
    assert.ok(st.quality !== null && st.quality >= 0 && st.quality <= 1, `slice ${z} quality ${st.quality}`);
  }
  assert.equal(Array.from(s.sliceMask(4)), Array.from(mask4));
  assert.is(s.volumeMask().length, W * H * D);
});

test('re-propagation runs from the new annotation up to the annotated neighbours only', async () => {
  const s = await session();
  await s.annotate(4, CLICK);
  await s.propagate();
  const before4 = s.sliceMask(4);
  await s.annotate(7, CLICK);
  const visited: number[] = [];
  await s.propagate({ onProgress: (p) => visited.push(p.slice) });
  assert.equal([...visited].sort((a, b) => a - b), [5, 6, 8]);
  assert.equal(Array.from(s.sliceMask(4)), Array.from(before4));
  assert.equal(s.annotatedSlices, [4, 7]);
});

test('two new annotations split the gap between them at its middle', async () => {
  const s = await session();
  await s.annotate(1, CLICK);
  await s.annotate(6, CLICK);
  const seen = new Map<number, number>();
  await s.propagate({ onProgress: (p) => seen.set(p.slice, (seen.get(p.slice) ?? 0) + 1) });
  assert.equal([...seen.keys()].sort((a, b) => a - b), [0, 2, 3, 4, 5, 7, 8]);
  assert.ok([...seen.values()].every((n) => n === 1), 'each slice propagated once');
});

test('cancellation stops propagation and keeps what was done', async () => {
  const s = await session();
  await s.annotate(0, CLICK);
  const controller = new AbortController();
  let error: unknown = null;
  await s.propagate({ signal: controller.signal, onProgress: (p) => p.done === 2 && controller.abort() }).catch((e) => (error = e));
  assert.ok(error !== null, 'propagate rejected');
  assert.is(s.state(1).source, 'propagated');
  assert.is(s.state(2).source, 'propagated');
  assert.is(s.state(3).source, 'empty');
});

test('recommendations: oracle picks the worst slice, annotated slices are never picked, random is seeded', async () => {
  const s = await session();
  await s.annotate(4, CLICK);
  await s.propagate();
  // Ground truth that disagrees completely on slice 2 only.
  const gt = s.volumeMask();
  const n = W * H;
  for (let i = 0; i < n; i++) gt[2 * n + i] = 1 - gt[2 * n + i];
  assert.is(s.recommendSlice('oracle', { groundTruth: gt }), 2);
  for (const strategy of ['quality', 'uncertainty', 'random'] as const) {
    const z = s.recommendSlice(strategy, { seed: 3 });
    assert.ok(z !== null && z !== 4 && z >= 0 && z < D, `${strategy} -> ${z}`);
  }
  assert.is(s.recommendSlice('random', { seed: 3 }), s.recommendSlice('random', { seed: 3 }));
  assert.throws(() => s.recommendSlice('oracle'), /ground truth/);
});

test('bad slice indices are refused', async () => {
  const s = await session();
  let error: unknown = null;
  await s.annotate(D, CLICK).catch((e) => (error = e));
  assert.match(String(error), /outside the volume/);
  assert.throws(() => s.state(-1), /outside the volume/);
});

test('the robot user is deterministic under a seed and reports volume-wise Dice and IoU per round', async () => {
  // The disc itself is the ground truth.
  const gt = new Uint8Array(W * H * D);
  for (let z = 0; z < D; z++) gt.set(Uint8Array.from(stack.slice(z), (v) => (v > 128 ? 1 : 0)), z * W * H);
  const runs = [];
  for (let i = 0; i < 2; i++) runs.push(await runRobotRounds(await session(), gt, { rounds: 2, strategy: 'quality', seed: 9 }));
  assert.equal(runs[0].map((r) => [r.slice, r.dice, r.iou]), runs[1].map((r) => [r.slice, r.dice, r.iou]));
  assert.is(runs[0][0].slice, 0, 'round 1 annotates the slice with the largest object (the disc is widest at z = 0 and 8)');
  assert.is.not(runs[0][1].slice, 0, 'round 2 annotates another slice');
  for (const r of runs[0]) {
    assert.ok(r.dice >= 0 && r.dice <= 1 && r.iou <= r.dice, `dice ${r.dice}, iou ${r.iou}`);
    assert.is(r.sliceDice, 1, 'the scripted 2D step reproduces the ground truth of the annotated slice');
  }
  let error: unknown = null;
  await runRobotRounds(await session(), new Uint8Array(W * H * D), { rounds: 1, strategy: 'oracle' }).catch((e) => (error = e));
  assert.match(String(error), /ground truth is empty/);
});

test('overlap: Dice and IoU on hand-computed cases', () => {
  assert.equal(overlap([1, 1, 0, 0], [1, 0, 1, 0]), { dice: 0.5, iou: 1 / 3 });
  assert.equal(overlap([1, 1, 1, 0], [1, 1, 1, 0]), { dice: 1, iou: 1 });
  assert.equal(overlap([0, 0], [0, 0]), { dice: 1, iou: 1 });
  assert.equal(overlap([1, 0], [0, 1]), { dice: 0, iou: 0 });
  assert.throws(() => overlap([1], [1, 0]), /1 and 2 voxels/);
});

test('the Dice plot is an SVG with one line per strategy', () => {
  const svg = dicePlotSvg([{ label: 'quality', dice: [0.5, 0.7, 0.8] }, { label: 'random <b>', dice: [0.5, 0.6, 0.65] }]);
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.is(svg.match(/<polyline/g)?.length, 2);
  assert.match(svg, /random &#60;b&#62;/);
});

test.after(() => net?.dispose());
test.run();
