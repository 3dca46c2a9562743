// Times every conv2d variant (src/ops/conv2d-variants.ts) on network-sized layers:
// first call (pipeline compile + run) and the median of interleaved later runs, in
// GFLOP/s, each awaited to completion. On a CPU adapter the process's CPU time
// (lavapipe's threads run in it) is reported too: on a shared machine it measures
// the work a variant needs where wall time measures the neighbours. What the fixed rule and the autotuner choose
// from; results in bench/RESULTS.md. GFLOP are always the direct conv's 2 * multiply-adds,
// also for the Winograd variants (which do 2.25x fewer): rates compare time for the same layer.
// Variants that cannot run a layer (Winograd on 1x1) are left out of its table.
//   npx tsx bench/conv2d-variants.ts [--reps 3] [--layers 0,1] [--variants direct-p2c8,large]
import { parseArgs } from 'node:util';
import { CONV2D_VARIANTS, conv2d, defaultConv2dVariant, prepareConv2d, winogradVariantIneligible, type Conv2dVariantName } from '../src/ops/conv2d.ts';
import { createBenchRuntime } from './bench-runtime.ts';
import { median } from '../src/util/median.ts';

const { values } = parseArgs({ options: { reps: { type: 'string', default: '3' }, layers: { type: 'string' }, variants: { type: 'string' } } });
const reps = Number(values.reps);
const LAYERS = [
  { name: '3x3 256->256 @64', h: 64, w: 64, cin: 256, cout: 256, k: 3 },
  { name: '1x1 1024->256 @32', h: 32, w: 32, cin: 1024, cout: 256, k: 1 },
  { name: '3x3 64->64 @128', h: 128, w: 128, cin: 64, cout: 64, k: 3 },
  { name: '3x3 1026->256 @32 (quality conv1, Cin % 4 = 2)', h: 32, w: 32, cin: 1026, cout: 256, k: 3 },
  { name: '3x3 256->2 @32 (head)', h: 32, w: 32, cin: 256, cout: 2, k: 3 },
  { name: '3x3 512->256 @8 (small M)', h: 8, w: 8, cin: 512, cout: 256, k: 3 },
  { name: '3x3 256->256 @16 (M 256)', h: 16, w: 16, cin: 256, cout: 256, k: 3 },
  { name: '3x3 1024->256 @32 dilation 2 (QAMN ASPP at 512)', h: 32, w: 32, cin: 1024, cout: 256, k: 3, dil: 2 },
  { name: '3x3 1024->256 @32 dilation 8 (QAMN ASPP at 512)', h: 32, w: 32, cin: 1024, cout: 256, k: 3, dil: 8 },
];
const layers = values.layers ? values.layers.split(',').map((i) => LAYERS[Number(i)]) : LAYERS;
const allNames = (values.variants ? values.variants.split(',') : Object.keys(CONV2D_VARIANTS)) as Conv2dVariantName[];
const rt = await createBenchRuntime();
console.log(`adapter: ${rt.describe()}`);
const rand = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.5);

for (const l of layers) {
  const dil = l.dil ?? 1;
  const names = allNames.filter((v) => !winogradVariantIneligible(rt, CONV2D_VARIANTS[v], { KH: l.k, KW: l.k, stride: [1, 1] }));
  const flop = 2 * l.h * l.w * l.cout * l.cin * l.k * l.k;
  const w = prepareConv2d(rt, { weight: rand(l.cout * l.cin * l.k * l.k, 2), shape: [l.cout, l.cin, l.k, l.k] });
  const x = rt.upload([1, l.h, l.w, l.cin], rand(l.h * l.w * l.cin, 1));
  const cpu = new Map<Conv2dVariantName, number[]>(names.map((v) => [v, []]));
  const run = async (variant: Conv2dVariantName): Promise<number> => {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const y = conv2d(rt, x, w, { padding: (dil * (l.k - 1)) / 2, dilation: dil, variant });
    await y.read();
    const c = process.cpuUsage(c0);
    cpu.get(variant)!.push((c.user + c.system) / 1000);
    y.dispose();
    return performance.now() - t0;
  };
  const first = new Map<Conv2dVariantName, number>();
  for (const v of names) first.set(v, await run(v));
  for (const v of names) cpu.get(v)!.length = 0;
  const times = new Map<Conv2dVariantName, number[]>(names.map((v) => [v, []]));
  for (let r = 0; r < reps; r++) for (const v of names) times.get(v)!.push(await run(v));
  const def = defaultConv2dVariant(rt, { KH: l.k, KW: l.k, M: l.h * l.w, Cin: l.cin, Cout: l.cout });
  console.log(`\n${l.name} (${(flop / 1e9).toFixed(2)} GFLOP), fixed rule picks ${def}`);
  for (const v of names) {
    const t = median(times.get(v)!);
    const c = median(cpu.get(v)!);
    console.log(`  ${v.padEnd(14)} first ${first.get(v)!.toFixed(0).padStart(7)} ms   median ${t.toFixed(0).padStart(7)} ms  ${(flop / t / 1e6).toFixed(2).padStart(6)} GFLOP/s   cpu ${c.toFixed(0).padStart(7)} ms  ${(flop / c / 1e6).toFixed(2).padStart(6)} GFLOP/cpu-s`);
  }
  x.dispose();
  w.dispose();
}
rt.destroy();
process.exit(0);
