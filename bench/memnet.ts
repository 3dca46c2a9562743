// npm run bench:memnet -- [--size 512] [--memory 1,5,20] [--reps 3] [--variant qamn] [--json out.json]
// Milliseconds per propagation step (memorize + segment + quality head, read back)
// with a memory of N slices, and GPU memory for weights and peak activations, on
// this machine's adapter. Weights are synth-v1 (timing does not depend on values).
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readSafetensors } from '../src/io/safetensors-node.ts';
import { MemoryNetwork, type MemoryEntry, type Variant } from '../src/networks/mem3d/memory-network.ts';
import { createBenchRuntime } from './bench-runtime.ts';
import { synthWeightSource, type SynthManifest } from '../src/weights/safetensors-source.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '512' },
    memory: { type: 'string', default: '1,5,20' },
    reps: { type: 'string', default: '3' },
    variant: { type: 'string', default: 'qamn' },
    reference: { type: 'string', default: new URL('../../shared/reference/', import.meta.url).pathname },
    json: { type: 'string' },
  },
});
const size = Number(values.size);
const memorySizes = values.memory!.split(',').map(Number);
const reps = Number(values.reps);
const variant = values.variant as Variant;
const MiB = 1024 * 1024;

const rt = await createBenchRuntime();
console.log(`adapter: ${rt.describe()}`);
const manifest = JSON.parse(readFileSync(`${values.reference}/${variant}_manifest.json`, 'utf8')) as SynthManifest;
const net = MemoryNetwork.load(rt, synthWeightSource(manifest, readSafetensors(`${values.reference}/${variant}_small.safetensors`)), { variant });
const frame = rt.upload([1, size, size, 3], Float32Array.from({ length: size * size * 3 }, (_, i) => Math.sin(i * 0.001)));
const mask = rt.upload([1, size, size, 1], Float32Array.from({ length: size * size }, (_, i) => (i % size > size / 3 && i % size < size / 2 ? 1 : 0)));

async function step(memory: MemoryEntry[]): Promise<number> {
  const t0 = performance.now();
  const entry = net.memorize(frame, mask);
  const out = net.segment(frame, [...memory, entry]);
  await (out.quality ?? out.probability).read();
  const ms = performance.now() - t0;
  out.dispose();
  entry.dispose();
  return ms;
}

const rows: { memory: number; msPerStep: number; minMs: number; peakActivationBytes: number; peakActivationMiB: number }[] = [];
const memory: MemoryEntry[] = [];
for (const n of memorySizes) {
  while (memory.length < n - 1) memory.push(net.memorize(frame, mask));
  await step(memory); // warm-up: pipelines compile, buffers enter the pool
  const baseline = rt.memoryStats().liveBytes;
  rt.resetPeak();
  const times: number[] = [];
  for (let r = 0; r < reps; r++) times.push(await step(memory));
  times.sort((a, b) => a - b);
  const peakActivationBytes = rt.memoryStats().peakBytes - baseline;
  const row = { memory: n, msPerStep: times[Math.floor(times.length / 2)], minMs: times[0], peakActivationBytes, peakActivationMiB: peakActivationBytes / MiB };
  rows.push(row);
  console.log(`memory ${n}: ${row.msPerStep.toFixed(1)} ms/step (min ${row.minMs.toFixed(1)}), peak activations ${row.peakActivationMiB.toFixed(1)} MiB (${peakActivationBytes} bytes)`);
}
const result = { adapter: rt.describe(), variant, size, reps, weightMiB: net.weightBytes / MiB, rows };
console.log(`weights on the GPU: ${result.weightMiB.toFixed(1)} MiB`);
console.log(`\n| adapter | variant | frame | memory | ms / step | peak activations MiB |\n| --- | --- | --- | --- | --- | --- |`);
for (const r of rows) console.log(`| ${rt.adapter.description || rt.adapter.device} | ${variant} | ${size} | ${r.memory} | ${r.msPerStep.toFixed(1)} | ${r.peakActivationMiB.toFixed(1)} |`);
if (values.json) writeFileSync(values.json, JSON.stringify(result, null, 2) + '\n');
for (const m of memory) m.dispose();
net.dispose();
rt.destroy();
