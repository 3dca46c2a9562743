// The 2D step of a round: a person's marks on one slice -> that slice's mask, with
// the IOG/DEXTR network (crop around the marks, network, paste back with
// crop2fullmask, threshold 0.8, as the original's interactive_seg). A network trained
// on the other slice layout gets the slice and the marks transposed, and its mask
// comes back transposed: at this boundary only (src/volume/layout.ts).
import { decodeMask, encodeInteraction, type Interaction } from '../interaction/encode.ts';
import { INPUT_SIZE } from '../interaction/extreme-points.ts';
import { IOG_OUTPUT_SIZE, type IOGNetwork } from '../networks/iog/network.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { ENGINE_SLICE_LAYOUT, transposeImage, type SliceLayout } from '../volume/layout.ts';

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
  /** Optional: queues one segment()'s GPU work on blank input, reading nothing back, for Runtime.warmupFrom to record (Interactive3DSession.warmup). */
  recordStep?(): void;
}

export class IOGSliceSegmenter implements SliceSegmenter {
  /**
   * `inputSize`: the crop's side at the network input, 512 as trained. Smaller
   * multiples of 16 run faster on CPU drivers and in tests, at some accuracy cost;
   * the network's output is 512x512 either way. `relax`: the crop's context around
   * the marks in slice pixels; default the original's 512x512 relax scaled with the
   * frame (src/interaction/relax.ts).
   */
  readonly layout: SliceLayout;

  constructor(private readonly rt: Runtime, private readonly net: IOGNetwork, private readonly inputSize = INPUT_SIZE, layout?: SliceLayout, private readonly relax?: number) {
    this.layout = layout ?? (net as { sliceLayout?: SliceLayout }).sliceLayout ?? ENGINE_SLICE_LAYOUT;
  }

  async segment(image: SliceImage, interaction: Interaction): Promise<Uint8Array> {
    if (this.layout === ENGINE_SLICE_LAYOUT) return this.segmentInNetworkLayout(image, interaction);
    const transposed = { width: image.height, height: image.width, data: transposeImage(image.data, image.width, image.height) };
    const mask = await this.segmentInNetworkLayout(transposed, transposeInteraction(interaction));
    return transposeImage(mask, image.height, image.width);
  }

  recordStep(): void {
    const channels = this.net.inputChannels;
    const blank = this.rt.upload([1, this.inputSize, this.inputSize, channels], new Float32Array(this.inputSize * this.inputSize * channels), 'f32', 'iog input (warm-up)');
    this.net.forward(blank, { coarse: false }).dispose();
    blank.dispose();
  }

  private async segmentInNetworkLayout(image: SliceImage, interaction: Interaction): Promise<Uint8Array> {
    const channels = this.net.inputChannels;
    if (channels !== 4 && channels !== 5) throw new Error(`IOG network with ${channels} input channels: expected 4 or 5`);
    const encoded = encodeInteraction(image, interaction, { channels, size: this.inputSize, ...(this.relax === undefined ? {} : { relax: this.relax }) });
    const t = this.rt.upload([1, encoded.size, encoded.size, encoded.channels], encoded.data, 'f32', `iog input (${interaction.kind})`);
    const out = this.net.forward(t, { coarse: false });
    t.dispose();
    const logits = await out.fine.read();
    out.dispose();
    return decodeMask({ ...encoded, size: IOG_OUTPUT_SIZE }, logits);
  }
}

/** The same marks on the transposed slice. */
export function transposeInteraction(interaction: Interaction): Interaction {
  const t = (p: { x: number; y: number }) => ({ x: p.y, y: p.x });
  switch (interaction.kind) {
    case 'extreme-points':
      return { kind: 'extreme-points', points: interaction.points.map(t) };
    case 'two-points':
      return { kind: 'two-points', points: [t(interaction.points[0]), t(interaction.points[1])] };
    case 'inside-outside':
      return { kind: 'inside-outside', inside: interaction.inside && t(interaction.inside), outside: [t(interaction.outside[0]), t(interaction.outside[1])] };
    case 'scribble': {
      const { width, height, data } = interaction.scribble;
      return { kind: 'scribble', scribble: { width: height, height: width, data: transposeImage(Float32Array.from(data), width, height) } };
    }
  }
}
