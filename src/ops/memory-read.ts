// Space-time memory read (kernels/memory_read.wgsl): softmax attention of the query
// key over every memory position, fused so the M x Q affinity matrix never exists.
import { grid1d, type Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { WGSL_CONSTANTS } from '../runtime/wgsl.generated.ts';

/** Tile configuration (override constants of memory_read.wgsl). */
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
// only 128 workgroups of 64 threads; smaller register tiles may suit it better.
export const DEFAULT_TILES: MemoryReadTiles = { TQ: 1, TC: 64, QPT: 8, CPT: 8, BM: 64, DKT: 32 };

const { MAX_ACC, MAX_CPT, MAX_BQ, COPY_WG } = WGSL_CONSTANTS.memory_read;

export interface MemoryReadOptions {
  label?: string;
  tiles?: MemoryReadTiles;
}

const fmt = (t: Tensor): string => `[${t.shape.join(', ')}]`;

function checkF32(name: string, role: string, t: Tensor): void {
  t.assertLive(name);
  if (t.dtype !== 'f32') throw new TypeError(`${name}: ${role} must be f32, got ${t.dtype} ${fmt(t)}`);
  if (t.shape.length < 1) throw new RangeError(`${name}: ${role} must have at least one dimension, got a scalar`);
}

function checkTiles(rt: Runtime, name: string, t: MemoryReadTiles): void {
  const pow2 = (n: number): boolean => Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;
  const bq = t.TQ * t.QPT;
  const wg = t.TQ * t.TC;
  if (!Object.values(t).every((v) => Number.isInteger(v) && v >= 1)) throw new RangeError(`${name}: tile sizes must be positive integers: ${JSON.stringify(t)}`);
  if (t.QPT * t.CPT > MAX_ACC || t.CPT > MAX_CPT || bq > MAX_BQ) {
    throw new RangeError(`${name}: need QPT*CPT <= ${MAX_ACC}, CPT <= ${MAX_CPT}, TQ*QPT <= ${MAX_BQ}: ${JSON.stringify(t)}`);
  }
  const limits = rt.device.limits;
  if (wg > limits.maxComputeInvocationsPerWorkgroup) throw new RangeError(`${name}: TQ*TC = ${wg} threads, over this adapter's ${limits.maxComputeInvocationsPerWorkgroup}`);
  const shared = 4 * (bq * t.DKT + t.BM * (t.DKT + 1) + bq * t.BM + wg + 3 * bq);
  if (shared > limits.maxComputeWorkgroupStorageSize) {
    throw new RangeError(`${name}: tiles need ${shared} bytes of workgroup memory, over this adapter's ${limits.maxComputeWorkgroupStorageSize}: ${JSON.stringify(t)}`);
  }
  if (wg % bq !== 0 || !pow2(wg / bq)) throw new RangeError(`${name}: TQ*TC / (TQ*QPT) must be a power of two (threads per softmax row): ${JSON.stringify(t)}`);
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

  const tiles = opts.tiles ?? DEFAULT_TILES;
  checkTiles(rt, name, tiles);
  const bq = tiles.TQ * tiles.QPT;
  const bc = tiles.TC * tiles.CPT;
  const queryBlocks = Math.ceil(q / bq);
  const channelBlocks = Math.ceil(dv / bc);
  if (channelBlocks > 65535) throw new RangeError(`${name}: ${dv} value channels need ${channelBlocks} channel blocks, over 65535 (${shapes})`);

  const out = rt.empty(qs.length === 4 ? [1, qs[1], qs[2], dv] : [q, dv], 'f32', name);
  const [gx, gy] = grid1d(queryBlocks);
  rt.dispatch({
    kernel: 'memory_read',
    label: name,
    constants: { ...tiles },
    bindings: [memoryKeys, memoryValues, queryKey, out],
    uniforms: { numQueries: q, numMemory: m, keyDim: dk, valueDim: dv, queryBlocks, scale: 1 / Math.sqrt(dk) },
    // Scores and the weighted sum (the exps are few next to them); every operand read once, the result written once.
    cost: { flop: 2 * q * m * (dk + dv), bytes: memoryKeys.byteLength + memoryValues.byteLength + queryKey.byteLength + out.byteLength },
    workgroups: [gx, gy, channelBlocks],
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
    if (t.size > 0) {
      rt.dispatch({
        kernel: 'memory_read',
        entryPoint: 'copy_rows',
        label: name,
        bindings: [t, out],
        uniforms: { count: t.size, offset },
        workgroups: grid1d(Math.ceil(t.size / COPY_WG)),
      });
    }
    offset += t.size;
  }
  return out;
}
