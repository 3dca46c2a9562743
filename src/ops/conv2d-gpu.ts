// The discrete-GPU conv2d variants (kernels/conv2d_gpu.wgsl): double-buffered
// register-prefetch implicit GEMM with split-K for outputs too small to fill a GPU.
// conv2d (conv2d.ts) validates shapes and builds the uniforms and epilogue; this file
// checks the tile, chooses the split and dispatches main (and reduce when split).
import { grid1d, type Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { defineDerivedKernel, kernelEntry } from '../runtime/kernels.ts';
import { WGSL_CONSTANTS } from '../runtime/wgsl.generated.ts';
import type { OverrideValues, UniformValues } from '../runtime/uniforms.ts';
import { conv2dF16Source } from './conv2d-f16.ts';

/** Tile of the GPU kernel; see its override constants. Tile = (TM*WGY) pixels x (4*WGX*TN4) channels. */
export interface Conv2dGpu {
  TM: number;
  TN4: number;
  WGX: number;
  WGY: number;
  BK: number;
  /** Split K across workgroups when the output tiles are too few for the adapter (false: never). */
  splitK: boolean;
}

/**
 * Workgroups split-K aims for: two per multiprocessor of a large discrete GPU (an H100
 * or H200 has 132); a CPU driver runs one workgroup per core, so a few suffice there.
 */
export const GPU_CONV_TARGET_WORKGROUPS = 264;
export const CPU_CONV_TARGET_WORKGROUPS = 8;
/** K-slices (of BK) each split keeps at least, so the partial sums' traffic stays small next to its work. */
export const MIN_K_TILES_PER_SPLIT = 8;

const { MAX_SLOTS, REDUCE_WG } = WGSL_CONSTANTS.conv2d_gpu;

export const gpuTileExtent = (t: Conv2dGpu): [number, number] => [t.TM * t.WGY, 4 * t.WGX * t.TN4];

/** Returns the tile's [BM, BN] after checking the kernel's assumptions about it against the device. */
export function checkGpuTile(name: string, t: Conv2dGpu, limits: GPUSupportedLimits): [number, number] {
  const [BM, BN] = gpuTileExtent(t);
  const wg = t.WGX * t.WGY;
  const aSlots = Math.ceil(((t.BK / 4) * BM) / wg);
  const bSlots = Math.ceil((t.BK * BN) / 4 / wg);
  const shared = 2 * t.BK * (BM + BN) * 4;
  const ok =
    [t.TM, t.TN4, t.WGX, t.WGY, t.BK].every((d) => Number.isInteger(d) && d > 0) &&
    [4, 8].includes(t.TM) && [1, 2].includes(t.TN4) && t.BK % 4 === 0 && t.WGX % t.TM === 0 &&
    aSlots <= MAX_SLOTS && bSlots <= MAX_SLOTS &&
    wg <= limits.maxComputeInvocationsPerWorkgroup && t.WGX <= limits.maxComputeWorkgroupSizeX && t.WGY <= limits.maxComputeWorkgroupSizeY &&
    shared <= limits.maxComputeWorkgroupStorageSize;
  if (!ok) {
    throw new RangeError(
      `${name}: unsupported GPU conv tile ${JSON.stringify(t)} (need TM 4|8 dividing WGX, TN4 1|2, BK % 4 == 0, ` +
        `at most ${MAX_SLOTS} load slots per thread, ${wg} threads and ${shared} bytes of workgroup memory within the device's limits)`,
    );
  }
  return [BM, BN];
}

/** How many K-splits the GPU kernel uses for an M x Cout output with reduction length K. */
export function conv2dGpuSplits(t: Conv2dGpu, M: number, Cout: number, K: number, targetWorkgroups: number): { splits: number; kTilesPerSplit: number } {
  const [BM, BN] = gpuTileExtent(t);
  return t.splitK ? splitK(BM, BN, t.BK, M, Cout, K, targetWorkgroups) : { splits: 1, kTilesPerSplit: Math.ceil(K / t.BK) };
}

/**
 * Split-K for a BM x BN-tiled GEMM of M x Cout outputs over K in slices of BK: enough
 * splits for targetWorkgroups, each at least MIN_K_TILES_PER_SPLIT slices.
 */
export function splitK(BM: number, BN: number, BK: number, M: number, Cout: number, K: number, targetWorkgroups: number): { splits: number; kTilesPerSplit: number } {
  const kTiles = Math.ceil(K / BK);
  const tiles = Math.ceil(M / BM) * Math.ceil(Cout / BN);
  const splits = Math.max(1, Math.min(Math.ceil(targetWorkgroups / tiles), Math.floor(kTiles / MIN_K_TILES_PER_SPLIT)));
  const kTilesPerSplit = Math.ceil(kTiles / splits);
  // Rounding up may leave the last splits empty: drop them.
  return { splits: Math.ceil(kTiles / kTilesPerSplit), kTilesPerSplit };
}

// f16 weights: the same derivation as conv2d_f16 (conv2d-f16.ts).
const F16_KERNEL = 'conv2d_gpu_f16';
defineDerivedKernel(F16_KERNEL, () => conv2dF16Source(kernelEntry('conv2d_gpu').source));

export interface Conv2dGpuCall {
  precision: 'f32' | 'f16';
  /** x, weight, bias, residual (or x), out: conv2d.ts's bindings. */
  bindings: [Tensor, Tensor, Tensor, Tensor, Tensor];
  /** conv2d.ts's uniforms (H, W, ..., coutPad4). */
  uniforms: UniformValues & { M: number; Cout: number; K: number; coutPad4: number };
  epilogue: { VEC4_IN: boolean; VEC4_OUT: boolean; HAS_RESIDUAL: boolean; RELU: boolean };
  cost: { flop: number; bytes: number };
  /** CPU drivers aim split-K at fewer workgroups. */
  cpuAdapter: boolean;
}

export function dispatchConv2dGpu(rt: Runtime, name: string, t: Conv2dGpu, call: Conv2dGpuCall): void {
  const [BM, BN] = checkGpuTile(name, t, rt.device.limits);
  const { M, Cout, K } = call.uniforms;
  const target = call.cpuAdapter ? CPU_CONV_TARGET_WORKGROUPS : GPU_CONV_TARGET_WORKGROUPS;
  const { TM, TN4, WGX, WGY, BK } = t;
  dispatchSplitKConv(rt, name, call, {
    kernel: call.precision === 'f16' ? F16_KERNEL : 'conv2d_gpu', constants: { TM, TN4, WGX, WGY, BK, ...call.epilogue },
    tile: [BM, BN], ...conv2dGpuSplits(t, M, Cout, K, target),
  });
}

/** A split-K conv kernel (this file's or conv2d-mma.ts's): its pipeline, tile [BM, BN] and split. */
export interface SplitKKernel {
  kernel: string;
  constants: OverrideValues;
  tile: [number, number];
  splits: number;
  kTilesPerSplit: number;
}

/**
 * Dispatches a split-K conv kernel (this file's, or conv2d-mma.ts's, whose bindings,
 * uniforms and partial-sum layout are the same): workgroup x = split * channel blocks +
 * block, y/z the BM-pixel tiles; with splits > 1 the partial sums go to a scratch
 * buffer (a 4-float stand-in otherwise: the binding must exist and not alias out) and
 * conv2d_gpu.wgsl's `reduce` adds them up and applies the epilogue.
 */
export function dispatchSplitKConv(rt: Runtime, name: string, call: Omit<Conv2dGpuCall, 'cpuAdapter'>, k: SplitKKernel): void {
  const { M, coutPad4 } = call.uniforms;
  const { splits } = k;
  rt.scope(() => {
    const partial = rt.empty(splits === 1 ? [4] : [splits, M, 4 * coutPad4], 'f32', `${name} partial`);
    dispatchSplitKMain(rt, name, call, k, partial);
    if (splits === 1) return;
    rt.dispatch({
      kernel: call.precision === 'f16' ? F16_KERNEL : 'conv2d_gpu', entryPoint: 'reduce', label: `${name} split-K reduce`, constants: call.epilogue,
      bindings: [...call.bindings, partial], uniforms: { ...call.uniforms, splits, kTilesPerSplit: k.kTilesPerSplit },
      cost: { flop: splits * M * call.uniforms.Cout, bytes: partial.byteLength + 4 * M * call.uniforms.Cout },
      workgroups: grid1d(Math.ceil((M * coutPad4) / REDUCE_WG)),
    });
  });
}

/**
 * The split-K kernel's main entry alone: with splits > 1 split s writes its sums to
 * partial[s][m][coutPad4] and nothing else (the Winograd GEMM, conv2d-winograd-gemm.ts,
 * reads them as its products).
 */
export function dispatchSplitKMain(rt: Runtime, name: string, call: Omit<Conv2dGpuCall, 'cpuAdapter'>, k: SplitKKernel, partial: Tensor): void {
  const { M, Cout } = call.uniforms;
  const [BM, BN] = k.tile;
  const { splits, kTilesPerSplit } = k;
  const nBlocks = Math.ceil(Cout / BN);
  if (nBlocks * splits > 65535) throw new RangeError(`${name}: ${nBlocks} channel blocks x ${splits} splits exceed 65535 workgroups`);
  const [gy, gz] = grid1d(Math.ceil(M / BM));
  const bytes = splits === 1 ? call.cost.bytes : call.cost.bytes + 2 * partial.byteLength;
  rt.dispatch({
    kernel: k.kernel, label: name, constants: k.constants, bindings: [...call.bindings, partial], uniforms: { ...call.uniforms, splits, kTilesPerSplit },
    cost: { flop: call.cost.flop, bytes }, workgroups: [nBlocks * splits, gy, gz],
  });
}
