// Autotuning conv2d per adapter: times the candidate variants of each shape class on
// the adapter at hand (a bounded warm-up), installs the fastest as the runtime's
// choice (src/ops/conv2d-variants.ts) and caches the table keyed by adapter
// (src/runtime/autotune.ts). Without tuning, conv2d uses the fixed rule.
//
//   await loadConv2dChoices(rt, fileTuningStore());          // reuse earlier tuning
//   net.segment(...);                                          // records untuned shape classes
//   await autotuneConv2d(rt, { store: fileTuningStore() });   // times them, saves the table
import { adapterKey, type TuningStore } from '../runtime/autotune.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { median } from '../util/median.ts';
import { conv2d, prepareConv2d } from './conv2d.ts';
import { conv2dCpuSupported } from './conv2d-cpu.ts';
import { mmaVariantFits } from './conv2d-mma.ts';
import { winogradIneligible } from './conv2d-winograd.ts';
import { winogradGemmIneligible } from './conv2d-winograd-gemm.ts';
import {
  CONV2D_VARIANTS, conv2dShapeClass, installedConv2dChoices, installConv2dChoices, isCpuAdapter, MMA_VARIANTS, untunedConv2dShapes,
  type Conv2dShape, type Conv2dVariantName,
} from './conv2d-variants.ts';

const TABLE = 'conv2d';

/** The variants worth timing on this adapter (the matrix-unit tiles for a shape that runs on them). */
export function conv2dCandidates(rt: Runtime, s: Conv2dShape): Conv2dVariantName[] {
  if (s.matrixUnits) return MMA_VARIANTS.filter((n) => { const v = CONV2D_VARIANTS[n]; return v.kind === 'mma' && mmaVariantFits(rt, v.mma); });
  const narrow: Conv2dVariantName[] = s.Cout <= 16 ? ['narrow', 'direct-p1c4'] : [];
  const subgroupCpu: Conv2dVariantName[] = conv2dCpuSupported(rt) ? ['cpu-p1c16', 'cpu-p2c16', 'cpu-p2c32'] : [];
  const winograd: Conv2dVariantName[] = winogradIneligible(rt, { KH: s.KH, KW: s.KW, stride: s.stride ?? [1, 1] }) ? [] : ['wino-t1c16', 'wino-t2c16'];
  // The GEMM forms of Winograd where the timing run's buffers (timeVariants' square input) fit with room for larger real layers of the class.
  const side = Math.max(1, Math.round(Math.sqrt(s.M)));
  const fits = (m: 2 | 4) => s.Cout > 16 && !winogradGemmIneligible(rt, { KH: s.KH, KW: s.KW, stride: s.stride ?? [1, 1], tiles: 2 * Math.ceil(side / m) ** 2, Cin: s.Cin, Cout: s.Cout, m });
  // CPU drivers: F(4x4)'s two wider tiles, which beat their Winograd kernel on lavapipe from 32x32 outputs with 1024 channels or 64x64 (bench/RESULTS.md).
  const cpuWinogradGemm: Conv2dVariantName[] = fits(4) ? ['wgemm4-128x128', 'wgemm4-64x128'] : [];
  if (isCpuAdapter(rt)) return [...new Set<Conv2dVariantName>([...subgroupCpu, ...winograd, ...cpuWinogradGemm, 'large', 'medium', 'direct-p2c4', 'direct-p2c8', 'direct-p1c8', ...narrow])];
  const winogradGemm: Conv2dVariantName[] = [
    ...(fits(2) ? ['wgemm-128x128', 'wgemm-128x64', 'wgemm-64x128', 'wgemm-64x64'] as const : []),
    ...(fits(4) ? ['wgemm4-128x128', 'wgemm4-64x128', 'wgemm4-64x64'] as const : []),
  ];
  return [...new Set<Conv2dVariantName>(['large', 'medium', 'small', 'gpu-128x128', 'gpu-128x64', 'gpu-64x128', 'gpu-64x64', ...winogradGemm, ...narrow])];
}

/** Installs the choices a store holds for this adapter; returns how many shape classes it had. */
export async function loadConv2dChoices(rt: Runtime, store: TuningStore): Promise<number> {
  const tables = await store.load(adapterKey(rt));
  const table = tables?.[TABLE] ?? {};
  const choices = new Map(installedConv2dChoices(rt));
  for (const [cls, v] of Object.entries(table)) if (Object.hasOwn(CONV2D_VARIANTS, v)) choices.set(cls, v as Conv2dVariantName);
  installConv2dChoices(rt, choices);
  return Object.keys(table).length;
}

export interface Conv2dTuneOptions {
  /** Where choices are loaded from first and saved to after. */
  store?: TuningStore;
  /** Shapes to tune; default: every class conv2d met on this runtime without a choice. */
  shapes?: Conv2dShape[];
  /** Timed runs per variant (median), after one untimed run that compiles it. */
  reps?: number;
  /** Stops starting new shape classes once this much wall time has passed (default 120 s). */
  budgetMs?: number;
  /**
   * How a candidate is timed: 'gpu', its dispatches' GPU time from timestamp queries (a
   * large GPU runs a small layer in tens of microseconds, less than the jitter of a sync
   * timed by the clock), or 'wall', one run and a sync by the clock. Default: 'gpu' on GPUs
   * with 'timestamp-query' at full resolution (Node's Dawn; a browser rounds timestamps to
   * about 0.1 ms) unless the runtime is being profiled, else 'wall': on a CPU driver the
   * GPU time is the same work, and the driver's threads share the host's cores.
   */
  timing?: 'gpu' | 'wall';
  onProgress?: (message: string) => void;
}

export interface Conv2dTuneResult {
  /** How the candidates were timed (Conv2dTuneOptions.timing). */
  timing: 'gpu' | 'wall';
  /** shape class -> [variant, median ms] for every class timed now. */
  timed: Map<string, [Conv2dVariantName, number][]>;
  /** Classes left to the fixed rule because the budget ran out. */
  skipped: string[];
}


async function timeVariants(rt: Runtime, s: Conv2dShape, names: Conv2dVariantName[], reps: number, timing: 'gpu' | 'wall'): Promise<[Conv2dVariantName, number][]> {
  // A square input with about M output pixels (no padding) at the shape's stride and dilation, random data.
  const side = Math.max(1, Math.round(Math.sqrt(s.M)));
  const [sH, sW] = s.stride ?? [1, 1];
  const [dH, dW] = s.dilation ?? [1, 1];
  const [h, w] = [(side - 1) * sH + dH * (s.KH - 1) + 1, (side - 1) * sW + dW * (s.KW - 1) + 1];
  const rand = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.5);
  const weights = prepareConv2d(rt, { weight: rand(s.Cout * s.Cin * s.KH * s.KW, 2), shape: [s.Cout, s.Cin, s.KH, s.KW], label: 'autotune' }, s.weights ?? 'f32');
  const x = rt.upload([1, h, w, s.Cin], rand(h * w * s.Cin, 1), 'f32', 'autotune x');
  const runs = new Map<Conv2dVariantName, number[]>(names.map((n) => [n, []]));
  try {
    const run = (variant: Conv2dVariantName) => conv2d(rt, x, weights, { stride: [sH, sW], dilation: [dH, dW], variant });
    const once = async (variant: Conv2dVariantName): Promise<number> => {
      if (timing === 'gpu') {
        rt.startProfiling();
        const y = run(variant);
        const { gpuMs } = await rt.stopProfiling();
        y.dispose();
        return gpuMs;
      }
      const t0 = performance.now();
      const y = run(variant);
      await rt.sync();
      y.dispose();
      return performance.now() - t0;
    };
    for (const n of names) await once(n);
    for (let r = 0; r < reps; r++) for (const n of names) runs.get(n)!.push(await once(n));
  } finally {
    x.dispose();
    weights.dispose();
  }
  return names.map((n) => [n, median(runs.get(n)!)] as [Conv2dVariantName, number]).sort((a, b) => a[1] - b[1]);
}

export async function autotuneConv2d(rt: Runtime, opts: Conv2dTuneOptions = {}): Promise<Conv2dTuneResult> {
  if (opts.store) await loadConv2dChoices(rt, opts.store);
  const reps = opts.reps ?? 3;
  const budget = opts.budgetMs ?? 120_000;
  const timing = opts.timing ?? (rt.hasFeature('timestamp-query') && rt.adapter.preciseTimestamps && !isCpuAdapter(rt) && !rt.profiling ? 'gpu' : 'wall');
  if (timing === 'gpu' && !rt.hasFeature('timestamp-query')) throw new Error("autotuneConv2d: timing 'gpu' needs the adapter feature 'timestamp-query'");
  if (timing === 'gpu' && rt.profiling) throw new Error("autotuneConv2d: timing 'gpu' profiles each run, but the runtime is already being profiled; stop it first or time by 'wall'");
  const choices = new Map(installedConv2dChoices(rt));
  const todo = new Map<string, Conv2dShape>();
  for (const s of opts.shapes ?? [...untunedConv2dShapes(rt).values()]) {
    const cls = conv2dShapeClass(s);
    if (!choices.has(cls)) todo.set(cls, s);
  }
  const timed = new Map<string, [Conv2dVariantName, number][]>();
  const skipped: string[] = [];
  const start = performance.now();
  for (const [cls, s] of todo) {
    if (performance.now() - start > budget) {
      skipped.push(cls);
      continue;
    }
    const ranking = await timeVariants(rt, s, conv2dCandidates(rt, s), reps, timing);
    timed.set(cls, ranking);
    choices.set(cls, ranking[0][0]);
    installConv2dChoices(rt, choices);
    opts.onProgress?.(`conv2d ${cls}: ${ranking.map(([n, ms]) => `${n} ${ms.toFixed(1)} ms`).join(', ')}`);
  }
  if (opts.store) {
    const key = adapterKey(rt);
    const tables = (await opts.store.load(key)) ?? {};
    tables[TABLE] = Object.fromEntries(choices);
    await opts.store.save(key, tables);
  }
  return { timing, timed, skipped };
}
