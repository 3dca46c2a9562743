// npm run -s gen && tsx bench/memnet-objects.ts -- [--size 128] [--objects 1,2] [--reps 3] [--memory 2]
// Milliseconds per multi-object propagation step: per object one memorize, then
// segmentObjects (query encoder once, memory read + decoder + quality head per object),
// read back; K values interleaved rep by rep so a contended machine slows them alike.
// Weights are synth-v1 (timing does not depend on values).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readSafetensors } from '../src/io/safetensors-node.ts';
import { MemoryNetwork, type MemoryEntry } from '../src/networks/mem3d/memory-network.ts';
import { createBenchRuntime } from './bench-runtime.ts';
import { synthWeightSource, type SynthManifest } from '../src/weights/safetensors-source.ts';
import { median } from '../src/util/median.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '128' },
    objects: { type: 'string', default: '1,2' },
    reps: { type: 'string', default: '3' },
    memory: { type: 'string', default: '2' },
  },
});
const size = Number(values.size);
const counts = values.objects!.split(',').map(Number);
const reps = Number(values.reps);
const dir = new URL('../weights/qamn-synth-v1/', import.meta.url).pathname;

const rt = await createBenchRuntime();
console.log(`adapter: ${rt.describe()}`);
const manifest = JSON.parse(readFileSync(`${dir}qamn_manifest.json`, 'utf8')) as SynthManifest;
const net = MemoryNetwork.load(rt, synthWeightSource(manifest, readSafetensors(`${dir}qamn_small.safetensors`)), { variant: 'qamn' });
const frame = rt.upload([1, size, size, 3], Float32Array.from({ length: size * size * 3 }, (_, i) => Math.sin(i * 0.001)));
const K = Math.max(...counts);
// Object k: a vertical band of its own.
const masks = Array.from({ length: K }, (_, k) =>
  rt.upload([1, size, size, 1], Float32Array.from({ length: size * size }, (_, i) => (Math.floor(((i % size) * K) / size) === k ? 1 : 0))),
);
const memories: MemoryEntry[][] = masks.map((m) => Array.from({ length: Number(values.memory) - 1 }, () => net.memorize(frame, m)));

async function step(k: number): Promise<number> {
  const t0 = performance.now();
  const entries = masks.slice(0, k).map((m) => net.memorize(frame, m));
  const out = net.segmentObjects(frame, memories.slice(0, k).map((mem, j) => [...mem, entries[j]]));
  for (const o of out.objects) await (o.quality ?? o.foreground).read();
  const ms = performance.now() - t0;
  out.dispose();
  for (const e of entries) e.dispose();
  return ms;
}

const times = new Map<number, number[]>(counts.map((k) => [k, []]));
for (const k of counts) await step(k); // warm-up: pipelines compile, buffers enter the pool
for (let r = 0; r < reps; r++) for (const k of counts) times.get(k)!.push(await step(k));
const base = median(times.get(counts[0])!);
for (const k of counts) {
  const m = median(times.get(k)!);
  console.log(`K = ${k}: ${m.toFixed(0)} ms/step (median of ${reps}; all ${times.get(k)!.map((t) => t.toFixed(0)).join(', ')}), ${(m / base).toFixed(2)}x K = ${counts[0]}`);
}
for (const m of [...memories.flat(), ...masks, frame]) m.dispose();
net.dispose();
rt.destroy();
