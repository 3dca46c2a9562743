// npm run bench:iog -- [--size 512] [--channels 4] [--reps 3] [--coarse] [--profile] [--json out.json]
// Milliseconds per IOG / DEXTR forward (ResNet-101 OS16 + PSP + CoarseNet + FineNet,
// fine_out read back) at size x size on this machine's adapter, and GPU memory for
// weights and peak activations. Weights are the reference's synth-v1 (timing does not
// depend on values). PyTorch fp32 on an H100: 13.7 ms at 512x512 (issue 4), its coarse
// heads included, which the product's forward leaves out unless --coarse.
// --profile: one more forward with every dispatch timed (timestamp queries), printed by
// kernel, module and layer and kept in the JSON.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readSafetensors } from '../src/io/safetensors-node.ts';
import { IOGNetwork } from '../src/networks/iog/network.ts';
import { formatProfile, type ProfileReport } from '../src/runtime/profiler.ts';
import { createBenchRuntime } from './bench-runtime.ts';
import { synthWeightSource, type SynthManifest } from '../src/weights/safetensors-source.ts';
import { median } from '../src/util/median.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '512' },
    channels: { type: 'string', default: '4' },
    reps: { type: 'string', default: '3' },
    coarse: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    reference: { type: 'string', default: new URL('../../shared/reference/', import.meta.url).pathname },
    json: { type: 'string' },
  },
});
const [size, channels, reps] = [Number(values.size), Number(values.channels), Number(values.reps)];
const MiB = 1024 * 1024;

const rt = await createBenchRuntime();
console.log(`adapter: ${rt.describe()}`);
const manifest = JSON.parse(readFileSync(`${values.reference}/iog_manifest.json`, 'utf8')) as SynthManifest;
const net = IOGNetwork.load(rt, synthWeightSource(manifest, readSafetensors(`${values.reference}/iog_small.safetensors`)), { inputChannels: channels });
const input = rt.upload([1, size, size, channels], Float32Array.from({ length: size * size * channels }, (_, i) => 128 + 100 * Math.sin(i * 0.001)));

async function forward(): Promise<number> {
  const t0 = performance.now();
  const out = net.forward(input, { coarse: values.coarse });
  await out.fine.read();
  const ms = performance.now() - t0;
  out.dispose();
  return ms;
}

const warm = await forward(); // pipelines compile, buffers enter the pool
const baseline = rt.memoryStats().liveBytes;
rt.resetPeak();
const times: number[] = [];
for (let r = 0; r < reps; r++) times.push(await forward());
times.sort((a, b) => a - b);
let profile: ProfileReport | null = null;
if (values.profile) {
  rt.startProfiling();
  await forward();
  profile = await rt.stopProfiling();
  console.log(formatProfile(profile));
}
const result = {
  adapter: rt.describe(),
  size,
  channels,
  coarse: values.coarse,
  reps,
  firstMs: warm,
  medianMs: median(times),
  minMs: times[0],
  weightMiB: net.weightBytes / MiB,
  peakActivationBytes: rt.memoryStats().peakBytes - baseline,
  peakActivationMiB: (rt.memoryStats().peakBytes - baseline) / MiB,
  profile,
};
console.log(`first forward ${warm.toFixed(0)} ms; median of ${reps}: ${result.medianMs.toFixed(1)} ms (min ${result.minMs.toFixed(1)}); weights ${result.weightMiB.toFixed(1)} MiB, peak activations ${result.peakActivationMiB.toFixed(1)} MiB (${result.peakActivationBytes} bytes)`);
console.log(`\n| adapter | input | ms / forward | peak activations MiB |\n| --- | --- | --- | --- |`);
console.log(`| ${rt.adapter.description || rt.adapter.device} | ${size}x${size}x${channels} | ${result.medianMs.toFixed(1)} | ${result.peakActivationMiB.toFixed(1)} |`);
if (values.json) writeFileSync(values.json, JSON.stringify(result, null, 2) + '\n');
input.dispose();
net.dispose();
rt.destroy();
