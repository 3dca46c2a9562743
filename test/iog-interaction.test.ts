// The extreme-point interaction's CPU side (crop, OpenCV resizes, heatmap, paste
// back, robot user) against the reference's own preprocessing (../shared/reference:
// iog_ref.safetensors was made with OpenCV from phantom_0) and on awkward cases.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { bboxOfMask, boxToCrop, cropPlane, crop2fullmask, pointToCrop, threshold, type BBox, type Point } from '../src/interaction/crop.ts';
import { assembleInput, extremePointHeatmap, extremePointInput, maskFromLogits } from '../src/interaction/extreme-points.ts';
import { resizeCubicCV, resizeLinearCV } from '../src/interaction/resample.ts';
import { extremePointsOfMask } from '../src/interaction/robot.ts';
import { dice } from '../src/eval/metrics.ts';
import { decodeGrayPng } from '../src/io/png.ts';
import { readSafetensors } from '../src/io/safetensors-node.ts';
import { uniform } from './_lib/random.ts';
import { resizeBilinearRef } from './cpu/resize.ts';

const REF = new URL('../../shared/reference/', import.meta.url).pathname;
const ref = readSafetensors(`${REF}iog_ref.safetensors`);
const phantom = decodeGrayPng(readFileSync(`${REF}phantom_0.png`), 'phantom_0.png');
const refBBox = Array.from(ref.int32('bbox_xyxy')) as unknown as BBox;
const ep = ref.int32('extreme_points_xy');
const refPoints: Point[] = [0, 1, 2, 3].map((i) => ({ x: ep[2 * i], y: ep[2 * i + 1] }));
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

test('the crop, resize and heatmap reproduce the reference input from phantom_0, its bbox and points', () => {
  const input = assembleInput(phantom, refBBox, [extremePointHeatmap(refPoints)]);
  const want = ref.float32('input');
  const S = 512 * 512;
  const err = [0, 1, 2, 3].map((c) => {
    let m = 0;
    for (let p = 0; p < S; p++) m = Math.max(m, Math.abs(input.data[p * 4 + c] - want[c * S + p]));
    return m;
  });
  assert.ok(err.slice(0, 3).every((e) => e <= 1), `image channels within 1 grey level: ${err}`);
  assert.ok(err[3] <= 1e-3 * 255, `heatmap within 1e-3 x 255: ${err[3]}`);
});

test('crop2fullmask of the reference fine_out reproduces full_mask exactly', () => {
  const full = ref.uint8('full_mask');
  const mask = maskFromLogits(ref.float32('fine_out'), 512, refBBox, 512, 512);
  let diff = 0;
  for (let i = 0; i < full.length; i++) if ((full[i] !== 0) !== (mask[i] !== 0)) diff++;
  assert.is(diff, 0);
  assert.ok(mask.some((v) => v === 1), 'the pasted mask has foreground');
});

test('resizeLinearCV equals the half-pixel bilinear (PyTorch align_corners=False) in float64, up and down', () => {
  for (const [w, h, ow, oh] of [[193, 185, 512, 512], [7, 5, 3, 2], [1, 4, 5, 3], [9, 9, 9, 9]]) {
    const src = uniform(w * h, w * 31 + h, 0, 255);
    const got = resizeLinearCV({ width: w, height: h, data: src }, ow, oh);
    const want = resizeBilinearRef(src, [1, h, w, 1], [oh, ow], false);
    assert.ok(maxAbs(got, want) < 1e-3, `${w}x${h} -> ${ow}x${oh}: ${maxAbs(got, want)}`);
  }
});

/** Keys' cubic convolution kernel with OpenCV's A = -0.75, as a function of the distance. */
function keys(t: number): number {
  const [a, x] = [-0.75, Math.abs(t)];
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

test('resizeCubicCV equals a direct 2-D sum of Keys weights over replicated-border taps, and keeps constants', () => {
  for (const [w, h, ow, oh] of [[40, 30, 17, 71], [5, 3, 9, 2], [1, 6, 4, 4], [8, 8, 8, 8]]) {
    const src = uniform(w * h, w * 7 + h, 0, 1);
    const got = resizeCubicCV({ width: w, height: h, data: src }, ow, oh);
    let err = 0;
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        const [sx, sy] = [(x + 0.5) * (w / ow) - 0.5, (y + 0.5) * (h / oh) - 0.5];
        let acc = 0;
        for (let j = Math.floor(sy) - 1; j <= Math.floor(sy) + 2; j++) {
          for (let i = Math.floor(sx) - 1; i <= Math.floor(sx) + 2; i++) {
            acc += keys(sx - i) * keys(sy - j) * src[Math.min(Math.max(j, 0), h - 1) * w + Math.min(Math.max(i, 0), w - 1)];
          }
        }
        err = Math.max(err, Math.abs(got[y * ow + x] - acc));
      }
    }
    assert.ok(err < 1e-5, `${w}x${h} -> ${ow}x${oh}: ${err}`);
  }
  const constant = resizeCubicCV({ width: 40, height: 30, data: new Float64Array(1200).fill(0.7) }, 17, 71);
  assert.ok(constant.every((v) => Math.abs(v - 0.7) < 1e-6));
});

test('pointToCrop puts a click where the resized crop shows its pixel: the peak of a one-pixel crop after resizeLinearCV', () => {
  // Enlarging crops (every 2D crop of a 128x128 slice, most at 512): the bilinear resize of a crop holding one lit
  // pixel peaks at the output pixel whose sample lies nearest that pixel's centre, which is where the click must go.
  // DEXTR's floor(size * (p - bbox_min) / crop_size) lands on the pixel's top-left corner: up to size / crop_size
  // pixels up-left of the peak (half a slice pixel), and this fails on it.
  for (const [w, h, size] of [[41, 37, 512], [13, 9, 512], [193, 185, 512], [7, 11, 64], [64, 64, 64]]) {
    const bbox: BBox = [-5, 3, w - 6, h + 2];
    // Off the crop's border (the resize replicates it: a border pixel shows as a plateau), and not the middle pixel
    // of an odd side (its centre falls exactly between two output pixels).
    for (const [i, j] of [[1, 1], [w - 2, h - 2], [Math.floor(w / 3), Math.floor(h / 3)], [2, h - 3]]) {
      const data = new Float64Array(w * h);
      data[j * w + i] = 1;
      const resized = resizeLinearCV({ width: w, height: h, data }, size, size);
      const peak = resized.reduce((best, v, k) => (v > resized[best] ? k : best), 0);
      const got = pointToCrop({ x: bbox[0] + i, y: bbox[1] + j }, bbox, size);
      assert.equal(got, { x: peak % size, y: Math.floor(peak / size) }, `crop ${w}x${h} -> ${size}, pixel (${i}, ${j})`);
    }
  }
  // Shrinking (an object larger than the network input): still the centre's sample, inside [0, size).
  assert.equal(pointToCrop({ x: 0, y: 0 }, [0, 0, 1023, 999], 512), { x: 0, y: 0 });
  assert.equal(pointToCrop({ x: 1023, y: 999 }, [0, 0, 1023, 999], 512), { x: 511, y: 511 });
  assert.equal(pointToCrop({ x: 500, y: 500 }, [0, 0, 1023, 999], 512), { x: 250, y: 256 });
});

test('boxToCrop is the box of the resized box mask (> 0.5), as the original takes the ground truth\'s box in the crop', () => {
  // Enlarged (a 128x128 slice's crop, ~10x: pixel centres would sit ~5 network pixels inside), near 1:1, shrunk.
  for (const [w, h, size, box] of [[29, 31, 512, [8, 9, 20, 21]], [41, 37, 512, [13, 13, 15, 30]], [193, 185, 512, [50, 50, 142, 134]], [7, 9, 8, [2, 3, 4, 5]], [300, 260, 128, [40, 61, 250, 199]]] as [number, number, number, BBox][]) {
    const bbox: BBox = [-3, 4, w - 4, h + 3];
    const data = new Float64Array(w * h);
    for (let y = box[1]; y <= box[3]; y++) for (let x = box[0]; x <= box[2]; x++) data[y * w + x] = 1;
    const resized = resizeLinearCV({ width: w, height: h, data }, size, size);
    const want = bboxOfMask({ width: size, height: size, data: resized.map((v) => (v > 0.5 ? 1 : 0)) }, 0)!;
    const inSlice: BBox = [box[0] + bbox[0], box[1] + bbox[1], box[2] + bbox[0], box[3] + bbox[1]];
    assert.equal(boxToCrop(inSlice, bbox, size), want, `box [${box.join(', ')}] in a ${w}x${h} crop -> ${size}`);
  }
  // At ~10x the edges lie about 5 network pixels outside the end pixels' centres.
  const [e, c0, c1] = [boxToCrop([8, 9, 20, 21], [0, 0, 50, 50], 512), pointToCrop({ x: 8, y: 9 }, [0, 0, 50, 50], 512), pointToCrop({ x: 20, y: 21 }, [0, 0, 50, 50], 512)];
  assert.ok(c0.x - e[0] >= 4 && c0.y - e[1] >= 4 && e[2] - c1.x >= 4 && e[3] - c1.y >= 4, `edges ${e}, centres ${JSON.stringify([c0, c1])}`);
  // A box thinner than the output's pixel spacing still gives one pixel.
  const thin = boxToCrop([100, 100, 100, 100], [0, 0, 1023, 1023], 512);
  assert.ok(thin[2] === thin[0] && thin[3] === thin[1], `${thin}`);
});

test('a bbox leaving the slice is zero padded on crop and clipped on paste', () => {
  const img = { width: 5, height: 4, data: Float64Array.from({ length: 20 }, (_, i) => i + 1) };
  const bbox: BBox = [-2, -1, 3, 5];
  const crop = cropPlane(img, bbox);
  assert.is(crop.length, 6 * 7);
  assert.is(crop[0], 0);
  assert.is(crop[1 * 6 + 2], 1, 'slice pixel (0, 0) at crop (2, 1)');
  assert.is(crop[4 * 6 + 5], img.data[3 * 5 + 3]);
  assert.is(crop[6 * 6 + 5], 0, 'below the slice');
  const pasted = crop2fullmask({ width: 6, height: 7, data: crop }, bbox, 5, 4);
  for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) assert.ok(Math.abs(pasted[y * 5 + x] - img.data[y * 5 + x]) < 1e-9, 'same-size paste is the identity');
  assert.is(pasted[4], 0, 'outside the bbox stays zero');
  assert.throws(() => cropPlane(img, [3, 0, 1, 2]), /x_min <= x_max/);
});

test('extremePointInput: bbox from the clicks grown by 50, heatmap peaks at the mapped points, zero padding at the border', () => {
  const img = { width: 64, height: 48, data: uniform(64 * 48, 3, 0, 255) };
  const clicks = [{ x: 2, y: 20 }, { x: 30, y: 22 }, { x: 15, y: 1 }, { x: 16, y: 40 }];
  const inp = extremePointInput(img, clicks, { size: 64 });
  assert.equal(inp.bbox, [-48, -49, 80, 90]);
  assert.is(inp.channels, 4);
  assert.ok(inp.data.every(Number.isFinite));
  for (const p of inp.points) assert.ok(Math.abs(inp.data[(p.y * 64 + p.x) * 4 + 3] - 255) < 1e-3, `peak at (${p.x}, ${p.y})`);
  assert.is(inp.data[0], 0, 'the padded corner is black');
  assert.throws(() => extremePointInput(img, clicks.slice(0, 3)), /expected 4 points, got 3/);
  assert.throws(() => extremePointInput(img, [...clicks.slice(0, 3), { x: 64, y: 3 }]), /point 3 \(64, 3\) is outside the 64x48 image/);
  assert.throws(() => extremePointInput(img, [...clicks.slice(0, 3), { x: NaN, y: 3 }]), /outside/);
});

test('robot extreme points: on the mask extremes, seeded, a one-pixel mask gives its pixel, an empty mask an error', () => {
  const [w, h] = [23, 17];
  const mask = new Uint8Array(w * h);
  // A rectangle with a corner cut off: every extreme is shared by several pixels.
  for (let y = 3; y < 14; y++) for (let x = 5; x < 20; x++) if (x + y > 10) mask[y * w + x] = 255;
  const plane = { width: w, height: h, data: mask };
  const pts = extremePointsOfMask(plane, { seed: 7 });
  const fgBox = bboxOfMask(plane, 0)!;
  assert.equal([pts[0].x, pts[1].x, pts[2].y, pts[3].y], [fgBox[0], fgBox[2], fgBox[1], fgBox[3]]);
  for (const p of pts) assert.is(mask[p.y * w + p.x], 255);
  assert.equal(extremePointsOfMask(plane, { seed: 7 }), pts, 'same seed, same points');
  const seen = new Set([1, 2, 3, 4, 5, 6].map((seed) => JSON.stringify(extremePointsOfMask(plane, { seed }))));
  assert.ok(seen.size > 1, 'ties are broken by the seed');
  const one = new Uint8Array(w * h);
  one[4 * w + 9] = 1;
  assert.equal(extremePointsOfMask({ width: w, height: h, data: one }), Array(4).fill({ x: 9, y: 4 }));
  assert.throws(() => extremePointsOfMask({ width: w, height: h, data: new Uint8Array(w * h) }), /mask is empty/);
  assert.is(bboxOfMask({ width: w, height: h, data: new Uint8Array(w * h) }, 50), null);
});

test('dice and threshold', () => {
  assert.is(dice([1, 1, 0, 0], [1, 0, 1, 0]), 0.5);
  assert.is(dice([0, 0], [0, 0]), 1);
  assert.equal(Array.from(threshold([0.8, 0.81, -1], 0.8)), [0, 1, 0]);
});

test.run();
