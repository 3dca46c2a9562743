// The 2D step of a round: a person's marks on one slice -> that slice's mask, with
// the IOG/DEXTR network (crop around the marks, network, paste back with
// crop2fullmask, threshold 0.8, as the original's interactive_seg).
import { decodeMask, encodeInteraction, type Interaction } from '../interaction/encode.ts';
import { INPUT_SIZE } from '../interaction/extreme-points.ts';
import { IOG_OUTPUT_SIZE, type IOGNetwork } from '../networks/iog/network.ts';
import type { Runtime } from '../runtime/runtime.ts';

export type { Interaction } from '../interaction/encode.ts';

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
  /**
   * `inputSize`: the crop's side at the network input, 512 as trained. Smaller
   * multiples of 16 run faster on CPU drivers and in tests, at some accuracy cost;
   * the network's output is 512x512 either way.
   */
  constructor(private readonly rt: Runtime, private readonly net: IOGNetwork, private readonly inputSize = INPUT_SIZE) {}

  async segment(image: SliceImage, interaction: Interaction): Promise<Uint8Array> {
    const channels = this.net.inputChannels;
    if (channels !== 4 && channels !== 5) throw new Error(`IOG network with ${channels} input channels: expected 4 or 5`);
    const encoded = encodeInteraction(image, interaction, { channels, size: this.inputSize });
    const t = this.rt.upload([1, encoded.size, encoded.size, encoded.channels], encoded.data, 'f32', `iog input (${interaction.kind})`);
    const out = this.net.forward(t, { coarse: false });
    t.dispose();
    const logits = await out.fine.read();
    out.dispose();
    return decodeMask({ ...encoded, size: IOG_OUTPUT_SIZE }, logits);
  }
}
