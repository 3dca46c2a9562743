// The one real-network session test: the WebGPU memory network (synth-v1 QAMN) behind
// the session, on a 40x36 volume the network runs padded to 48x48. The session's logic
// is tested against a scripted memory network in test/session-scripted.test.ts; the 2D
// network in test/iog-*.test.ts. Six slices (seven network steps): each step costs
// seconds on lavapipe even at this size.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { readSafetensors } from '../src/io/safetensors-node.ts';
import { MemoryNetwork } from '../src/networks/mem3d/memory-network.ts';
import { boundsChecksRequested } from '../src/cli/runtime.ts';
import { IOGNetwork } from '../src/networks/iog/network.ts';
import { Runtime } from '../src/runtime/runtime.ts';
import { GpuSliceMemory, type SliceMemoryNetwork } from '../src/session/memory.ts';
import { Interactive3DSession, type SessionOptions, type SliceStack } from '../src/session/session.ts';
import { IOGSliceSegmenter, type Interaction, type SliceImage, type SliceSegmenter } from '../src/session/slice-segmenter.ts';
import { synthWeightSource, type SynthManifest } from '../src/weights/safetensors-source.ts';
import { testRuntime } from './_lib/gpu.ts';

const REF = new URL('../../shared/reference/', import.meta.url).pathname;
const W = 40;
const H = 36;
const D = 6;

// A bright disc whose radius varies along z, on a noisy background.
const stack: SliceStack = {
  width: W,
  height: H,
  depth: D,
  slice: (z) => Uint8Array.from({ length: W * H }, (_, i) => {
    const x = i % W, y = Math.floor(i / W);
    const r = 6 + Math.abs(z - 3);
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

async function session(memory?: (net: MemoryNetwork) => SliceMemoryNetwork, options: SessionOptions = {}): Promise<Interactive3DSession> {
  const rt = await testRuntime();
  if (!net) {
    const manifest = JSON.parse(readFileSync(`${REF}qamn_manifest.json`, 'utf8')) as SynthManifest;
    net = MemoryNetwork.load(rt, synthWeightSource(manifest, readSafetensors(`${REF}qamn_small.safetensors`)), { variant: 'qamn' });
  }
  return new Interactive3DSession(rt, stack, { segmenter: new ScriptedSegmenter(), memory: memory ? memory(net) : net }, options);
}

test('every slice gets a mask and a quality; the annotated slice keeps its 2D result', async () => {
  const s = await session();
  const mask3 = await s.annotate(3, CLICK);
  const visited: number[] = [];
  await s.propagate({ onProgress: (p) => visited.push(p.slice) });
  assert.equal([...visited].sort((a, b) => a - b), [0, 1, 2, 4, 5]);
  for (let z = 0; z < D; z++) {
    const st = s.state(z);
    assert.is(st.source, z === 3 ? 'annotated' : 'propagated');
    assert.ok(st.quality !== null && st.quality >= 0 && st.quality <= 1, `slice ${z} quality ${st.quality}`);
  }
  assert.equal(Array.from(s.sliceMask(3)), Array.from(mask3));
  assert.is(s.volumeMask().length, W * H * D);
  const rt = await testRuntime();
  const before = rt.memoryStats().liveBytes;
  await s.annotate(0, CLICK);
  await s.propagate();
  assert.equal([1, 2].map((z) => s.state(z).source), ['propagated', 'propagated']);
  assert.is(rt.memoryStats().liveBytes, before, 'propagation leaves no tensor behind');
});

test('the pipelined path (steps ahead, masks held on the GPU with the padding zeroed) gives the step-by-step numbers bit for bit, one structure and joint steps', async () => {
  const rt = await testRuntime();
  const calls = { ahead: 0, objectsAhead: 0 };
  const pipelined = await session((n) => {
    const m = new GpuSliceMemory(rt, n);
    const [segmentAhead, segmentObjectsAhead] = [m.segmentAhead.bind(m), m.segmentObjectsAhead.bind(m)];
    m.segmentAhead = (frame, memory) => (calls.ahead++, segmentAhead(frame, memory));
    m.segmentObjectsAhead = (frame, memories) => (calls.objectsAhead++, segmentObjectsAhead(frame, memories));
    return m;
    // One lane: two would batch steps, bit for bit only where the batch gets the same kernels (test/memory-network-batch.test.ts).
  }, { lanes: 1 });
  // The same GPU network behind memorize / segment / segmentObjects only: every mask read back, cropped, padded and uploaded again.
  const stepwise = await session((n) => {
    const m = new GpuSliceMemory(rt, n);
    type Entries = Parameters<typeof m.segment>[1];
    return {
      memorize: (f, mask) => m.memorize(f, mask),
      segment: (f, memory) => m.segment(f, memory as Entries),
      segmentObjects: (f, memories) => m.segmentObjects(f, memories as Entries[]),
    };
  });
  const before = rt.memoryStats().liveBytes;
  for (const s of [pipelined, stepwise]) {
    const ring = s.addStructure('ring').id;
    s.setSliceMask(3, Uint8Array.from(stack.slice(3), (v) => (v > 128 ? 1 : 0)));
    s.setSliceMask(1, Uint8Array.from(stack.slice(1), (v, i) => (v > 128 && i % W > 20 ? 1 : 0)), { structure: ring });
    await s.propagate();
  }
  // Upwards the ring alone on 2 and 3, both on 4 and 5; downwards the disc alone on 2 and 1, both on 0.
  assert.equal(calls, { ahead: 4, objectsAhead: 3 }, 'the pipelined session queued every step ahead');
  assert.equal(pipelined.snapshot().state, stepwise.snapshot().state, 'probabilities, qualities and certainties');
  assert.equal(pipelined.labelMap(), stepwise.labelMap());
  assert.is(rt.memoryStats().liveBytes, before, 'no held mask or memory entry left behind');
});

test('warmup() readies every pipeline of a round (the 2D network, joint steps of two structures, growing memory) and changes no number', async () => {
  // A runtime of its own: the tests above created pipelines in the shared one. No JIT helpers:
  // what is primed is test/driver-jit.test.ts's; here, what is recorded.
  const rt = await Runtime.create({ boundsChecks: boundsChecksRequested(), jitHelpers: 0 });
  const synth = (name: string) => synthWeightSource(JSON.parse(readFileSync(`${REF}${name}_manifest.json`, 'utf8')) as SynthManifest, readSafetensors(`${REF}${name}_small.safetensors`));
  const qamn = MemoryNetwork.load(rt, synth('qamn'), { variant: 'qamn' });
  const iog = IOGNetwork.load(rt, synth('iog'));
  try {
    const networks = { segmenter: new IOGSliceSegmenter(rt, iog, 32), memory: qamn };
    // The disc annotated on slice 2, a ring drawn on slice 4: joint steps where both propagate,
    // the lanes' steps batched where one does. memoryEvery 1: a memory grows by an entry a step.
    const session = () => {
      const s = new Interactive3DSession(rt, stack, networks, { memoryEvery: 1 });
      s.addStructure('ring');
      return s;
    };
    const round = async (s: Interactive3DSession) => {
      await s.annotate(2, CLICK);
      s.setSliceMask(4, Uint8Array.from(stack.slice(4), (v, i) => (v > 128 && i % W > 20 ? 1 : 0)), { structure: 2 });
      await s.propagate();
      return s.snapshot().state;
    };
    const warmed = session();
    const live = rt.memoryStats().liveBytes;
    const used = await warmed.warmup();
    assert.is(rt.memoryStats().liveBytes, live, 'the warm-up keeps no tensor');
    const ready = rt.pipelines.specs().length;
    assert.ok(used > 20 && ready >= used, `${used} pipelines recorded, ${ready} ready`);
    const state = await round(warmed);
    const late = rt.pipelines.specs().slice(ready).map((p) => `${p.kernel}:${p.entryPoint} ${JSON.stringify(p.constants)}`);
    assert.equal(late, [], 'pipelines the round still had to create');
    assert.equal(state, await round(session()), 'the same round without a warm-up');
  } finally {
    qamn.dispose();
    iog.dispose();
    rt.destroy();
  }
});

test.after(() => net?.dispose());
test.run();
