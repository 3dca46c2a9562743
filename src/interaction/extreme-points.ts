// The extreme-point (DEXTR) interaction of Mem3D's 2D round: four clicks on the
// object's left-, right-, top- and bottom-most pixels. The slice is cropped around
// them with 50 px of context (zero padded; DEXTR's 50 px at 512x512: encodeInteraction
// scales it with the frame, src/interaction/relax.ts), resized to 512x512 (cv2.INTER_LINEAR),
// and a fourth channel holds the points' Gaussian heatmap (sigma 10, 0..255). The
// network's sigmoid is pasted back with crop2fullmask and thresholded at 0.8.
import { bboxOfPoints, bboxSize, crop2fullmask, cropPlane, pointToCrop, threshold, type BBox, type Point } from './crop.ts';
import { DEFAULT_SIGMA, gaussianMax, rescaleTo255 } from './heatmap.ts';
import { resizeLinearCV, type Plane } from './resample.ts';

/** DEXTR's crop relax, in pixels of the 512x512 slices it was made for (src/interaction/relax.ts). */
export const DEXTR_RELAX = 50;
export const DEXTR_THRESHOLD = 0.8;
export const INPUT_SIZE = 512;

export interface NetworkInput {
  /** NHWC [1, size, size, channels]: the crop's grey value in channels 0..2 (0..255), then guidance. */
  data: Float32Array;
  size: number;
  channels: number;
  /** The crop window in slice pixels (may leave the slice: zero padded). */
  bbox: BBox;
}

/** A grey slice (values 0..255) as a checked plane. */
export function checkImage(op: string, image: Plane): void {
  if (!(Number.isInteger(image.width) && Number.isInteger(image.height) && image.width > 0 && image.height > 0) || image.data.length !== image.width * image.height) {
    throw new RangeError(`${op}: image must be a ${image.width}x${image.height} grey plane with ${image.width * image.height} values, got ${image.data.length}`);
  }
}

/**
 * The crop of `image` in `bbox`, resized to size x size, replicated to three
 * channels, followed by `guidance` maps (each size x size): the network input.
 */
export function assembleInput(image: Plane, bbox: BBox, guidance: readonly ArrayLike<number>[], size = INPUT_SIZE): NetworkInput {
  checkImage('assembleInput', image);
  const crop = { ...bboxSize(bbox), data: cropPlane(image, bbox) };
  const grey = resizeLinearCV(crop, size, size);
  const channels = 3 + guidance.length;
  const data = new Float32Array(size * size * channels);
  for (const [i, g] of guidance.entries()) if (g.length !== size * size) throw new RangeError(`assembleInput: guidance map ${i} has ${g.length} values, expected ${size}x${size}`);
  for (let p = 0; p < size * size; p++) {
    const o = p * channels;
    data[o] = data[o + 1] = data[o + 2] = grey[p];
    for (let c = 0; c < guidance.length; c++) data[o + 3 + c] = guidance[c][p];
  }
  return { data, size, channels, bbox };
}

/** The heatmap channel for points already in network-input pixels. */
export function extremePointHeatmap(points: readonly Point[], size = INPUT_SIZE, sigma = DEFAULT_SIGMA): Float64Array {
  return rescaleTo255(gaussianMax(points, size, size, sigma));
}

/** Checks that clicks are finite pixels of the slice and truncates them to integers (the demo's astype(int)). */
export function checkClicks(op: string, points: readonly Point[], width: number, height: number, count?: number): Point[] {
  if (count !== undefined && points.length !== count) throw new RangeError(`${op}: expected ${count} points, got ${points.length}`);
  if (points.length === 0) throw new RangeError(`${op}: no points given`);
  return points.map((p, i) => {
    if (!(Number.isFinite(p.x) && Number.isFinite(p.y) && p.x >= 0 && p.y >= 0 && p.x < width && p.y < height)) {
      throw new RangeError(`${op}: point ${i} (${p.x}, ${p.y}) is outside the ${width}x${height} image`);
    }
    return { x: Math.floor(p.x), y: Math.floor(p.y) };
  });
}

/**
 * The 4-channel input for four extreme-point clicks in slice pixels: bbox = the
 * points' box grown by `relax` (default DEXTR's 50 px, as the original at 512x512;
 * encodeInteraction passes it scaled with the frame), each point mapped into the crop at
 * its pixel's centre (pointToCrop).
 */
export function extremePointInput(image: Plane, clicks: readonly Point[], options: { relax?: number; size?: number; sigma?: number } = {}): NetworkInput & { points: Point[] } {
  checkImage('extremePointInput', image);
  const { relax = DEXTR_RELAX, size = INPUT_SIZE, sigma = DEFAULT_SIGMA } = options;
  const pts = checkClicks('extremePointInput', clicks, image.width, image.height, 4);
  const bbox = bboxOfPoints(pts, relax);
  const points = pts.map((p) => pointToCrop(p, bbox, size));
  return { ...assembleInput(image, bbox, [extremePointHeatmap(points, size, sigma)], size), points };
}

/** sigmoid(logits) of the size x size crop pasted into the slice (crop2fullmask): probabilities, zero outside the bbox. */
export function pasteProbability(logits: ArrayLike<number>, size: number, bbox: BBox, width: number, height: number): Float64Array {
  if (logits.length !== size * size) throw new RangeError(`pasteProbability: logits have ${logits.length} values, expected ${size}x${size}`);
  const prob = Float64Array.from(logits, (v) => 1 / (1 + Math.exp(-v)));
  return crop2fullmask({ width: size, height: size, data: prob }, bbox, width, height);
}

/** The slice mask (0 / 1) of the network's logits: pasted sigmoid > threshold (0.8 as the original evaluates). */
export function maskFromLogits(logits: ArrayLike<number>, size: number, bbox: BBox, width: number, height: number, t = DEXTR_THRESHOLD): Uint8Array {
  return threshold(pasteProbability(logits, size, bbox, width, height), t);
}
