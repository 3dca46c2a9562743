// The interaction encoders beyond extreme points (inside-outside, scribble, two
// points, the hybrid dispatcher), the exact distance transform they rest on, and the
// robot user, on small masks whose answers can be worked out by hand.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { argmaxPixel, distanceToBackground } from '../src/interaction/distance.ts';
import { decodeMask, encodeInteraction, type Interaction } from '../src/interaction/encode.ts';
import { insideOutsideInput, iogPointsOfMask } from '../src/interaction/inside-outside.ts';
import { insideOutsideOfMask, robotInteraction, scribbleOfMask } from '../src/interaction/robot.ts';
import { drawStroke, scribbleInput } from '../src/interaction/scribble.ts';
import { twoPointsInput, twoPointsOfMask } from '../src/interaction/two-points.ts';
import { rng, uniform } from './_lib/random.ts';

type Mask = { width: number; height: number; data: Uint8Array };

function rect(width: number, height: number, x0: number, y0: number, x1: number, y1: number): Mask {
  const data = new Uint8Array(width * height);
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) data[y * width + x] = 1;
  return { width, height, data };
}

/** Brute force: the distance from each foreground pixel to the nearest background pixel, the one-pixel ring outside the image included. */
function bruteDistance(m: Mask): Float64Array {
  const out = new Float64Array(m.width * m.height);
  for (let y = 0; y < m.height; y++) {
    for (let x = 0; x < m.width; x++) {
      if (!m.data[y * m.width + x]) continue;
      let best = Infinity;
      for (let v = -1; v <= m.height; v++) {
        for (let u = -1; u <= m.width; u++) {
          const bg = u < 0 || v < 0 || u >= m.width || v >= m.height || !m.data[v * m.width + u];
          if (bg) best = Math.min(best, (u - x) ** 2 + (v - y) ** 2);
        }
      }
      out[y * m.width + x] = Math.sqrt(best);
    }
  }
  return out;
}

/** Channel c of an NHWC [1, size, size, channels] input. */
const channel = (inp: { data: Float32Array; size: number; channels: number }, c: number) => Float64Array.from({ length: inp.size * inp.size }, (_, p) => inp.data[p * inp.channels + c]);
const at = (inp: { data: Float32Array; size: number; channels: number }, c: number, x: number, y: number) => inp.data[(y * inp.size + x) * inp.channels + c];
const max = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, v), -Infinity);
const image = (width: number, height: number, seed: number) => ({ width, height, data: uniform(width * height, seed, 0, 255) });

test('distanceToBackground is the exact Euclidean distance (Felzenszwalb-Huttenlocher) with the image border as background', () => {
  const r = rng(5);
  for (const [w, h, p] of [[13, 9, 0.7], [1, 7, 0.9], [20, 20, 0.95], [6, 1, 1], [17, 11, 0.5]] as const) {
    const m = { width: w, height: h, data: Uint8Array.from({ length: w * h }, () => (r() < p ? 1 : 0)) };
    const got = distanceToBackground(m);
    const want = bruteDistance(m);
    assert.ok(got.every((v, i) => Math.abs(v - want[i]) < 1e-12), `${w}x${h}`);
  }
  assert.equal(Array.from(distanceToBackground({ width: 3, height: 3, data: new Uint8Array(9).fill(255) })), [1, 1, 1, 1, 2, 1, 1, 1, 1]);
  assert.ok(distanceToBackground({ width: 4, height: 2, data: new Uint8Array(8) }).every((v) => v === 0));
  assert.throws(() => distanceToBackground({ width: 4, height: 2, data: new Uint8Array(7) }), /mask has 7 values, 4x2 needs 8/);
  assert.equal(argmaxPixel([0, 3, 1, 3, 3, 0], 3), { x: 1, y: 0 }, 'the first maximum, as numpy.argmax');
  assert.is(argmaxPixel([], 3), null);
});

test('iogPointsOfMask (helpers.iog_points): first distance maximum inside, box corners padded and clamped to [0, w] x [0, h]', () => {
  // Rectangle x 5..13, y 4..10: distance min(x - 4, 14 - x, y - 3, 11 - y) peaks at 4 on row 7, x 8..10.
  const pts = iogPointsOfMask(rect(30, 20, 5, 4, 13, 10));
  assert.equal(pts.inside, { x: 8, y: 7 });
  assert.equal(pts.corners, [{ x: 0, y: 0 }, { x: 0, y: 20 }, { x: 23, y: 0 }, { x: 23, y: 20 }]);
  assert.equal(iogPointsOfMask(rect(30, 20, 5, 4, 13, 10), 2).corners, [{ x: 3, y: 2 }, { x: 3, y: 12 }, { x: 15, y: 2 }, { x: 15, y: 12 }]);
  assert.throws(() => iogPointsOfMask({ width: 5, height: 5, data: new Uint8Array(25) }), /mask is empty/);
});

test('insideOutsideInput: crop = box + 30, channel 3 peaks at the inside point, channel 4 at the corners pushed out 10 px, rescaled together', () => {
  const img = image(64, 48, 1);
  const clicks = { inside: { x: 20, y: 20 }, outside: [{ x: 30, y: 28 }, { x: 10, y: 12 }] as const };
  const inp = insideOutsideInput(img, clicks, { size: 64 });
  assert.equal(inp.bbox, [-20, -18, 60, 58]);
  assert.is(inp.channels, 5);
  // Pixel centres into the 81x77 crop resized to 64: box (10, 12)..(30, 28) goes to round(30.5 * 64 / 81 - 0.5) = 24,
  // round(30.5 * 64 / 77 - 0.5) = 25 and round(50.5 * 64 / 81 - 0.5) = 39, round(46.5 * 64 / 77 - 0.5) = 38; corners 10 out.
  assert.equal(inp.corners, [{ x: 14, y: 15 }, { x: 14, y: 48 }, { x: 49, y: 15 }, { x: 49, y: 48 }]);
  // The inside click (20, 20): 40.5 * 64 / 81 - 0.5 = 31.5 and 38.5 * 64 / 77 - 0.5 = 31.5, rounded up.
  assert.equal(inp.inside, { x: 32, y: 32 });
  // Enlarged 64x (box 8..11 with relax 2: an 8x8 crop to 512), the corners are the box's outer edges, as the original's
  // box of the resized ground truth: floor(2 * 64 - 0.5) + 1 = 128 and ceil(6 * 64 - 0.5) - 1 = 383, then 10 out
  // (the end pixels' centres would be 160 and 352).
  const zoomed = insideOutsideInput(image(20, 20, 1), { outside: [{ x: 8, y: 8 }, { x: 11, y: 11 }] }, { size: 512, relax: 2 });
  assert.equal(zoomed.corners, [{ x: 118, y: 118 }, { x: 118, y: 393 }, { x: 393, y: 118 }, { x: 393, y: 393 }]);
  assert.ok(Math.abs(at(inp, 3, inp.inside!.x, inp.inside!.y) - 255) < 1e-3, 'inside peak');
  for (const c of inp.corners) assert.ok(Math.abs(at(inp, 4, c.x, c.y) - 255) < 1e-3, `corner peak (${c.x}, ${c.y})`);
  assert.ok(at(inp, 3, inp.corners[0].x, inp.corners[0].y) < 1 && at(inp, 4, inp.inside!.x, inp.inside!.y) < 1, 'each map holds only its own points');
  assert.equal([0, 1, 2].map((c) => at(inp, c, 0, 0)), [0, 0, 0], 'zero padding above-left of the slice');
  const box = insideOutsideInput(img, { outside: clicks.outside }, { size: 64 });
  // Alone, the corner map's own minimum sets the 0..255 range (at 512x512 both minima underflow to 0).
  const moved = channel(box, 3);
  const corners = channel(inp, 4);
  assert.ok(moved.every((v, i) => Math.abs(v - corners[i]) < 0.05), 'box mode: the corners move to channel 3');
  assert.ok(channel(box, 4).every((v) => v === 0), 'box mode: channel 4 is zero');
  assert.throws(() => insideOutsideInput(img, { ...clicks, inside: { x: 40, y: 20 } }), /inside point \(40, 20\) is not in the box \[10, 12, 30, 28\]/);
  assert.throws(() => insideOutsideInput(img, { ...clicks, outside: [{ x: 64, y: 2 }, { x: 3, y: 3 }] }), /point 0 \(64, 2\) is outside the 64x48 image/);
  assert.throws(() => insideOutsideInput(img, { outside: [{ x: 3, y: 3 }] as unknown as [{ x: number; y: number }, { x: number; y: number }] }), /expected 2 points, got 1/);
});

test('twoPointsInput: the whole slice resized, one Gaussian per point in channels 3 and 4', () => {
  const img = image(40, 20, 2);
  const inp = twoPointsInput(img, [{ x: 10, y: 5 }, { x: 39.7, y: 19 }], { size: 32 });
  assert.equal(inp.bbox, [0, 0, 39, 19]);
  // 40x20 to 32x32: (10, 5) -> (10.5 * 0.8 - 0.5, 5.5 * 1.6 - 0.5) = (7.9, 8.3); (39, 19) -> (31.1, 30.7).
  assert.equal(inp.points, [{ x: 8, y: 8 }, { x: 31, y: 31 }]);
  assert.ok(Math.abs(at(inp, 3, 8, 8) - 255) < 1e-3 && Math.abs(at(inp, 4, 31, 31) - 255) < 1e-3);
  assert.ok(at(inp, 3, 31, 31) < 1 && at(inp, 4, 8, 8) < 1);
  assert.ok(inp.data.every(Number.isFinite));
  assert.throws(() => twoPointsInput(img, [{ x: 1, y: 1 }, { x: -1, y: 1 }]), /point 1 \(-1, 1\) is outside the 40x20 image/);
});

test('twoPointsOfMask (helpers2.iog_points): distance maximum, then the eroded pixel farthest from the rows numpy zeroes', () => {
  // Rectangle x 2..37, y 10..29: the distance peaks (10) first at (11, 19); numpy zeroes rows 11 and 19;
  // the 7x7 erosion keeps x 5..34, y 13..26, whose farthest row from {11, 19} is 26 (7 away).
  assert.equal(twoPointsOfMask(rect(40, 40, 2, 10, 37, 29)), [{ x: 11, y: 19 }, { x: 5, y: 26 }]);
  const thin = rect(20, 20, 2, 9, 17, 11);
  const [a, b] = twoPointsOfMask(thin);
  assert.equal(b, a, 'an object the 7x7 erosion removes gives the first point twice');
  assert.throws(() => twoPointsOfMask({ width: 4, height: 4, data: new Uint8Array(16) }), /mask is empty/);
});

test('scribbleInput: crop = scribble box + 50, channel 3 the scribble at 255; a one-pixel scribble works, an empty one is an error', () => {
  const img = image(30, 20, 3);
  const one = new Uint8Array(30 * 20);
  one[7 * 30 + 12] = 1;
  // size 101 = the crop size: the resize is the identity and the channel can be read off.
  const inp = scribbleInput(img, { width: 30, height: 20, data: one }, { size: 101 });
  assert.equal(inp.bbox, [-38, -43, 62, 57]);
  assert.is(at(inp, 3, 50, 50), 255);
  assert.is(channel(inp, 3).reduce((s, v) => s + v, 0), 255, 'nothing else marked');
  assert.is(at(inp, 0, 50, 50), img.data[7 * 30 + 12]);
  const big = scribbleInput(img, { width: 30, height: 20, data: one });
  assert.ok(big.data.every(Number.isFinite) && max(channel(big, 3)) > 200, 'resized to 512, the dot survives');
  assert.throws(() => scribbleInput(img, { width: 30, height: 20, data: new Uint8Array(600) }), /scribble is empty/);
  assert.throws(() => scribbleInput(img, { width: 20, height: 30, data: one }), /must be a 30x20 mask like the image, got 20x30/);
});

test('drawStroke: a polyline stamped with a disc, clipped at the border', () => {
  const s = drawStroke([{ x: 2, y: 5 }, { x: 10, y: 5 }], 16, 12, 1);
  assert.is(s.reduce((a, v) => a + v, 0), 11 + 9 + 9);
  assert.is(s[5 * 16 + 1], 1);
  assert.is(s[4 * 16 + 1], 0);
  const clipped = drawStroke([{ x: -5, y: 0 }, { x: 3, y: 0 }], 8, 4, 0);
  assert.equal(Array.from(clipped.subarray(0, 8)), [1, 1, 1, 1, 0, 0, 0, 0]);
  assert.throws(() => drawStroke([], 4, 4), /no points/);
});

test('encodeInteraction: channel counts per kind, a zero fifth channel for the hybrid network, paste-back into the slice', () => {
  const img = image(48, 40, 4);
  const mask = rect(48, 40, 14, 10, 33, 27);
  const kinds = ['extreme-points', 'inside-outside', 'scribble', 'two-points'] as const;
  const own = { 'extreme-points': 4, 'inside-outside': 5, scribble: 4, 'two-points': 5 };
  for (const kind of kinds) {
    const interaction = robotInteraction(kind, mask, { seed: 3 });
    const enc = encodeInteraction(img, interaction, { size: 32 });
    assert.is(enc.channels, own[kind], kind);
    assert.equal([enc.kind, enc.width, enc.height, enc.size], [kind, 48, 40, 32]);
    assert.ok(enc.data.every(Number.isFinite), `${kind}: finite`);
    const five = encodeInteraction(img, interaction, { size: 32, channels: 5 });
    assert.is(five.channels, 5);
    for (let c = 0; c < own[kind]; c++) assert.equal(Array.from(channel(five, c)), Array.from(channel(enc, c)), `${kind}: channel ${c} kept`);
    if (own[kind] === 4) assert.ok(channel(five, 4).every((v) => v === 0), `${kind}: zero fifth channel`);
    else assert.throws(() => encodeInteraction(img, interaction, { channels: 4 }), /needs a 5-channel network/);
    // Large positive logits everywhere: the pasted mask is the crop box clipped to the slice.
    const full = decodeMask(enc, new Float32Array(32 * 32).fill(20));
    const [x0, y0, x1, y1] = enc.bbox;
    for (let y = 0; y < 40; y++) for (let x = 0; x < 48; x++) assert.is(full[y * 48 + x], x >= x0 && x <= x1 && y >= y0 && y <= y1 ? 1 : 0);
  }
  assert.equal(encodeInteraction(img, robotInteraction('two-points', mask), { size: 32 }).bbox, [0, 0, 47, 39], 'two points: no crop');
  assert.throws(() => encodeInteraction(img, { kind: 'lasso' } as unknown as Interaction), /unknown interaction kind "lasso"/);
  assert.throws(() => encodeInteraction(img, robotInteraction('scribble', mask), { channels: 3 as 4 }), /channels must be 4 or 5, got 3/);
});

test('robot user: every kind from a mask, inside the object, deterministic under the seed; an empty mask is an error', () => {
  // An L-shaped object, so the principal axis and the ends are not trivial.
  const m = rect(64, 48, 8, 6, 20, 40);
  for (let y = 30; y <= 40; y++) for (let x = 8; x <= 55; x++) m.data[y * 64 + x] = 1;
  const io = insideOutsideOfMask(m);
  assert.is(m.data[io.inside.y * 64 + io.inside.x], 1);
  assert.equal(io.outside, [{ x: 8, y: 6 }, { x: 55, y: 40 }]);
  const s = scribbleOfMask(m, { seed: 1 });
  const marked = s.reduce((a, v) => a + v, 0);
  assert.ok(marked > 20, `a stroke, not a dot: ${marked} px`);
  assert.ok(s.every((v, i) => v === 0 || m.data[i] === 1), 'the scribble stays inside the object');
  assert.equal(scribbleOfMask(m, { seed: 1 }), s, 'same seed, same scribble');
  assert.ok([2, 3, 4, 5].some((seed) => scribbleOfMask(m, { seed }).some((v, i) => v !== s[i])), 'the seed moves the stroke');
  const dot = new Uint8Array(64 * 48);
  dot[20 * 64 + 30] = 1;
  assert.equal(Array.from(scribbleOfMask({ width: 64, height: 48, data: dot })).flatMap((v, i) => (v ? [i] : [])), [20 * 64 + 30], 'a one-pixel object gives a one-pixel scribble');
  const whole = { width: 400, height: 300, data: new Uint8Array(400 * 300).fill(1) };
  // An object filling the slice (120000 px): every kind still gives its interaction, on the slice's edges where it has to.
  for (const kind of ['extreme-points', 'inside-outside', 'scribble', 'two-points'] as const) assert.is(robotInteraction(kind, whole).kind, kind);
  const extremes = robotInteraction('extreme-points', whole) as { points: readonly { x: number; y: number }[] };
  assert.equal(extremes.points.map((p, i) => (i < 2 ? p.x : p.y)), [0, 399, 0, 299], 'left, right, top, bottom on the slice edges');
  assert.equal(insideOutsideOfMask(whole).outside, [{ x: 0, y: 0 }, { x: 399, y: 299 }]);
  const empty = { width: 64, height: 48, data: new Uint8Array(64 * 48) };
  for (const kind of ['extreme-points', 'inside-outside', 'scribble', 'two-points'] as const) assert.throws(() => robotInteraction(kind, empty), /mask is empty/, kind);
});

test.run();
