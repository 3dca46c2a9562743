// The decoder's building blocks of models_SAQ.py / models.py: ResBlock, Refine, ASPP.
import { conv2d, type Conv2dWeights } from '../../ops/conv2d.ts';
import { add, relu } from '../../ops/elementwise.ts';
import { adaptiveAvgPool2d } from '../../ops/pool.ts';
import { resizeBilinear } from '../../ops/resize.ts';
import { copyIntoChannels } from '../../ops/channels.ts';
import type { Runtime } from '../../runtime/runtime.ts';
import type { Tensor } from '../../runtime/tensor.ts';
import type { ParamLoader } from '../../weights/loader.ts';

/** x + conv2(relu(conv1(relu(x)))); Mem3D only builds it with indim == outdim and stride 1. */
export class ResBlock {
  private readonly conv1: Conv2dWeights;
  private readonly conv2: Conv2dWeights;

  constructor(p: ParamLoader, prefix: string, dim: number) {
    this.conv1 = p.conv(`${prefix}.conv1`, [dim, dim, 3, 3], { bias: true });
    this.conv2 = p.conv(`${prefix}.conv2`, [dim, dim, 3, 3], { bias: true });
  }

  forward(rt: Runtime, x: Tensor): Tensor {
    return rt.scope(() => {
      const r = rt.scope(() => conv2d(rt, relu(rt, x), this.conv1, { padding: 1, relu: true }));
      return conv2d(rt, r, this.conv2, { padding: 1, residual: x });
    });
  }
}

/** s = ResFS(convFS(f)); m = ResMM(s + upsample(pm to s, align_corners=False)). */
export class Refine {
  private readonly convFS: Conv2dWeights;
  private readonly ResFS: ResBlock;
  private readonly ResMM: ResBlock;

  constructor(p: ParamLoader, prefix: string, inplanes: number, planes: number) {
    this.convFS = p.conv(`${prefix}.convFS`, [planes, inplanes, 3, 3], { bias: true });
    this.ResFS = new ResBlock(p, `${prefix}.ResFS`, planes);
    this.ResMM = new ResBlock(p, `${prefix}.ResMM`, planes);
  }

  forward(rt: Runtime, f: Tensor, pm: Tensor): Tensor {
    return rt.scope(() => {
      const m = rt.scope(() => {
        const s = rt.scope(() => this.ResFS.forward(rt, conv2d(rt, f, this.convFS, { padding: 1 })));
        return add(rt, s, resizeBilinear(rt, pm, [s.shape[1], s.shape[2]], { alignCorners: false }));
      });
      return this.ResMM.forward(rt, m);
    });
  }
}

/**
 * QAMN's `layer5`: image pooling, a 1x1 and three dilated 3x3 branches (BatchNorm,
 * ReLU), concatenated (each branch writes its channel window) and fused by a 3x3
 * `bottleneck` without activation.
 */
export class ASPP {
  private readonly conv: Conv2dWeights;
  private readonly branches: { conv: Conv2dWeights; dilation: number }[];
  private readonly bottleneck: Conv2dWeights;

  constructor(p: ParamLoader, prefix: string, inplanes: number, private readonly depth: number, dilations: readonly number[]) {
    this.conv = p.conv(`${prefix}.conv`, [depth, inplanes, 1, 1], { bias: true, bn: `${prefix}.bn_x` });
    this.branches = [
      { conv: p.conv(`${prefix}.conv2d_0`, [depth, inplanes, 1, 1], { bias: true, bn: `${prefix}.bn_0` }), dilation: 0 },
      ...dilations.map((d, i) => ({ conv: p.conv(`${prefix}.conv2d_${i + 1}`, [depth, inplanes, 3, 3], { bias: true, bn: `${prefix}.bn_${i + 1}` }), dilation: d })),
    ];
    this.bottleneck = p.conv(`${prefix}.bottleneck`, [depth, depth * (this.branches.length + 1), 3, 3], { bias: true });
  }

  forward(rt: Runtime, x: Tensor): Tensor {
    return rt.scope(() => {
      const [n, h, w] = x.shape;
      const cat = rt.empty([n, h, w, this.depth * (this.branches.length + 1)], 'f32', 'aspp concat');
      rt.scope(() => {
        const image = conv2d(rt, adaptiveAvgPool2d(rt, x, [1, 1]), this.conv, { relu: true });
        copyIntoChannels(rt, resizeBilinear(rt, image, [h, w], { alignCorners: true }), cat, 0);
      });
      this.branches.forEach((b, i) => {
        const d = b.dilation;
        conv2d(rt, x, b.conv, { padding: d, dilation: Math.max(1, d), relu: true, out: { tensor: cat, channelOffset: this.depth * (i + 1) } });
      });
      return conv2d(rt, cat, this.bottleneck, { padding: 1 });
    });
  }
}
