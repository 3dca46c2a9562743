// One memory-network propagation step (memorize + segment + quality head, read back)
// timed cold and warm, with the issue-16 machinery: --profile prints per-kernel and
// per-module GPU time from timestamp queries (and --json writes it), --pipelines FILE
// warms the pipelines recorded by an earlier run before the first step (and records
// this run's), --warm records the step with dispatching off and compiles all its
// pipelines in parallel before running it (rt.warmupFrom), --autotune times conv2d variants for the shapes met in the first step
// (cached per adapter in ~/.cache/mem3d-webgpu/autotune.json) before the later steps.
//   npx tsx bench/step-profile.ts [--size 128] [--reps 2] [--profile] [--json out.json]
//                                 [--pipelines ~/.cache/mem3d-webgpu/pipelines-qamn.json] [--warm] [--autotune]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readSafetensors } from '../src/io/safetensors-node.ts';
import { MemoryNetwork, type MemoryEntry } from '../src/networks/mem3d/memory-network.ts';
import { autotuneConv2d, loadConv2dChoices } from '../src/ops/conv2d-autotune.ts';
import { fileTuningStore } from '../src/runtime/autotune-node.ts';
import type { PipelineSpec } from '../src/runtime/pipelines.ts';
import { formatProfile } from '../src/runtime/profiler.ts';
import { createBenchRuntime } from './bench-runtime.ts';
import { synthWeightSource, type SynthManifest } from '../src/weights/safetensors-source.ts';
import { median } from '../src/util/median.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '128' },
    reps: { type: 'string', default: '2' },
    memory: { type: 'string', default: '1' },
    warm: { type: 'boolean' },
    profile: { type: 'boolean' },
    json: { type: 'string' },
    pipelines: { type: 'string' },
    autotune: { type: 'boolean' },
    reference: { type: 'string', default: new URL('../../shared/reference/', import.meta.url).pathname },
  },
});
const size = Number(values.size);
const reps = Number(values.reps);
const rt = await createBenchRuntime();
console.log(`adapter: ${rt.describe()}`);
const store = fileTuningStore();
if (values.autotune) console.log(`conv2d choices loaded from the tuning cache: ${await loadConv2dChoices(rt, store)}`);

const t0 = performance.now();
const manifest = JSON.parse(readFileSync(`${values.reference}/qamn_manifest.json`, 'utf8')) as SynthManifest;
const net = MemoryNetwork.load(rt, synthWeightSource(manifest, readSafetensors(`${values.reference}/qamn_small.safetensors`)), { variant: 'qamn' });
await rt.sync(); // the weights' writeBuffer copies run at the next submit: count them in the load
const loadMs = performance.now() - t0;
let warmMs = 0;
if (values.pipelines && existsSync(values.pipelines)) {
  const specs = JSON.parse(readFileSync(values.pipelines, 'utf8')) as PipelineSpec[];
  const w0 = performance.now();
  await rt.warmup(specs);
  warmMs = performance.now() - w0;
  console.log(`warmed ${specs.length} pipelines in ${warmMs.toFixed(0)} ms (createComputePipelineAsync, in parallel)`);
}
const frame = rt.upload([1, size, size, 3], Float32Array.from({ length: size * size * 3 }, (_, i) => Math.sin(i * 0.001)));
const mask = rt.upload([1, size, size, 1], Float32Array.from({ length: size * size }, (_, i) => (i % size > size / 3 && i % size < size / 2 ? 1 : 0)));
const memory: MemoryEntry[] = [];
for (let i = 0; i < Number(values.memory) - 1; i++) memory.push(net.memorize(frame, mask));

if (values.warm) {
  const w0 = performance.now();
  const n = await rt.warmupFrom(() => net.segment(frame, [net.memorize(frame, mask)]));
  warmMs += performance.now() - w0;
  console.log(`warmupFrom: ${n} pipelines of one step compiled in parallel in ${(performance.now() - w0).toFixed(0)} ms`);
}

// Process CPU time of each step too (lavapipe's threads run in this process): on a
// shared machine it tracks the work done where wall time tracks the neighbours.
const cpuMs: number[] = [];
async function step(): Promise<number> {
  const s0 = performance.now();
  const c0 = process.cpuUsage();
  const entry = net.memorize(frame, mask);
  const out = net.segment(frame, [...memory, entry]);
  await (out.quality ?? out.probability).read();
  const ms = performance.now() - s0;
  const c = process.cpuUsage(c0);
  cpuMs.push((c.user + c.system) / 1000);
  out.dispose();
  entry.dispose();
  return ms;
}

const cold0 = rt.pipelines.coldCompiles;
const first = await step();
console.log(`load ${loadMs.toFixed(0)} ms; first step ${first.toFixed(0)} ms, CPU ${cpuMs[0].toFixed(0)} ms (${rt.pipelines.coldCompiles - cold0} pipelines compiled during it)`);
if (values.pipelines) writeFileSync(values.pipelines, JSON.stringify(rt.pipelines.specs(), null, 1) + '\n');
if (values.autotune) {
  const r = await autotuneConv2d(rt, { store, reps: 1, onProgress: (m) => console.log(`  tuned ${m}`) });
  console.log(`autotune: ${r.timed.size} shape classes timed, ${r.skipped.length} left to the fixed rule`);
}
const times: number[] = [];
for (let r = 0; r < reps; r++) times.push(await step());
const later = median(times);
const laterCpu = [...cpuMs.slice(1, 1 + reps)].sort((a, b) => a - b)[Math.floor(reps / 2)];
console.log(`later steps: median ${later.toFixed(0)} ms, CPU ${laterCpu.toFixed(0)} ms of ${reps} (${times.map((t) => t.toFixed(0)).join(', ')}); first / later = ${(first / later).toFixed(2)} wall, ${(cpuMs[0] / laterCpu).toFixed(2)} CPU`);

let profile = null;
if (values.profile) {
  rt.startProfiling();
  await step();
  profile = await rt.stopProfiling();
  console.log(formatProfile(profile));
}
if (values.json) writeFileSync(values.json, JSON.stringify({ adapter: rt.describe(), size, loadMs, warmMs, firstMs: first, laterMs: times, cpuMs: cpuMs.slice(0, 1 + reps), profile }, null, 2) + '\n');
for (const m of memory) m.dispose();
net.dispose();
rt.destroy();
process.exit(0);
