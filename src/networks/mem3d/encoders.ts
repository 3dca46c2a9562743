// Encoder_M, Encoder_Q and KeyValue of models_SAQ.py: ResNet-50 up to layer3
// (res2..res4), and the 3x3 key / value heads on r4.
import { conv2d, type Conv2dWeights } from '../../ops/conv2d.ts';
import { concatChannels } from '../../ops/channels.ts';
import { affineClamp } from '../../ops/elementwise.ts';
import { maxPool2d } from '../../ops/pool.ts';
import type { Runtime } from '../../runtime/runtime.ts';
import type { Tensor } from '../../runtime/tensor.ts';
import type { ParamLoader } from '../../weights/loader.ts';
import { ResLayer } from '../resnet.ts';
import { sequential } from '../sequential.ts';

export interface EncoderFeatures {
  r4: Tensor; // 1/16, 1024
  r3: Tensor; // 1/8, 512
  r2: Tensor; // 1/4, 256
}

/** The ResNet-50 stem and layers shared by both encoders. */
class ResNetTrunk {
  readonly res2: ResLayer;
  readonly res3: ResLayer;
  readonly res4: ResLayer;

  constructor(p: ParamLoader, prefix: string, readonly conv1: Conv2dWeights) {
    this.res2 = new ResLayer(p, `${prefix}.res2`, 64, 64, 3, 1);
    this.res3 = new ResLayer(p, `${prefix}.res3`, 256, 128, 4, 2);
    this.res4 = new ResLayer(p, `${prefix}.res4`, 512, 256, 6, 2);
  }

  forward(rt: Runtime, input: Tensor): EncoderFeatures {
    const r2 = sequential(rt, input, [
      (x) => conv2d(rt, x, this.conv1, { stride: 2, padding: 3, relu: true }), // conv1, bn1, relu
      (c1) => maxPool2d(rt, c1, { kernel: 3, stride: 2, padding: 1 }),
      this.res2,
    ]);
    const r3 = this.res3.forward(rt, r2);
    const r4 = this.res4.forward(rt, r3);
    return { r4, r3, r2 };
  }
}

/**
 * conv1(frame) + conv1_m(mask) + conv1_bg(bg), then bn1: computed as one 5-channel
 * conv over [frame, mask, bg] with the three weights concatenated and bn1 folded.
 */
export class Encoder_M {
  private readonly trunk: ResNetTrunk;

  constructor(p: ParamLoader) {
    const conv1 = p.conv('Encoder_M.conv1', [64, 3, 7, 7], {
      bn: 'Encoder_M.bn1',
      extraInputs: [
        { name: 'Encoder_M.conv1_m', channels: 1 },
        { name: 'Encoder_M.conv1_bg', channels: 1 },
      ],
    });
    this.trunk = new ResNetTrunk(p, 'Encoder_M', conv1);
  }

  /** frame [1, H, W, 3] normalised; mask [1, H, W, 1] object probability. Returns r4. */
  forward(rt: Runtime, frame: Tensor, mask: Tensor): Tensor {
    return rt.scope(() => {
      // torch.clamp(1 - mask, 0, 1), in its own scope: gone once concatenated.
      const input = rt.scope(() => concatChannels(rt, [frame, mask, affineClamp(rt, mask, -1, 1, 0, 1)]));
      return this.trunk.forward(rt, input).r4;
    });
  }
}

export class Encoder_Q {
  private readonly trunk: ResNetTrunk;

  constructor(p: ParamLoader) {
    this.trunk = new ResNetTrunk(p, 'Encoder_Q', p.conv('Encoder_Q.conv1', [64, 3, 7, 7], { bn: 'Encoder_Q.bn1' }));
  }

  forward(rt: Runtime, frame: Tensor): EncoderFeatures {
    return this.trunk.forward(rt, frame);
  }
}

export class KeyValue {
  private readonly Key: Conv2dWeights;
  private readonly Value: Conv2dWeights;

  constructor(p: ParamLoader, prefix: string, indim: number, readonly keydim: number, readonly valdim: number) {
    this.Key = p.conv(`${prefix}.Key`, [keydim, indim, 3, 3], { bias: true });
    this.Value = p.conv(`${prefix}.Value`, [valdim, indim, 3, 3], { bias: true });
  }

  key(rt: Runtime, x: Tensor): Tensor {
    return conv2d(rt, x, this.Key, { padding: 1 });
  }

  /** The value, optionally written into a channel window of `out` (the decoder's [mem, value] concat). */
  value(rt: Runtime, x: Tensor, out?: { tensor: Tensor; channelOffset: number }): Tensor {
    return conv2d(rt, x, this.Value, { padding: 1, out });
  }
}
