// The memory read's kernels (flat, subgroup, split or not, each tile set) and every
// conv2d variant (tiled, direct, and the discrete-GPU gpu-* with split-K) on
// network-sized shapes at 512x512, in one process on one adapter, interleaved: GFLOP/s
// per dispatch from wall time (a batch of dispatches per sync, sized to about
// BATCH_MS, so submit and readback overheads vanish on a fast GPU), and from
// timestamp queries (GPU time of the kernels alone) where the adapter has them. No
// peers and no files: it bundles with esbuild for a GPU machine (bench/device/). Each
// variant's output is also read back once and compared with the case's first variant
// (max |difference| / max |first|): a cross-check of the kernels on an adapter the
// tests never ran on.
//   npx tsx bench/gpu-kernels.ts [--only memory|conv] [--reps 5] [--cases 0,3] [--layers 0,4]
//     [--mr-variants flat,subgroup:s1,subgroup:q16c16] [--conv-variants large,gpu-128x128] [--json out.json]
// Memory-read variant syntax: path[:tileSet][:sN] (path flat|subgroup; tile sets in
// MEMORY_READ_TILE_SETS; sN forces N memory splits, s1 none; default the rule), or gemm
// (memory-read-gemm.ts: the two products on the conv2d kernels, matrix units included).
// Conv variants: names in CONV2D_VARIANTS (Winograd ones on the 3x3 layers only); a gpu-* or mma* name with ':nosplit' runs it without split-K,
// an mma* name with ':nopad' with unpadded tile rows in workgroup memory (MMA_ROW_PAD);
// the mma* tiles (matrix units, f16 operands) with MEM3D_TENSOR_CORES=1.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createBenchRuntime } from './bench-runtime.ts';
import { CONV2D_VARIANTS, conv2d, defaultConv2dVariant, prepareConv2d, winogradVariantIneligible, type Conv2dVariant, type Conv2dVariantName } from '../src/ops/conv2d.ts';
import { MMA_MIN_COUT } from '../src/ops/conv2d-variants.ts';
import { conv2dGpuSplits, GPU_CONV_TARGET_WORKGROUPS } from '../src/ops/conv2d-gpu.ts';
import { mmaVariantFits, tensorCoresEnabled } from '../src/ops/conv2d-mma.ts';
import { winogradPositions } from '../src/ops/conv2d-winograd.ts';
import { MEMORY_READ_TILE_SETS, memoryRead, planMemoryRead, type MemoryReadOptions } from '../src/ops/memory-read.ts';
import type { Runtime } from '../src/runtime/runtime.ts';
import { median } from '../src/util/median.ts';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    reps: { type: 'string', default: '5' },
    cases: { type: 'string' },
    layers: { type: 'string' },
    'mr-variants': { type: 'string', default: 'flat,subgroup:s1,subgroup,subgroup:q16c4,subgroup:q16c16,subgroup:q4c8,gemm' },
    'conv-variants': { type: 'string' },
    json: { type: 'string' },
  },
});
const reps = Number(values.reps);
const BATCH_MS = 25;
const MAX_BATCH = 50;

const rt = await createBenchRuntime();
console.log(`adapter: ${rt.describe()}; subgroup sizes ${rt.adapter.subgroupMinSize}-${rt.adapter.subgroupMaxSize}`);
const profiling = rt.hasFeature('timestamp-query');
const rand = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.5);
const pick = <T>(all: T[], list: string | undefined): T[] => (list ? list.split(',').map((i) => all[Number(i)]) : all);

interface Row { op: string; case: string; variant: string; detail: string; gflop: number; firstMs: number; ms: number; gflops: number; gpuMs: number | null; gpuGflops: number | null; relDiff: number }
const rows: Row[] = [];
/** Written after every row: a run cut off by its time limit (the device suite's) keeps the rows it finished. */
const save = (): void => {
  if (values.json) writeFileSync(values.json, JSON.stringify({ adapter: rt.describe(), reps, batchMs: BATCH_MS, rows }, null, 2) + '\n');
};

/** Times each variant's dispatch (`run` returns the output, disposed here), interleaved; prints and records a row per variant. */
type Output = { read(): Promise<ArrayLike<number>>; dispose(): void };

/** max |a - ref| / max |ref|. */
function relDiff(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - ref[i]));
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  return Number.isFinite(diff) ? diff / Math.max(scale, 1e-30) : Infinity;
}

async function timeVariants(op: string, caseName: string, gflop: number, variants: { name: string; detail: string; run: () => Output }[]): Promise<void> {
  const first = new Map<string, number>();
  const batch = new Map<string, number>();
  for (const v of variants) {
    let t0 = performance.now();
    v.run().dispose();
    await rt.sync();
    first.set(v.name, performance.now() - t0);
    t0 = performance.now();
    v.run().dispose();
    await rt.sync();
    batch.set(v.name, Math.max(1, Math.min(MAX_BATCH, Math.ceil(BATCH_MS / Math.max(0.01, performance.now() - t0)))));
  }
  const times = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let r = 0; r < reps; r++) {
    for (const v of variants) {
      const n = batch.get(v.name)!;
      const t0 = performance.now();
      for (let i = 0; i < n; i++) v.run().dispose();
      await rt.sync();
      times.get(v.name)!.push((performance.now() - t0) / n);
    }
  }
  const gpu = new Map<string, number>();
  if (profiling) {
    for (const v of variants) {
      const n = Math.min(batch.get(v.name)!, 10);
      rt.startProfiling();
      for (let i = 0; i < n; i++) v.run().dispose();
      gpu.set(v.name, (await rt.stopProfiling()).gpuMs / n);
    }
  }
  const diffs = new Map<string, number>();
  let reference: ArrayLike<number> | null = null;
  for (const v of variants) {
    const y = v.run();
    const got = await y.read();
    y.dispose();
    reference ??= got;
    diffs.set(v.name, relDiff(got, reference));
  }
  console.log(`\n${op} ${caseName} (${gflop.toFixed(2)} GFLOP; diff: max |out - ${variants[0].name}'s| / max |${variants[0].name}'s|)`);
  for (const v of variants) {
    const ms = median(times.get(v.name)!);
    const gpuMs = gpu.get(v.name) ?? null;
    const row: Row = { op, case: caseName, variant: v.name, detail: v.detail, gflop, firstMs: first.get(v.name)!, ms, gflops: gflop / (ms / 1000), gpuMs, gpuGflops: gpuMs === null ? null : gflop / (gpuMs / 1000), relDiff: diffs.get(v.name)! };
    rows.push(row);
    save();
    const gpuText = gpuMs === null ? '' : `   gpu ${gpuMs.toFixed(3).padStart(9)} ms ${row.gpuGflops!.toFixed(1).padStart(8)} GFLOP/s`;
    console.log(`  ${v.name.padEnd(22)} first ${row.firstMs.toFixed(1).padStart(8)} ms   median ${ms.toFixed(3).padStart(9)} ms ${row.gflops.toFixed(1).padStart(8)} GFLOP/s${gpuText}   diff ${row.relDiff.toExponential(1)}   ${v.detail}`);
  }
}

// ---- memory read ----------------------------------------------------------------

/** path[:tileSet][:sN] -> memoryRead options. */
function memoryReadOptions(spec: string): MemoryReadOptions {
  const [path, ...rest] = spec.split(':');
  if (path === 'gemm' && rest.length === 0) return { path, label: 'memory read gemm' };
  if (path !== 'flat' && path !== 'subgroup') throw new Error(`--mr-variants: '${spec}': the path must be flat, subgroup or gemm (gemm takes no tiles or splits)`);
  const opts: MemoryReadOptions = { path, label: `memory read ${spec}` };
  for (const part of rest) {
    if (/^s\d+$/.test(part)) opts.splits = Number(part.slice(1));
    else if (Object.hasOwn(MEMORY_READ_TILE_SETS, part)) opts.tiles = MEMORY_READ_TILE_SETS[part as keyof typeof MEMORY_READ_TILE_SETS];
    else throw new Error(`--mr-variants: '${spec}': '${part}' is neither sN nor a tile set (${Object.keys(MEMORY_READ_TILE_SETS).join(', ')})`);
  }
  return opts;
}

// A propagation step at 512x512: 32x32 queries, keydim 128, valdim 512, T memory frames of 32x32; and one at 128x128 (8x8).
const MEMORY_CASES = [
  { name: 'Q 1024 (512x512), 5 frames: M 5120', q: 1024, m: 5120 },
  { name: 'Q 1024 (512x512), 20 frames: M 20480', q: 1024, m: 20480 },
  { name: 'Q 1024 (512x512), 1 frame: M 1024', q: 1024, m: 1024 },
  { name: 'Q 64 (128x128), 5 frames: M 320', q: 64, m: 320 },
];

async function benchMemoryRead(rt: Runtime): Promise<void> {
  const dk = 128, dv = 512;
  const specs = values['mr-variants']!.split(',').filter((s) => rt.hasFeature('subgroups') || !s.startsWith('subgroup'));
  for (const c of pick(MEMORY_CASES, values.cases)) {
    const tk = rt.upload([c.m, dk], rand(c.m * dk, 3));
    const tv = rt.upload([c.m, dv], rand(c.m * dv, 4));
    const tq = rt.upload([c.q, dk], rand(c.q * dk, 5));
    const variants = specs.map((spec) => {
      const opts = memoryReadOptions(spec);
      if (opts.path === 'gemm') return { name: spec, detail: 'S = QK^T and PV on the conv2d rule (the tuned table if installed)', run: () => memoryRead(rt, tk, tv, tq, opts) };
      const plan = planMemoryRead(rt, c.q, c.m, dv, opts);
      const tiles = Object.entries(MEMORY_READ_TILE_SETS).find(([, t]) => t === plan.tiles)?.[0] ?? JSON.stringify(plan.tiles);
      return { name: spec, detail: `${plan.path} ${tiles} splits ${plan.splits}${plan.path === 'subgroup' ? ` shuffle lanes ${plan.sgr}` : ''}`, run: () => memoryRead(rt, tk, tv, tq, opts) };
    });
    await timeVariants('memory read', c.name, (2 * c.q * c.m * (dk + dv)) / 1e9, variants);
    for (const t of [tk, tv, tq]) t.dispose();
  }
}

// ---- conv2d -----------------------------------------------------------------------

// QAMN's ResNet-50 encoder, decoder and quality head at 512x512 input ('same' padding).
const CONV_LAYERS = [
  { name: 'conv1 7x7/2 3->64 @512', h: 512, cin: 3, cout: 64, k: 7, stride: 2 },
  { name: 'res2 3x3 64->64 @128', h: 128, cin: 64, cout: 64, k: 3, stride: 1 },
  { name: 'res2 1x1 64->256 @128', h: 128, cin: 64, cout: 256, k: 1, stride: 1 },
  { name: 'res3 3x3 128->128 @64', h: 64, cin: 128, cout: 128, k: 3, stride: 1 },
  { name: 'res4 3x3 256->256 @32', h: 32, cin: 256, cout: 256, k: 3, stride: 1 },
  { name: 'res4 1x1 1024->256 @32', h: 32, cin: 1024, cout: 256, k: 1, stride: 1 },
  { name: 'res5 3x3 512->512 @16', h: 16, cin: 512, cout: 512, k: 3, stride: 1 },
  { name: 'res5 1x1 512->2048 @16', h: 16, cin: 512, cout: 2048, k: 1, stride: 1 },
  { name: 'quality conv1 3x3 1026->256 @32', h: 32, cin: 1026, cout: 256, k: 3, stride: 1 },
  { name: 'decoder 3x3 256->256 @128', h: 128, cin: 256, cout: 256, k: 3, stride: 1 },
];

const winogradDetail = (m: 2 | 4): string => `Winograd F(${m}x${m}): transforms + ${winogradPositions(m)} products`;

async function benchConv(rt: Runtime): Promise<void> {
  // The mma* tiles (matrix units) only where MEM3D_TENSOR_CORES=1 turned them on.
  const specs = values['conv-variants'] ? values['conv-variants'].split(',') : (Object.keys(CONV2D_VARIANTS) as (keyof typeof CONV2D_VARIANTS)[]).filter((n) => CONV2D_VARIANTS[n].kind !== 'mma' || tensorCoresEnabled(rt));
  const variantOf = (spec: string): Conv2dVariant => {
    const [name, mod] = spec.split(':');
    if (!Object.hasOwn(CONV2D_VARIANTS, name)) throw new Error(`--conv-variants: unknown '${name}' (${Object.keys(CONV2D_VARIANTS).join(', ')})`);
    const v = CONV2D_VARIANTS[name as Conv2dVariantName];
    if (mod === undefined) return v;
    if (mod === 'nosplit' && v.kind === 'mma') return { kind: 'mma', mma: { ...v.mma, splitK: false } };
    if (mod === 'nopad' && v.kind === 'mma') return { kind: 'mma', mma: { ...v.mma, padRows: false } };
    if (mod !== 'nosplit' || v.kind !== 'gpu') throw new Error(`--conv-variants: '${spec}': only gpu-* and mma* take ':nosplit', mma* ':nopad'`);
    return { kind: 'gpu', gpu: { ...v.gpu, splitK: false } };
  };
  // A matrix tile past this device's workgroup limits (128 x 128 of 16x16 matrices takes 41 KiB) is left out, said once.
  const fitting = specs.filter((spec) => {
    const v = variantOf(spec);
    const fits = v.kind !== 'mma' || mmaVariantFits(rt, v.mma);
    if (!fits) console.log(`${spec}: left out, its tile does not fit this device's workgroup limits`);
    return fits;
  });
  for (const l of pick(CONV_LAYERS, values.layers)) {
    const pad = (l.k - 1) / 2;
    const oh = Math.floor((l.h + 2 * pad - l.k) / l.stride) + 1;
    const w = prepareConv2d(rt, { weight: rand(l.cout * l.cin * l.k * l.k, 2), shape: [l.cout, l.cin, l.k, l.k] });
    const x = rt.upload([1, l.h, l.h, l.cin], rand(l.h * l.h * l.cin, 1));
    // The fixed rule's choice as conv2d makes it: the matrix units' 'mma' where they are on.
    const def = tensorCoresEnabled(rt) && l.cout >= MMA_MIN_COUT ? 'mma' : defaultConv2dVariant(rt, { KH: l.k, KW: l.k, M: oh * oh, Cin: l.cin, Cout: l.cout, stride: [l.stride, l.stride] });
    // Winograd (3x3 stride 1 only) is left out of the other layers.
    const variants = fitting.filter((spec) => !winogradVariantIneligible(rt, variantOf(spec), { KH: l.k, KW: l.k, stride: [l.stride, l.stride] })).map((spec) => {
      const variant = variantOf(spec);
      const detail = spec === def ? '(fixed rule)'
        : variant.kind === 'gpu' ? `${conv2dGpuSplits(variant.gpu, oh * oh, l.cout, l.k * l.k * Math.ceil(l.cin / 4) * 4, GPU_CONV_TARGET_WORKGROUPS).splits} K-splits on a GPU`
          : variant.kind === 'winograd-gemm' ? winogradDetail(variant.winogradGemm.m ?? 2) : '';
      return { name: spec, detail, run: () => conv2d(rt, x, w, { padding: pad, stride: l.stride, variant, label: `${l.name} ${spec}` }) };
    });
    await timeVariants('conv2d', l.name, (2 * oh * oh * l.cout * l.cin * l.k * l.k) / 1e9, variants);
    x.dispose();
    w.dispose();
  }
}

if (values.only !== 'conv') await benchMemoryRead(rt);
if (values.only !== 'memory') await benchConv(rt);

// Best variant per case.
console.log('\n| op | case | best | GFLOP/s | baseline | GFLOP/s | speed-up |\n| --- | --- | --- | --- | --- | --- | --- |');
const cases = [...new Set(rows.map((r) => `${r.op}\u0000${r.case}`))];
for (const key of cases) {
  const rs = rows.filter((r) => `${r.op}\u0000${r.case}` === key);
  const speed = (r: Row): number => r.gpuGflops ?? r.gflops;
  const best = rs.reduce((a, b) => (speed(b) > speed(a) ? b : a));
  // Baseline: the flat memory read, the conv fixed rule.
  const base = rs.find((r) => (r.op === 'memory read' ? r.variant === 'flat' : r.detail === '(fixed rule)')) ?? rs[0];
  console.log(`| ${best.op} | ${best.case} | ${best.variant} | ${speed(best).toFixed(1)} | ${base.variant} | ${speed(base).toFixed(1)} | ${(speed(best) / speed(base)).toFixed(2)}x |`);
}
console.log(profiling ? '(GFLOP/s from timestamp-query GPU time)' : '(GFLOP/s from wall time per dispatch)');
rt.destroy();
process.exit(0);
