// The implementations conv2d can run (kernels/conv2d.wgsl entry points and their
// override shapes) and which one runs for a shape: a per-adapter tuned table when
// one is installed (src/ops/conv2d-autotune.ts times the variants and caches the
// choice keyed by adapter), else a fixed rule: the subgroup CPU kernels on CPU
// rasterisers that have subgroups (lavapipe, SwiftShader; on lavapipe Winograd for most
// 3x3 stride-1 convs), the direct kernel on CPU drivers without subgroups, on GPUs the
// split-K GPU kernel for small outputs and the tiled shared-memory GEMM for the rest;
// with tensor cores enabled (conv2d-mma.ts, opt-in), the matrix kernel for every conv
// with more than 16 output channels.
import { isCpuAdapterSummary } from '../runtime/device.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { conv2dCpuSupported, type Conv2dCpu } from './conv2d-cpu.ts';
import { checkGpuTile, type Conv2dGpu } from './conv2d-gpu.ts';
import { tensorCoresEnabled, type Conv2dMma } from './conv2d-mma.ts';
import { winogradIneligible, winogradSupported, type Conv2dWinograd, type WinogradShape } from './conv2d-winograd.ts';
import { winogradGemmIneligible, type Conv2dWinogradGemm } from './conv2d-winograd-gemm.ts';

/** Workgroup tiling; see the override constants in kernels/conv2d.wgsl. Tile = (TM*WGY) pixels x (4*WGX*TN4) channels. */
export interface Conv2dTile {
  /** Output pixels per thread: 4, 8, 16 or 32 (dividing WGX). */
  TM: number;
  /** vec4 channel groups per thread: 1 or 2. */
  TN4: number;
  /** Workgroup size along channels (x) and pixels (y). */
  WGX: number;
  WGY: number;
  /** Reduction slice per shared-memory stage. */
  BK: number;
}

/**
 * The tiles of the tiled variant (bench/conv2d-layout.ts and bench/conv2d-variants.ts
 * time each). large is the classic 128x128 SGEMM shape (256 threads, 8x8 outputs each).
 */
export const CONV2D_TILES = {
  /** 128 pixels x 128 channels. */
  large: { TM: 8, TN4: 2, WGX: 16, WGY: 16, BK: 16 },
  /** 128 x 64, for Cout <= 64 (half of a large tile would idle). */
  medium: { TM: 8, TN4: 1, WGX: 16, WGY: 16, BK: 16 },
  /** 16 x 64, for problems too small to fill a GPU with large tiles. */
  small: { TM: 4, TN4: 1, WGX: 16, WGY: 4, BK: 16 },
  /** 64 x 16, for Cout <= 16 (heads). */
  narrow: { TM: 4, TN4: 1, WGX: 4, WGY: 16, BK: 16 },
} as const satisfies Record<string, Conv2dTile>;

/** Shape of the 'direct' entry point (no workgroup memory); see kernels/conv2d.wgsl. */
export interface Conv2dDirect {
  /** Threads per workgroup. */
  DWG: number;
  /** Output pixels per thread: 1 or 2. */
  DP: number;
  /** vec4 channel groups per workgroup, shared (uniform) by all its threads. */
  DCN4: number;
}

export type Conv2dVariant =
  | { kind: 'tiled'; tile: Conv2dTile }
  | { kind: 'direct'; direct: Conv2dDirect }
  | { kind: 'gpu'; gpu: Conv2dGpu }
  | { kind: 'cpu'; cpu: Conv2dCpu }
  | { kind: 'winograd'; winograd: Conv2dWinograd }
  | { kind: 'winograd-gemm'; winogradGemm: Conv2dWinogradGemm }
  | { kind: 'mma'; mma: Conv2dMma };

const tiled = (tile: Conv2dTile): Conv2dVariant => ({ kind: 'tiled', tile });
const direct = (DWG: number, DP: number, DCN4: number): Conv2dVariant => ({ kind: 'direct', direct: { DWG, DP, DCN4 } });
// Discrete-GPU kernel (kernels/conv2d_gpu.wgsl, src/ops/conv2d-gpu.ts): double-buffered, split-K when the output is small.
const gpu = (TM: number, TN4: number): Conv2dVariant => ({ kind: 'gpu', gpu: { TM, TN4, WGX: 16, WGY: 16, BK: 16, splitK: true } });
// CPU-driver kernel (kernels/conv2d_cpu.wgsl, src/ops/conv2d-cpu.ts): registers per pixel, weights spread by subgroupBroadcast.
const cpu = (PX: number, CB4: number): Conv2dVariant => ({ kind: 'cpu', cpu: { WG: 64, PX, CB4 } });
// Winograd F(2x2, 3x3) for CPU drivers (kernels/conv2d_winograd.wgsl, src/ops/conv2d-winograd.ts): 3x3, stride 1 only.
const wino = (WG: number, TILES: number): Conv2dVariant => ({ kind: 'winograd', winograd: { WG, TILES } });
// Winograd F(m x m, 3x3), m = 2 or 4, for GPUs (kernels/conv2d_winograd_gemm.wgsl, src/ops/conv2d-winograd-gemm.ts): transforms around a GEMM on the gpu kernel's tile.
const wgemm = (TM: number, TN4: number, m: 2 | 4 = 2): Conv2dVariant => ({ kind: 'winograd-gemm', winogradGemm: { gemm: { TM, TN4, WGX: 16, WGY: 16, BK: 16, splitK: false }, m } });
// Matrix units, f16 operands (kernels/conv2d_mma.wgsl, src/ops/conv2d-mma.ts): TM x TN result matrices per subgroup.
const mma = (TM: number, TN: number): Conv2dVariant => ({ kind: 'mma', mma: { ops: 'enabled', tile: { TM, TN } } });

/**
 * Every implementation conv2d can run, by name: the tiled shared-memory GEMM (GPU
 * style) in each tile and the barrier-free direct kernel (CPU-driver style) in a few
 * register shapes. The autotuner (src/ops/conv2d-autotune.ts) times them per shape
 * class; the tests run every one.
 */
export const CONV2D_VARIANTS = {
  large: tiled(CONV2D_TILES.large),
  medium: tiled(CONV2D_TILES.medium),
  small: tiled(CONV2D_TILES.small),
  narrow: tiled(CONV2D_TILES.narrow),
  'direct-p1c4': direct(64, 1, 1),
  'direct-p1c8': direct(64, 1, 2),
  'direct-p1c12': direct(64, 1, 3),
  'direct-p1c16': direct(64, 1, 4),
  'direct-p2c4': direct(64, 2, 1),
  'direct-p2c8': direct(64, 2, 2),
  'gpu-128x128': gpu(8, 2),
  'gpu-128x64': gpu(8, 1),
  'gpu-64x128': gpu(4, 2),
  'gpu-64x64': gpu(4, 1),
  'cpu-p1c16': cpu(1, 4),
  'cpu-p2c16': cpu(2, 4),
  'cpu-p2c32': cpu(2, 8),
  // 16-invocation workgroups: an 8x8 output has 16 tiles (1.4x faster than 64 there, the same at 32x32).
  'wino-t1c16': wino(16, 1),
  'wino-t2c16': wino(64, 2),
  // Only where the autotuner times them (GPUs; F4's two wide tiles on CPU drivers too): the fixed rule has no GPU measurement of them yet.
  'wgemm-128x128': wgemm(8, 2),
  'wgemm-128x64': wgemm(8, 1),
  'wgemm-64x128': wgemm(4, 2),
  'wgemm-64x64': wgemm(4, 1),
  // F(4x4, 3x3): 4x fewer multiply-adds than the direct conv and 0.56x F2's scratch, for more rounding.
  'wgemm4-128x128': wgemm(8, 2, 4),
  'wgemm4-64x128': wgemm(4, 2, 4),
  'wgemm4-64x64': wgemm(4, 1, 4),
  // Matrix units, only after enableTensorCores; tiles named as 16x16 matrices make them (8x8 ones halve them).
  mma: mma(2, 2),
  'mma-128x64': mma(4, 2),
  'mma-64x128': mma(2, 4),
  'mma-128x128': mma(4, 4),
} as const satisfies Record<string, Conv2dVariant>;

/** The matrix-unit variants: what a conv with tensor cores enabled runs, and the autotuner times. */
export const MMA_VARIANTS = (Object.keys(CONV2D_VARIANTS) as Conv2dVariantName[]).filter((n) => CONV2D_VARIANTS[n].kind === 'mma');

export type Conv2dVariantName = keyof typeof CONV2D_VARIANTS;

/**
 * Why a Winograd variant (the CPU kernel or the GEMM form) cannot run convs of this
 * kernel size and stride on this runtime, or null (always null for other kinds); conv2d
 * refuses such a run with "the Winograd conv variant needs <this>".
 */
export function winogradVariantIneligible(rt: Runtime, v: Conv2dVariant, s: WinogradShape): string | null {
  if (v.kind === 'winograd') return winogradIneligible(rt, s);
  if (v.kind === 'winograd-gemm') return winogradGemmIneligible(rt, s);
  return null;
}

/** The tile conv2d uses for M = N*OH*OW output pixels and Cout channels. */
export function chooseConv2dTile(M: number, Cout: number): Conv2dTile {
  if (Cout <= 16) return CONV2D_TILES.narrow;
  const big = Cout <= 64 ? CONV2D_TILES.medium : CONV2D_TILES.large;
  const [BM, BN] = tileExtent(big);
  return Math.ceil(M / BM) * Math.ceil(Cout / BN) < 8 ? CONV2D_TILES.small : big;
}

export const tileExtent = (t: Conv2dTile): [number, number] => [t.TM * t.WGY, 4 * t.WGX * t.TN4];

/** What a variant choice depends on. */
export interface Conv2dShape {
  KH: number;
  KW: number;
  /** Output pixels N*OH*OW. */
  M: number;
  Cin: number;
  Cout: number;
  /** Weight storage; f16 weights run the conv2d_f16 kernel, tuned apart. Default f32. */
  weights?: 'f32' | 'f16';
  /** Default [1, 1]; strided convs are tuned apart (the Winograd variants run stride 1 only). */
  stride?: readonly [number, number];
  /** Default [1, 1]; dilated convs (ASPP's) are tuned apart, on a dilated stand-in (Winograd wastes more of its tiles there). */
  dilation?: readonly [number, number];
  /** Share of Winograd tile outputs inside the output (conv2d-winograd.ts winogradTiles; default 1): the fixed rule skips Winograd where much is wasted. */
  winogradFill?: number;
  /** Runs on matrix units (tensor cores enabled, Cout >= MMA_MIN_COUT): tuned apart, among MMA_VARIANTS. */
  matrixUnits?: boolean;
}

/**
 * The tuning class of a shape: kernel size, stride and dilation, and Cin, Cout and M
 * rounded up to powers of two, so one timing serves the layers of a network that differ
 * only a little.
 */
export function conv2dShapeClass(s: Conv2dShape): string {
  const p2 = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));
  const [sH, sW] = s.stride ?? [1, 1];
  const [dH, dW] = s.dilation ?? [1, 1];
  return `${s.KH}x${s.KW} cin${p2(s.Cin)} cout${p2(s.Cout)} m${p2(s.M)}${s.weights === 'f16' ? ' f16' : ''}${sH !== 1 || sW !== 1 ? ` stride${sH}x${sW}` : ''}${dH !== 1 || dW !== 1 ? ` dil${dH}x${dW}` : ''}${s.matrixUnits ? ' mma' : ''}`;
}

/** A CPU driver (device.ts isCpuAdapterSummary): workgroup memory and barriers are costly there. */
export function isCpuAdapter(rt: Runtime): boolean {
  let cpu = cpuAdapters.get(rt);
  if (cpu === undefined) {
    cpu = isCpuAdapterSummary(rt.adapter);
    cpuAdapters.set(rt, cpu);
  }
  return cpu;
}
/** isCpuAdapter's answer per runtime: the fixed rule asks at every conv. */
const cpuAdapters = new WeakMap<Runtime, boolean>();

/**
 * The fixed rule (autotuning off). GPUs: the gpu-64x128 kernel for outputs of fewer
 * than GPU_KERNEL_BELOW_LARGE_TILES large tiles (where it fits the device), else
 * chooseConv2dTile. CPU drivers with subgroups (of 8 on lavapipe, 4 on SwiftShader):
 * the CPU kernel, which beat every tile and direct shape on both (bench/RESULTS.md,
 * issue 16), in its largest shape (2 pixels x 32 channels per invocation, 128 pixels
 * per workgroup) unless the output has fewer than CPU_CONV_SMALL_M pixels (1 x 16:
 * 1.7x faster on 8x8 on lavapipe, 1.6x on SwiftShader), or Cout <= 16 (heads), where
 * the direct kernel's 4-channel workgroups waste least (2.4x the CPU kernel on Cout 2);
 * Winograd before both where WINOGRAD_MIN_M says and the subgroups are 8 wide. CPU
 * drivers without subgroups: the direct kernel (2 pixels x 8 channels per thread;
 * heads 2 x 4), which needs neither workgroup memory nor barriers: on SwiftShader it
 * ran 1.5-4.7x the tiles (and 18x the narrow tile on a head).
 */
/** Below this many output pixels the fixed rule gives the CPU kernel 64-pixel workgroups instead of 128. */
export const CPU_CONV_SMALL_M = 256;

/**
 * GPUs: below this many 128x128 output tiles the discrete-GPU kernel (split-K, double
 * buffered) takes over from the tiled one. On an H200 (bench/RESULTS.md, autotuning all
 * 54 shape classes of a 512x512 round) `gpu-64x128` or another gpu-* tile won every class
 * with fewer than 128 large tiles (3x3 1024->256 at 32x32: 1.6 ms against 9.0 for
 * `large`, 3.7 for `small`) and `large`/`medium` every class with 128 or more (3x3
 * 256->256 at 128x128: 4.5 ms against 4.7).
 */
export const GPU_KERNEL_BELOW_LARGE_TILES = 128;

/** Whether gpu-64x128 fits each runtime's device (workgroup memory and size limits), decided once: the rule runs at every conv. */
const gpuKernelFits = new WeakMap<Runtime, boolean>();
function gpuKernelFitsDevice(rt: Runtime): boolean {
  let fits = gpuKernelFits.get(rt);
  if (fits === undefined) {
    const v = CONV2D_VARIANTS['gpu-64x128'];
    try {
      if (v.kind === 'gpu') checkGpuTile('gpu-64x128', v.gpu, rt.device.limits); // throws when it does not fit
      fits = v.kind === 'gpu';
    } catch {
      fits = false;
    }
    gpuKernelFits.set(rt, fits);
  }
  return fits;
}

/**
 * CPU drivers with subgroups of 8 or more: 3x3 stride-1 convs with at least
 * WINOGRAD_MIN_M output pixels, Cout > 16, f32 weights and at least WINOGRAD_MIN_FILL of
 * the tiles' outputs inside the output run Winograd F(2x2, 3x3): two tiles per
 * invocation from WINOGRAD_TWO_TILES_M pixels on, below that one tile per invocation in
 * 16-invocation workgroups if Cin % 4 == 0. On lavapipe (bench/RESULTS.md, issue 16)
 * wino-t2c16 ran 1.4-1.75x cpu-p2c32 from 1024 pixels on (1.37x with Cin % 4 = 2, whose
 * unaligned patch loads its two tiles share) and wino-t1c16 1.2-1.3x the best direct
 * shape at 64 and 256 pixels (where two tiles per invocation leave lanes idle), but
 * 0.88x with Cin % 4 = 2. A tile with one output in four (a dilation-8 conv on 8x8)
 * costs 2.9x the direct kernel. The transformed weights take 16/9 of the 3x3 weights
 * they come from: from 64 pixels on, a QAMN step at 128x128 derived 251.5 MiB of them
 * (on 347.1 MiB of weights) for a step time within run-to-run noise of 256 pixels'
 * (51.5 MiB), so the deep 8x8 layers, which hold most weights, keep the direct kernel.
 * f16 weights keep it too: U is f32, 3.6x the memory those weights take.
 */
export const WINOGRAD_MIN_M = 256;
export const WINOGRAD_TWO_TILES_M = 1024;
export const WINOGRAD_MIN_FILL = 0.75;

function winogradRule(rt: Runtime, s: Conv2dShape): Conv2dVariantName | null {
  const [sH, sW] = s.stride ?? [1, 1];
  const eligible = s.KH === 3 && s.KW === 3 && sH === 1 && sW === 1 && s.Cout > 16 && s.weights !== 'f16' && (s.winogradFill ?? 1) >= WINOGRAD_MIN_FILL;
  if (!eligible || s.M < WINOGRAD_MIN_M || !winogradSupported(rt)) return null;
  if (s.M >= WINOGRAD_TWO_TILES_M) return 'wino-t2c16';
  return s.Cin % 4 === 0 ? 'wino-t1c16' : null;
}

export function defaultConv2dVariant(rt: Runtime, s: Conv2dShape): Conv2dVariantName {
  if (isCpuAdapter(rt) && conv2dCpuSupported(rt)) return s.Cout <= 16 ? 'direct-p2c4' : (winogradRule(rt, s) ?? (s.M < CPU_CONV_SMALL_M ? 'cpu-p1c16' : 'cpu-p2c32'));
  if (isCpuAdapter(rt)) return s.Cout <= 16 ? 'direct-p2c4' : 'direct-p2c8';
  const [BM, BN] = tileExtent(CONV2D_TILES.large);
  const largeTiles = Math.ceil(s.M / BM) * Math.ceil(s.Cout / BN);
  if (s.Cout > 16 && largeTiles < GPU_KERNEL_BELOW_LARGE_TILES && gpuKernelFitsDevice(rt)) return 'gpu-64x128';
  const t = chooseConv2dTile(s.M, s.Cout);
  return (Object.keys(CONV2D_TILES) as (keyof typeof CONV2D_TILES)[]).find((k) => CONV2D_TILES[k] === t)!;
}

/** Tuned choices per runtime (shape class -> variant), installed by the autotuner. */
const tuned = new WeakMap<Runtime, Map<string, Conv2dVariantName>>();

export function installConv2dChoices(rt: Runtime, choices: ReadonlyMap<string, Conv2dVariantName>): void {
  tuned.set(rt, new Map(choices));
  const pending = unseen.get(rt);
  for (const cls of choices.keys()) pending?.delete(cls);
}

export function installedConv2dChoices(rt: Runtime): ReadonlyMap<string, Conv2dVariantName> {
  return tuned.get(rt) ?? new Map();
}

/** Shape classes conv2d met without a tuned choice, per runtime: what a later tuning pass times. */
const unseen = new WeakMap<Runtime, Map<string, Conv2dShape>>();

export function untunedConv2dShapes(rt: Runtime): Map<string, Conv2dShape> {
  return unseen.get(rt) ?? new Map();
}

/**
 * With tensor cores enabled (an opt-in precision: f16 operands) every conv with more than
 * 16 output channels runs on them, in the tile a tuned table chose among MMA_VARIANTS
 * (its ' mma' shape classes), else `mma`; heads keep the f32 rule.
 */
export const MMA_MIN_COUT = 17;

export function chooseConv2dVariant(rt: Runtime, s: Conv2dShape): Conv2dVariant {
  const matrixUnits = s.Cout >= MMA_MIN_COUT && tensorCoresEnabled(rt);
  const shape = matrixUnits ? { ...s, matrixUnits } : s;
  const cls = conv2dShapeClass(shape);
  const table = tuned.get(rt);
  const name = table?.get(cls);
  if (name && (CONV2D_VARIANTS[name].kind === 'mma') === matrixUnits) return CONV2D_VARIANTS[name];
  let pending = unseen.get(rt);
  if (!pending) unseen.set(rt, (pending = new Map()));
  if (!pending.has(cls)) pending.set(cls, shape);
  return CONV2D_VARIANTS[matrixUnits ? 'mma' : defaultConv2dVariant(rt, s)];
}
