// The two decoders: QAMN's (models_SAQ.py: ASPP `layer5`) and the original STM's
// (models.py: a 3x3 `convFM`). Both end in ResMM, RF3, RF2, pred2 and a bilinear
// upsample to the frame size.
import { conv2d, type Conv2dWeights } from '../../ops/conv2d.ts';
import { relu } from '../../ops/elementwise.ts';
import { resizeBilinear } from '../../ops/resize.ts';
import type { Runtime } from '../../runtime/runtime.ts';
import type { Tensor } from '../../runtime/tensor.ts';
import type { ParamLoader } from '../../weights/loader.ts';
import { sequential } from '../sequential.ts';
import { ASPP, Refine, ResBlock } from './blocks.ts';

export type Variant = 'qamn' | 'stm';

export class Decoder {
  private readonly layer5: ASPP | null = null;
  private readonly convFM: Conv2dWeights | null = null;
  private readonly ResMM: ResBlock;
  private readonly RF3: Refine;
  private readonly RF2: Refine;
  private readonly pred2: Conv2dWeights;

  constructor(p: ParamLoader, variant: Variant, inplane: number, mdim: number) {
    if (variant === 'qamn') this.layer5 = new ASPP(p, 'Decoder.layer5', inplane, mdim, [2, 4, 8]);
    else this.convFM = p.conv('Decoder.convFM', [mdim, inplane, 3, 3], { bias: true });
    this.ResMM = new ResBlock(p, 'Decoder.ResMM', mdim);
    this.RF3 = new Refine(p, 'Decoder.RF3', 512, mdim);
    this.RF2 = new Refine(p, 'Decoder.RF2', 256, mdim);
    this.pred2 = p.conv('Decoder.pred2', [2, mdim, 3, 3], { bias: true });
  }

  /** r4: the memory read concatenated with the query value; returns logits [1, H, W, 2]. */
  forward(rt: Runtime, r4: Tensor, r3: Tensor, r2: Tensor, size: [number, number]): Tensor {
    return sequential(rt, r4, [
      (x) => (this.layer5 ? this.layer5.forward(rt, x) : conv2d(rt, x, this.convFM!, { padding: 1 })),
      this.ResMM,
      (m4) => this.RF3.forward(rt, r3, m4),
      (m3) => this.RF2.forward(rt, r2, m3),
      (m2) => conv2d(rt, relu(rt, m2), this.pred2, { padding: 1 }),
      (p2) => resizeBilinear(rt, p2, size, { alignCorners: false }),
    ]);
  }
}
