// FineNet (IOG's networks/FineNet.py, the RefineNet of CPN): level i of CoarseNet
// goes through 3 - i BottleneckII blocks and a bilinear upsample to 128x128
// (align_corners=True); the four are concatenated and `final_predict` (one more
// BottleneckII, a 3x3 conv to one channel, BatchNorm) gives the logits.
import { copyIntoChannels } from '../../ops/channels.ts';
import { conv2d, type Conv2dWeights } from '../../ops/conv2d.ts';
import { resizeBilinear } from '../../ops/resize.ts';
import type { Runtime } from '../../runtime/runtime.ts';
import type { Tensor } from '../../runtime/tensor.ts';
import type { ParamLoader } from '../../weights/loader.ts';
import { sequential } from '../sequential.ts';

const PLANES = 128;

/** A bottleneck with expansion 2 and an always-present projection shortcut; stride 1 as FineNet builds it. */
export class BottleneckII {
  private readonly conv1: Conv2dWeights;
  private readonly conv2: Conv2dWeights;
  private readonly conv3: Conv2dWeights;
  private readonly downsample: Conv2dWeights;

  constructor(p: ParamLoader, prefix: string, inplanes: number, planes: number) {
    this.conv1 = p.conv(`${prefix}.conv1`, [planes, inplanes, 1, 1], { bn: `${prefix}.bn1` });
    this.conv2 = p.conv(`${prefix}.conv2`, [planes, planes, 3, 3], { bn: `${prefix}.bn2` });
    this.conv3 = p.conv(`${prefix}.conv3`, [2 * planes, planes, 1, 1], { bn: `${prefix}.bn3` });
    this.downsample = p.conv(`${prefix}.downsample.0`, [2 * planes, inplanes, 1, 1], { bn: `${prefix}.downsample.1` });
  }

  forward(rt: Runtime, x: Tensor): Tensor {
    return rt.scope(() => {
      // Its own scope: conv1's output is gone before the shortcut and conv3 allocate.
      const out = rt.scope(() => conv2d(rt, conv2d(rt, x, this.conv1, { relu: true }), this.conv2, { padding: 1, relu: true }));
      const residual = conv2d(rt, x, this.downsample);
      return conv2d(rt, out, this.conv3, { residual, relu: true });
    });
  }
}

export class FineNet {
  private readonly cascade: BottleneckII[][];
  private readonly finalBlock: BottleneckII;
  private readonly finalConv: Conv2dWeights;

  /** BottleneckII outputs 2 * 128 channels: the original assumes lateralChannel is 256 (final_predict reads 4 * lateralChannel). */
  constructor(p: ParamLoader, prefix: string, private readonly lateralChannel: number, private readonly outputShape: number, numClass: number, numCascade = 4) {
    if (lateralChannel !== 2 * PLANES) throw new RangeError(`FineNet '${prefix}': lateral channels must be ${2 * PLANES}, got ${lateralChannel}`);
    this.cascade = Array.from({ length: numCascade }, (_, i) =>
      Array.from({ length: numCascade - i - 1 }, (_, j) => new BottleneckII(p, `${prefix}.cascade.${i}.${j}`, lateralChannel, PLANES)),
    );
    this.finalBlock = new BottleneckII(p, `${prefix}.final_predict.0`, numCascade * lateralChannel, PLANES);
    this.finalConv = p.conv(`${prefix}.final_predict.1`, [numClass, 2 * PLANES, 3, 3], { bn: `${prefix}.final_predict.2` });
  }

  /** fms: CoarseNet's feature maps, one per cascade. Returns logits [1, outputShape, outputShape, numClass]. */
  forward(rt: Runtime, fms: readonly Tensor[]): Tensor {
    const s = this.outputShape;
    const width = this.lateralChannel;
    return rt.scope(() => {
      const cat = rt.empty([1, s, s, width * this.cascade.length], 'f32', 'fine concat');
      this.cascade.forEach((blocks, i) =>
        rt.scope(() => {
          const h = sequential(rt, fms[i], blocks);
          // An align_corners resize to the same size is the identity: copy directly.
          copyIntoChannels(rt, h.shape[1] === s && h.shape[2] === s ? h : resizeBilinear(rt, h, [s, s], { alignCorners: true }), cat, i * width);
        }),
      );
      return sequential(rt, cat, [this.finalBlock, (f) => conv2d(rt, f, this.finalConv, { padding: 1 })]);
    });
  }
}
