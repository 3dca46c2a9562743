// Float64 reference for kernels/conv2d.wgsl, unfused: conv (NHWC input, PyTorch
// OIHW weights) + bias, then BatchNorm, then + residual, then ReLU.
import type { BatchNormParams } from '../../src/ops/conv2d.ts';

export interface ConvRefParams {
  x: ArrayLike<number>;
  xShape: readonly [number, number, number, number];
  weight: ArrayLike<number>;
  wShape: readonly [number, number, number, number];
  bias?: ArrayLike<number>;
  batchNorm?: BatchNormParams;
  stride: readonly [number, number];
  padding: readonly [number, number];
  dilation: readonly [number, number];
  residual?: ArrayLike<number>;
  relu?: boolean;
}

/** Returns the [N, OH, OW, O] output and its shape. */
export function conv2dRef(c: ConvRefParams): { out: Float64Array; shape: [number, number, number, number] } {
  const [N, H, W, C] = c.xShape;
  const [O, I, KH, KW] = c.wShape;
  if (I !== C) throw new Error(`conv2dRef: input has ${C} channels, weights expect ${I}`);
  const [sH, sW] = c.stride;
  const [pH, pW] = c.padding;
  const [dH, dW] = c.dilation;
  const OH = Math.floor((H + 2 * pH - dH * (KH - 1) - 1) / sH) + 1;
  const OW = Math.floor((W + 2 * pW - dW * (KW - 1) - 1) / sW) + 1;
  const out = new Float64Array(N * OH * OW * O);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        for (let o = 0; o < O; o++) {
          let s = c.bias ? c.bias[o] : 0;
          for (let kh = 0; kh < KH; kh++) {
            const ih = oh * sH - pH + kh * dH;
            if (ih < 0 || ih >= H) continue;
            for (let kw = 0; kw < KW; kw++) {
              const iw = ow * sW - pW + kw * dW;
              if (iw < 0 || iw >= W) continue;
              for (let i = 0; i < C; i++) s += c.x[((n * H + ih) * W + iw) * C + i] * c.weight[((o * I + i) * KH + kh) * KW + kw];
            }
          }
          const bn = c.batchNorm;
          if (bn) s = ((s - bn.runningMean[o]) / Math.sqrt(bn.runningVar[o] + bn.eps)) * bn.weight[o] + bn.bias[o];
          const idx = ((n * OH + oh) * OW + ow) * O + o;
          if (c.residual) s += c.residual[idx];
          out[idx] = c.relu ? Math.max(s, 0) : s;
        }
      }
    }
  }
  return { out, shape: [N, OH, OW, O] };
}
