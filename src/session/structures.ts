// The session's structures and what each holds per slice, and the rule that turns them
// into one label map. Pure data and functions: session.ts keeps the state, this file
// says what it means.
//
// Every per-slice array here (a fixed mask, a propagated probability, a slice of the
// label map) is immutable once made: the session replaces a slice's array, never writes
// into it, so undo snapshots share every array that did not change (history.ts).

/** A structure's display colour, 0..255 each. */
export type Rgb = readonly [number, number, number];

/** One named structure of the session; ids 1..65535, 0 is background in label maps. */
export interface Structure {
  readonly id: number;
  readonly name: string;
  readonly color: Rgb;
}

/**
 * What one structure holds on one slice.
 * - 'annotated': the 2D network's mask or a mask set by hand; propagation starts from it.
 * - 'locked': a propagated slice the user accepted, or a slice read from a label map;
 *   propagation stops at it and never changes it. `probability` is the propagated
 *   probability it was accepted with (it keeps weighing the background at other pixels,
 *   so accepting a slice changes no pixel of the label map); absent for loaded slices.
 * - 'propagated': the memory network's probability, its quality and certainty.
 */
export type SliceRecord =
  | { readonly source: 'annotated'; readonly mask: Uint8Array }
  | { readonly source: 'locked'; readonly mask: Uint8Array; readonly probability?: Float32Array }
  | {
      readonly source: 'propagated';
      readonly probability: Float32Array;
      readonly quality: number;
      readonly certainty: number | null;
      readonly qualityScore: number | null;
    };

export type FixedRecord = Extract<SliceRecord, { mask: Uint8Array }>;

export const isFixed = (r: SliceRecord | undefined): r is FixedRecord => r !== undefined && r.source !== 'propagated';

/** Structure ids per voxel, 0 = background: uint8 up to id 255, uint16 above. */
export type Labels = Uint8Array | Uint16Array;

export const MAX_STRUCTURE_ID = 65535;

/** Structure 1 keeps the colour the single-structure viewer drew its mask with. */
const PALETTE: readonly Rgb[] = [
  [255, 60, 60],
  [60, 160, 255],
  [80, 220, 100],
  [255, 200, 40],
  [200, 90, 255],
  [255, 140, 0],
  [0, 210, 200],
  [240, 100, 200],
];

export const defaultColor = (id: number): Rgb => PALETTE[(id - 1) % PALETTE.length];

export function checkColor(op: string, color: readonly number[]): Rgb {
  if (!(Array.isArray(color) && color.length === 3 && color.every((c) => Number.isInteger(c) && c >= 0 && c <= 255))) {
    throw new RangeError(`${op}: a colour is three integers 0..255, got ${JSON.stringify(color)}`);
  }
  return [color[0], color[1], color[2]];
}

export function checkName(op: string, name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '') throw new RangeError(`${op}: a structure needs a non-empty name`);
  return name;
}

/** The label array type for the largest id: uint8 up to 255, uint16 above. */
export function labelArray(maxId: number, length: number): Labels {
  return maxId > 255 ? new Uint16Array(length) : new Uint8Array(length);
}

/**
 * One slice of the label map from the structures' records on it (`records` in id order).
 * 1. Fixed (annotated or locked) masks are set first; they never overlap (the session
 *    keeps them apart), and if they did the lower id would keep the pixel.
 * 2. Every other pixel takes the argmax over (background, p_1, ..., p_K) of the propagated
 *    probabilities on the slice, background = prod_k (1 - p_k): the original's
 *    Soft_aggregation decides (its softmax of log-odds keeps the order of these values).
 *    `threshold` weighs the background against the objects (score_bg = bg * t, score_k =
 *    p_k * (1 - t)); at the default 0.5 it is the plain argmax. Ties go to the background,
 *    then to the lower id. With a single probability on the slice this is p > threshold,
 *    computed as that, so one structure gives exactly the single-structure session's masks.
 */
export function computeSliceLabels(records: readonly { id: number; record: SliceRecord | undefined }[], pixels: number, threshold: number, maxId: number): Labels {
  const out = labelArray(maxId, pixels);
  for (const { id, record } of records) {
    if (!isFixed(record)) continue;
    const mask = record.mask;
    for (let i = 0; i < pixels; i++) if (mask[i] && out[i] === 0) out[i] = id;
  }
  const winners: { id: number; p: Float32Array }[] = [];
  const weights: Float32Array[] = [];
  for (const { id, record } of records) {
    if (record?.source === 'propagated') winners.push({ id, p: record.probability });
    if ((record?.source === 'propagated' || record?.source === 'locked') && record.probability) weights.push(record.probability);
  }
  if (winners.length === 0) return out;
  if (weights.length === 1) {
    const { id, p } = winners[0];
    for (let i = 0; i < pixels; i++) if (out[i] === 0 && p[i] > threshold) out[i] = id;
    return out;
  }
  for (let i = 0; i < pixels; i++) {
    if (out[i] !== 0) continue;
    let background = 1;
    for (const p of weights) background *= 1 - p[i];
    let best = background * threshold;
    let label = 0;
    for (const { id, p } of winners) {
      const score = p[i] * (1 - threshold);
      if (score > best) {
        best = score;
        label = id;
      }
    }
    out[i] = label;
  }
  return out;
}

/**
 * The original Soft_aggregation over (background, objects) on the CPU, float64: what
 * each object memorizes when the network has no joint step of its own (segmentObjects).
 * em = (prod (1 - p_k), p_1, ..., p_K) clamped to [1e-7, 1 - 1e-7], log-odds, softmax;
 * returns softmax[k + 1] per object.
 */
export function softAggregate(probabilities: readonly Float32Array[]): Float32Array[] {
  const K = probabilities.length;
  const pixels = probabilities[0].length;
  const out = probabilities.map(() => new Float32Array(pixels));
  const logit = new Float64Array(K + 1);
  const clamp = (v: number) => Math.min(1 - 1e-7, Math.max(1e-7, v));
  for (let i = 0; i < pixels; i++) {
    let background = 1;
    for (let k = 0; k < K; k++) background *= 1 - probabilities[k][i];
    const em0 = clamp(background);
    logit[0] = Math.log(em0 / (1 - em0));
    let max = logit[0];
    for (let k = 0; k < K; k++) {
      const em = clamp(probabilities[k][i]);
      logit[k + 1] = Math.log(em / (1 - em));
      max = Math.max(max, logit[k + 1]);
    }
    let sum = 0;
    for (let c = 0; c <= K; c++) sum += Math.exp(logit[c] - max);
    for (let k = 0; k < K; k++) out[k][i] = Math.exp(logit[k + 1] - max) / sum;
  }
  return out;
}
