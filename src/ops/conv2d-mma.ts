// Conv2d on matrix units (kernels/conv2d_mma.wgsl): f16 operands, f32 accumulation, on
// the subgroup matrices of adapters that have them (NVIDIA's tensor cores through Dawn's
// Vulkan cooperative matrices). Opt-in, because it rounds activations to f16 as well as
// weights: a runtime created with { tensorCores: true } and then checked by
//   await enableTensorCores(rt);
// runs every conv2d with more than 16 output channels here (conv2d-variants.ts's rule).
// enableTensorCores compiles the kernel once in each spelling of the WGSL builtins Dawn
// has used and keeps the one that compiles, so a Dawn update does not silently lose it.
//
// The same kernel with its matrix operations written out per invocation ('emulated')
// runs on any adapter with shader-f16: the tests check that form against the float64
// reference, and the swapped-in block (kernels/conv2d_mma_subgroup_matrix.fragment.wgsl)
// is the only text the matrix units see that the tests do not. enableTensorCores(rt,
// { emulate: true }) runs whole networks on the emulated form (slowly): the f16-operand
// accuracy of a network, measured on any adapter.
import { SUBGROUP_MATRIX_FEATURE, type SubgroupMatrixConfig } from '../runtime/device.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { kernelEntry, registerKernel, replaceOnce } from '../runtime/kernels.ts';
import { WGSL_FRAGMENTS } from '../runtime/wgsl.generated.ts';
import { withF16WeightLines } from './conv2d-f16.ts';
import { CPU_CONV_TARGET_WORKGROUPS, dispatchSplitKConv, GPU_CONV_TARGET_WORKGROUPS, splitK, type Conv2dGpuCall } from './conv2d-gpu.ts';
import { isCpuAdapter } from './conv2d-variants.ts';

export interface MmaShape {
  /** Result rows (output pixels) per matrix product. */
  M: number;
  /** Result columns (output channels). */
  N: number;
  /** Reduction depth. */
  K: number;
}

export type MmaOps = 'subgroup-matrix' | 'emulated';

/** Result matrices per subgroup along pixels (TM) and channels (TN); the workgroup's 2 x 2 subgroups make a tile of 2 TM SM x 2 TN SN. */
export interface MmaTile {
  TM: number;
  TN: number;
}

/** The `mma` variant's tile: 64 x 64 with 16x16x16 matrices. */
export const MMA_DEFAULT_TILE: MmaTile = { TM: 2, TN: 2 };

export interface Conv2dMma {
  /**
   * 'enabled': what enableTensorCores turned on for the runtime; 'subgroup-matrix': the
   * adapter's matrix units (enabled on it); 'emulated': the per-invocation block.
   */
  ops: 'enabled' | MmaOps;
  /** Emulated only: the matrix shape and subgroup size to emulate (default 16x16x16 and 32). */
  shape?: MmaShape;
  lanes?: number;
  /** Split K across workgroups when the output tiles are too few for the adapter (default true; conv2d-gpu.ts's rule). */
  splitK?: boolean;
  /** Default MMA_DEFAULT_TILE. */
  tile?: MmaTile;
  /** Pad each tile row in workgroup memory by MMA_ROW_PAD (default true; false is the unpadded layout, for comparison). */
  padRows?: boolean;
}

/**
 * f16 elements (16 bytes) past each row of the kernel's A and B tiles in workgroup memory,
 * so that the rows a matrix load reads together start in different memory banks (PAD in
 * kernels/conv2d_mma.wgsl); 16 bytes keeps every row 16-byte aligned.
 */
export const MMA_ROW_PAD = 8;

const rowPad = (v: Conv2dMma): number => (v.padRows === false ? 0 : MMA_ROW_PAD);

/** What emulation stands in for: NVIDIA's matrix shape and subgroup size. */
const EMULATED_SHAPE: MmaShape = { M: 16, N: 16, K: 16 };
const EMULATED_LANES = 32;

/**
 * How the builtins are spelled: the row_major template argument (current Dawn, npm webgpu
 * 0.6.2 included, where the other form compiles with deprecation warnings) or the
 * col_major argument (Dawn's first form, for older Dawns). Tried in this order.
 */
export type MmaDialect = 'col-major-argument' | 'row-major-template';
export const MMA_DIALECTS: readonly MmaDialect[] = ['row-major-template', 'col-major-argument'];

export interface TensorCores {
  ops: MmaOps;
  shape: MmaShape;
  lanes: number;
  /** Subgroup matrices only. */
  dialect?: MmaDialect;
}

const enabled = new WeakMap<Runtime, TensorCores>();

export const tensorCoresEnabled = (rt: Runtime): boolean => enabled.has(rt);

/** What enableTensorCores turned on for this runtime, if it did. */
export const tensorCores = (rt: Runtime): TensorCores | undefined => enabled.get(rt);

/** The matrix shape enableTensorCores uses: f16 x f16 -> f32, preferring 16x16x16 (4 x 4 of them make a 64 x 64 tile). */
export function chooseMmaShape(configs: readonly SubgroupMatrixConfig[]): MmaShape | null {
  const usable = configs.filter((c) => c.componentType === 'f16' && c.resultComponentType === 'f32');
  const best = usable.find((c) => c.M === 16 && c.N === 16 && c.K === 16) ?? usable[0];
  return best ? { M: best.M, N: best.N, K: best.K } : null;
}

/** Why this runtime cannot use its matrix units for conv2d, or null if it can try. */
export function tensorCoresUnavailable(rt: Runtime): string | null {
  const a = rt.adapter;
  if (!rt.hasFeature(SUBGROUP_MATRIX_FEATURE)) {
    return `the device has no '${SUBGROUP_MATRIX_FEATURE}': the adapter offers it only with matrix units (Vulkan cooperative matrices) and, in Node, to a runtime created with { tensorCores: true } (Dawn's allow_unsafe_apis)`;
  }
  if (!rt.hasFeature('shader-f16')) return "the device has no 'shader-f16' (the matrix operands are f16; on NVIDIA's Vulkan driver Dawn needs vulkan_enable_f16_on_nvidia)";
  if (!chooseMmaShape(a.subgroupMatrixConfigs)) {
    return `no f16 x f16 -> f32 subgroup matrix among ${JSON.stringify(a.subgroupMatrixConfigs)}`;
  }
  if (!(a.subgroupMinSize > 0 && a.subgroupMinSize === a.subgroupMaxSize)) {
    return `the kernel needs one subgroup size (this adapter: ${a.subgroupMinSize}..${a.subgroupMaxSize})`;
  }
  return null;
}

const MARK_BEGIN = '// ---- matrix ops';
const MARK_END = '// ---- end matrix ops ----';

/** Rewrites the block's `(ptr, offset, false, stride)` loads and stores to the `row_major` template form. */
export function toRowMajorTemplate(block: string): string {
  return block
    .replace(/subgroupMatrixLoad<(subgroup_matrix_\w+<[^>]*>)>\(([^;]*?), false, (\w+)\)/g, 'subgroupMatrixLoad<$1, row_major>($2, $3)')
    .replace(/subgroupMatrixStore\(([^;]*?), false, (\w+)\)/g, 'subgroupMatrixStore<row_major>($1, $2)');
}

export interface MmaSourceOptions {
  ops: MmaOps;
  shape: MmaShape;
  lanes: number;
  tile: MmaTile;
  /** f16 elements past each tile row (default MMA_ROW_PAD). */
  pad?: number;
  dialect?: MmaDialect;
  f16Weights: boolean;
}

/** kernels/conv2d_mma.wgsl with the matrix shape, subgroup size, matrix ops and weight precision substituted. */
export function conv2dMmaSource(o: MmaSourceOptions): string {
  let src = kernelEntry('conv2d_mma').source;
  src = replaceOnce(src, 'const SM: u32 = 16u;', `const SM: u32 = ${o.shape.M}u;`, 'kernels/conv2d_mma.wgsl', 'SM');
  src = replaceOnce(src, 'const SN: u32 = 16u;', `const SN: u32 = ${o.shape.N}u;`, 'kernels/conv2d_mma.wgsl', 'SN');
  src = replaceOnce(src, 'const SK: u32 = 16u;', `const SK: u32 = ${o.shape.K}u;`, 'kernels/conv2d_mma.wgsl', 'SK');
  src = replaceOnce(src, 'const LANES: u32 = 32u;', `const LANES: u32 = ${o.lanes}u;`, 'kernels/conv2d_mma.wgsl', 'LANES');
  src = replaceOnce(src, 'const TM: u32 = 2u;', `const TM: u32 = ${o.tile.TM}u;`, 'kernels/conv2d_mma.wgsl', 'TM');
  src = replaceOnce(src, 'const TN: u32 = 2u;', `const TN: u32 = ${o.tile.TN}u;`, 'kernels/conv2d_mma.wgsl', 'TN');
  src = replaceOnce(src, `const PAD: u32 = ${MMA_ROW_PAD}u;`, `const PAD: u32 = ${o.pad ?? MMA_ROW_PAD}u;`, 'kernels/conv2d_mma.wgsl', 'PAD');
  if (o.f16Weights) src = withF16WeightLines(src);
  if (o.ops === 'emulated') return src;
  const begin = src.indexOf(MARK_BEGIN);
  const end = src.indexOf(MARK_END);
  if (begin < 0 || end < begin) throw new Error(`kernels/conv2d_mma.wgsl: the matrix ops block ('${MARK_BEGIN}' ... '${MARK_END}') is missing`);
  let block = WGSL_FRAGMENTS.conv2d_mma_subgroup_matrix;
  if (o.dialect === 'row-major-template') block = toRowMajorTemplate(block);
  return [
    'enable chromium_experimental_subgroup_matrix;',
    // Each subgroup loads and stores at its own offsets: uniform within the subgroup,
    // which WGSL's uniformity analysis (workgroup scope) cannot prove.
    'diagnostic(off, chromium.subgroup_matrix_uniformity);',
    src.slice(0, begin) + block + src.slice(end + MARK_END.length),
  ].join('\n');
}

/** The workgroup tile [BM, BN] of a matrix shape: 2 x 2 subgroups, each TM x TN matrices. */
export const mmaTileExtent = (s: MmaShape, t: MmaTile): [number, number] => [2 * t.TM * s.M, 2 * t.TN * s.N];

const registeredKernels = new Set<string>();

function kernelFor(o: MmaSourceOptions): string {
  const name = `conv2d_mma_${o.ops}_${o.shape.M}x${o.shape.N}x${o.shape.K}_l${o.lanes}_tile${o.tile.TM}x${o.tile.TN}_pad${o.pad ?? MMA_ROW_PAD}${o.dialect === 'row-major-template' ? '_t' : ''}${o.f16Weights ? '_f16w' : ''}`;
  if (!registeredKernels.has(name)) {
    registerKernel(name, conv2dMmaSource(o));
    registeredKernels.add(name);
  }
  return name;
}

function checkFits(name: string, rt: Runtime, shape: MmaShape, lanes: number, tile: MmaTile, pad = MMA_ROW_PAD): [number, number] {
  const [BM, BN] = mmaTileExtent(shape, tile);
  const BK = 2 * shape.K;
  const shared = 2 * 2 * (BM * (BK + pad) + BK * (BN + pad)) + 4 * 4 * shape.M * shape.N; // two f16 buffers of A and B (padded rows), a result matrix per subgroup
  const limits = rt.device.limits;
  // K even and BK / 4 dividing the workgroup: an invocation's A groups share their columns; SN % 4: the epilogue's vec4s.
  const ok = [shape.M, shape.N, shape.K, lanes, tile.TM, tile.TN].every((d) => Number.isInteger(d) && d > 0) && shape.K % 2 === 0 &&
    (4 * lanes) % (BK / 4) === 0 && shape.N % 4 === 0 &&
    (shape.M * shape.N) % lanes === 0 && 4 * lanes <= limits.maxComputeInvocationsPerWorkgroup && 4 * lanes <= limits.maxComputeWorkgroupSizeX &&
    shared <= limits.maxComputeWorkgroupStorageSize;
  if (!ok) {
    throw new RangeError(`${name}: matrix conv ${shape.M}x${shape.N}x${shape.K}, ${tile.TM}x${tile.TN} matrices per subgroup, on subgroups of ${lanes} ` +
      `does not fit this device (${4 * lanes} invocations, ${shared} bytes of workgroup memory; SM*SN must be a multiple of the subgroup size, SN of 4, ` +
      'SK even, and SK/2 must divide the 4 x LANES invocations)');
  }
  return [BM, BN];
}

/** Whether the kernel with this matrix shape, subgroup size, tile and row padding fits this runtime's device. */
export function mmaFits(rt: Runtime, shape: MmaShape, lanes: number, tile: MmaTile, pad = MMA_ROW_PAD): boolean {
  try {
    checkFits('', rt, shape, lanes, tile, pad);
    return true;
  } catch {
    return false;
  }
}

/** Whether a variant's tile fits this runtime's device with the matrices enableTensorCores turned on (false where it did not). */
export function mmaVariantFits(rt: Runtime, v: Conv2dMma): boolean {
  const tc = enabled.get(rt);
  return tc !== undefined && mmaFits(rt, tc.shape, tc.lanes, v.tile ?? MMA_DEFAULT_TILE, rowPad(v));
}

/** The kernel a variant runs on this runtime; throws where it cannot. */
function resolve(rt: Runtime, name: string, v: Conv2dMma): TensorCores {
  if (v.ops === 'emulated') {
    if (!rt.hasFeature('shader-f16')) throw new RangeError(`${name}: the matrix conv variant (emulated too) needs 'shader-f16' (${rt.describe()})`);
    return { ops: 'emulated', shape: v.shape ?? EMULATED_SHAPE, lanes: v.lanes ?? EMULATED_LANES };
  }
  const tc = enabled.get(rt);
  if (!tc || (v.ops === 'subgroup-matrix' && tc.ops !== 'subgroup-matrix')) {
    const why = tensorCoresUnavailable(rt) ?? (tc ? 'this runtime has them enabled emulated only' : 'not enabled');
    throw new RangeError(`${name}: the matrix conv variant needs enableTensorCores(rt) first (${why})`);
  }
  return tc;
}

export function dispatchConv2dMma(rt: Runtime, name: string, v: Conv2dMma, call: Omit<Conv2dGpuCall, 'cpuAdapter'>): void {
  const { ops, shape, lanes, dialect } = resolve(rt, name, v);
  const tile = v.tile ?? MMA_DEFAULT_TILE;
  const pad = rowPad(v);
  const extent = checkFits(name, rt, shape, lanes, tile, pad);
  const { M, Cout, K } = call.uniforms;
  dispatchSplitKConv(rt, name, call, {
    kernel: kernelFor({ ops, shape, lanes, tile, pad, dialect, f16Weights: call.precision === 'f16' }), constants: call.epilogue,
    tile: extent, ...conv2dMmaSplits(rt, shape, tile, M, Cout, K, v.splitK !== false),
  });
}

/** How the matrix kernel splits K for an M x Cout output on this runtime (conv2d-gpu.ts's rule, its tile and BK = 2 SK). */
export function conv2dMmaSplits(rt: Runtime, shape: MmaShape, tile: MmaTile, M: number, Cout: number, K: number, split = true): { splits: number; kTilesPerSplit: number } {
  const [BM, BN] = mmaTileExtent(shape, tile);
  const BK = 2 * shape.K;
  if (!split) return { splits: 1, kTilesPerSplit: Math.ceil(K / BK) };
  return splitK(BM, BN, BK, M, Cout, K, isCpuAdapter(rt) ? CPU_CONV_TARGET_WORKGROUPS : GPU_CONV_TARGET_WORKGROUPS);
}

/** Compiles the kernel's pipeline; returns the compiler's errors ('' when it compiled). */
async function compileErrors(rt: Runtime, code: string): Promise<string> {
  const device = rt.device;
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code, label: 'conv2d_mma probe' });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error').map((m) => `${m.lineNum}:${m.linePos} ${m.message}`);
  if (!errors.length) {
    try {
      await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  const scoped = await device.popErrorScope();
  if (scoped && !errors.length) errors.push(scoped.message);
  return errors.join('\n');
}

/**
 * Checks that this runtime's matrix units can run the conv kernel and turns them on for
 * conv2d; returns the shape and spelling in use. Throws, with the reason or the
 * compiler's messages, where they cannot. With { emulate: true } conv2d runs the
 * emulated form instead (any adapter with shader-f16): the networks' f16-operand
 * accuracy, at a fraction of the f32 kernels' speed.
 */
export async function enableTensorCores(rt: Runtime, opts: { emulate?: boolean } = {}): Promise<TensorCores> {
  if (opts.emulate) {
    if (!rt.hasFeature('shader-f16')) throw new Error(`tensor cores (emulated): the device has no 'shader-f16' (${rt.describe()})`);
    const tc: TensorCores = { ops: 'emulated', shape: EMULATED_SHAPE, lanes: EMULATED_LANES };
    enabled.set(rt, tc);
    return tc;
  }
  const why = tensorCoresUnavailable(rt);
  if (why) throw new Error(`tensor cores: ${why}`);
  const shape = chooseMmaShape(rt.adapter.subgroupMatrixConfigs)!;
  const lanes = rt.adapter.subgroupMaxSize;
  checkFits('tensor cores', rt, shape, lanes, MMA_DEFAULT_TILE);
  const failures: string[] = [];
  for (const dialect of MMA_DIALECTS) {
    const errors = await compileErrors(rt, conv2dMmaSource({ ops: 'subgroup-matrix', shape, lanes, tile: MMA_DEFAULT_TILE, dialect, f16Weights: false }));
    if (!errors) {
      const tc: TensorCores = { ops: 'subgroup-matrix', shape, lanes, dialect };
      enabled.set(rt, tc);
      return tc;
    }
    failures.push(`${dialect}:\n${errors}`);
  }
  throw new Error(`tensor cores: the matrix conv kernel does not compile on ${rt.describe()}:\n${failures.join('\n')}`);
}
