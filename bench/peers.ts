// npx tsx bench/peers.ts [--case conv3x3-256,...|kernels|networks|all] [--reps 5] [--peers ours,tfjs,ort-web,ort-node]
//                        [--cpu-threads N] [--size 128] [--iog-size 256] [--reference ../shared/reference] [--json out.json]
// This engine against its peers in ONE process on the same Dawn adapter: tfjs-webgpu,
// onnxruntime-web's WebGPU EP, and onnxruntime-node's CPU provider (the no-GPU
// reference). Kernels (bench/peer-kernels.ts) and whole networks (bench/peer-networks.ts,
// ONNX graphs exported from our loaded modules with the same weights). Every timed run
// computes and reads the output back, awaited; runs are interleaved (rep r starts at
// contender r mod n) and the table gives medians. Each peer's output is compared with
// ours (max abs difference, relative to max |ours|) so a broken peer cannot post a fast
// number: a mismatch is flagged in the table.
//
// For a machine without the repo (the GPU machine, ../shared/device/README.md): bundle it
// (tfjs's Node build calls require, hence the banner) and put ort-web's WebAssembly next
// to the bundle, where ort-web looks for it (import.meta.url); ort-node is native and is
// not bundled (leave it out with --peers ours,tfjs,ort-web where it is not installed):
//   npx esbuild bench/peers.ts --bundle --platform=node --format=esm --external:webgpu \
//     --outfile=.device-carry/peers.mjs \
//     "--banner:js=import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);"
//   cp node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.{mjs,wasm} .device-carry/
// Sizes: bundle 2.0 MB, asyncify.mjs 53 KB, asyncify.wasm 26.8 MB (3.8 MB as .xz: `xz -k`,
// then `xz -dk` on the machine before running), plus --reference (the manifests and
// *_small.safetensors, 2 MB) and the `webgpu` package.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Runtime } from '../src/runtime/runtime.ts';
import { KERNEL_CASES, kernelCase, type BenchCase, type Peers } from './peer-kernels.ts';
import { NETWORK_CASES, networkCase } from './peer-networks.ts';
import { initOrtNode, initOrtWeb, ortNodeSession, ortWebSession } from './peer-ort.ts';
import { median } from '../src/util/median.ts';

const { values } = parseArgs({
  options: {
    case: { type: 'string', default: 'all' },
    reps: { type: 'string', default: '5' },
    peers: { type: 'string', default: 'ours,tfjs,ort-web,ort-node' },
    'cpu-threads': { type: 'string' },
    size: { type: 'string', default: '128' },
    'iog-size': { type: 'string', default: '256' },
    reference: { type: 'string', default: new URL('../../shared/reference/', import.meta.url).pathname },
    json: { type: 'string' },
  },
});
const reps = Number(values.reps);
const on = new Set(values.peers!.split(','));
const ALL = [...KERNEL_CASES, ...NETWORK_CASES] as string[];
const caseIds = values.case === 'all' ? ALL : values.case === 'kernels' ? [...KERNEL_CASES] : values.case === 'networks' ? [...NETWORK_CASES] : values.case!.split(',');
for (const id of caseIds) if (!ALL.includes(id)) throw new Error(`unknown --case '${id}' (known: ${ALL.join(', ')}, kernels, networks, all)`);
for (const p of on) if (!['ours', 'tfjs', 'ort-web', 'ort-node'].includes(p)) throw new Error(`unknown peer '${p}' in --peers`);
if (!(reps >= 1)) throw new Error('--reps must be at least 1');

// Peers that install navigator.gpu go first, so that our runtime finds the same Dawn instance.
const tf = on.has('tfjs') ? await (await import('./peer-tfjs.ts')).initPeer() : null;
if (on.has('ort-web')) await initOrtWeb();
if (on.has('ort-node')) await initOrtNode(); // fails here, with the fix in the message, where the addon is missing
const rt = await Runtime.create();
const threads = values['cpu-threads'] ? Number(values['cpu-threads']) : undefined;
const peers: Peers = {
  rt,
  tf,
  ortWeb: on.has('ort-web') ? ortWebSession : null,
  ortNode: on.has('ort-node') ? (model) => ortNodeSession(model, threads) : null,
};
console.log(`adapter: ${rt.describe()}; reps ${reps}; peers ${[...on].join(', ')}`);

/** Agreement with ours: a relative max-abs error above this marks the peer's numbers as not comparable. */
const MISMATCH = 1e-2;

interface Result { case: string; gflop: number; contender: string; medianMs: number; minMs: number; gflops: number; maxAbsDiff: number | null; relDiff: number | null; offShare: number | null; times: number[] }
const results: Result[] = [];

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}
/** The largest |a - b| and the share of elements off by more than 1e-3 of `scale` (a few outliers vs. a wrong result). */
function compare(a: Float32Array, b: Float32Array, scale: number): { max: number; share: number } {
  if (a.length !== b.length) return { max: Infinity, share: 1 };
  let m = 0, off = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
    if (!(d <= 1e-3 * scale)) off++;
  }
  return { max: m, share: off / a.length };
}

async function measure(c: BenchCase): Promise<void> {
  const n = c.contenders.length;
  // The first run of each compiles its pipelines; its output is the one checked.
  const outputs: Float32Array[] = [];
  for (const k of c.contenders) outputs.push(await k.run());
  const times: number[][] = c.contenders.map(() => []);
  for (let r = 0; r < reps; r++) {
    for (let j = 0; j < n; j++) {
      const i = (r + j) % n;
      const t0 = performance.now();
      await c.contenders[i].run();
      times[i].push(performance.now() - t0);
    }
  }
  const ours = c.contenders.findIndex((k) => k.name === 'ours');
  const scale = ours >= 0 ? maxAbs(outputs[ours]) : 0;
  c.contenders.forEach((k, i) => {
    const sorted = [...times[i]].sort((a, b) => a - b);
    const medianMs = median(sorted);
    const cmp = ours >= 0 && i !== ours ? compare(outputs[ours], outputs[i], scale) : null;
    const diff = cmp ? cmp.max : null;
    const rel = diff === null ? null : diff / Math.max(scale, 1e-30);
    results.push({ case: c.name, gflop: c.gflop, contender: k.name, medianMs, minMs: sorted[0], gflops: c.gflop / (medianMs / 1000), maxAbsDiff: diff, relDiff: rel, offShare: cmp?.share ?? null, times: times[i] });
    const check = cmp === null ? '' : `, max abs diff vs ours ${diff!.toExponential(2)} (relative ${rel!.toExponential(2)}${rel! > MISMATCH ? ', MISMATCH' : ''}; ${(100 * cmp.share).toFixed(3)}% of ${outputs[i].length} values off by > 1e-3 relative)`;
    console.log(`  ${k.name}: ${medianMs.toFixed(1)} ms median (min ${sorted[0].toFixed(1)}), ${(c.gflop / (medianMs / 1000)).toFixed(2)} GFLOP/s${check}`);
  });
}

const failures: string[] = [];
const saveJson = () => {
  if (values.json) writeFileSync(values.json, JSON.stringify({ adapter: rt.describe(), reps, peers: [...on], results, failures }, null, 2) + '\n');
};
for (const id of caseIds) {
  // One case failing (a peer refusing a graph, out of memory) must not lose the others' numbers.
  try {
    const c = (KERNEL_CASES as readonly string[]).includes(id)
      ? await kernelCase(peers, id as (typeof KERNEL_CASES)[number])
      : await networkCase(peers, id as (typeof NETWORK_CASES)[number], { size: Number(values.size), iogSize: Number(values['iog-size']), reference: values.reference! });
    if (!on.has('ours')) c.contenders = c.contenders.filter((k) => k.name !== 'ours');
    console.log(`${c.name} (${c.gflop.toFixed(2)} GFLOP):`);
    await measure(c);
    for (const k of c.contenders) await k.dispose();
  } catch (e) {
    const message = `${id}: ${e instanceof Error ? e.message : String(e)}`;
    failures.push(message);
    console.log(`FAILED ${message}`);
  }
  saveJson();
}

const names = [...new Set(results.map((r) => r.contender))];
console.log(`\n| case | GFLOP | ${names.map((n) => `${n} ms (GFLOP/s)`).join(' | ')} |\n| --- | --- | ${names.map(() => '---').join(' | ')} |`);
for (const c of [...new Set(results.map((r) => r.case))]) {
  const cells = names.map((n) => {
    const r = results.find((x) => x.case === c && x.contender === n);
    if (!r) return '-';
    const flag = r.relDiff !== null && r.relDiff > MISMATCH ? ' MISMATCH' : '';
    return `${r.medianMs.toFixed(1)} (${r.gflops.toFixed(2)})${flag}`;
  });
  console.log(`| ${c} | ${results.find((x) => x.case === c)!.gflop.toFixed(2)} | ${cells.join(' | ')} |`);
}
for (const f of failures) console.log(`FAILED ${f}`);
saveJson();
rt.destroy();
process.exit(failures.length ? 1 : 0);
