// Winograd conv2d for GPUs (kernels/conv2d_winograd_gemm.wgsl), F(2x2, 3x3) or F(4x4,
// 3x3): the input transform, a GEMM on the split-K main entry of the discrete-GPU conv
// kernel (conv2d-gpu.ts) with one split per transformed position, and the output
// transform with the fused epilogue. 3x3 kernels, stride 1, any dilation and padding, f32
// or f16 weights (U is f32, derived on the GPU from either and kept with the weights),
// any adapter.
//
// Why: on an H200 the f32 GEMM kernels run at 14-16 TFLOP/s (bench/RESULTS.md) and most of
// a QAMN step's work is 3x3 stride-1 convs (ResNet's middle convs, ASPP, the decoder, the
// quality head). F(2x2, 3x3) does 2.25x fewer multiply-adds, F(4x4, 3x3) 4x, as 16 or 36
// independent products of K = Cin that fill the GPU even where the direct conv's output
// tiles are too few. Costs: two extra dispatches, and scratch per conv of 4x (F2) or 2.25x
// (F4) the input (V) and the output (the products); F4 also rounds more (transform
// coefficients up to 8) and spreads a non-finite input over its 4x4 tile. The autotuner
// decides where they pay (conv2d-autotune.ts); the fixed rule does not choose them.
import { grid1d, type Runtime } from '../runtime/runtime.ts';
import { WGSL_CONSTANTS } from '../runtime/wgsl.generated.ts';
import { checkGpuTile, dispatchSplitKMain, type Conv2dGpu } from './conv2d-gpu.ts';
import { padTo4 } from './conv2d-weights.ts';
import { winogradPositions, winogradTiles, winogradWeights, type Conv2dWinogradCall, type WinogradShape } from './conv2d-winograd.ts';

const KERNEL = 'conv2d_winograd_gemm';
const { FLAG_VEC4_IN, FLAG_VEC4_OUT, FLAG_HAS_RESIDUAL, FLAG_RELU } = WGSL_CONSTANTS.conv2d_winograd_gemm;
const WG = 64;

/** The GEMM's tile (the kernel is conv2d_gpu.wgsl's main entry; splitK is ignored: the products are the splits) and the output tile m (default 2). */
export interface Conv2dWinogradGemm {
  gemm: Conv2dGpu;
  m?: 2 | 4;
}

/** Input channels of each product, padded to the GEMM's K slice (its splits must start on one). */
export const winogradGemmRows = (cin: number, BK: number): number => Math.ceil(padTo4(cin) / BK) * BK;

/**
 * The buffers one F(m x m, 3x3) conv needs, in bytes: V [tiles, P rows], the products
 * [P, tiles, CoutPad] (scratch) and U [P rows, CoutPad] (kept with the weights).
 */
export function winogradGemmBuffers(tiles: number, cin: number, cout: number, BK: number, m: 2 | 4 = 2): { v: number; products: number; u: number } {
  const rows = winogradGemmRows(cin, BK);
  const P = winogradPositions(m);
  return { v: 4 * tiles * P * rows, products: 4 * P * tiles * padTo4(cout), u: 4 * P * rows * padTo4(cout) };
}

/** Why this conv cannot run the GEMM form, or null when it can (`tiles`: its tiles of m x m outputs, N included, when known). */
export function winogradGemmIneligible(rt: Runtime, s: WinogradShape & { tiles?: number; Cin?: number; Cout?: number; BK?: number; m?: 2 | 4 }): string | null {
  if (s.KH !== 3 || s.KW !== 3) return `a 3x3 kernel (this conv: ${s.KH}x${s.KW})`;
  if (s.stride[0] !== 1 || s.stride[1] !== 1) return `stride 1 (this conv: ${s.stride.join(',')})`;
  if (s.tiles !== undefined && s.Cin !== undefined && s.Cout !== undefined) {
    const { v, products, u } = winogradGemmBuffers(s.tiles, s.Cin, s.Cout, s.BK ?? 16, s.m);
    const max = Math.min(rt.device.limits.maxStorageBufferBindingSize, rt.device.limits.maxBufferSize);
    const largest = Math.max(v, products, u);
    if (largest > max) return `a buffer of ${largest} bytes (this adapter binds at most ${max})`;
  }
  return null;
}

/** Runs the conv of `call` (conv2d.ts's, as for the CPU Winograd kernel) in three dispatches. */
export function dispatchConv2dWinogradGemm(rt: Runtime, name: string, c: Conv2dWinogradGemm, call: Conv2dWinogradCall): void {
  const s = call.shape;
  const [BM, BN] = checkGpuTile(name, c.gemm, rt.device.limits);
  const [dH, dW] = s.dil;
  const m = c.m ?? 2;
  const P = winogradPositions(m); // one GEMM (split) each
  const { tilesH, tilesW } = winogradTiles(s.OH, s.OW, dH, dW, m);
  const tiles = s.N * tilesH * tilesW;
  const why = winogradGemmIneligible(rt, { KH: call.weights.kh, KW: call.weights.kw, stride: s.stride, tiles, Cin: s.Cin, Cout: s.Cout, BK: c.gemm.BK, m });
  if (why) throw new RangeError(`${name}: the Winograd conv variant needs ${why}; use another variant`);
  const rows = winogradGemmRows(s.Cin, c.gemm.BK);
  const coutPad4 = padTo4(s.Cout) / 4;
  const u = winogradWeights(rt, call.weights, { rows, m });
  const entry = m === 4 ? '4' : '';
  const e = call.epilogue;
  const flags = (e.VEC4_IN ? FLAG_VEC4_IN : 0) | (e.VEC4_OUT ? FLAG_VEC4_OUT : 0) | (e.HAS_RESIDUAL ? FLAG_HAS_RESIDUAL : 0) | (e.RELU ? FLAG_RELU : 0);
  const uniforms = {
    H: s.H, W: s.W, Cin: s.Cin, cinP4: rows / 4, OH: s.OH, OW: s.OW, Cout: s.Cout, coutPad4,
    dilH: dH, dilW: dW, padH: s.pad[0], padW: s.pad[1], tilesH, tilesW, tiles, ...call.window, flags,
  };
  const { x, out } = call;
  const residual = call.residual ?? x;
  const bias = call.weights.bias;
  rt.scope(() => {
    const v = rt.empty([tiles, P * rows], 'f32', `${name} winograd V`);
    const products = rt.empty([P, tiles, 4 * coutPad4], 'f32', `${name} winograd products`);
    rt.dispatch({
      kernel: KERNEL, entryPoint: `input${entry}`, label: `${name} winograd input`,
      bindings: [x, v, bias, residual, out], uniforms, workgroups: grid1d(Math.ceil((tiles * rows) / 4 / WG)),
      cost: { flop: tiles * rows * 4 * P, bytes: x.byteLength + v.byteLength },
    });
    // V as a 1 x tiles image of P rows channels, U as 1x1 weights: split b (K-slices
    // [b rows / BK, (b + 1) rows / BK)) is product b, written to products[b].
    const gemmUniforms = {
      H: 1, W: tiles, Cin: P * rows, CinPad: P * rows, KW: 1, OH: 1, OW: tiles, Cout: s.Cout, K: P * rows,
      strideH: 1, strideW: 1, dilH: 1, dilW: 1, padH: 0, padW: 0, M: tiles, outChannels: s.Cout, outOffset: 0, coutPad4,
    };
    const { TM, TN4, WGX, WGY, BK } = c.gemm;
    dispatchSplitKMain(rt, `${name} winograd GEMM`, {
      precision: 'f32', bindings: [v, u, bias, v, out], uniforms: gemmUniforms,
      epilogue: { VEC4_IN: true, VEC4_OUT: false, HAS_RESIDUAL: false, RELU: false },
      cost: { flop: call.cost.flop, bytes: v.byteLength + u.byteLength },
    }, {
      kernel: 'conv2d_gpu', constants: { TM, TN4, WGX, WGY, BK, VEC4_IN: true, VEC4_OUT: false, HAS_RESIDUAL: false, RELU: false },
      tile: [BM, BN], splits: P, kTilesPerSplit: rows / BK,
    }, products);
    rt.dispatch({
      kernel: KERNEL, entryPoint: `output${entry}`, label: `${name} winograd output`,
      bindings: [x, products, bias, residual, out], uniforms, workgroups: grid1d(Math.ceil((tiles * coutPad4) / WG)),
      cost: { flop: tiles * 4 * coutPad4 * 3 * P, bytes: products.byteLength + 4 * s.N * s.OH * s.OW * s.Cout * (call.residual ? 2 : 1) },
    });
  });
}
