// Space-time memory read: softmax attention of the query key over every memory
// position, fused so the M x Q affinity matrix never exists. Two kernels:
//   flat     - kernels/memory_read.wgsl: any adapter; workgroup-memory reductions.
//   subgroup - kernels/memory_read_subgroup.wgsl: adapters with `subgroups`; shuffle
//              reductions, and the memory split across workgroups (plus a combine
//              pass) when the queries alone give too few workgroups for the adapter.
// And 'gemm' (memory-read-gemm.ts): the affinities written out, the two products on the
// conv2d kernels; the default wherever the affinities fit one storage binding (gemmFits).
// planMemoryRead is the fused kernels' rule: the kernel, its tiles and the split.
import { grid1d, type Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { WGSL_CONSTANTS } from '../runtime/wgsl.generated.ts';
import { isCpuAdapter } from './conv2d-variants.ts';
import { memoryReadGemm } from './memory-read-gemm.ts';
import { padTo4 } from './conv2d-weights.ts';

/** Tile configuration (override constants of memory_read*.wgsl). */
export interface MemoryReadTiles {
  /** Thread rows (over queries) and columns (over channels); TQ * TC threads. */
  TQ: number;
  TC: number;
  /** Register tile per thread: QPT queries x CPT channels. */
  QPT: number;
  CPT: number;
  /** Memory positions per tile and key channels staged per chunk. */
  BM: number;
  DKT: number;
}

// Tuned on lavapipe (Q 1024, M 5120, Dk 128, Dv 512): large register tiles win there,
// at 12 KiB of workgroup memory. Not tuned on a discrete GPU, where Q = 1024 makes
// only 128 workgroups of 64 threads: the subgroup kernel splits memory to fill it.
export const DEFAULT_TILES: MemoryReadTiles = { TQ: 1, TC: 64, QPT: 8, CPT: 8, BM: 64, DKT: 32 };

/** Tile sets the benchmark (bench/gpu-kernels.ts) compares on GPUs; DEFAULT_TILES is 'q8c8'. */
export const MEMORY_READ_TILE_SETS = {
  q8c8: DEFAULT_TILES,
  /** 128 threads, 16 queries x 256 channels: twice the queries per key tile, two channel blocks at Dv 512. */
  q16c4: { TQ: 2, TC: 64, QPT: 8, CPT: 4, BM: 64, DKT: 32 },
  /** 128 threads, 16 queries x 512 channels (4 x 16 registers): one channel block at Dv 512. */
  q16c16: { TQ: 4, TC: 32, QPT: 4, CPT: 16, BM: 64, DKT: 32 },
  /** 64 threads, 4 queries x 512 channels: small register tile, 4x the workgroups of q8c8 per query. */
  q4c8: { TQ: 1, TC: 64, QPT: 4, CPT: 8, BM: 64, DKT: 32 },
} as const satisfies Record<string, MemoryReadTiles>;

export type MemoryReadPath = 'flat' | 'subgroup' | 'gemm';

/**
 * Workgroups the split aims for: a discrete GPU holds several workgroups on each of
 * its ~100 compute units; a CPU driver runs one per core, so a few suffice there.
 */
export const GPU_TARGET_WORKGROUPS = 1024;
export const CPU_TARGET_WORKGROUPS = 8;
/** Memory tiles (of BM positions) each split keeps at least, so its query-tile loads and the combine pass stay small next to its work. */
export const MIN_TILES_PER_SPLIT = 4;

const { MAX_ACC, MAX_CPT, MAX_BQ, COPY_WG } = WGSL_CONSTANTS.memory_read;
const { COMBINE_WG } = WGSL_CONSTANTS.memory_read_subgroup;

export interface MemoryReadOptions {
  label?: string;
  tiles?: MemoryReadTiles;
  /** Default 'gemm' where gemmFits (without tiles or splits), else the fused rule (planMemoryRead); 'gemm' takes no tiles or splits. */
  path?: MemoryReadPath;
  /** Memory splits (subgroup path only); default from the rule. */
  splits?: number;
}

/** What memoryRead runs for a shape on this runtime. */
export interface MemoryReadPlan {
  path: MemoryReadPath;
  tiles: MemoryReadTiles;
  /** Workgroups along memory; 1 = no combine pass. */
  splits: number;
  /** Memory positions per split (a multiple of BM). */
  chunk: number;
  /** Lanes a shuffle butterfly reduces (subgroup path): min(threads per softmax row, subgroupMinSize). */
  sgr: number;
}

const fmt = (t: Tensor): string => `[${t.shape.join(', ')}]`;

function checkF32(name: string, role: string, t: Tensor): void {
  t.assertLive(name);
  if (t.dtype !== 'f32') throw new TypeError(`${name}: ${role} must be f32, got ${t.dtype} ${fmt(t)}`);
  if (t.shape.length < 1) throw new RangeError(`${name}: ${role} must have at least one dimension, got a scalar`);
}

function checkTiles(rt: Runtime, name: string, t: MemoryReadTiles, sgr: number | null): void {
  const pow2 = (n: number): boolean => Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;
  const bq = t.TQ * t.QPT;
  const wg = t.TQ * t.TC;
  if (!Object.values(t).every((v) => Number.isInteger(v) && v >= 1)) throw new RangeError(`${name}: tile sizes must be positive integers: ${JSON.stringify(t)}`);
  if (t.QPT * t.CPT > MAX_ACC || t.CPT > MAX_CPT || bq > MAX_BQ) {
    throw new RangeError(`${name}: need QPT*CPT <= ${MAX_ACC}, CPT <= ${MAX_CPT}, TQ*QPT <= ${MAX_BQ}: ${JSON.stringify(t)}`);
  }
  const limits = rt.device.limits;
  if (wg > limits.maxComputeInvocationsPerWorkgroup) throw new RangeError(`${name}: TQ*TC = ${wg} threads, over this adapter's ${limits.maxComputeInvocationsPerWorkgroup}`);
  // The reduction scratch: one float per thread (flat), one per shuffle group (subgroup).
  const scratch = sgr === null ? wg : wg / sgr;
  const shared = 4 * (bq * t.DKT + t.BM * (t.DKT + 1) + bq * t.BM + scratch + 3 * bq);
  if (shared > limits.maxComputeWorkgroupStorageSize) {
    throw new RangeError(`${name}: tiles need ${shared} bytes of workgroup memory, over this adapter's ${limits.maxComputeWorkgroupStorageSize}: ${JSON.stringify(t)}`);
  }
  if (wg % bq !== 0 || !pow2(wg / bq)) throw new RangeError(`${name}: TQ*TC / (TQ*QPT) must be a power of two (threads per softmax row): ${JSON.stringify(t)}`);
}

/**
 * Whether the gemm path's affinities [Q, M rounded up to 4] fit one storage binding: then
 * it is memoryRead's default. It ran 3.8x faster than the fused subgroup kernel on lavapipe
 * at a 512x512 step's read (Q 1024, M 5120) and 1.2x at 128x128 (Q 64, M 320), the conv
 * kernels being the better tuned (bench/RESULTS.md); on the H200 the conv kernels it runs on
 * measured 14-16 TFLOP/s against the fused read's 6.5 (its own timing is the device suite's
 * `memread`). Past the limit (some 40 memory frames at 512x512 on lavapipe's 128 MiB) the
 * fused kernels, which need no such buffer, take over.
 */
export function gemmFits(rt: Runtime, q: number, m: number): boolean {
  return q * padTo4(m) * 4 <= rt.device.limits.maxStorageBufferBindingSize;
}

/**
 * The fused kernels' rule. Kernel: 'subgroup' where the adapter has `subgroups` (shuffles replace the
 * reduction barriers), else 'flat'. Split (subgroup path only): enough memory splits
 * that queryBlocks * channelBlocks * splits reaches the adapter's target workgroups
 * (GPU_TARGET_WORKGROUPS, or CPU_TARGET_WORKGROUPS on CPU drivers), each split keeping
 * at least MIN_TILES_PER_SPLIT memory tiles. Options override each part.
 */
export function planMemoryRead(rt: Runtime, q: number, m: number, dv: number, opts: MemoryReadOptions = {}, name = 'memoryRead'): MemoryReadPlan {
  const hasSubgroups = rt.hasFeature('subgroups');
  const path = opts.path ?? (hasSubgroups ? 'subgroup' : 'flat');
  if (path !== 'flat' && path !== 'subgroup') throw new RangeError(`${name}: the fused read's path must be 'flat' or 'subgroup', got ${JSON.stringify(path)} ('gemm' is memoryRead's own)`);
  if (path === 'subgroup' && !hasSubgroups) throw new Error(`${name}: the subgroup memory read needs the WebGPU feature 'subgroups', which this adapter does not offer`);
  if (path === 'flat' && opts.splits !== undefined && opts.splits !== 1) throw new RangeError(`${name}: the flat memory read does not split memory (splits ${opts.splits}); use path 'subgroup'`);
  const tiles = opts.tiles ?? DEFAULT_TILES;
  const r = (tiles.TQ * tiles.TC) / (tiles.TQ * tiles.QPT);
  // WebGPU guarantees subgroups of at least 4 lanes where the adapter reports no minimum.
  const sgr = path === 'subgroup' ? Math.min(r, rt.adapter.subgroupMinSize || 4) : 0;
  checkTiles(rt, name, tiles, path === 'subgroup' ? Math.max(1, sgr) : null);
  const tilesM = Math.ceil(m / tiles.BM);
  let splits = 1;
  if (opts.splits !== undefined) {
    if (!Number.isInteger(opts.splits) || opts.splits < 1) throw new RangeError(`${name}: splits must be a positive integer, got ${opts.splits}`);
    splits = Math.min(opts.splits, tilesM);
  } else if (path === 'subgroup') {
    const base = Math.ceil(q / (tiles.TQ * tiles.QPT)) * Math.ceil(dv / (tiles.TC * tiles.CPT));
    const target = isCpuAdapter(rt) ? CPU_TARGET_WORKGROUPS : GPU_TARGET_WORKGROUPS;
    splits = Math.max(1, Math.min(Math.ceil(target / base), Math.floor(tilesM / MIN_TILES_PER_SPLIT)));
  }
  const chunk = Math.ceil(tilesM / splits) * tiles.BM;
  return { path, tiles, splits: Math.ceil(m / chunk), chunk, sgr };
}

/**
 * out[q, c] = sum_m softmax_m(memoryKeys[m] . queryKey[q] / sqrt(Dk)) * memoryValues[m, c].
 *
 * memoryKeys [..., Dk] and memoryValues [..., Dv]: all leading dimensions are flattened
 * to the M memory positions (e.g. [T, H, W, Dk] for T frames). queryKey is [1, H, W, Dk]
 * (result [1, H, W, Dv]) or [Q, Dk] (result [Q, Dv]).
 */
export function memoryRead(rt: Runtime, memoryKeys: Tensor, memoryValues: Tensor, queryKey: Tensor, opts: MemoryReadOptions = {}): Tensor<'f32'> {
  const name = opts.label ?? 'memoryRead';
  checkF32(name, 'memoryKeys', memoryKeys);
  checkF32(name, 'memoryValues', memoryValues);
  checkF32(name, 'queryKey', queryKey);
  const dk = memoryKeys.shape[memoryKeys.shape.length - 1];
  const dv = memoryValues.shape[memoryValues.shape.length - 1];
  const shapes = `keys ${fmt(memoryKeys)}, values ${fmt(memoryValues)}, query ${fmt(queryKey)}`;
  if (dk === 0 || dv === 0) throw new RangeError(`${name}: key and value channels must be non-zero (${shapes})`);
  const m = memoryKeys.size / dk;
  if (m === 0) throw new RangeError(`${name}: memory is empty (${shapes})`);
  if (memoryValues.size / dv !== m) throw new RangeError(`${name}: keys hold ${m} memory positions, values ${memoryValues.size / dv} (${shapes})`);
  const qs = queryKey.shape;
  if (!((qs.length === 4 && qs[0] === 1) || qs.length === 2)) throw new RangeError(`${name}: query must be [1, H, W, Dk] or [Q, Dk] (${shapes})`);
  if (qs[qs.length - 1] !== dk) throw new RangeError(`${name}: query has ${qs[qs.length - 1]} key channels, memory keys ${dk} (${shapes})`);
  const q = queryKey.size / dk;
  if (q === 0) throw new RangeError(`${name}: query is empty (${shapes})`);

  if (opts.path === 'gemm' || (opts.path === undefined && opts.tiles === undefined && opts.splits === undefined && gemmFits(rt, q, m))) {
    if (opts.tiles !== undefined || opts.splits !== undefined) throw new RangeError(`${name}: the gemm memory read takes no tiles or splits (its products run on the conv2d kernels)`);
    const out = rt.empty(qs.length === 4 ? [1, qs[1], qs[2], dv] : [q, dv], 'f32', name);
    memoryReadGemm(rt, memoryKeys, memoryValues, queryKey, { q, m, dk, dv }, out, name);
    return out;
  }
  const plan = planMemoryRead(rt, q, m, dv, opts, name);
  const { tiles, splits } = plan;
  const bq = tiles.TQ * tiles.QPT;
  const bc = tiles.TC * tiles.CPT;
  const queryBlocks = Math.ceil(q / bq);
  const channelBlocks = Math.ceil(dv / bc);
  if (channelBlocks * splits > 65535) throw new RangeError(`${name}: ${dv} value channels need ${channelBlocks} channel blocks x ${splits} splits, over 65535 (${shapes})`);

  const out = rt.empty(qs.length === 4 ? [1, qs[1], qs[2], dv] : [q, dv], 'f32', name);
  const [gx, gy] = grid1d(queryBlocks);
  const uniforms = { numQueries: q, numMemory: m, keyDim: dk, valueDim: dv, queryBlocks, scale: 1 / Math.sqrt(dk) };
  // Scores and the weighted sum (the exps are few next to them); every operand read once, the result written once.
  const cost = { flop: 2 * q * m * (dk + dv), bytes: memoryKeys.byteLength + memoryValues.byteLength + queryKey.byteLength + out.byteLength };
  if (plan.path === 'flat') {
    rt.dispatch({ kernel: 'memory_read', label: name, constants: { ...tiles }, bindings: [memoryKeys, memoryValues, queryKey, out], uniforms, cost, workgroups: [gx, gy, channelBlocks] });
    return out;
  }
  const constants = { ...tiles, SGR: plan.sgr };
  const subgroupUniforms = { ...uniforms, channelBlocks, splits, chunk: plan.chunk };
  rt.scope(() => {
    if (splits === 1) {
      // Nothing is written to stats with one split, but the binding must exist (and may not alias out).
      const unused = rt.empty([4], 'f32', `${name} stats (unused)`);
      rt.dispatch({ kernel: 'memory_read_subgroup', label: name, constants, bindings: [memoryKeys, memoryValues, queryKey, out, unused], uniforms: subgroupUniforms, cost, workgroups: [gx, gy, channelBlocks] });
      return;
    }
    const partial = rt.empty([splits, q, dv], 'f32', `${name} partial`);
    const stats = rt.empty([splits, q, 2], 'f32', `${name} stats`);
    rt.dispatch({
      kernel: 'memory_read_subgroup', label: `${name} split`, constants, bindings: [memoryKeys, memoryValues, queryKey, partial, stats], uniforms: subgroupUniforms,
      cost: { flop: cost.flop, bytes: cost.bytes - out.byteLength + partial.byteLength + stats.byteLength }, workgroups: [gx, gy, channelBlocks * splits],
    });
    rt.dispatch({
      kernel: 'memory_read_subgroup', entryPoint: 'combine', label: `${name} combine`, bindings: [partial, stats, out],
      uniforms: { count: q * dv, numQueries: q, valueDim: dv, splits },
      cost: { flop: 4 * splits * q * dv, bytes: partial.byteLength + stats.byteLength + out.byteLength }, workgroups: grid1d(Math.ceil((q * dv) / COMBINE_WG)),
    });
  });
  return out;
}

/**
 * Stacks tensors that share their last dimension D into one [rows, D] tensor
 * (rows in argument order), e.g. T memory frames [1, H, W, D] into [T*H*W, D].
 */
export function concatRows(rt: Runtime, tensors: readonly Tensor[], opts: { label?: string } = {}): Tensor<'f32'> {
  const name = opts.label ?? 'concatRows';
  if (tensors.length === 0) throw new RangeError(`${name}: no tensors to concatenate`);
  for (const t of tensors) checkF32(name, 'input', t);
  const d = tensors[0].shape[tensors[0].shape.length - 1];
  const bad = tensors.find((t) => t.shape[t.shape.length - 1] !== d);
  if (bad) throw new RangeError(`${name}: last dimensions differ: ${tensors.map(fmt).join(', ')}`);
  const rows = tensors.reduce((n, t) => n + (d === 0 ? 0 : t.size / d), 0);
  const out = rt.empty([rows, d], 'f32', name);
  let offset = 0;
  for (const t of tensors) {
    copyValuesInto(rt, t, t.size, out, offset, name);
    offset += t.size;
  }
  return out;
}

/**
 * Copies the first `count` values of `src` into `dst` from value `offset` on (f32 buffers;
 * `dst`'s buffer may be larger than its shape, as a memory bank's is). The caller checks the ranges.
 */
export function copyValuesInto(rt: Runtime, src: Tensor, count: number, dst: Tensor, offset: number, label: string): void {
  if (count === 0) return;
  rt.dispatch({
    kernel: 'memory_read',
    entryPoint: 'copy_rows',
    label,
    bindings: [src, dst],
    uniforms: { count, offset },
    workgroups: grid1d(Math.ceil(count / COPY_WG)),
  });
}
