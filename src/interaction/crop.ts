// Cropping around an object and pasting a prediction back, as the original's
// helpers (get_bbox, crop_from_bbox with zero_pad=True, crop2fullmask).
import { resizeCubicCV, type Plane } from './resample.ts';

/** [x_min, y_min, x_max, y_max], inclusive pixel indices; may extend past the image (zero padding). */
export type BBox = readonly [number, number, number, number];

export interface Point {
  x: number;
  y: number;
}

/** get_bbox(mask, points, pad, zero_pad=True): the points' bounding box grown by `pad` on every side, not clipped. */
export function bboxOfPoints(points: readonly Point[], pad: number): BBox {
  if (points.length === 0) throw new RangeError('bboxOfPoints: no points');
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  return [Math.min(...xs) - pad, Math.min(...ys) - pad, Math.max(...xs) + pad, Math.max(...ys) + pad];
}

/** The foreground (value > 0) pixels' bounding box grown by `pad`, or null for an empty mask. */
export function bboxOfMask(mask: Plane, pad: number): BBox | null {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let y = 0; y < mask.height; y++) {
    for (let x = 0; x < mask.width; x++) {
      if (mask.data[y * mask.width + x] > 0) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
  }
  return x1 < 0 ? null : [x0 - pad, y0 - pad, x1 + pad, y1 + pad];
}

/**
 * A slice pixel in the pixels of the bbox's crop resized to size x size: where the
 * pixel's centre lands under the resize's half-pixel mapping (cv2.INTER_LINEAR output
 * pixel o samples crop position (o + 0.5) * crop_size / size - 0.5), rounded.
 * DEXTR's demo maps clicks with floor(size * (p - bbox_min) / crop_size), the pixel's
 * top-left corner: on a 128x128 slice, whose crop is enlarged about 10x, that put
 * every point half a slice pixel up and left of the click, and the shipped IOG's masks
 * followed (41 held-out 128x128 tumour slices: mean Dice 0.974 -> 0.988, those under
 * 50 px 0.910 -> 0.964; 512x512 slices equal; bench/RESULTS.md).
 */
export function pointToCrop(p: Point, bbox: BBox, size: number): Point {
  const { width, height } = bboxSize(bbox);
  const centre = (v: number, lo: number, n: number) => Math.max(0, Math.round(((v - lo + 0.5) * size) / n - 0.5));
  return { x: centre(p.x, bbox[0], width), y: centre(p.y, bbox[1], height) };
}

/**
 * An inclusive pixel box in the pixels of the bbox's crop resized to size x size, by its
 * outer edges: the first and last network pixels where the box resized with
 * cv2.INTER_LINEAR exceeds 0.5. The original's IOG points take the box of the ground
 * truth resized into the crop this way; a box's corners are its edges, where a click
 * (pointToCrop) is its pixel's centre.
 */
export function boxToCrop(box: BBox, bbox: BBox, size: number): BBox {
  checkBBox('boxToCrop', box);
  const { width, height } = bboxSize(bbox);
  // Output pixel o samples crop position (o + 0.5) n / size - 0.5; the box's edges sit half a pixel outside its end pixels.
  const first = (v: number, lo: number, n: number) => Math.max(0, Math.floor(((v - lo) * size) / n - 0.5) + 1);
  const last = (v: number, lo: number, n: number) => Math.min(size - 1, Math.ceil(((v - lo + 1) * size) / n - 0.5) - 1);
  const [x0, y0] = [first(box[0], bbox[0], width), first(box[1], bbox[1], height)];
  // A box thinner than the output's pixel spacing covers no pixel by more than half: keep one.
  return [x0, y0, Math.max(x0, last(box[2], bbox[0], width)), Math.max(y0, last(box[3], bbox[1], height))];
}

export function bboxSize(bbox: BBox): { width: number; height: number } {
  return { width: bbox[2] - bbox[0] + 1, height: bbox[3] - bbox[1] + 1 };
}

function checkBBox(op: string, bbox: BBox): void {
  if (!bbox.every(Number.isInteger) || bbox[2] < bbox[0] || bbox[3] < bbox[1]) throw new RangeError(`${op}: bbox [${bbox.join(', ')}] must be integers with x_min <= x_max and y_min <= y_max`);
}

/** crop_from_bbox(img, bbox, zero_pad=True): the bbox window of `img`, zero where it leaves the image. */
export function cropPlane(img: Plane, bbox: BBox): Float64Array {
  checkBBox('cropPlane', bbox);
  const { width, height } = bboxSize(bbox);
  const out = new Float64Array(width * height);
  for (let y = Math.max(bbox[1], 0); y <= Math.min(bbox[3], img.height - 1); y++) {
    for (let x = Math.max(bbox[0], 0); x <= Math.min(bbox[2], img.width - 1); x++) {
      out[(y - bbox[1]) * width + (x - bbox[0])] = img.data[y * img.width + x];
    }
  }
  return out;
}

/**
 * crop2fullmask(crop, bbox, im_size, zero_pad=True, relax=0): resizes the crop's
 * map to the bbox size (cv2.INTER_CUBIC) and places it into an image of
 * `width` x `height`, zero outside the bbox. The bicubic can overshoot [0, 1] slightly.
 */
export function crop2fullmask(crop: Plane, bbox: BBox, width: number, height: number): Float64Array {
  checkBBox('crop2fullmask', bbox);
  const size = bboxSize(bbox);
  const resized = resizeCubicCV(crop, size.width, size.height);
  const out = new Float64Array(width * height);
  for (let y = Math.max(bbox[1], 0); y <= Math.min(bbox[3], height - 1); y++) {
    for (let x = Math.max(bbox[0], 0); x <= Math.min(bbox[2], width - 1); x++) {
      out[y * width + x] = resized[(y - bbox[1]) * size.width + (x - bbox[0])];
    }
  }
  return out;
}

/** 1 where value > threshold, else 0. */
export function threshold(values: ArrayLike<number>, t: number): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i] > t ? 1 : 0;
  return out;
}
