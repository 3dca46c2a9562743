// torchvision's ResNet Bottleneck (v1.5: the stride sits on the 3x3 conv) and its
// layers, with BatchNorm folded into the convs and the residual add and ReLU fused
// into conv3's epilogue. Names mirror the state_dict: `<prefix>.<block>.conv1` ...
import { conv2d, type Conv2dWeights } from '../ops/conv2d.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';
import type { ParamLoader } from '../weights/loader.ts';
import { sequential } from './sequential.ts';

export class Bottleneck {
  static readonly expansion = 4;
  private readonly conv1: Conv2dWeights;
  private readonly conv2: Conv2dWeights;
  private readonly conv3: Conv2dWeights;
  private readonly downsample: Conv2dWeights | null;

  constructor(p: ParamLoader, prefix: string, inplanes: number, planes: number, private readonly stride: number, private readonly dilation: number, downsample: boolean) {
    const out = planes * Bottleneck.expansion;
    this.conv1 = p.conv(`${prefix}.conv1`, [planes, inplanes, 1, 1], { bn: `${prefix}.bn1` });
    this.conv2 = p.conv(`${prefix}.conv2`, [planes, planes, 3, 3], { bn: `${prefix}.bn2` });
    this.conv3 = p.conv(`${prefix}.conv3`, [out, planes, 1, 1], { bn: `${prefix}.bn3` });
    this.downsample = downsample ? p.conv(`${prefix}.downsample.0`, [out, inplanes, 1, 1], { bn: `${prefix}.downsample.1` }) : null;
  }

  forward(rt: Runtime, x: Tensor): Tensor {
    return rt.scope(() => {
      // Its own scope: conv1's output is gone before the shortcut and conv3 allocate.
      const out = rt.scope(() => conv2d(rt, conv2d(rt, x, this.conv1, { relu: true }), this.conv2, { stride: this.stride, padding: this.dilation, dilation: this.dilation, relu: true }));
      const identity = this.downsample ? conv2d(rt, x, this.downsample, { stride: this.stride }) : x;
      return conv2d(rt, out, this.conv3, { residual: identity, relu: true });
    });
  }
}

/** torchvision `_make_layer`: block 0 carries the stride and the projection shortcut. */
export class ResLayer {
  readonly blocks: Bottleneck[] = [];
  readonly outplanes: number;

  constructor(p: ParamLoader, prefix: string, inplanes: number, planes: number, count: number, stride: number, dilations: number[] = []) {
    this.outplanes = planes * Bottleneck.expansion;
    for (let i = 0; i < count; i++) {
      const needsProjection = i === 0 && (stride !== 1 || inplanes !== this.outplanes);
      this.blocks.push(new Bottleneck(p, `${prefix}.${i}`, i === 0 ? inplanes : this.outplanes, planes, i === 0 ? stride : 1, dilations[i] ?? 1, needsProjection));
    }
  }

  forward(rt: Runtime, x: Tensor): Tensor {
    return sequential(rt, x, this.blocks);
  }
}
