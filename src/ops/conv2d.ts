// Conv2d on NHWC activations with a fused bias / residual / ReLU epilogue
// (kernels/conv2d.wgsl). Weights come from prepareConv2d (conv2d-weights.ts).
import { grid1d, type Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { padTo4, type Conv2dWeights } from './conv2d-weights.ts';

export { prepareConv2d, Conv2dWeights, type Conv2dWeightSpec, type BatchNormParams } from './conv2d-weights.ts';

type Pair = number | readonly [number, number];

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
 * The tiles conv2d chooses from (bench/conv2d-layout.ts times each). large is the
 * classic 128x128 SGEMM shape (256 threads, 8x8 outputs each); on lavapipe it
 * measured as fast as the best CPU-specific tile, so one policy serves both.
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

/** The tile conv2d uses for M = N*OH*OW output pixels and Cout channels. */
export function chooseConv2dTile(M: number, Cout: number): Conv2dTile {
  if (Cout <= 16) return CONV2D_TILES.narrow;
  const big = Cout <= 64 ? CONV2D_TILES.medium : CONV2D_TILES.large;
  const [BM, BN] = tileExtent(big);
  return Math.ceil(M / BM) * Math.ceil(Cout / BN) < 8 ? CONV2D_TILES.small : big;
}

const tileExtent = (t: Conv2dTile): [number, number] => [t.TM * t.WGY, 4 * t.WGX * t.TN4];

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
  /** Overrides chooseConv2dTile (benchmarks, tests). */
  tile?: Conv2dTile;
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
  const tile = opts.tile ?? chooseConv2dTile(M, Cout);
  const [BM, BN] = checkTile(name, tile, rt.device.limits);
  const [gy, gz] = grid1d(Math.ceil(M / BM));
  rt.dispatch({
    kernel: 'conv2d',
    label: name,
    constants: {
      ...tile,
      VEC4_IN: Cin % 4 === 0,
      VEC4_OUT: Cout % 4 === 0 && outChannels % 4 === 0 && outOffset % 4 === 0,
      HAS_RESIDUAL: !!res,
      RELU: !!opts.relu,
    },
    bindings: [x, w.weight, w.bias, res ?? x, out],
    uniforms: {
      H, W, Cin, KW: w.kw, OH, OW, Cout, K: w.kh * w.kw * Cin,
      strideH: sH, strideW: sW, dilH: dH, dilW: dW, padH: pH, padW: pW,
      M, outChannels, outOffset, coutPad4: padTo4(Cout) / 4,
    },
    workgroups: [Math.ceil(Cout / BN), gy, gz],
  });
  return out;
}
