// CoarseNet (IOG's networks/CoarseNet.py, the GlobalNet of CPN): a lateral 1x1
// conv (BatchNorm, ReLU) per level, a top-down path (bilinear x2 with
// align_corners=True, 1x1 conv, BatchNorm) and a predict head per level (1x1 conv,
// BatchNorm, ReLU, 3x3 conv to one channel, bilinear to 128x128, BatchNorm).
import { conv2d, type Conv2dWeights } from '../../ops/conv2d.ts';
import { add } from '../../ops/elementwise.ts';
import { resizeBilinear } from '../../ops/resize.ts';
import type { Runtime } from '../../runtime/runtime.ts';
import type { Tensor } from '../../runtime/tensor.ts';
import type { ParamLoader } from '../../weights/loader.ts';

const WIDTH = 256;

/**
 * The predict head. Its last BatchNorm follows the upsample; it is folded into the
 * 3x3 conv before it instead, which is exact: an align_corners bilinear weights its
 * neighbours by (1 - t, t), so it commutes with any per-channel affine map.
 */
class Predict {
  private readonly reduce: Conv2dWeights;
  private readonly out: Conv2dWeights;

  constructor(p: ParamLoader, prefix: string, numClass: number, private readonly outputShape: number) {
    this.reduce = p.conv(`${prefix}.0`, [WIDTH, WIDTH, 1, 1], { bn: `${prefix}.1` });
    this.out = p.conv(`${prefix}.3`, [numClass, WIDTH, 3, 3], { bn: `${prefix}.5` });
  }

  forward(rt: Runtime, x: Tensor): Tensor {
    return rt.scope(() => {
      const o = conv2d(rt, conv2d(rt, x, this.reduce, { relu: true }), this.out, { padding: 1 });
      return resizeBilinear(rt, o, [this.outputShape, this.outputShape], { alignCorners: true });
    });
  }
}

export interface CoarseOutputs {
  /** The summed feature maps of each level (what FineNet reads): 256 channels. */
  fms: Tensor[];
  /** Each level's logits at outputShape x outputShape; empty unless asked for. */
  outs: Tensor[];
}

export class CoarseNet {
  private readonly laterals: Conv2dWeights[];
  /** upsamples[0] is built by the original but never run (level 1 adds level 0 at the same 1/16 scale). */
  private readonly upsamples: (Conv2dWeights | null)[];
  private readonly predict: Predict[];

  constructor(p: ParamLoader, prefix: string, channelSettings: readonly number[], outputShape: number, numClass: number) {
    const last = channelSettings.length - 1;
    this.laterals = channelSettings.map((c, i) => p.conv(`${prefix}.laterals.${i}.0`, [WIDTH, c, 1, 1], { bn: `${prefix}.laterals.${i}.1` }));
    this.upsamples = channelSettings.slice(0, last).map((_, i) => {
      if (i > 0) return p.conv(`${prefix}.upsamples.${i}.1`, [WIDTH, WIDTH, 1, 1], { bn: `${prefix}.upsamples.${i}.2` });
      // In the state_dict, so checked, but not uploaded.
      p.take(`${prefix}.upsamples.0.1.weight`, [WIDTH, WIDTH, 1, 1]);
      for (const f of ['weight', 'bias', 'running_mean', 'running_var']) p.take(`${prefix}.upsamples.0.2.${f}`, [WIDTH]);
      return null;
    });
    this.predict = channelSettings.map((_, i) => new Predict(p, `${prefix}.predict.${i}`, numClass, outputShape));
  }

  /** x: [psp(x4), x3, x2, x1]; level i > 1 is twice the size of level i - 1. */
  forward(rt: Runtime, x: readonly Tensor[], withOutputs: boolean): CoarseOutputs {
    return rt.scope(() => {
      const fms: Tensor[] = [];
      const outs: Tensor[] = [];
      x.forEach((xi, i) => {
        const feature = rt.scope(() => {
          // The level above: level 0 itself (the same 1/16 scale), deeper levels upsampled.
          const top = i === 0 ? null : i === 1 ? fms[0] : rt.scope(() => this.upsample(rt, fms[i - 1], this.upsamples[i - 1]!));
          const lateral = conv2d(rt, xi, this.laterals[i], { relu: true });
          return top ? add(rt, lateral, top) : lateral;
        });
        fms.push(feature);
        if (withOutputs) outs.push(this.predict[i].forward(rt, feature));
      });
      return { fms, outs };
    });
  }

  private upsample(rt: Runtime, x: Tensor, conv: Conv2dWeights): Tensor {
    return conv2d(rt, resizeBilinear(rt, x, [2 * x.shape[1], 2 * x.shape[2]], { alignCorners: true }), conv);
  }
}
