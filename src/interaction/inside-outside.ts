// The inside-outside (IOG) interaction: one click inside the object and a box around
// it (two opposite corners, "outside" points). As the original's IOG transforms
// (CropFromMask relax 30, FixedResize 512 INTER_LINEAR, IOGPoints pad_pixel 10,
// ToImage over both maps, ConcatInputs): the slice is cropped around the box with
// 30 px of context, and two guidance channels follow the image:
//   channel 3: the inside point's Gaussian;
//   channel 4: the max of the Gaussians at the box's 4 corners, each pushed 10 network
//              pixels outward and clamped to [0, size] (the original clamps to w and
//              h, one past the last pixel);
// both rescaled to 0..255 together. Without an inside point the input is the hybrid
// network's box mode (CVC_hybrid chance 3, test_inter.py): [image, corners, zeros].
//
// The original derives the box and the inside point from the ground truth resized
// into the crop; a user's clicks are mapped into the crop instead: the box by its outer
// edges (boxToCrop, as the resized ground truth's box), the inside click at its pixel's
// centre (pointToCrop). The robot's inside point is the distance maximum on the slice,
// not on the crop resized to 512x512, so it moves where the crop is not square.
import { boxToCrop, pointToCrop, type BBox, type Point } from './crop.ts';
import { argmaxPixel, distanceToBackground } from './distance.ts';
import { assembleInput, checkClicks, checkImage, INPUT_SIZE, type NetworkInput } from './extreme-points.ts';
import { DEFAULT_SIGMA, gaussianMax, rescaleJointlyTo255 } from './heatmap.ts';
import type { Plane } from './resample.ts';

/** IOG's crop relax, in pixels of a 512x512 slice; encodeInteraction scales it with the frame (src/interaction/relax.ts). */
export const IOG_RELAX = 30;
export const IOG_PAD = 10;

export interface IOGPoints {
  inside: Point;
  /** left-top, left-bottom, right-top, right-bottom, as helpers.iog_points orders them */
  corners: [Point, Point, Point, Point];
}

/** The box's corners grown by `pad`, clamped to [0, width] x [0, height], in helpers.iog_points' order. */
export function paddedCorners(box: BBox, pad: number, width: number, height: number): IOGPoints['corners'] {
  const [x0, y0] = [Math.max(box[0] - pad, 0), Math.max(box[1] - pad, 0)];
  const [x1, y1] = [Math.min(box[2] + pad, width), Math.min(box[3] + pad, height)];
  return [{ x: x0, y: y0 }, { x: x0, y: y1 }, { x: x1, y: y0 }, { x: x1, y: y1 }];
}

/**
 * helpers.iog_points(mask, pad): the inside point is the first (row-major) maximum of
 * the exact Euclidean distance transform of mask > 0.5 (outside the image counts as
 * background); the corners are those of the mask > 0 box grown by `pad`. Throws on an
 * empty mask.
 */
export function iogPointsOfMask(mask: Plane, pad = IOG_PAD): IOGPoints {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let y = 0; y < mask.height; y++) {
    for (let x = 0; x < mask.width; x++) {
      if (mask.data[y * mask.width + x] > 0) [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
    }
  }
  const dist = distanceToBackground(mask);
  if (x1 < 0 || !dist.some((d) => d > 0)) throw new RangeError('iogPointsOfMask: the mask is empty; an inside-outside interaction needs an object');
  return { inside: argmaxPixel(dist, mask.width)!, corners: paddedCorners([x0, y0, x1, y1], pad, mask.width, mask.height) };
}

export interface InsideOutsideClicks {
  /** a click inside the object; omitted: the box-only input */
  inside?: Point;
  /** two opposite corners of a box around the object, in slice pixels */
  outside: readonly [Point, Point];
}

/** The 5-channel IOG input for clicks in slice pixels (see the file header for the channels). */
export function insideOutsideInput(image: Plane, clicks: InsideOutsideClicks, options: { relax?: number; size?: number; sigma?: number; pad?: number } = {}): NetworkInput & { inside: Point | null; corners: Point[] } {
  const op = 'insideOutsideInput';
  checkImage(op, image);
  const { relax = IOG_RELAX, size = INPUT_SIZE, sigma = DEFAULT_SIGMA, pad = IOG_PAD } = options;
  const [a, b] = checkClicks(op, clicks.outside, image.width, image.height, 2);
  const box: BBox = [Math.min(a.x, b.x), Math.min(a.y, b.y), Math.max(a.x, b.x), Math.max(a.y, b.y)];
  const click = clicks.inside === undefined ? null : checkClicks(op, [clicks.inside], image.width, image.height)[0];
  if (click && (click.x < box[0] || click.x > box[2] || click.y < box[1] || click.y > box[3])) {
    throw new RangeError(`${op}: the inside point (${click.x}, ${click.y}) is not in the box [${box.join(', ')}]`);
  }
  const bbox: BBox = [box[0] - relax, box[1] - relax, box[2] + relax, box[3] + relax];
  const corners = paddedCorners(boxToCrop(box, bbox, size), pad, size, size);
  const cornerMap = gaussianMax(corners, size, size, sigma);
  if (!click) {
    const [c] = rescaleJointlyTo255([cornerMap]);
    return { ...assembleInput(image, bbox, [c, new Float64Array(size * size)], size), inside: null, corners };
  }
  const inside = pointToCrop(click, bbox, size);
  const [i, c] = rescaleJointlyTo255([gaussianMax([inside], size, size, sigma), cornerMap]);
  return { ...assembleInput(image, bbox, [i, c], size), inside, corners };
}
