// The scribble interaction (test_scribble.py / train_hybrid.py): a stroke drawn on
// the object, given as a slice-sized mask. As the original's transforms
// (CropFromMask on the scribble, relax 50, zero padding; FixedResize 512 INTER_LINEAR
// of the image and of the scribble; ConcatInputs, no ToImage): the crop is the
// scribble's bounding box grown by 50 px, and channel 3 is the cropped scribble (0 /
// 255, the original's scribble PNGs) resized like the image. A one-pixel scribble is
// valid: its crop is the 101x101 window around it.
import { bboxOfMask, bboxSize, cropPlane, type Point } from './crop.ts';
import { assembleInput, checkImage, INPUT_SIZE, type NetworkInput } from './extreme-points.ts';
import { resizeLinearCV, type Plane } from './resample.ts';

/** The scribble crop's relax, in pixels of a 512x512 slice; encodeInteraction scales it with the frame (src/interaction/relax.ts). */
export const SCRIBBLE_RELAX = 50;
export const SCRIBBLE_VALUE = 255;

/** The 4-channel scribble input; `scribble` marks stroke pixels with values > 0. */
export function scribbleInput(image: Plane, scribble: Plane, options: { relax?: number; size?: number } = {}): NetworkInput {
  const op = 'scribbleInput';
  checkImage(op, image);
  const { relax = SCRIBBLE_RELAX, size = INPUT_SIZE } = options;
  if (scribble.width !== image.width || scribble.height !== image.height || scribble.data.length !== image.width * image.height) {
    throw new RangeError(`${op}: the scribble must be a ${image.width}x${image.height} mask like the image, got ${scribble.width}x${scribble.height} with ${scribble.data.length} values`);
  }
  const stroke = { width: scribble.width, height: scribble.height, data: Float64Array.from(scribble.data, (v) => (v > 0 ? SCRIBBLE_VALUE : 0)) };
  const bbox = bboxOfMask(stroke, relax);
  if (!bbox) throw new RangeError(`${op}: the scribble is empty (no pixel > 0)`);
  const crop = cropPlane(stroke, bbox);
  return assembleInput(image, bbox, [resizeLinearCV({ ...bboxSize(bbox), data: crop }, size, size)], size);
}

/** A polyline through `points` rasterised with a disc of `radius` px, as a 0 / 1 mask; points may leave the image (clipped). */
export function drawStroke(points: readonly Point[], width: number, height: number, radius = 1): Uint8Array {
  if (points.length === 0) throw new RangeError('drawStroke: no points');
  if (!points.every((p) => Number.isFinite(p.x) && Number.isFinite(p.y))) throw new RangeError('drawStroke: points must be finite');
  const out = new Uint8Array(width * height);
  const stamp = (cx: number, cy: number) => {
    for (let y = Math.max(Math.ceil(cy - radius), 0); y <= Math.min(Math.floor(cy + radius), height - 1); y++) {
      for (let x = Math.max(Math.ceil(cx - radius), 0); x <= Math.min(Math.floor(cx + radius), width - 1); x++) {
        if ((x - cx) ** 2 + (y - cy) ** 2 <= radius * radius) out[y * width + x] = 1;
      }
    }
  };
  stamp(points[0].x, points[0].y);
  for (let i = 1; i < points.length; i++) {
    const [a, b] = [points[i - 1], points[i]];
    const steps = Math.max(1, Math.ceil(2 * Math.hypot(b.x - a.x, b.y - a.y)));
    for (let s = 1; s <= steps; s++) stamp(a.x + ((b.x - a.x) * s) / steps, a.y + ((b.y - a.y) * s) / steps);
  }
  return out;
}
