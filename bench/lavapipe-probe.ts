// What lavapipe (llvmpipe) charges for in a compute shader: the FMA roofline of its
// SIMD lanes and the extra cost of per-lane loads, merged loads, dynamically uniform
// loads and subgroup broadcasts (bench/lavapipe_probe.wgsl), in process CPU time
// (lavapipe's threads run in the process; Dawn polls on a timer), medians of
// interleaved runs. Explains the shape of kernels/conv2d_cpu.wgsl; bench/RESULTS.md.
//   npx tsx bench/lavapipe-probe.ts [--n 20000] [--reps 3]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { registerKernel } from '../src/runtime/kernels.ts';
import { createBenchRuntime } from './bench-runtime.ts';
import { median } from '../src/util/median.ts';

const { values } = parseArgs({ options: { n: { type: 'string', default: '20000' }, reps: { type: 'string', default: '3' } } });
const n = Number(values.n);
const reps = Number(values.reps);
registerKernel('lavapipe_probe', readFileSync(new URL('./lavapipe_probe.wgsl', import.meta.url), 'utf8'));
const rt = await createBenchRuntime();
console.log(`adapter: ${rt.describe()}`);
const WG = 64;
const groups = 256;
const len = 1 << 18;
const src = rt.upload([len * 4], Float32Array.from({ length: len * 4 }, (_, i) => (i % 7) * 0.01));
const out = rt.empty([groups * WG * 4]);
const KINDS = ['FMA only', '+ per-lane vec4 load', '+ 4 adjacent per-lane vec4 loads', '+ same-address vec4 load', '+ 16 subgroupBroadcasts'];
const cpu = KINDS.map((): number[] => []);
for (let r = 0; r <= reps; r++) {
  for (let k = 0; k < KINDS.length; k++) {
    const c0 = process.cpuUsage();
    rt.dispatch({ kernel: 'lavapipe_probe', constants: { KIND: k, WG }, bindings: [src, out], uniforms: { n, mask: len - 1 }, workgroups: [groups] });
    await out.read();
    const c = process.cpuUsage(c0);
    if (r > 0) cpu[k].push((c.user + c.system) / 1000); // run 0 compiles
  }
}
const chunks = (groups * WG * n) / 8; // iterations of 8-lane SIMD chunks
const fmaFlop = groups * WG * n * 16 * 4 * 2;
const base = median(cpu[0]);
for (let k = 0; k < KINDS.length; k++) {
  const ms = median(cpu[k]);
  const extra = ((ms - base) * 1e6) / chunks;
  console.log(`${KINDS[k].padEnd(36)} CPU ${ms.toFixed(0).padStart(6)} ms  ${(fmaFlop / ms / 1e6).toFixed(1).padStart(6)} GFLOP/cpu-s` + (k ? `  extra ${extra.toFixed(1)} ns per 8-lane chunk (= ${(extra / ((base * 1e6) / chunks / 16)).toFixed(0)} vec4 FMAs)` : ''));
}
rt.destroy();
process.exit(0);
