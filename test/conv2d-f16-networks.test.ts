// f16 weights reach every conv of both networks (the option's plumbing through
// MemoryNetwork.load, IOGNetwork.load and the CLI's loaders): the conv weights are
// about all of a network's bytes, so f16 must bring the GPU weight memory to about
// half. Loading only (a second or two per network); the networks' f16 accuracy is
// checked under test:full (test/full/qamn-f16-conformance.test.ts,
// test/full/iog-f16-trained.test.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { readSafetensors } from '../src/io/safetensors-node.ts';
import { IOGNetwork } from '../src/networks/iog/network.ts';
import { MemoryNetwork } from '../src/networks/mem3d/memory-network.ts';
import type { WeightPrecision } from '../src/ops/conv2d.ts';
import { loadIOG, loadMemoryNetwork } from '../src/pretrained/node.ts';
import { synthWeightSource, type SynthManifest } from '../src/weights/safetensors-source.ts';
import { testRuntime } from './_lib/gpu.ts';

const REF = new URL('../../shared/reference/', import.meta.url).pathname;
const synth = (model: string) => synthWeightSource(JSON.parse(readFileSync(`${REF}${model}_manifest.json`, 'utf8')) as SynthManifest, readSafetensors(`${REF}${model}_small.safetensors`));

async function bytes(load: (p: WeightPrecision) => { weightBytes: number; dispose(): void }): Promise<[number, number]> {
  const rt = await testRuntime();
  assert.ok(rt.device.features.has('shader-f16'), `this adapter lacks shader-f16 (${rt.describe()})`);
  const out = (['f32', 'f16'] as const).map((p) => {
    const net = load(p);
    const b = net.weightBytes;
    net.dispose();
    return b;
  });
  await rt.sync();
  return [out[0], out[1]];
}

// Biases and linear layers (kept f32) and the buffer pool's size classes keep the ratio a little over 1/2 (measured 0.50-0.51).
const HALF = 0.52;

test('QAMN (synth-v1 and the shipped int8 weights) and IOG hold about half the weight bytes with f16', async () => {
  const rt = await testRuntime();
  const cases: [string, (p: WeightPrecision) => { weightBytes: number; dispose(): void }][] = [
    ['QAMN synth-v1', (p) => MemoryNetwork.load(rt, synth('qamn'), { variant: 'qamn', weightPrecision: p })],
    ['IOG synth-v1', (p) => IOGNetwork.load(rt, synth('iog'), { weightPrecision: p })],
    ['shipped QAMN (loadMemoryNetwork)', (p) => loadMemoryNetwork(rt, { weightPrecision: p }).net],
    ['shipped IOG (loadIOG)', (p) => loadIOG(rt, undefined, undefined, { weightPrecision: p })],
  ];
  for (const [name, load] of cases) {
    const [f32, f16] = await bytes(load);
    console.log(`${name}: f32 ${(f32 / 2 ** 20).toFixed(1)} MiB, f16 ${(f16 / 2 ** 20).toFixed(1)} MiB`);
    assert.ok(f16 <= HALF * f32, `${name}: f16 ${f16} bytes <= ${HALF} x f32 ${f32}`);
  }
});

test.run();
