// f32 against f16 conv weights (issue 16) in one process, interleaved, medians:
// the 3x3 256->256 conv at 64x64 (GFLOP/s) and one QAMN propagation step
// (memorize + segment + quality head, read back), plus the GPU weight bytes of QAMN
// and IOG in both precisions. Wall and process CPU time per run (lavapipe's threads
// run in this process, so CPU time tracks the work when the machine is shared).
//   npx tsx bench/weights-precision.ts [--size 128] [--reps 3] [--conv-reps 5] [--no-step]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readSafetensors } from '../src/io/safetensors-node.ts';
import { IOGNetwork } from '../src/networks/iog/network.ts';
import { MemoryNetwork } from '../src/networks/mem3d/memory-network.ts';
import { conv2d, prepareConv2d, type WeightPrecision } from '../src/ops/conv2d.ts';
import { createBenchRuntime } from './bench-runtime.ts';
import { synthWeightSource, type SynthManifest } from '../src/weights/safetensors-source.ts';
import { median } from '../src/util/median.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '128' },
    reps: { type: 'string', default: '3' },
    'conv-reps': { type: 'string', default: '5' },
    'no-step': { type: 'boolean' },
    reference: { type: 'string', default: new URL('../../shared/reference/', import.meta.url).pathname },
  },
});
const size = Number(values.size);
const PRECISIONS: WeightPrecision[] = ['f32', 'f16'];
const MiB = 2 ** 20;

const rt = await createBenchRuntime();
console.log(`adapter: ${rt.describe()}`);
const ref = values.reference;
const source = (model: string) => {
  const manifest = JSON.parse(readFileSync(`${ref}/${model}_manifest.json`, 'utf8')) as SynthManifest;
  return synthWeightSource(manifest, readSafetensors(`${ref}/${model}_small.safetensors`));
};

async function timed(fn: () => Promise<void>): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  return { wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 };
}

function report(what: string, runs: Map<WeightPrecision, { wall: number; cpu: number }[]>, gflop?: number): void {
  const row = (p: WeightPrecision) => {
    const r = runs.get(p)!;
    const wall = median(r.map((x) => x.wall));
    const cpu = median(r.map((x) => x.cpu));
    const rate = gflop ? `, ${(gflop / (wall / 1000)).toFixed(2)} GFLOP/s wall, ${(gflop / (cpu / 1000)).toFixed(2)} GFLOP per CPU-s` : '';
    return { wall, cpu, text: `${p}: wall ${wall.toFixed(0)} ms, CPU ${cpu.toFixed(0)} ms${rate} (runs: ${r.map((x) => x.wall.toFixed(0)).join(', ')} ms)` };
  };
  const [a, b] = PRECISIONS.map(row);
  console.log(`${what}\n  ${a.text}\n  ${b.text}\n  f16 / f32: wall ${(b.wall / a.wall).toFixed(2)}, CPU ${(b.cpu / a.cpu).toFixed(2)}`);
}

// ---- weight bytes ----------------------------------------------------------------
for (const [name, load] of [
  ['QAMN', (p: WeightPrecision) => MemoryNetwork.load(rt, source('qamn'), { variant: 'qamn', weightPrecision: p })],
  ['IOG', (p: WeightPrecision) => IOGNetwork.load(rt, source('iog'), { weightPrecision: p })],
] as const) {
  const bytes = PRECISIONS.map((p) => {
    const net = load(p);
    const b = net.weightBytes;
    net.dispose();
    return b;
  });
  await rt.sync();
  console.log(`${name} weights on the GPU: f32 ${(bytes[0] / MiB).toFixed(1)} MiB, f16 ${(bytes[1] / MiB).toFixed(1)} MiB (${(bytes[1] / bytes[0]).toFixed(3)})`);
}

// ---- conv 3x3 256->256 @64 -------------------------------------------------------
{
  const [C, S, K] = [256, 64, 3];
  const gflop = (2 * S * S * C * C * K * K) / 1e9;
  const rand = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.5);
  const wData = rand(C * C * K * K, 2);
  const weights = new Map(PRECISIONS.map((p) => [p, prepareConv2d(rt, { weight: wData, shape: [C, C, K, K], label: `bench ${p}` }, p)]));
  const x = rt.upload([1, S, S, C], rand(S * S * C, 1), 'f32', 'bench x');
  const runs = new Map(PRECISIONS.map((p) => [p, [] as { wall: number; cpu: number }[]]));
  const once = (p: WeightPrecision) => timed(async () => {
    const y = conv2d(rt, x, weights.get(p)!, { padding: 1 });
    await y.read();
    y.dispose();
  });
  for (const p of PRECISIONS) await once(p); // compile
  for (let r = 0; r < Number(values['conv-reps']); r++) for (const p of PRECISIONS) runs.get(p)!.push(await once(p));
  report(`conv ${K}x${K} ${C}->${C} @${S} (${gflop.toFixed(2)} GFLOP), median of ${values['conv-reps']}:`, runs, gflop);
  x.dispose();
  for (const w of weights.values()) w.dispose();
}

// ---- QAMN step -------------------------------------------------------------------
if (!values['no-step']) {
  const nets = new Map(PRECISIONS.map((p) => [p, MemoryNetwork.load(rt, source('qamn'), { variant: 'qamn', weightPrecision: p })]));
  await rt.sync();
  const frame = rt.upload([1, size, size, 3], Float32Array.from({ length: size * size * 3 }, (_, i) => Math.sin(i * 0.001)));
  const mask = rt.upload([1, size, size, 1], Float32Array.from({ length: size * size }, (_, i) => (i % size > size / 3 && i % size < size / 2 ? 1 : 0)));
  const runs = new Map(PRECISIONS.map((p) => [p, [] as { wall: number; cpu: number }[]]));
  const probabilities = new Map<WeightPrecision, Float32Array>();
  const once = (p: WeightPrecision) => timed(async () => {
    const net = nets.get(p)!;
    const entry = net.memorize(frame, mask);
    const out = net.segment(frame, [entry]);
    await (out.quality ?? out.probability).read();
    probabilities.set(p, Float32Array.from(await out.probability.read()));
    out.dispose();
    entry.dispose();
  });
  for (const p of PRECISIONS) await once(p); // compile
  for (let r = 0; r < Number(values.reps); r++) for (const p of PRECISIONS) runs.get(p)!.push(await once(p));
  report(`QAMN step ${size}x${size}, 1 memory frame, median of ${values.reps}:`, runs);
  const [a, b] = PRECISIONS.map((p) => probabilities.get(p)!);
  const flipped = a.reduce((n, v, i) => n + Number(v > 0.5 !== b[i] > 0.5), 0);
  console.log(`  max |ps(f16) - ps(f32)| = ${Math.max(...a.map((v, i) => Math.abs(v - b[i]))).toExponential(2)}, pixels on the other side of 0.5: ${flipped} of ${a.length}`);
  frame.dispose();
  mask.dispose();
  for (const n of nets.values()) n.dispose();
}
rt.destroy();
