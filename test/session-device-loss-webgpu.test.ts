// A real device loss mid-propagation (issue 13): the WebGPU memory network (synth-v1
// QAMN, small weights) on its own Runtime, whose device is destroyed from the progress
// callback; the session is rebound to the network loaded on a new Runtime and resumes.
// The session's resume logic is tested in detail in session-device-loss.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { readSafetensors } from '../src/io/safetensors-node.ts';
import { MemoryNetwork } from '../src/networks/mem3d/memory-network.ts';
import { DeviceLostError, Runtime } from '../src/runtime/runtime.ts';
import { Interactive3DSession, type SliceStack } from '../src/session/session.ts';
import type { SliceSegmenter } from '../src/session/slice-segmenter.ts';
import { synthWeightSource, type SynthManifest } from '../src/weights/safetensors-source.ts';

const SYNTH = new URL('../weights/qamn-synth-v1/', import.meta.url).pathname;
const S = 32;
const D = 5;

function loadNet(rt: Runtime): MemoryNetwork {
  const manifest = JSON.parse(readFileSync(`${SYNTH}qamn_manifest.json`, 'utf8')) as SynthManifest;
  return MemoryNetwork.load(rt, synthWeightSource(manifest, readSafetensors(`${SYNTH}qamn_small.safetensors`)), { variant: 'qamn' });
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

test.run();
