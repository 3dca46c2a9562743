// Conformance of the memory network against a folder laid out like
// ../shared/reference: runs the reference calling sequence (memorize slice 0,
// segment slice 1, memorize slice 1 with its own prediction, segment slice 2 with
// both memories) and compares every tensor the ref files hold.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeGrayPng } from '../io/png.ts';
import { readSafetensors } from '../io/safetensors-node.ts';
import type { SafetensorsFile } from '../io/safetensors.ts';
import { MemoryNetwork, type MemoryEntry, type QueryEncoding, type Variant } from '../networks/mem3d/memory-network.ts';
import { maskToProbability, preprocessFrame } from '../networks/mem3d/preprocess.ts';
import type { WeightPrecision } from '../ops/conv2d.ts';
import { tensorCores } from '../ops/conv2d-mma.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { synthWeightSource } from '../weights/safetensors-source.ts';
import { compareTensor, nhwcToNchw, type ConformanceRow } from './compare.ts';
import { need, readManifest, readReferenceJson, TORCH_LOG } from './reference-files.ts';

/**
 * PyTorch's own float32 error (cuDNN, TF32 off) against the float64 reference:
 * max abs error / max abs value, or the absolute error for ps and quality. These
 * are the values of ../shared/reference/torch_reference_log.json, used when the
 * folder has no such log.
 */
const TORCH_FP32: Record<Variant, Record<string, number>> = {
  qamn: { k0: 9.04e-6, v0: 9.34e-6, q_key1: 1.81e-5, mem1: 1.37e-4, decoder_logit1: 1.47e-5, logits1: 1.85e-2, ps1: 1.15e-4, quality1: 1.5e-7, k1: 4.79e-4, v1: 6.43e-4, logits2: 1.96e-2, ps2: 3.44e-3, quality2: 9.8e-8 },
  stm: { k0: 9.04e-6, v0: 9.34e-6, q_key1: 1.81e-5, mem1: 1.37e-4, decoder_logit1: 5.22e-5, logits1: 2.48e-2, ps1: 2.68e-4, k1: 1.12e-3, v1: 9.88e-4, logits2: 2.44e-2, ps2: 3.03e-2 },
};

/**
 * f16 conv weights (QAMN only): 3x the error measured once on lavapipe with f16
 * weights (README "Numerical conformance", f16 table), the f32 rule's margin; the f32
 * tolerance where larger. Rounding the weights to f16 moves each by up to 2^-11
 * relative; the network carries that to 1e-2 at the encoders and its memory read
 * amplifies it as it does PyTorch's own float32 error. null: no useful bound (3x the
 * measured ps2 error exceeds 1), compared and reported but not checked.
 */
const F16_WEIGHTS: Partial<Record<Variant, Record<string, number | null>>> = {
  qamn: {
    k0: 2.9e-2, v0: 2.6e-2, q_key1: 5.6e-2, mem1: 0.55, decoder_logit1: 4.7e-2, logits1: 8.0e-2, ps1: 0.27,
    quality1: 7e-4, k1: 0.86, v1: 0.84, logits2: 0.66, ps2: null, quality2: 2.8e-5,
  },
};

/**
 * Convs on matrix units (src/ops/conv2d-mma.ts: activations and weights rounded to f16,
 * f32 sums; QAMN only): 3x the larger error of two runs of the emulated form on lavapipe
 * (MEM3D_TENSOR_CORES=emulated, before and after split-K changed the order of the sums;
 * README "Numerical conformance"), rounded up, by the rule of F16_WEIGHTS. Rounding the
 * activations too adds little to the weights' rounding: the measured errors are 1-1.4x
 * those of f16 weights at the encoders, about equal after the memory read. ps2 again has no useful bound. The same table serves f16-stored weights:
 * the matrix kernel rounds f32 weights to the same halves.
 */
const F16_OPERANDS: Partial<Record<Variant, Record<string, number | null>>> = {
  qamn: {
    k0: 4.1e-2, v0: 4.0e-2, q_key1: 8.3e-2, mem1: 0.50, decoder_logit1: 5.3e-2, logits1: 0.11, ps1: 0.36,
    quality1: 3.2e-4, k1: 0.98, v1: 0.98, logits2: 0.89, ps2: null, quality2: 9.5e-4,
  },
};

/** 3x PyTorch's float32 error (the f16 tables' where larger). */
function tolerance(tensor: string, torch: number, f16?: number): { measure: 'relative' | 'absolute'; bound: number } {
  const f32 = f32Tolerance(tensor, torch);
  return { measure: f32.measure, bound: Math.max(f32.bound, f16 ?? 0) };
}

/**
 * 3x PyTorch's own float32 error, relative, or absolute for probabilities and quality
 * (as the log measures them). Issue 3 asked for no bound tighter than 1e-4 relative, 2e-3
 * and 2e-2 on ps1 and ps2, 1e-4 on quality; those floors were up to 11x (k0), 17x (ps1)
 * and 1000x (quality2) PyTorch's error, looser than "a few times" lets a bug through, and
 * every adapter measured (lavapipe, the H200) is within 3x without them.
 */
function f32Tolerance(tensor: string, torch: number): { measure: 'relative' | 'absolute'; bound: number } {
  return { measure: measuredAbsolute(tensor) ? 'absolute' : 'relative', bound: 3 * torch };
}

/** Probabilities and quality scores are compared (and PyTorch's error logged) by absolute error, the rest relative. */
const measuredAbsolute = (tensor: string) => tensor.startsWith('ps') || tensor.startsWith('quality');

/** A null engine output (STM's quality) is fine where the reference has no such tensor; else the run fails. */
function missingOutput(name: string, referenced: boolean, model: Variant): void {
  if (referenced) throw new Error(`${model}: the engine gave no '${name}' but the reference holds one`);
}

export interface MemoryConformanceReport {
  model: Variant;
  weightPrecision: WeightPrecision;
  /** 'f32', or the convs' f16 operands on matrix units (enableTensorCores), emulated or not. */
  arithmetic: 'f32' | 'f16 operands (matrix units)' | 'f16 operands (emulated matrix units)';
  adapter: string;
  rows: ConformanceRow[];
  /** Compared but not checked: no useful bound in this mode (f16 weights: ps2). */
  unbounded: ConformanceRow[];
  /** Tensors the engine can compare but the ref files do not hold. */
  skipped: string[];
  pass: boolean;
  seconds: number;
}

function readTorchErrors(dir: string, model: Variant): Record<string, number> {
  const path = join(dir, TORCH_LOG);
  if (!existsSync(path)) return TORCH_FP32[model];
  const table = readReferenceJson<Record<string, { torch_fp32_vs_f64?: Record<string, { rel: number; max_abs_err: number }> } | undefined>>(path)?.[model]?.torch_fp32_vs_f64;
  if (!table) return TORCH_FP32[model];
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(table)) out[k] = measuredAbsolute(k) ? v.max_abs_err : v.rel;
  // A tensor the folder's log leaves out keeps the shipped reference's error.
  return { ...TORCH_FP32[model], ...out };
}

export interface MemoryConformanceOptions {
  /** Conv weight storage; 'f16' checks against the f16 tolerances. Default f32. */
  weightPrecision?: WeightPrecision;
}

export async function memoryNetworkConformance(
  rt: Runtime,
  dir: string,
  model: Variant,
  progress: (msg: string) => void = () => {},
  options: MemoryConformanceOptions = {},
): Promise<MemoryConformanceReport> {
  const precision = options.weightPrecision ?? 'f32';
  const tc = tensorCores(rt);
  const arithmetic = !tc ? 'f32' : tc.ops === 'emulated' ? 'f16 operands (emulated matrix units)' : 'f16 operands (matrix units)';
  const f16 = tc ? F16_OPERANDS[model] : precision === 'f16' ? F16_WEIGHTS[model] : undefined;
  if (tc && !f16) throw new Error(`no tolerances were measured for ${model} with convs on matrix units (f16 operands; qamn has them)`);
  if (precision === 'f16' && !f16) throw new Error(`no f16-weight tolerances were measured for ${model} (qamn has them)`);
  const start = performance.now();
  const manifest = readManifest(dir, model);
  const small = readSafetensors(need(dir, `${model}_small.safetensors`));
  const refs = [readSafetensors(need(dir, `${model}_ref1.safetensors`)), readSafetensors(need(dir, `${model}_ref2.safetensors`))];
  const torch = readTorchErrors(dir, model);
  const frames = [0, 1, 2].map((z) => decodeGrayPng(readFileSync(need(dir, `phantom_${z}.png`)), `phantom_${z}.png`));
  const mask0 = decodeGrayPng(readFileSync(need(dir, 'phantom_mask_0.png')), 'phantom_mask_0.png');
  const { width: W, height: H } = frames[0];

  progress(`loading ${model} synth-v1 weights (${precision})`);
  const net = MemoryNetwork.load(rt, synthWeightSource(manifest, small), { variant: model, weightPrecision: precision });
  const frame = frames.map((f, z) => rt.upload([1, H, W, 3], preprocessFrame(f.data, H, W), 'f32', `frame ${z}`));
  const mask = rt.upload([1, H, W, 1], maskToProbability(mask0.data), 'f32', 'mask 0');

  const rows: ConformanceRow[] = [];
  const unbounded: ConformanceRow[] = [];
  const skipped: string[] = [];
  const check = async (ref: SafetensorsFile, name: string, t: Tensor | null, layout: 'flat' | 'nchw') => {
    // Only STM has no quality, and its references hold none: a missing output the reference has is a failure.
    if (!t) return missingOutput(name, ref.has(name), model);
    if (!ref.has(name)) {
      skipped.push(name);
      return;
    }
    const data = await t.read();
    const [, h, w, c] = t.shape;
    const actual = layout === 'nchw' ? nhwcToNchw(data, h, w, c) : data;
    if (f16 && f16[name] === null) {
      // No bound: the row's tolerance is NaN and it never passes, so it cannot read as checked.
      unbounded.push(compareTensor(name, actual, ref.float32(name), f32Tolerance(name, torch[name]).measure, NaN));
      return;
    }
    const tol = tolerance(name, torch[name], f16?.[name] ?? undefined);
    rows.push(compareTensor(name, actual, ref.float32(name), tol.measure, tol.bound));
  };

  progress('step 1: memorize slice 0');
  const m0 = net.memorize(frame[0], mask);
  await check(refs[0], 'k0', m0.key, 'flat');
  await check(refs[0], 'v0', m0.value, 'flat');
  progress('step 1: segment slice 1');
  const s1 = net.segment(frame[1], [m0], { intermediates: true });
  await check(refs[0], 'q_key1', s1.intermediates!.queryKey, 'nchw');
  await check(refs[0], 'mem1', s1.intermediates!.memoryRead, 'nchw');
  await check(refs[0], 'decoder_logit1', s1.intermediates!.decoderLogits, 'nchw');
  await check(refs[0], 'logits1', s1.logits, 'nchw');
  await check(refs[0], 'ps1', s1.probability, 'flat');
  await check(refs[0], 'quality1', s1.quality, 'flat');

  progress('step 2: memorize slice 1 with its prediction');
  const m1 = net.memorize(frame[1], s1.foreground);
  s1.dispose();
  await check(refs[1], 'k1', m1.key, 'flat');
  await check(refs[1], 'v1', m1.value, 'flat');
  progress('step 2: segment slice 2 with both memories');
  const s2 = net.segment(frame[2], [m0, m1]);
  await check(refs[1], 'logits2', s2.logits, 'nchw');
  await check(refs[1], 'ps2', s2.probability, 'flat');
  await check(refs[1], 'quality2', s2.quality, 'flat');

  for (const t of [s2, m0, m1, mask, ...frame]) t.dispose();
  net.dispose();
  return { model, adapter: rt.describe(), weightPrecision: precision, arithmetic, rows, unbounded, skipped, pass: rows.every((r) => r.pass), seconds: (performance.now() - start) / 1000 };
}

/** The modules QAMN and STM share: the same code, the same tensor names and, in synth-v1, the same values. */
const SHARED_MODULES = /^(Encoder_M|Encoder_Q|KV_M_r4|KV_Q_r4)\./;

/** Throws unless the folder's QAMN and STM weights agree on every shared tensor (spec and, for file tensors, bytes). */
function checkSharedWeights(dir: string): void {
  const manifests = (['qamn', 'stm'] as const).map((m) => readManifest(dir, m));
  const small = (['qamn', 'stm'] as const).map((m) => readSafetensors(need(dir, `${m}_small.safetensors`)));
  const qamn = new Map(manifests[0].tensors.map((t) => [t.name, t]));
  for (const t of manifests[1].tensors.filter((t) => SHARED_MODULES.test(t.name))) {
    const q = qamn.get(t.name);
    if (!q || JSON.stringify(q) !== JSON.stringify(t)) throw new Error(`STM's ${t.name} differs from QAMN's in the manifests: STM cannot reuse QAMN's encoders`);
    if (t.source === 'file') {
      const [a, b] = small.map((f) => f.float32(t.name));
      if (a.length !== b.length || a.some((x, i) => !Object.is(x, b[i]))) throw new Error(`STM's ${t.name} differs from QAMN's in the small files`);
    }
  }
}

/**
 * QAMN's full calling sequence, then STM's from its decoder on. The two share their
 * encoders and key/value heads (checked first: same manifest entries and bytes), so
 * STM's memory of slice 0 and its query encodings of slices 1 and 2 are QAMN's, and
 * its k0, v0, q_key1 and mem1 are compared (against STM's own reference files) from
 * QAMN's run. STM then runs its decoder on QAMN's slice-1 features, memorizes slice 1
 * with its own prediction and segments slice 2 from QAMN's query encoding of it: five
 * ResNet-50 passes for both networks instead of eight. Both steps take segment's
 * query-encoding path; segment(frame) runs the same code after encodeQuery(frame), and
 * test/memory-network.test.ts checks the two give identical bits.
 */
export async function memoryNetworkPairConformance(
  rt: Runtime,
  dir: string,
  progress: (msg: string) => void = () => {},
): Promise<{ qamn: MemoryConformanceReport; stm: MemoryConformanceReport }> {
  if (tensorCores(rt)) throw new Error('no tolerances were measured for stm with convs on matrix units (f16 operands): run qamn alone');
  const start = performance.now();
  checkSharedWeights(dir);
  const load = (model: Variant) => {
    const manifest = readManifest(dir, model);
    const refs = [readSafetensors(need(dir, `${model}_ref1.safetensors`)), readSafetensors(need(dir, `${model}_ref2.safetensors`))];
    return { manifest, small: readSafetensors(need(dir, `${model}_small.safetensors`)), refs, torch: readTorchErrors(dir, model), rows: [] as ConformanceRow[], skipped: [] as string[] };
  };
  const qamn = load('qamn');
  const stm = load('stm');
  const frames = [0, 1, 2].map((z) => decodeGrayPng(readFileSync(need(dir, `phantom_${z}.png`)), `phantom_${z}.png`));
  const mask0 = decodeGrayPng(readFileSync(need(dir, 'phantom_mask_0.png')), 'phantom_mask_0.png');
  const { width: W, height: H } = frames[0];

  const check = async (into: typeof qamn, step: 0 | 1, name: string, t: Tensor | null, layout: 'flat' | 'nchw') => {
    if (!t) return missingOutput(name, into.refs[step].has(name), into === qamn ? 'qamn' : 'stm');
    if (!into.refs[step].has(name)) {
      into.skipped.push(name);
      return;
    }
    const data = await t.read();
    const [, h, w, c] = t.shape;
    const actual = layout === 'nchw' ? nhwcToNchw(data, h, w, c) : data;
    const tol = tolerance(name, into.torch[name]);
    into.rows.push(compareTensor(name, actual, into.refs[step].float32(name), tol.measure, tol.bound));
  };
  const both = async (step: 0 | 1, name: string, t: Tensor, layout: 'flat' | 'nchw') => {
    await check(qamn, step, name, t, layout);
    await check(stm, step, name, t, layout);
  };

  progress('loading qamn and stm synth-v1 weights');
  const qNet = MemoryNetwork.load(rt, synthWeightSource(qamn.manifest, qamn.small), { variant: 'qamn' });
  const sNet = MemoryNetwork.load(rt, synthWeightSource(stm.manifest, stm.small), { variant: 'stm' });
  const frame = frames.map((f, z) => rt.upload([1, H, W, 3], preprocessFrame(f.data, H, W), 'f32', `frame ${z}`));
  const mask = rt.upload([1, H, W, 1], maskToProbability(mask0.data), 'f32', 'mask 0');
  const owned: { dispose(): void }[] = [frame[0], frame[1], frame[2], mask];
  const keep = <T extends { dispose(): void }>(x: T): T => {
    owned.push(x);
    return x;
  };
  try {
    progress('qamn step 1: memorize slice 0 (stm shares it)');
    const m0: MemoryEntry = keep(qNet.memorize(frame[0], mask));
    await both(0, 'k0', m0.key, 'flat');
    await both(0, 'v0', m0.value, 'flat');
    const q1: QueryEncoding = keep(qNet.encodeQuery(frame[1]));
    progress('qamn step 1: segment slice 1');
    const s1 = keep(qNet.segment(q1, [m0], { intermediates: true }));
    await both(0, 'q_key1', s1.intermediates!.queryKey, 'nchw');
    await both(0, 'mem1', s1.intermediates!.memoryRead, 'nchw');
    await check(qamn, 0, 'decoder_logit1', s1.intermediates!.decoderLogits, 'nchw');
    await check(qamn, 0, 'logits1', s1.logits, 'nchw');
    await check(qamn, 0, 'ps1', s1.probability, 'flat');
    await check(qamn, 0, 'quality1', s1.quality, 'flat');
    progress('qamn step 2: memorize slice 1 with its prediction, segment slice 2');
    const m1 = keep(qNet.memorize(frame[1], s1.foreground));
    await check(qamn, 1, 'k1', m1.key, 'flat');
    await check(qamn, 1, 'v1', m1.value, 'flat');
    const q2: QueryEncoding = keep(qNet.encodeQuery(frame[2]));
    const s2 = keep(qNet.segment(q2, [m0, m1]));
    await check(qamn, 1, 'logits2', s2.logits, 'nchw');
    await check(qamn, 1, 'ps2', s2.probability, 'flat');
    await check(qamn, 1, 'quality2', s2.quality, 'flat');

    progress("stm step 1: its decoder on qamn's slice-1 features");
    const t1 = keep(sNet.segment(q1, [m0], { intermediates: true }));
    await check(stm, 0, 'decoder_logit1', t1.intermediates!.decoderLogits, 'nchw');
    await check(stm, 0, 'logits1', t1.logits, 'nchw');
    await check(stm, 0, 'ps1', t1.probability, 'flat');
    progress('stm step 2: memorize slice 1 with its own prediction, segment slice 2');
    const n1 = keep(sNet.memorize(frame[1], t1.foreground));
    await check(stm, 1, 'k1', n1.key, 'flat');
    await check(stm, 1, 'v1', n1.value, 'flat');
    const t2 = keep(sNet.segment(q2, [m0, n1]));
    await check(stm, 1, 'logits2', t2.logits, 'nchw');
    await check(stm, 1, 'ps2', t2.probability, 'flat');
  } finally {
    for (const x of owned) x.dispose();
    qNet.dispose();
    sNet.dispose();
  }
  const seconds = (performance.now() - start) / 1000;
  const report = (model: Variant, r: typeof qamn): MemoryConformanceReport => ({ model, adapter: rt.describe(), weightPrecision: 'f32', arithmetic: 'f32', rows: r.rows, unbounded: [], skipped: r.skipped, pass: r.rows.every((x) => x.pass), seconds });
  return { qamn: report('qamn', qamn), stm: report('stm', stm) };
}
