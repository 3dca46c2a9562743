// The Winograd F(2x2, 3x3) conv2d variants for CPU drivers (kernels/conv2d_winograd.wgsl):
// 3x3 kernels, stride 1, any dilation and padding, on adapters with subgroups of at
// least 8 (lavapipe; not SwiftShader: WINOGRAD_MIN_SUBGROUP). conv2d (conv2d.ts)
// validates shapes and builds the epilogue; this file checks eligibility, derives the
// transformed weights U = G g G^T on the GPU the first time a Conv2dWeights object runs
// this way (kept with it: 16/9 of the f32 3x3 weight matrix, rows padded to 8 input
// channels; for f16 weights 32/9 of what they take), and dispatches the kernel. Accumulation is f32, U is f32 whatever the weights'
// precision.
import { grid1d, type Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { defineDerivedKernel, kernelEntry } from '../runtime/kernels.ts';
import { hasSubgroupsOf } from './conv2d-cpu.ts';
import { conv2dF16Source } from './conv2d-f16.ts';
import { padTo4, type Conv2dWeights } from './conv2d-weights.ts';

/** Shape of the Winograd kernel; see its override constants. */
export interface Conv2dWinograd {
  /** Invocations per workgroup (a multiple of the subgroup size). */
  WG: number;
  /** 2x2 output tiles per invocation (16 output channels each): 1 or 2. */
  TILES: number;
}

/** Output channels per invocation (the kernel's four vec4 groups). */
const CHANNELS = 16;

/** Input channels per step of the kernel (and the padding of U's rows). */
const BLOCK = 8;
const WEIGHTS_KERNEL = 'conv2d_winograd_weights';
const WEIGHTS_KERNEL_F16 = 'conv2d_winograd_weights_f16';
const WEIGHTS_WG = 64;
defineDerivedKernel(WEIGHTS_KERNEL_F16, () => conv2dF16Source(kernelEntry(WEIGHTS_KERNEL).source));

/**
 * The kernel spreads 8 rows of U over lanes 0..7. It has no 4-lane form as the CPU
 * kernel has: compiling it with a second load per row block, SwiftShader (subgroups of
 * 4) grew past 8 GB within 90 s (and was killed at 24 GB), so Winograd stays off
 * adapters with narrower subgroups.
 */
export const WINOGRAD_MIN_SUBGROUP = 8;

/** Whether this runtime's device can run the Winograd kernel: the `subgroups` feature with subgroups of at least 8. */
export function winogradSupported(rt: Runtime): boolean {
  return hasSubgroupsOf(rt, WINOGRAD_MIN_SUBGROUP);
}

/** What decides whether a conv can run as Winograd F(2x2, 3x3). */
export interface WinogradShape {
  KH: number;
  KW: number;
  stride: readonly [number, number];
}

/** Why this conv cannot run the Winograd kernel on this runtime, or null when it can. */
export function winogradIneligible(rt: Runtime, s: WinogradShape): string | null {
  if (!winogradSupported(rt)) {
    return `the 'subgroups' feature with subgroups of at least ${WINOGRAD_MIN_SUBGROUP} (this adapter: ${rt.adapter.subgroupMinSize || 'none'})`;
  }
  if (s.KH !== 3 || s.KW !== 3) return `a 3x3 kernel (this conv: ${s.KH}x${s.KW})`;
  if (s.stride[0] !== 1 || s.stride[1] !== 1) return `stride 1 (this conv: ${s.stride.join(',')})`;
  return null;
}

function checkShape(name: string, rt: Runtime, c: Conv2dWinograd, s: WinogradShape): void {
  const why = winogradIneligible(rt, s);
  if (why) throw new RangeError(`${name}: the Winograd conv variant needs ${why}; use another variant`);
  const limits = rt.device.limits;
  const ok =
    Number.isInteger(c.WG) && c.WG > 0 && c.WG % rt.adapter.subgroupMaxSize === 0 && [1, 2].includes(c.TILES) &&
    c.WG <= limits.maxComputeInvocationsPerWorkgroup && c.WG <= limits.maxComputeWorkgroupSizeX;
  if (!ok) {
    throw new RangeError(`${name}: unsupported Winograd conv shape ${JSON.stringify(c)} (need TILES 1|2, CB4 2|4, WG a multiple of the subgroup size ${rt.adapter.subgroupMaxSize} within the device's limits)`);
  }
}

/** Transformed positions of F(m x m, 3x3): (m + 2)^2. */
export const winogradPositions = (m: 2 | 4): number => (m + 2) ** 2;

/**
 * U = G g G^T of 3x3 weights, f32, derived on first use and kept with the weights (one
 * tensor per layout): by default the CPU kernel's, [ceil(Cin / 8) * 128, CoutPad] in
 * blocks of 8 input channels; with `gemm` the GEMM form's (conv2d-winograd-gemm.ts) for
 * F(m x m, 3x3), [P * rows, CoutPad] with P = (m + 2)^2 positions, row (n i + j) * rows + ci
 * (n = m + 2), rows >= CinPad.
 */
export function winogradWeights(rt: Runtime, w: Conv2dWeights, gemm?: { rows: number; m: 2 | 4 }): Tensor {
  const key = gemm === undefined ? 'winograd' : `winograd${gemm.m === 4 ? '4' : ''}-gemm-${gemm.rows}`;
  const cached = w.derivedTensor(key);
  if (cached) return cached;
  const block = gemm?.rows ?? BLOCK;
  const rows = gemm?.rows ?? Math.ceil(w.cin / BLOCK) * BLOCK;
  if (rows < w.cinPad || rows % block !== 0) throw new RangeError(`winograd weights '${w.label}': ${rows} rows cannot hold ${w.cinPad} input channels in blocks of ${block}`);
  const positions = winogradPositions(gemm?.m ?? 2);
  const coutPad4 = padTo4(w.cout) / 4;
  const u = rt.empty([positions * rows, 4 * coutPad4], 'f32', `${w.label}.${key}`);
  const before = rt.dispatchCount;
  const [gx, gy] = grid1d(Math.ceil((rows * coutPad4) / WEIGHTS_WG));
  rt.dispatch({
    kernel: w.precision === 'f16' ? WEIGHTS_KERNEL_F16 : WEIGHTS_KERNEL, entryPoint: gemm?.m === 4 ? 'f4' : undefined, label: `${w.label} winograd weights`,
    bindings: [u, w.weight], uniforms: { CinPad: w.cinPad, coutPad4, rows, block }, workgroups: [gx, gy],
    cost: { flop: rows * coutPad4 * 4 * 5 * positions, bytes: w.weight.byteLength + u.byteLength },
  });
  // Inside Runtime.warmupFrom dispatches are only recorded and U stays empty: not kept
  // then (the recording's scope releases it), so the first real run derives it.
  if (rt.dispatchCount > before) w.keepDerived(key, rt.keep(u));
  return u;
}

/**
 * The m x m tiles (m = 2 unless given) covering an OH x OW output at dilation (dH, dW):
 * ceil(OH / m dH) runs of m rows in each of the dH phases (rows dH apart), likewise
 * columns; and `fill`, the share of the tiles' outputs that lie inside the output (the
 * rest is work wasted).
 */
export function winogradTiles(OH: number, OW: number, dH: number, dW: number, m = 2): { tilesH: number; tilesW: number; fill: number } {
  const tilesH = Math.ceil(OH / (m * dH)) * dH;
  const tilesW = Math.ceil(OW / (m * dW)) * dW;
  return { tilesH, tilesW, fill: (OH * OW) / (m * m * tilesH * tilesW) };
}

export interface Conv2dWinogradCall {
  x: Tensor;
  weights: Conv2dWeights;
  residual: Tensor | undefined;
  out: Tensor;
  shape: { N: number; H: number; W: number; Cin: number; OH: number; OW: number; Cout: number; dil: [number, number]; pad: [number, number]; stride: [number, number] };
  window: { outChannels: number; outOffset: number };
  epilogue: { VEC4_IN: boolean; VEC4_OUT: boolean; HAS_RESIDUAL: boolean; RELU: boolean };
  cost: { flop: number; bytes: number };
}

export function dispatchConv2dWinograd(rt: Runtime, name: string, c: Conv2dWinograd, call: Conv2dWinogradCall): void {
  const s = call.shape;
  checkShape(name, rt, c, { KH: call.weights.kh, KW: call.weights.kw, stride: s.stride });
  const u = winogradWeights(rt, call.weights);
  const [dH, dW] = s.dil;
  const { tilesH } = winogradTiles(s.OH, s.OW, dH, dW);
  // An invocation's TILES tiles sit side by side: steps of 2 TILES output columns per dil phase.
  const tilesW = Math.ceil(s.OW / (2 * c.TILES * dW)) * dW;
  const tiles = s.N * tilesH * tilesW;
  const [gy, gz] = grid1d(Math.ceil(tiles / c.WG));
  rt.dispatch({
    kernel: 'conv2d_winograd', label: name, constants: { ...c, ...call.epilogue },
    bindings: [call.x, u, call.weights.bias, call.residual ?? call.x, call.out],
    uniforms: {
      H: s.H, W: s.W, Cin: s.Cin, OH: s.OH, OW: s.OW, Cout: s.Cout, dilH: dH, dilW: dW, padH: s.pad[0], padW: s.pad[1],
      tilesH, tilesW, tiles, blocks: Math.ceil(s.Cin / BLOCK), ...call.window, coutPad4: padTo4(s.Cout) / 4,
    },
    cost: call.cost, workgroups: [Math.ceil(s.Cout / CHANNELS), gy, gz],
  });
}
