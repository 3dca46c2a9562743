// The IOG backbone (networks/backbone/resnet.py of Mem3D / IOG): ResNet-101 with
// output stride 16. layer1..3 as torchvision (stride on the 3x3 conv, dilation 1);
// layer4 is the multi-grid unit: stride 1, dilations 2, 4, 8 (blocks [1, 2, 4] x rate 2).
// The stem takes the image plus its guidance channels (nInputChannels).
import { conv2d, type Conv2dWeights } from '../../ops/conv2d.ts';
import { maxPool2d } from '../../ops/pool.ts';
import type { Runtime } from '../../runtime/runtime.ts';
import type { Tensor } from '../../runtime/tensor.ts';
import type { ParamLoader } from '../../weights/loader.ts';
import { ResLayer } from '../resnet.ts';
import { sequential } from '../sequential.ts';

/** Backbone outputs, deepest first, as the original returns them: [x4, x3, x2, x1]. */
export type BackboneFeatures = [x4: Tensor, x3: Tensor, x2: Tensor, x1: Tensor];

export class IOGResNet101 {
  private readonly conv1: Conv2dWeights;
  private readonly layers: ResLayer[];

  constructor(p: ParamLoader, prefix: string, inputChannels: number) {
    this.conv1 = p.conv(`${prefix}.conv1`, [64, inputChannels, 7, 7], { bn: `${prefix}.bn1` });
    this.layers = [
      new ResLayer(p, `${prefix}.layer1`, 64, 64, 3, 1),
      new ResLayer(p, `${prefix}.layer2`, 256, 128, 4, 2),
      new ResLayer(p, `${prefix}.layer3`, 512, 256, 23, 2),
      new ResLayer(p, `${prefix}.layer4`, 1024, 512, 3, 1, [2, 4, 8]),
    ];
  }

  /** x4 [1, H/16, W/16, 2048], x3 [1, H/16, W/16, 1024], x2 [1, H/8, W/8, 512], x1 [1, H/4, W/4, 256]. */
  forward(rt: Runtime, input: Tensor): BackboneFeatures {
    const x1 = sequential(rt, input, [
      (x) => conv2d(rt, x, this.conv1, { stride: 2, padding: 3, relu: true }), // conv1, bn1, relu
      (c1) => maxPool2d(rt, c1, { kernel: 3, stride: 2, padding: 1 }),
      this.layers[0],
    ]);
    const x2 = this.layers[1].forward(rt, x1);
    const x3 = this.layers[2].forward(rt, x2);
    const x4 = this.layers[3].forward(rt, x3);
    return [x4, x3, x2, x1];
  }
}
