// One entry point for every interaction kind of Mem3D's 2D round: the network input
// and what pasting its output back needs. 4-channel kinds (extreme points,
// scribbles) gain a zero fifth channel with `channels: 5`, as the original's hybrid
// network (train_hybrid.py / CVC_hybrid.py) is fed them; inside-outside and two
// points are 5-channel only. Guidance channels per kind (crop relax: the original's
// pixels at 512x512, scaled with the frame, src/interaction/relax.ts):
//   extreme-points  [image x3, extreme-point heatmap]           crop: points + 50 px at 512
//   scribble        [image x3, scribble 0 / 255]                crop: scribble + 50 px at 512
//   inside-outside  [image x3, inside point, box corners]       crop: box + 30 px at 512
//                   [image x3, box corners, zeros]  (no inside point: the hybrid's box mode)
//   two-points      [image x3, first point, second point]       the whole slice
import type { Point } from './crop.ts';
import { checkImage, DEXTR_RELAX, extremePointInput, INPUT_SIZE, maskFromLogits, pasteProbability, type NetworkInput } from './extreme-points.ts';
import { insideOutsideInput, IOG_RELAX } from './inside-outside.ts';
import { frameRelax } from './relax.ts';
import type { Plane } from './resample.ts';
import { SCRIBBLE_RELAX, scribbleInput } from './scribble.ts';
import { twoPointsInput } from './two-points.ts';

export type Interaction =
  | { kind: 'extreme-points'; points: readonly Point[] }
  | { kind: 'inside-outside'; inside?: Point; outside: readonly [Point, Point] }
  | { kind: 'scribble'; scribble: Plane }
  | { kind: 'two-points'; points: readonly [Point, Point] };

export type InteractionKind = Interaction['kind'];

export interface EncodedInteraction extends NetworkInput {
  kind: InteractionKind;
  /** The slice's size, to paste the network's output back into. */
  width: number;
  height: number;
}

export interface EncodeOptions {
  /** 4 or 5 input channels; default: the kind's own count (4 for extreme points and scribbles, else 5). */
  channels?: 4 | 5;
  size?: number;
  sigma?: number;
  /**
   * The crop's context around the marks, in slice pixels; default: the kind's original
   * relax (512x512 pixels) scaled with the frame (frameRelax). Two points use the whole slice.
   */
  relax?: number;
}

/** The original's crop relax per kind, in pixels of a 512x512 slice (two points: no crop). */
export const RELAX_AT_512 = { 'extreme-points': DEXTR_RELAX, scribble: SCRIBBLE_RELAX, 'inside-outside': IOG_RELAX } as const;

/** The relax encodeInteraction uses for `kind` on a width x height slice by default. */
export function defaultRelax(kind: keyof typeof RELAX_AT_512, width: number, height: number): number {
  return frameRelax(RELAX_AT_512[kind], width, height);
}

function withZeroChannel(input: NetworkInput): NetworkInput {
  const [c, n] = [input.channels, input.size * input.size];
  const data = new Float32Array(n * (c + 1));
  for (let p = 0; p < n; p++) data.set(input.data.subarray(p * c, (p + 1) * c), p * (c + 1));
  return { ...input, data, channels: c + 1 };
}

/** The network input for an interaction on a grey slice (0..255), with the bbox to paste into. */
export function encodeInteraction(image: Plane, interaction: Interaction, options: EncodeOptions = {}): EncodedInteraction {
  checkImage('encodeInteraction', image);
  const { size = INPUT_SIZE, sigma } = options;
  const common = sigma === undefined ? { size } : { size, sigma };
  if (options.relax !== undefined && !(Number.isInteger(options.relax) && options.relax >= 0)) throw new RangeError(`encodeInteraction: relax must be an integer >= 0 (slice pixels), got ${options.relax}`);
  const relax = (kind: keyof typeof RELAX_AT_512) => options.relax ?? defaultRelax(kind, image.width, image.height);
  let input: NetworkInput;
  switch (interaction.kind) {
    case 'extreme-points':
      input = extremePointInput(image, interaction.points, { ...common, relax: relax('extreme-points') });
      break;
    case 'scribble':
      input = scribbleInput(image, interaction.scribble, { size, relax: relax('scribble') });
      break;
    case 'inside-outside':
      input = insideOutsideInput(image, interaction, { ...common, relax: relax('inside-outside') });
      break;
    case 'two-points':
      input = twoPointsInput(image, interaction.points, common);
      break;
    default:
      throw new RangeError(`encodeInteraction: unknown interaction kind ${JSON.stringify((interaction as { kind: unknown }).kind)} (expected extreme-points, inside-outside, scribble or two-points)`);
  }
  const channels = options.channels ?? input.channels;
  if (channels !== 4 && channels !== 5) throw new RangeError(`encodeInteraction: channels must be 4 or 5, got ${channels}`);
  if (channels < input.channels) throw new RangeError(`encodeInteraction: a ${interaction.kind} interaction needs a 5-channel network, got channels: ${channels}`);
  if (channels > input.channels) input = withZeroChannel(input);
  return { data: input.data, size: input.size, channels: input.channels, bbox: input.bbox, kind: interaction.kind, width: image.width, height: image.height };
}

/** sigmoid(logits) of the network's size x size output pasted into the slice (crop2fullmask, INTER_CUBIC). */
export function decodeProbability(encoded: EncodedInteraction, logits: ArrayLike<number>): Float64Array {
  return pasteProbability(logits, encoded.size, encoded.bbox, encoded.width, encoded.height);
}

/** The slice mask (0 / 1): pasted sigmoid > threshold (0.8, as the original evaluates). */
export function decodeMask(encoded: EncodedInteraction, logits: ArrayLike<number>, threshold?: number): Uint8Array {
  return maskFromLogits(logits, encoded.size, encoded.bbox, encoded.width, encoded.height, threshold);
}
