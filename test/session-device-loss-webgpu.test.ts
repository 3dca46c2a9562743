// A real device loss mid-propagation (issue 13): the WebGPU memory network (synth-v1
// QAMN, small weights) on its own Runtime, whose device is destroyed from the progress
// callback; the session is rebound to the network loaded on a new Runtime and resumes.
// The session's resume logic is tested in detail in session-device-loss.test.ts. Then
// the same through the embedding API: recover() makes the new Runtime and reloads.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { readSafetensors } from '../src/io/safetensors-node.ts';
import { IOGNetwork } from '../src/networks/iog/network.ts';
import { MemoryNetwork } from '../src/networks/mem3d/memory-network.ts';
import { DeviceLostError, Runtime } from '../src/runtime/runtime.ts';
import { Interactive3DSession, type SliceStack } from '../src/session/session.ts';
import type { SliceSegmenter } from '../src/session/slice-segmenter.ts';
import { synthWeightSource, type SynthManifest } from '../src/weights/safetensors-source.ts';
import { createVolume } from '../src/volume/volume.ts';
import { createSegmenter, type SegmenterNetworks } from '../web/embed.ts';

const SYNTH = new URL('../weights/qamn-synth-v1/', import.meta.url).pathname;
const S = 32;
const D = 5;

function loadNet(rt: Runtime): MemoryNetwork {
  const manifest = JSON.parse(readFileSync(`${SYNTH}qamn_manifest.json`, 'utf8')) as SynthManifest;
  return MemoryNetwork.load(rt, synthWeightSource(manifest, readSafetensors(`${SYNTH}qamn_small.safetensors`)), { variant: 'qamn' });
}

const REF = new URL('../../shared/reference/', import.meta.url).pathname;

function loadIog(rt: Runtime): IOGNetwork {
  const manifest = JSON.parse(readFileSync(`${REF}iog_manifest.json`, 'utf8')) as SynthManifest;
  return IOGNetwork.load(rt, synthWeightSource(manifest, readSafetensors(`${REF}iog_small.safetensors`)));
}

// A bright disc whose radius varies along z, on a textured background.
const stack: SliceStack = {
  width: S,
  height: S,
  depth: D,
  slice: (z) => Uint8Array.from({ length: S * S }, (_, i) => {
    const x = i % S, y = Math.floor(i / S);
    return (x - 16) ** 2 + (y - 15) ** 2 < (7 + z) ** 2 ? 200 : 40 + ((i * 7919) % 23);
  }),
};

const NO_2D: SliceSegmenter = { segment: async () => assert.unreachable('the 2D network is not used here') as never };

test('device.destroy() mid-propagation: the finished slices keep their masks; rebound to a new Runtime, propagation resumes', async () => {
  const rt = await Runtime.create(); // its own device: the shared test runtime stays alive
  const net = loadNet(rt);
  const s = new Interactive3DSession(rt, stack, { segmenter: NO_2D, memory: net });
  s.setSliceMask(1, Uint8Array.from(stack.slice(1), (v) => (v > 128 ? 1 : 0)));
  // Runs: 1 down (slice 0), 1 up (2, 3, 4); the device goes in the middle of the second.
  const done: number[] = [];
  const err = await s
    .propagate({
      onProgress: (p) => {
        done.push(p.slice);
        if (p.slice === 2) rt.device.destroy();
      },
    })
    .then(() => null, (e: unknown) => e);
  assert.instance(err, DeviceLostError, `got ${String(err)}`);
  assert.match((err as Error).message, /device was lost \(destroyed/);
  assert.equal(done, [0, 2]);
  const kept = [0, 2].map((z) => Array.from(s.sliceMask(z)));
  assert.equal([0, 1, 2, 3, 4].map((z) => s.state(z).source), ['propagated', 'annotated', 'propagated', 'empty', 'empty']);
  for (const [n, m] of kept.entries()) assert.ok(m.includes(1) && m.includes(0), `slice ${[0, 2][n]} has object and background`);
  net.dispose();

  const rt2 = await Runtime.create();
  try {
    const net2 = loadNet(rt2);
    s.rebind(rt2, { segmenter: NO_2D, memory: net2 });
    const resumed: number[] = [];
    await s.propagate({ onProgress: (p) => resumed.push(p.slice) });
    assert.equal(resumed, [2, 3, 4], 'the finished run is kept; the interrupted one restarts at its annotated slice');
    assert.equal(Array.from(s.sliceMask(0)), kept[0], 'slice 0 is as it was before the loss');
    assert.equal(Array.from(s.sliceMask(2)), kept[1], 'slice 2, recomputed on the new device, gets the same mask');
    assert.equal([0, 1, 2, 3, 4].map((z) => s.state(z).source), ['propagated', 'annotated', 'propagated', 'propagated', 'propagated']);
    net2.dispose();
  } finally {
    rt2.destroy();
  }
});

test('embedding API: recover() after a lost device reloads on a new Runtime; masks, annotations and undo survive and propagate() resumes', async () => {
  const runtimes: Runtime[] = [];
  const loadNetworks = async (rt: Runtime): Promise<SegmenterNetworks> => {
    runtimes.push(rt);
    return { iog: loadIog(rt), memory: loadNet(rt), iogLayout: 'rows-first-axis', memoryLayout: 'rows-first-axis' };
  };
  const seg = await createSegmenter({ loadNetworks, cropSize: 32 });
  try {
    const [NX, NY, NZ] = [S, S, 4];
    seg.loadVolume(createVolume({ dims: [NX, NY, NZ], data: Uint8Array.from({ length: NX * NY * NZ }, (_, v) => stack.slice(Math.floor(v / (S * S)))[v % (S * S)]), spacing: [1, 1, 1] }));
    const annotation = Uint8Array.from(stack.slice(1), (v) => (v > 128 ? 1 : 0));
    seg.setSliceMask(1, annotation);
    const err = await seg.propagate({ onProgress: (p) => p.slice === 2 && runtimes[0].device.destroy() }).then(() => null, (e: unknown) => e);
    assert.instance(err, DeviceLostError, `got ${String(err)}`);
    const kept = [seg.sliceMask(0), seg.sliceMask(2)];
    assert.equal(seg.states().map((st) => st.source), ['propagated', 'annotated', 'propagated', 'empty']);
    await seg.recover();
    assert.is(runtimes.length, 2, 'the networks were loaded again');
    assert.ok(runtimes[1] !== runtimes[0], 'on a new Runtime');
    assert.equal(seg.sliceMask(1), annotation, 'the annotation survives');
    assert.equal(seg.states().map((st) => st.source), ['propagated', 'annotated', 'propagated', 'empty'], 'nothing lost in the move');
    assert.ok(seg.canUndo(), 'the undo history survives');
    const resumed: number[] = [];
    await seg.propagate({ onProgress: (p) => resumed.push(p.slice) });
    assert.equal(resumed, [2, 3]);
    assert.equal(seg.states().map((st) => st.source), ['propagated', 'annotated', 'propagated', 'propagated']);
    assert.equal(seg.sliceMask(0), kept[0], 'slice 0 as before the loss');
    assert.equal(seg.sliceMask(2), kept[1], 'slice 2 recomputed to the same mask');
    assert.ok(await seg.undo(), 'undo still works after the move');
    assert.equal(seg.states().map((st) => st.source), ['empty', 'annotated', 'empty', 'empty'], 'one undo takes back the propagation, interrupted and resumed: one step');
    assert.ok(await seg.undo());
    assert.equal(seg.states()[1].source, 'empty', 'the next undo goes back to before the annotation');
  } finally {
    seg.dispose();
  }
});

test.run();
