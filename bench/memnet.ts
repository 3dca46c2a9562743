// npm run bench:memnet -- [--size 512] [--memory 1,5,20] [--batch 1,2] [--reps 3] [--variant qamn] [--json out.json]
// Milliseconds per propagation step (memorize + segment + quality head, read back)
// with a memory of N slices, and GPU memory for weights and peak activations, on
// this machine's adapter. Weights are synth-v1 (timing does not depend on values).
// --batch B: steps of B slices at once (memorizeBatch + segmentBatch, each slice reading
// its own memory of N entries), as a session with B lanes runs them; also ms per slice.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readSafetensors } from '../src/io/safetensors-node.ts';
import { MemoryNetwork, type MemoryEntry, type Variant } from '../src/networks/mem3d/memory-network.ts';
import { createBenchRuntime } from './bench-runtime.ts';
import { synthWeightSource, type SynthManifest } from '../src/weights/safetensors-source.ts';
import { median } from '../src/util/median.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '512' },
    memory: { type: 'string', default: '1,5,20' },
    batch: { type: 'string', default: '1' },
    reps: { type: 'string', default: '3' },
    variant: { type: 'string', default: 'qamn' },
    reference: { type: 'string', default: new URL('../../shared/reference/', import.meta.url).pathname },
    json: { type: 'string' },
  },
});
const size = Number(values.size);
const memorySizes = values.memory!.split(',').map(Number);
const batches = values.batch!.split(',').map(Number);
if (!batches.every((b) => Number.isInteger(b) && b >= 1)) throw new RangeError(`memnet: --batch is a list of positive integers, not '${values.batch}'`);
const reps = Number(values.reps);
const variant = values.variant as Variant;
const MiB = 1024 * 1024;

const rt = await createBenchRuntime();
console.log(`adapter: ${rt.describe()}`);
const manifest = JSON.parse(readFileSync(`${values.reference}/${variant}_manifest.json`, 'utf8')) as SynthManifest;
const net = MemoryNetwork.load(rt, synthWeightSource(manifest, readSafetensors(`${values.reference}/${variant}_small.safetensors`)), { variant });
const frameData = Float32Array.from({ length: size * size * 3 }, (_, i) => Math.sin(i * 0.001));
const maskData = Float32Array.from({ length: size * size }, (_, i) => (i % size > size / 3 && i % size < size / 2 ? 1 : 0));
const repeat = (data: Float32Array, b: number) => {
  const out = new Float32Array(data.length * b);
  for (let i = 0; i < b; i++) out.set(data, i * data.length);
  return out;
};
const frame = rt.upload([1, size, size, 3], frameData);
const mask = rt.upload([1, size, size, 1], maskData);
// Every batch's input uploaded once, outside the timing, as the one-slice frame is: a step
// of two times the network alone too, not a host copy and an 8 MB upload more (512x512).
const inputs = new Map(batches.map((b) => [b, b === 1 ? { frames: frame, masks: mask } : { frames: rt.upload([b, size, size, 3], repeat(frameData, b)), masks: rt.upload([b, size, size, 1], repeat(maskData, b)) }]));

async function step(memory: MemoryEntry[], b: number): Promise<number> {
  const { frames, masks } = inputs.get(b)!;
  const t0 = performance.now();
  const ms = await rt.scope(async () => {
    const entries = net.memorizeBatch(frames, masks);
    const out = net.segmentBatch(frames, entries.map((e) => [...memory, e]));
    await (out.quality ?? out.probability).read();
    const ms = performance.now() - t0;
    out.dispose();
    for (const e of entries) e.dispose();
    return ms;
  });
  return ms;
}

const rows: { memory: number; batch: number; msPerStep: number; msPerSlice: number; minMs: number; peakActivationBytes: number; peakActivationMiB: number }[] = [];
const memory: MemoryEntry[] = [];
const result = { adapter: rt.describe(), variant, size, reps, weightMiB: net.weightBytes / MiB, rows };
const save = () => values.json && writeFileSync(values.json, JSON.stringify(result, null, 2) + '\n');
for (const n of memorySizes) {
  while (memory.length < n - 1) memory.push(net.memorize(frame, mask));
  for (const b of batches) {
    await step(memory, b); // warm-up: pipelines compile, buffers enter the pool
    const baseline = rt.memoryStats().liveBytes;
    rt.resetPeak();
    const times: number[] = [];
    for (let r = 0; r < reps; r++) times.push(await step(memory, b));
    times.sort((a, b) => a - b);
    const peakActivationBytes = rt.memoryStats().peakBytes - baseline;
    const msPerStep = median(times);
    const row = { memory: n, batch: b, msPerStep, msPerSlice: msPerStep / b, minMs: times[0], peakActivationBytes, peakActivationMiB: peakActivationBytes / MiB };
    rows.push(row);
    save(); // after every row: a run cut off by its time limit keeps the rows it finished
    console.log(`memory ${n}, batch ${b}: ${row.msPerStep.toFixed(1)} ms/step (min ${row.minMs.toFixed(1)}), ${row.msPerSlice.toFixed(1)} ms/slice, peak activations ${row.peakActivationMiB.toFixed(1)} MiB (${peakActivationBytes} bytes)`);
  }
}
console.log(`weights on the GPU: ${result.weightMiB.toFixed(1)} MiB`);
console.log(`\n| adapter | variant | frame | memory | batch | ms / step | ms / slice | peak activations MiB |\n| --- | --- | --- | --- | --- | --- | --- | --- |`);
for (const r of rows) console.log(`| ${rt.adapter.description || rt.adapter.device} | ${variant} | ${size} | ${r.memory} | ${r.batch} | ${r.msPerStep.toFixed(1)} | ${r.msPerSlice.toFixed(1)} | ${r.peakActivationMiB.toFixed(1)} |`);
for (const m of memory) m.dispose();
net.dispose();
rt.destroy();
