// The embedding API (web/embed.ts) in Node on Dawn: a segmenter releases everything it
// created, both networks included, even when the caller supplied the runtime; masks
// come and go in NIfTI voxel order; undo and cancel restore the session exactly.
// The networks are the reference's synth-v1 weights, generated once and uploaded per
// segmenter: what is checked is ownership and layout, not segmentation quality.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { readSafetensors } from '../src/io/safetensors-node.ts';
import { IOGNetwork } from '../src/networks/iog/network.ts';
import { MemoryNetwork } from '../src/networks/mem3d/memory-network.ts';
import type { Runtime } from '../src/runtime/runtime.ts';
import { createVolume } from '../src/volume/volume.ts';
import { MapWeightSource, type WeightSource } from '../src/weights/source.ts';
import { synthWeightSource, type SynthManifest } from '../src/weights/safetensors-source.ts';
import { createSegmenter, type SegmenterNetworks } from '../web/embed.ts';
import { testRuntime } from './_lib/gpu.ts';

const REF = new URL('../../shared/reference/', import.meta.url).pathname;

/** The synth-v1 tensors generated once, so each segmenter only uploads them. */
function generatedOnce(model: 'iog' | 'qamn'): WeightSource {
  const manifest = JSON.parse(readFileSync(`${REF}${model}_manifest.json`, 'utf8')) as SynthManifest;
  const synth = synthWeightSource(manifest, readSafetensors(`${REF}${model}_small.safetensors`));
  return new MapWeightSource(`synth-v1 ${model}`, new Map(synth.names().map((n) => [n, { shape: synth.shape(n), data: synth.float32(n) }])));
}

const iogWeights = generatedOnce('iog');
const qamnWeights = generatedOnce('qamn');
const loadNetworks = async (rt: Runtime): Promise<SegmenterNetworks> => ({
  iog: IOGNetwork.load(rt, iogWeights),
  memory: MemoryNetwork.load(rt, qamnWeights, { variant: 'qamn' }),
  iogLayout: 'rows-first-axis',
  memoryLayout: 'rows-first-axis',
});

// nx = 40 along i, ny = 32 along j, 5 axial slices; voxel (i, j, k) at i + 40 * (j + 32 * k).
const [NX, NY, NZ] = [40, 32, 5];
const volume = createVolume({ dims: [NX, NY, NZ], data: Uint8Array.from({ length: NX * NY * NZ }, (_, v) => (v * 37) % 251), spacing: [1, 1, 1] });

// Every cycle must end at exactly the starting live bytes, so a leak shows after the
// first; the later cycles (no propagation) catch what only a repeat would leak.
// `npm run test:full` runs the embedding issue's 20 cycles, `npm test` 3 (each uploads
// both networks: most of this file's time).
const CYCLES = process.env.MEM3D_TEST_TIER === 'full' ? 20 : 3;

test(`creating and disposing a segmenter ${CYCLES} times leaves the runtime where it started`, async () => {
  const rt = await testRuntime();
  const before = rt.memoryStats().liveBytes;
  for (let round = 0; round < CYCLES; round++) {
    const seg = await createSegmenter({ runtime: rt, loadNetworks });
    assert.ok(rt.memoryStats().liveBytes > before, 'the networks are on the GPU while the segmenter lives');
    if (round === 0) {
      seg.loadVolume(volume);
      assert.ok((await seg.warmup()) > 20, 'the warm-up recorded both networks\' pipelines');
      seg.setSliceMask(2, new Uint8Array(NX * NY).fill(1));
      await seg.propagate();
      assert.equal(seg.states().map((s) => s.source), ['propagated', 'propagated', 'annotated', 'propagated', 'propagated']);
    }
    seg.dispose();
    assert.is(rt.memoryStats().liveBytes, before, `after dispose ${round + 1}`);
  }
});

test('masks in NIfTI voxel order: a slice mask set by hand comes back as given, in mask() at its voxels; undo restores', async () => {
  const rt = await testRuntime();
  const seg = await createSegmenter({ runtime: rt, loadNetworks });
  try {
    // A mapping that cannot map is refused at load, not at the first slice the networks read.
    assert.throws(() => seg.loadVolume(volume, { intensity: { kind: 'window', level: 40, width: 0 } }), /loadVolume: intensity: window level 40, width 0: both must be finite and width > 0/);
    assert.throws(() => seg.loadVolume(volume, { intensity: { kind: 'nonsense' } as never }), /loadVolume: intensity: mapping kind "nonsense" is not 'minmax' or 'window'/);
    const info = seg.loadVolume(volume, { slices: [1, 3] });
    assert.equal([info.width, info.height, info.depth], [NY, NX, NZ], 'slice images: width along j, height along i');
    // An L: voxels (i, j) with i < 10 and j = 3, or i = 7 and j < 20 (not symmetric under a transpose).
    const given = new Uint8Array(NX * NY);
    for (let j = 0; j < NY; j++) for (let i = 0; i < NX; i++) given[i + NX * j] = (i < 10 && j === 3) || (i === 7 && j < 20) ? 1 : 0;
    seg.setSliceMask(2, given);
    assert.equal(seg.sliceMask(2), given);
    const whole = seg.mask();
    for (let j = 0; j < NY; j++) for (let i = 0; i < NX; i++) assert.is(whole[i + NX * (j + NY * 2)], given[i + NX * j], `voxel (${i}, ${j}, 2)`);
    assert.equal(seg.session!.sliceMask(2)[7 * NY + 19], 1, 'the engine slice image has voxel (7, 19) at row 7, column 19');
    assert.is(seg.recommend(), null, 'nothing to recommend before propagation');
    assert.is(seg.pendingSlices, 2, 'slices 1 and 3 wait for the annotation of slice 2');
    const controller = new AbortController();
    let error: unknown = null;
    await seg.propagate({ signal: controller.signal, onProgress: () => controller.abort() }).catch((e) => (error = e));
    assert.is((error as Error)?.name, 'AbortError');
    assert.equal(seg.states().map((s) => s.source), ['empty', 'empty', 'annotated', 'empty', 'empty'], 'the cancelled propagation left nothing behind');
    assert.is(seg.pendingSlices, 2, 'a cancel leaves the work pending');
    await seg.propagate();
    assert.equal(seg.states().map((s) => s.source), ['empty', 'propagated', 'annotated', 'propagated', 'empty'], 'only slices 1..3 take part');
    assert.is(seg.pendingSlices, 0);
    assert.ok([1, 3].includes(seg.recommend()!));
    assert.ok([1, 3].includes(seg.recommend({ strategy: 'uncertainty' })!), 'by certainty (what STM weights allow)');
    assert.throws(() => seg.recommend({ strategy: 'oracle' as never }), /recommend: strategy must be 'quality' or 'uncertainty', got 'oracle'/);
    const afterPropagation = seg.mask();
    seg.setSliceMask(3, new Uint8Array(NX * NY));
    assert.ok(await seg.undo());
    assert.equal(seg.mask(), afterPropagation, 'undo brings the propagated masks back bit for bit');
    assert.throws(() => seg.setSliceMask(0, given), /outside the session's slices 1..3/);
    let bad: unknown = null;
    await seg.annotate(2, [[0, 0], [1, 1], [2, 2]]).catch((e) => (bad = e));
    assert.match(String(bad), /four/);
    await seg.annotate(2, [[0, 0], [1, 1], [2, 2], [NX, 0]]).catch((e) => (bad = e));
    assert.match(String(bad), /point \(40, 0\) is outside the slice/);
  } finally {
    seg.dispose();
  }
  assert.throws(() => seg.mask(), /disposed/);
});

test.run();
