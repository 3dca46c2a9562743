// The 2D step of a round: a person's marks on one slice -> that slice's mask, with
// the IOG/DEXTR network (crop around the marks, network at 512x512, paste back,
// threshold 0.8, as the original's interactive_seg).
import type { IOGNetwork } from '../networks/iog/network.ts';
import { extremePointInput, maskFromLogits } from '../interaction/extreme-points.ts';
import type { Point } from '../interaction/crop.ts';
import type { Runtime } from '../runtime/runtime.ts';

export type Interaction = { kind: 'extreme-points'; points: Point[] };

export interface SliceImage {
  width: number;
  height: number;
  /** 8-bit grey, row-major */
  data: Uint8Array;
}

export interface SliceSegmenter {
  /** The slice's binary mask (0 / 1, row-major). */
  segment(image: SliceImage, interaction: Interaction): Promise<Uint8Array>;
}

export class IOGSliceSegmenter implements SliceSegmenter {
  constructor(private readonly rt: Runtime, private readonly net: IOGNetwork) {}

  async segment(image: SliceImage, interaction: Interaction): Promise<Uint8Array> {
    if (interaction.kind !== 'extreme-points') throw new Error(`interaction kind '${(interaction as { kind: string }).kind}' is not supported by this network`);
    const input = extremePointInput(image, interaction.points);
    const t = this.rt.upload([1, input.size, input.size, input.channels], input.data, 'f32', 'iog input');
    const out = this.net.forward(t, { coarse: false });
    t.dispose();
    const logits = await out.fine.read();
    out.dispose();
    return maskFromLogits(logits, input.size, input.bbox, image.width, image.height);
  }
}
