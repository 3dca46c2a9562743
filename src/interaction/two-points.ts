// The two-point interaction (test_two_point.py with custom_transforms2 / helpers2):
// two clicks inside the object on the whole slice, no crop. The slice is resized to
// 512x512 (INTER_LINEAR) and followed by two guidance channels, rescaled to 0..255
// together (ToImage over IOG_points):
//   channel 3: the first point's Gaussian (the original's: the distance-transform maximum);
//   channel 4: the second point's Gaussian.
// The probability map is pasted back by resizing it to the slice (INTER_CUBIC), which
// is crop2fullmask with the whole slice as the box.
import { pointToCrop, type BBox, type Point } from './crop.ts';
import { argmaxPixel, distanceToBackground } from './distance.ts';
import { assembleInput, checkClicks, checkImage, INPUT_SIZE, type NetworkInput } from './extreme-points.ts';
import { DEFAULT_SIGMA, gaussianMax, rescaleJointlyTo255 } from './heatmap.ts';
import type { Plane } from './resample.ts';

/** The 5-channel two-point input for clicks in slice pixels. */
export function twoPointsInput(image: Plane, clicks: readonly Point[], options: { size?: number; sigma?: number } = {}): NetworkInput & { points: Point[] } {
  checkImage('twoPointsInput', image);
  const { size = INPUT_SIZE, sigma = DEFAULT_SIGMA } = options;
  const bbox: BBox = [0, 0, image.width - 1, image.height - 1];
  const points = checkClicks('twoPointsInput', clicks, image.width, image.height, 2).map((p) => pointToCrop(p, bbox, size));
  const maps = rescaleJointlyTo255(points.map((p) => gaussianMax([p], size, size, sigma)));
  return { ...assembleInput(image, bbox, maps, size), points };
}

/**
 * helpers2.iog_points(mask): the first point is the distance-transform maximum (as
 * the IOG inside point); the second is picked inside the mask eroded by a 7x7 square
 * (cv2.erode, the border not eroding). The original writes
 * `new_distance[[column, row]] = 0`, which numpy reads as the two whole ROWS `column`
 * and `row`, so its second point is the eroded pixel farthest, vertically, from those
 * rows (first in row-major order among ties); reproduced here because the original's
 * networks were trained and evaluated with it. Where the original would fall back to
 * pixel (0, 0) (no eroded pixel off those rows: a thin object), this gives the first
 * eroded pixel, or the first point again when the erosion is empty. Throws on an empty
 * mask. The original runs on the mask resized to 512x512: the same for 512x512 slices.
 */
export function twoPointsOfMask(mask: Plane): [Point, Point] {
  const { width, height } = mask;
  const dist = distanceToBackground(mask);
  if (!dist.some((d) => d > 0)) throw new RangeError('twoPointsOfMask: the mask is empty; a two-point interaction needs an object');
  const first = argmaxPixel(dist, width)!;
  const fg = (x: number, y: number) => mask.data[y * width + x] > 0.5;
  // A 7x7 erosion as two separable 7-tap minimum passes.
  const rows = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let ok = true;
      for (let k = Math.max(x - 3, 0); k <= Math.min(x + 3, width - 1) && ok; k++) ok = fg(k, y);
      rows[y * width + x] = ok ? 1 : 0;
    }
  }
  const zeroRows = [first.x, first.y].filter((r) => r < height);
  let best: Point | null = null;
  let bestDist = -1;
  for (let y = 0; y < height; y++) {
    const d = Math.min(...zeroRows.map((r) => Math.abs(y - r)));
    for (let x = 0; x < width; x++) {
      let ok = true;
      for (let k = Math.max(y - 3, 0); k <= Math.min(y + 3, height - 1) && ok; k++) ok = rows[k * width + x] === 1;
      if (ok && d > bestDist) [best, bestDist] = [{ x, y }, d];
    }
  }
  return [first, best ?? first];
}
