// PSPModule of networks/mainnetwork.py: adaptive average pools to 1, 2, 3 and 6
// bins, each a 1x1 conv (BatchNorm, ReLU) to in/4 channels upsampled back with
// align_corners=True, concatenated with the input and fused by a 1x1 `bottleneck`
// (BatchNorm, ReLU). Each branch writes its channel window of the concat buffer.
import { copyIntoChannels } from '../../ops/channels.ts';
import { conv2d, type Conv2dWeights } from '../../ops/conv2d.ts';
import { adaptiveAvgPool2d } from '../../ops/pool.ts';
import { resizeBilinear } from '../../ops/resize.ts';
import type { Runtime } from '../../runtime/runtime.ts';
import type { Tensor } from '../../runtime/tensor.ts';
import type { ParamLoader } from '../../weights/loader.ts';

export class PSPModule {
  private readonly stages: { size: number; conv: Conv2dWeights }[];
  private readonly bottleneck: Conv2dWeights;
  private readonly branchChannels: number;

  constructor(p: ParamLoader, prefix: string, private readonly inFeatures: number, outFeatures: number, sizes: readonly number[]) {
    this.branchChannels = Math.floor(inFeatures / 4);
    this.stages = sizes.map((size, i) => ({ size, conv: p.conv(`${prefix}.stages.${i}.1`, [this.branchChannels, inFeatures, 1, 1], { bn: `${prefix}.stages.${i}.2` }) }));
    // The original sizes the bottleneck as in * (len(sizes) // 4 + 1), which equals the concat width for 4 sizes.
    const catChannels = inFeatures * (Math.floor(sizes.length / 4) + 1);
    if (catChannels !== inFeatures + sizes.length * this.branchChannels) throw new RangeError(`PSPModule '${prefix}': ${sizes.length} pool sizes do not fit the original's bottleneck width ${catChannels}`);
    this.bottleneck = p.conv(`${prefix}.bottleneck.0`, [outFeatures, catChannels, 1, 1], { bn: `${prefix}.bottleneck.1` });
  }

  forward(rt: Runtime, feats: Tensor): Tensor {
    return rt.scope(() => {
      const [n, h, w] = feats.shape;
      const cat = rt.empty([n, h, w, this.stages.length * this.branchChannels + this.inFeatures], 'f32', 'psp concat');
      this.stages.forEach((s, i) =>
        rt.scope(() => {
          const c = conv2d(rt, adaptiveAvgPool2d(rt, feats, [s.size, s.size]), s.conv, { relu: true });
          copyIntoChannels(rt, resizeBilinear(rt, c, [h, w], { alignCorners: true }), cat, i * this.branchChannels);
        }),
      );
      copyIntoChannels(rt, feats, cat, this.stages.length * this.branchChannels);
      return conv2d(rt, cat, this.bottleneck, { relu: true });
    });
  }
}
