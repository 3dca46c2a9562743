// The QAMN step with the CPU-driver conv kernel against the rule it replaced, in one
// process: steps alternate between two conv choices, each installed as the tuned
// choice of every shape class of the step: 'tiles' = narrow / medium / large by Cout
// (the fixed rule on CPU drivers before issue 16's CPU kernel), 'direct' = the CPU
// kernels' rule before the Winograd variants (cpu-p2c32, cpu-p1c16 below 256 pixels,
// direct-p2c4 for Cout <= 16) and 'rule' = today's fixed rule (defaultConv2dVariant),
// or with --cpu-variant that variant everywhere.
// Wall and process CPU time per step (lavapipe's threads run in the process; Dawn
// polls on a timer), medians. Results in bench/RESULTS.md.
//   npx tsx bench/conv2d-cpu-step.ts [--size 128] [--memory 5] [--reps 3] [--cpu-variant cpu-p2c32]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readSafetensors } from '../src/io/safetensors-node.ts';
import { MemoryNetwork, type MemoryEntry } from '../src/networks/mem3d/memory-network.ts';
import { CONV2D_VARIANTS, CPU_CONV_SMALL_M, defaultConv2dVariant, installConv2dChoices, untunedConv2dShapes, type Conv2dVariantName } from '../src/ops/conv2d-variants.ts';
import { synthWeightSource, type SynthManifest } from '../src/weights/safetensors-source.ts';
import { createBenchRuntime } from './bench-runtime.ts';
import { median } from '../src/util/median.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '128' },
    memory: { type: 'string', default: '5' },
    reps: { type: 'string', default: '3' },
    'cpu-variant': { type: 'string' },
    reference: { type: 'string', default: new URL('../../shared/reference/', import.meta.url).pathname },
  },
});
const size = Number(values.size);
const reps = Number(values.reps);
const cpuVariant = values['cpu-variant'] as Conv2dVariantName | undefined;
if (cpuVariant && !['cpu', 'winograd'].includes(CONV2D_VARIANTS[cpuVariant]?.kind)) throw new RangeError(`--cpu-variant: '${cpuVariant}' is not a CPU conv variant`);

const rt = await createBenchRuntime();
console.log(`adapter: ${rt.describe()}`);
const manifest = JSON.parse(readFileSync(`${values.reference}/qamn_manifest.json`, 'utf8')) as SynthManifest;
const beforeLoad = rt.memoryStats().liveBytes;
const net = MemoryNetwork.load(rt, synthWeightSource(manifest, readSafetensors(`${values.reference}/qamn_small.safetensors`)), { variant: 'qamn' });
const weightBytes = rt.memoryStats().liveBytes - beforeLoad;
const frame = rt.upload([1, size, size, 3], Float32Array.from({ length: size * size * 3 }, (_, i) => Math.sin(i * 0.001)));
const mask = rt.upload([1, size, size, 1], Float32Array.from({ length: size * size }, (_, i) => (i % size > size / 3 && i % size < size / 2 ? 1 : 0)));
const memory: MemoryEntry[] = [];
for (let i = 0; i < Number(values.memory) - 1; i++) memory.push(net.memorize(frame, mask));
await rt.sync();

async function step(): Promise<[number, number]> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const entry = net.memorize(frame, mask);
  const out = net.segment(frame, [...memory, entry]);
  await (out.quality ?? out.probability).read();
  const c = process.cpuUsage(c0);
  out.dispose();
  entry.dispose();
  return [performance.now() - t0, (c.user + c.system) / 1000];
}

// The first step (fixed rule) records the step's shape classes and compiles its pipelines.
await step();
const shapes = [...untunedConv2dShapes(rt)];
const tiles = (cout: number): Conv2dVariantName => (cout <= 16 ? 'narrow' : cout <= 64 ? 'medium' : 'large');
const direct = (cout: number, m: number): Conv2dVariantName => (cout <= 16 ? 'direct-p2c4' : m < CPU_CONV_SMALL_M ? 'cpu-p1c16' : 'cpu-p2c32');
const rules: Record<string, Map<string, Conv2dVariantName>> = {
  tiles: new Map(shapes.map(([cls, s]) => [cls, tiles(s.Cout)])),
  direct: new Map(shapes.map(([cls, s]) => [cls, direct(s.Cout, s.M)])),
  rule: new Map(shapes.map(([cls, s]) => [cls, cpuVariant ?? defaultConv2dVariant(rt, s)])),
};
console.log(`${shapes.length} conv shape classes; QAMN ${size}x${size}, ${values.memory} memory frames`);
const times: Record<string, [number, number][]> = { tiles: [], direct: [], rule: [] };
for (const name of Object.keys(rules)) {
  installConv2dChoices(rt, rules[name]);
  await step(); // compiles this rule's pipelines
}
for (let r = 0; r < reps; r++) {
  for (const name of Object.keys(rules)) {
    installConv2dChoices(rt, rules[name]);
    times[name].push(await step());
  }
}
for (const name of Object.keys(rules)) {
  const wall = median(times[name].map((t) => t[0]));
  const cpu = median(times[name].map((t) => t[1]));
  console.log(`${name.padEnd(6)} step wall ${wall.toFixed(0).padStart(7)} ms (${times[name].map((t) => t[0].toFixed(0)).join(', ')})   CPU ${cpu.toFixed(0).padStart(7)} ms (${times[name].map((t) => t[1].toFixed(0)).join(', ')})`);
}
const ratio = (from: string, i: 0 | 1) => median(times[from].map((t) => t[i])) / median(times.rule.map((t) => t[i]));
for (const from of ['tiles', 'direct']) console.log(`${from} / ${cpuVariant ?? 'rule'}: wall ${ratio(from, 0).toFixed(2)}x, CPU ${ratio(from, 1).toFixed(2)}x`);
console.log(`rule: ${[...new Set(rules.rule.values())].join(', ')}`);
for (const m of memory) m.dispose();
const beforeDispose = rt.memoryStats().liveBytes;
net.dispose();
// What disposing the network frees beyond its weights: the Winograd weights derived on the way.
const mib = (b: number) => (b / 2 ** 20).toFixed(1);
console.log(`weights ${mib(weightBytes)} MiB; Winograd weights derived by the steps ${mib(beforeDispose - rt.memoryStats().liveBytes - weightBytes)} MiB`);
rt.destroy();
process.exit(0);
