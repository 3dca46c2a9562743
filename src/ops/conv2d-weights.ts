// Load-time weight preparation for conv2d (kernels/conv2d.wgsl): folds an
// inference BatchNorm into the convolution, transposes PyTorch's OIHW layout to
// the kernel's [K, CoutPad] (K ordered kh, kw, ci with ci padded to CinPad, a
// multiple of 4, by zero rows, so the kernel's 4-wide reduction steps never cross
// an input pixel whatever Cin is) and uploads once, as f32 or (on adapters with
// shader-f16) as f16, rounded once from the folded f32 values.
import type { Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { encodeF16 } from '../io/float16.ts';
import { assertF16Weights, checkWeightPrecision, type WeightPrecision } from './conv2d-f16.ts';

export interface BatchNormParams {
  weight: Float32Array;
  bias: Float32Array;
  runningMean: Float32Array;
  runningVar: Float32Array;
  eps: number;
}

export interface Conv2dWeightSpec {
  /** PyTorch layout [O, I, KH, KW]. */
  weight: Float32Array;
  shape: readonly [number, number, number, number];
  bias?: Float32Array;
  batchNorm?: BatchNormParams;
  label?: string;
}

export class Conv2dWeights {
  private released = false;
  /** Tensors derived from these weights on first use (conv2d-winograd.ts's transformed weights), disposed with them. */
  private readonly derivedTensors = new Map<string, Tensor>();

  constructor(
    readonly cout: number,
    readonly cin: number,
    readonly kh: number,
    readonly kw: number,
    /** [KH*KW*CinPad, CoutPad]: Cin and Cout rounded up to 4 with zero rows and columns; f32 or f16. */
    readonly weight: Tensor,
    /** [CoutPad], zero past Cout. */
    readonly bias: Tensor,
    readonly label: string,
  ) {}

  /** How the weight matrix is stored on the GPU (the bias is always f32). */
  get precision(): WeightPrecision {
    return this.weight.dtype === 'f16' ? 'f16' : 'f32';
  }

  /** Cin rounded up to 4: the weight rows per (kh, kw) tap. */
  get cinPad(): number {
    return padTo4(this.cin);
  }

  get disposed(): boolean {
    return this.released;
  }

  assertLive(what: string): void {
    if (this.released) throw new Error(`${what}: conv2d weights '${this.label}' were already disposed`);
  }

  /** The tensor derived from these weights under `key`, if one was made. */
  derivedTensor(key: string): Tensor | undefined {
    this.assertLive(`conv2d weights '${this.label}' ${key}`);
    return this.derivedTensors.get(key);
  }

  /** Keeps `t` as the tensor derived under `key` (out of every runtime scope), disposed with these weights. */
  keepDerived(key: string, t: Tensor): void {
    this.assertLive(`conv2d weights '${this.label}' ${key}`);
    if (this.derivedTensors.has(key)) throw new Error(`conv2d weights '${this.label}': a tensor derived as '${key}' exists already`);
    this.derivedTensors.set(key, t);
  }

  dispose(): void {
    if (this.released) return;
    this.released = true;
    this.weight.dispose();
    this.bias.dispose();
    for (const t of this.derivedTensors.values()) t.dispose();
    this.derivedTensors.clear();
  }
}

export const padTo4 = (n: number): number => Math.ceil(n / 4) * 4;

/**
 * Folds BatchNorm (if any) in float64 and rounds once to f32:
 *   w' = w * gamma / sqrt(var + eps),  b' = (b - mean) * gamma / sqrt(var + eps) + beta,
 * and lays the result out as [KH*KW*CinPad, CoutPad] plus a [CoutPad] bias.
 */
export function foldConv2dWeights(spec: Conv2dWeightSpec): { weight: Float32Array; bias: Float32Array } {
  const [O, I, KH, KW] = spec.shape;
  const name = `prepareConv2d '${spec.label ?? 'conv2d'}'`;
  if (!spec.shape.every((d) => Number.isInteger(d) && d > 0)) throw new RangeError(`${name}: shape [${spec.shape.join(', ')}] must be positive integers [O, I, KH, KW]`);
  if (spec.weight.length !== O * I * KH * KW) throw new RangeError(`${name}: weight has ${spec.weight.length} values, shape [${spec.shape.join(', ')}] needs ${O * I * KH * KW}`);
  if (spec.bias && spec.bias.length !== O) throw new RangeError(`${name}: bias has ${spec.bias.length} values, expected ${O} (output channels)`);
  const bn = spec.batchNorm;
  if (bn) {
    for (const key of ['weight', 'bias', 'runningMean', 'runningVar'] as const) {
      if (bn[key].length !== O) throw new RangeError(`${name}: batchNorm.${key} has ${bn[key].length} values, expected ${O} (output channels)`);
    }
    if (!(bn.eps >= 0)) throw new RangeError(`${name}: batchNorm.eps must be >= 0, got ${bn.eps}`);
  }
  const CP = padTo4(O);
  const IP = padTo4(I);
  const K = KH * KW * IP;
  const weight = new Float32Array(K * CP);
  const bias = new Float32Array(CP);
  for (let o = 0; o < O; o++) {
    const scale = bn ? bn.weight[o] / Math.sqrt(bn.runningVar[o] + bn.eps) : 1;
    const b = spec.bias ? spec.bias[o] : 0;
    bias[o] = bn ? (b - bn.runningMean[o]) * scale + bn.bias[o] : b;
    for (let i = 0; i < I; i++) {
      for (let kh = 0; kh < KH; kh++) {
        for (let kw = 0; kw < KW; kw++) {
          weight[((kh * KW + kw) * IP + i) * CP + o] = spec.weight[((o * I + i) * KH + kh) * KW + kw] * scale;
        }
      }
    }
  }
  return { weight, bias };
}

/**
 * The folded weights rounded to f16 bits (round to nearest even); a value past f16's
 * range (65504) is refused rather than stored as Inf.
 */
export function roundConv2dWeightsF16(weight: Float32Array, label: string): Uint16Array {
  const bits = encodeF16(weight);
  for (let i = 0; i < bits.length; i++) {
    if ((bits[i] & 0x7c00) === 0x7c00 && Number.isFinite(weight[i])) {
      throw new RangeError(`prepareConv2d '${label}': weight ${weight[i]} (BatchNorm folded) is outside f16's range (65504); load with weight precision 'f32'`);
    }
  }
  return bits;
}

export function prepareConv2d(rt: Runtime, spec: Conv2dWeightSpec, precision: WeightPrecision = 'f32'): Conv2dWeights {
  const [O, I, KH, KW] = spec.shape;
  const label = spec.label ?? 'conv2d';
  checkWeightPrecision(`prepareConv2d '${label}'`, precision);
  if (precision === 'f16') assertF16Weights(rt, `prepareConv2d '${label}'`);
  const { weight, bias } = foldConv2dWeights(spec);
  const shape = [KH * KW * padTo4(I), padTo4(O)];
  let w: Tensor;
  if (precision === 'f16') {
    const bits = roundConv2dWeightsF16(weight, label);
    w = rt.upload(shape, bits, 'f16', `${label}.weight`);
  } else {
    w = rt.upload(shape, weight, 'f32', `${label}.weight`);
  }
  return new Conv2dWeights(O, I, KH, KW, w, rt.upload([padTo4(O)], bias, 'f32', `${label}.bias`), label);
}
