// Conv2d on NHWC activations with a fused bias / residual / ReLU epilogue
// (kernels/conv2d.wgsl; 'conv2d_f16' for f16 weights, conv2d-f16.ts). Weights come
// from prepareConv2d (conv2d-weights.ts).
import { grid1d, type Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { padTo4, type Conv2dWeights } from './conv2d-weights.ts';
import { CONV2D_F16_KERNEL } from './conv2d-f16.ts';
import { dispatchConv2dCpu } from './conv2d-cpu.ts';
import { dispatchConv2dGpu } from './conv2d-gpu.ts';
import { dispatchConv2dMma } from './conv2d-mma.ts';
import { dispatchConv2dWinograd, winogradTiles } from './conv2d-winograd.ts';
import { dispatchConv2dWinogradGemm, winogradGemmIneligible } from './conv2d-winograd-gemm.ts';
import {
  chooseConv2dVariant, CONV2D_VARIANTS, defaultConv2dVariant, isCpuAdapter, tileExtent,
  type Conv2dDirect, type Conv2dShape, type Conv2dTile, type Conv2dVariant, type Conv2dVariantName,
} from './conv2d-variants.ts';

export { prepareConv2d, Conv2dWeights, type Conv2dWeightSpec, type BatchNormParams } from './conv2d-weights.ts';
export { type WeightPrecision } from './conv2d-f16.ts';
export * from './conv2d-variants.ts';

type Pair = number | readonly [number, number];

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  relu?: boolean;
  /** Added after bias and before ReLU; shape [N, OH, OW, Cout]. */
  residual?: Tensor;
  /** Writes channels [channelOffset, channelOffset + Cout) of `tensor` ([N, OH, OW, C]) instead of allocating. */
  out?: { tensor: Tensor; channelOffset: number };
  label?: string;
  /** Forces a tiled variant with this tile (benchmarks, tests). */
  tile?: Conv2dTile;
  /** Forces a variant by name or shape (benchmarks, tests, the autotuner); else the runtime's choice. */
  variant?: Conv2dVariantName | Conv2dVariant;
}

function variantByName(name: string, v: string): Conv2dVariant {
  if (!Object.hasOwn(CONV2D_VARIANTS, v)) throw new RangeError(`${name}: unknown variant '${v}' (variants: ${Object.keys(CONV2D_VARIANTS).join(', ')})`);
  return CONV2D_VARIANTS[v as Conv2dVariantName];
}

function checkDirect(name: string, d: Conv2dDirect, limits: GPUSupportedLimits): Conv2dDirect {
  const ok =
    [d.DWG, d.DP, d.DCN4].every((v) => Number.isInteger(v) && v > 0) &&
    [1, 2].includes(d.DP) && d.DCN4 <= 4 && d.DWG <= limits.maxComputeInvocationsPerWorkgroup && d.DWG <= limits.maxComputeWorkgroupSizeX;
  if (!ok) throw new RangeError(`${name}: unsupported direct variant ${JSON.stringify(d)} (need DP 1|2, DCN4 <= 4, DWG <= ${limits.maxComputeInvocationsPerWorkgroup})`);
  return d;
}

function pair(name: string, what: string, v: Pair | undefined, fallback: number, min: number): [number, number] {
  const p: [number, number] = v === undefined ? [fallback, fallback] : typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!p.every((d) => Number.isInteger(d) && d >= min)) throw new RangeError(`${name}: ${what} must be integers >= ${min}, got ${JSON.stringify(v)}`);
  return p;
}

/** PyTorch's output size: floor((in + 2 pad - dil (k - 1) - 1) / stride) + 1. */
export function convOutSize(size: number, k: number, stride: number, pad: number, dil: number): number {
  return Math.floor((size + 2 * pad - dil * (k - 1) - 1) / stride) + 1;
}

/** Returns the tile's [BM, BN] after checking the kernel's assumptions about it against the device. */
function checkTile(name: string, t: Conv2dTile, limits: GPUSupportedLimits): [number, number] {
  const wg = t.WGX * t.WGY;
  const [BM, BN] = tileExtent(t);
  const shared = t.BK * (BM + BN) * 4;
  const ok =
    [t.TM, t.TN4, t.WGX, t.WGY, t.BK].every((d) => Number.isInteger(d) && d > 0) &&
    [4, 8, 16, 32].includes(t.TM) && [1, 2].includes(t.TN4) && t.TM * t.TN4 <= 32 &&
    t.BK % 4 === 0 && t.WGX % t.TM === 0 && t.BK * t.TM <= 32 * t.WGX &&
    wg <= limits.maxComputeInvocationsPerWorkgroup && shared <= limits.maxComputeWorkgroupStorageSize;
  if (!ok) {
    throw new RangeError(
      `${name}: unsupported tile ${JSON.stringify(t)} (need TM 4|8|16|32 dividing WGX, TN4 1|2, TM*TN4 <= 32, BK a multiple of 4 with BK*TM <= 32*WGX, ` +
        `WGX*WGY <= ${limits.maxComputeInvocationsPerWorkgroup}, ${shared} bytes of shared memory <= ${limits.maxComputeWorkgroupStorageSize})`,
    );
  }
  return [BM, BN];
}

export function conv2d(rt: Runtime, x: Tensor, w: Conv2dWeights, opts: Conv2dOptions = {}): Tensor {
  const name = `conv2d '${opts.label ?? w.label}'`;
  x.assertLive(name);
  w.assertLive(name);
  if (x.dtype !== 'f32') throw new TypeError(`${name}: expects f32 input, got ${x.dtype}`);
  if (x.shape.length !== 4) throw new RangeError(`${name}: input must be NHWC [N, H, W, C], got [${x.shape.join(', ')}]`);
  const [N, H, W, Cin] = x.shape;
  if (Cin !== w.cin) throw new RangeError(`${name}: input [${x.shape.join(', ')}] has ${Cin} channels, weights [${w.cout}, ${w.cin}, ${w.kh}, ${w.kw}] expect ${w.cin}`);
  const [sH, sW] = pair(name, 'stride', opts.stride, 1, 1);
  const [pH, pW] = pair(name, 'padding', opts.padding, 0, 0);
  const [dH, dW] = pair(name, 'dilation', opts.dilation, 1, 1);
  const OH = convOutSize(H, w.kh, sH, pH, dH);
  const OW = convOutSize(W, w.kw, sW, pW, dW);
  if (OH < 1 || OW < 1) {
    throw new RangeError(`${name}: output would be ${OH}x${OW} for input [${x.shape.join(', ')}], kernel ${w.kh}x${w.kw}, stride ${sH},${sW}, padding ${pH},${pW}, dilation ${dH},${dW}`);
  }
  const Cout = w.cout;
  const outShape = [N, OH, OW, Cout];

  const res = opts.residual;
  if (res) {
    res.assertLive(`${name} residual`);
    if (res.dtype !== 'f32') throw new TypeError(`${name}: expects f32 residual, got ${res.dtype}`);
    if (res.shape.length !== 4 || res.shape.some((d, i) => d !== outShape[i])) {
      throw new RangeError(`${name}: residual [${res.shape.join(', ')}] must match the output [${outShape.join(', ')}]`);
    }
  }

  let out: Tensor;
  let outChannels = Cout;
  let outOffset = 0;
  if (opts.out) {
    out = opts.out.tensor;
    outOffset = opts.out.channelOffset;
    out.assertLive(`${name} out`);
    if (out.dtype !== 'f32') throw new TypeError(`${name}: expects an f32 output tensor, got ${out.dtype}`);
    if (out.shape.length !== 4 || out.shape[0] !== N || out.shape[1] !== OH || out.shape[2] !== OW) {
      throw new RangeError(`${name}: output tensor [${out.shape.join(', ')}] must be [${N}, ${OH}, ${OW}, C]`);
    }
    outChannels = out.shape[3];
    if (!Number.isInteger(outOffset) || outOffset < 0 || outOffset + Cout > outChannels) {
      throw new RangeError(`${name}: channel offset ${outOffset} + ${Cout} output channels exceeds the output tensor's ${outChannels} channels`);
    }
    if (out.buffer === x.buffer || out.buffer === res?.buffer) {
      throw new RangeError(`${name}: the output tensor must not be the input or the residual`);
    }
  } else {
    out = rt.empty(outShape, 'f32', opts.label ?? w.label);
  }

  const M = N * OH * OW;
  const winograd = winogradTiles(OH, OW, dH, dW);
  const shape: Conv2dShape = { KH: w.kh, KW: w.kw, M, Cin, Cout, weights: w.precision, stride: [sH, sW], dilation: [dH, dW], winogradFill: winograd.fill };
  let variant: Conv2dVariant = opts.tile
    ? { kind: 'tiled', tile: opts.tile }
    : typeof opts.variant === 'string'
      ? variantByName(name, opts.variant)
      : (opts.variant ?? chooseConv2dVariant(rt, shape));
  // A tuned Winograd GEMM choice times its class at one size; a larger layer of the class
  // whose buffers this adapter cannot bind runs the fixed rule's choice (a forced one throws).
  if (!opts.tile && !opts.variant && variant.kind === 'winograd-gemm') {
    const { m = 2, gemm } = variant.winogradGemm;
    const t = winogradTiles(OH, OW, dH, dW, m);
    if (winogradGemmIneligible(rt, { KH: w.kh, KW: w.kw, stride: [sH, sW], tiles: N * t.tilesH * t.tilesW, Cin, Cout, BK: gemm.BK, m })) variant = CONV2D_VARIANTS[defaultConv2dVariant(rt, shape)];
  }
  const kernel = w.precision === 'f16' ? CONV2D_F16_KERNEL : 'conv2d';
  const uniforms = {
    H, W, Cin, CinPad: w.cinPad, KW: w.kw, OH, OW, Cout, K: w.kh * w.kw * w.cinPad,
    strideH: sH, strideW: sW, dilH: dH, dilW: dW, padH: pH, padW: pW,
    M, outChannels, outOffset, coutPad4: padTo4(Cout) / 4,
  };
  const epilogue = {
    VEC4_IN: Cin % 4 === 0,
    VEC4_OUT: Cout % 4 === 0 && outChannels % 4 === 0 && outOffset % 4 === 0,
    HAS_RESIDUAL: !!res,
    RELU: !!opts.relu,
  };
  const bindings = [x, w.weight, w.bias, res ?? x, out];
  // For the profiler: multiply-adds over the real (unpadded) channels; x, W, bias, residual read once, the output written once.
  const cost = { flop: 2 * M * Cout * w.kh * w.kw * Cin, bytes: x.byteLength + w.weight.byteLength + w.bias.byteLength + 4 * M * Cout * (res ? 2 : 1) };
  if (variant.kind === 'tiled') {
    const [BM, BN] = checkTile(name, variant.tile, rt.device.limits);
    const [gy, gz] = grid1d(Math.ceil(M / BM));
    rt.dispatch({ kernel, label: name, constants: { ...variant.tile, ...epilogue }, bindings, uniforms, cost, workgroups: [Math.ceil(Cout / BN), gy, gz] });
  } else if (variant.kind === 'cpu') {
    dispatchConv2dCpu(rt, name, variant.cpu, { precision: w.precision, bindings: [x, w.weight, w.bias, res ?? x, out], uniforms, epilogue, cost });
  } else if (variant.kind === 'winograd' || variant.kind === 'winograd-gemm') {
    const call = {
      x, weights: w, residual: res, out, window: { outChannels, outOffset }, epilogue, cost,
      shape: { N, H, W, Cin, OH, OW, Cout, dil: [dH, dW] as [number, number], pad: [pH, pW] as [number, number], stride: [sH, sW] as [number, number] },
    };
    if (variant.kind === 'winograd') dispatchConv2dWinograd(rt, name, variant.winograd, call);
    else dispatchConv2dWinogradGemm(rt, name, variant.winogradGemm, call);
  } else if (variant.kind === 'mma') {
    dispatchConv2dMma(rt, name, variant.mma, { precision: w.precision, bindings: [x, w.weight, w.bias, res ?? x, out], uniforms, epilogue, cost });
  } else if (variant.kind === 'gpu') {
    dispatchConv2dGpu(rt, name, variant.gpu, { precision: w.precision, bindings: [x, w.weight, w.bias, res ?? x, out], uniforms, epilogue, cost, cpuAdapter: isCpuAdapter(rt) });
  } else {
    const d = checkDirect(name, variant.direct, rt.device.limits);
    const [gy, gz] = grid1d(Math.ceil(M / (d.DWG * d.DP)));
    rt.dispatch({ kernel, entryPoint: 'direct', label: name, constants: { ...d, ...epilogue }, bindings, uniforms, cost, workgroups: [Math.ceil(Cout / (4 * d.DCN4)), gy, gz] });
  }
  return out;
}
