// QAMN's quality head (models_SAQ.py, STM.forward in test phase): the argmax mask
// and the max-probability map, resized to r4's size, concatenated with r4 (1026
// channels), conv1 -> ResNet layer4 (res5) -> average pool -> fc -> ReLU -> fc2 -> sigmoid.
//
// The original resizes to a fixed 32x32 and pools with AvgPool2d(16): exactly r4's
// size and a global pool for 512x512 frames. Other frame sizes use r4's own size and
// a global pool (a documented deviation: the original would fail on them).
import { conv2d, type Conv2dWeights } from '../../ops/conv2d.ts';
import { concatChannels } from '../../ops/channels.ts';
import { linear, type LinearWeights } from '../../ops/linear.ts';
import { adaptiveAvgPool2d } from '../../ops/pool.ts';
import { resizeBilinear } from '../../ops/resize.ts';
import type { Runtime } from '../../runtime/runtime.ts';
import type { Tensor } from '../../runtime/tensor.ts';
import type { ParamLoader } from '../../weights/loader.ts';
import { ResLayer } from '../resnet.ts';
import { sequential } from '../sequential.ts';

export class QualityHead {
  private readonly conv1: Conv2dWeights;
  private readonly res5: ResLayer;
  private readonly fc: LinearWeights;
  private readonly fc2: LinearWeights;

  constructor(p: ParamLoader) {
    this.conv1 = p.conv('conv1', [1024, 1026, 3, 3]);
    this.res5 = new ResLayer(p, 'res5', 1024, 512, 3, 2);
    this.fc = p.linear('fc', [1000, 2048]);
    this.fc2 = p.linear('fc2', [1, 1000]);
  }

  /** r4 [1, h, w, 1024]; qualityInput [1, H, W, 2] = (argmax, max probability). Returns [1, 1]. */
  forward(rt: Runtime, r4: Tensor, qualityInput: Tensor): Tensor {
    return sequential(rt, qualityInput, [
      (q) => concatChannels(rt, [r4, resizeBilinear(rt, q, [r4.shape[1], r4.shape[2]], { alignCorners: false })]),
      (x) => conv2d(rt, x, this.conv1, { padding: 1 }),
      this.res5,
      (r5) => adaptiveAvgPool2d(rt, r5, [1, 1]),
      (x) => linear(rt, x, this.fc, { relu: true }),
      (x) => linear(rt, x, this.fc2, { sigmoid: true }),
    ]);
  }
}
