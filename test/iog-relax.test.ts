// The crop relax scaled with the frame (src/interaction/relax.ts, issue 10): the
// original's pixels at 512x512 (DEXTR 50, scribbles 50, IOG 30) times side / 512, and
// what encodeInteraction crops with it by default and when told otherwise. Expected
// boxes are worked out by hand from the rule.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultRelax, encodeInteraction, type Interaction } from '../src/interaction/encode.ts';
import { frameRelax } from '../src/interaction/relax.ts';

const image = (width: number, height: number) => ({ width, height, data: new Uint8Array(width * height).fill(100) });
const extreme = (x0: number, y0: number, x1: number, y1: number): Interaction => ({
  kind: 'extreme-points',
  points: [{ x: x0, y: (y0 + y1) >> 1 }, { x: x1, y: (y0 + y1) >> 1 }, { x: (x0 + x1) >> 1, y: y0 }, { x: (x0 + x1) >> 1, y: y1 }],
});

test('frameRelax: 512x512 keeps the original; 128x128 a quarter, rounded; non-square frames by the side of the same area', () => {
  assert.is(frameRelax(50, 512, 512), 50);
  assert.is(frameRelax(30, 512, 512), 30);
  assert.is(frameRelax(50, 128, 128), 13); // 12.5
  assert.is(frameRelax(30, 128, 128), 8); // 7.5
  assert.is(frameRelax(50, 256, 256), 25);
  assert.is(frameRelax(50, 1024, 1024), 100);
  assert.is(frameRelax(50, 256, 64), 13); // side 128
  assert.is(frameRelax(50, 512, 128), 25); // side 256
  assert.throws(() => frameRelax(-1, 128, 128), /relax >= 0 and a positive frame, got relax -1 on 128x128/);
  assert.throws(() => frameRelax(50, 0, 128), /positive frame/);
});

test('defaultRelax: each kind\'s original relax at 512 scaled with the frame', () => {
  assert.equal(['extreme-points', 'scribble', 'inside-outside'].map((k) => defaultRelax(k as 'scribble', 512, 512)), [50, 50, 30]);
  assert.equal(['extreme-points', 'scribble', 'inside-outside'].map((k) => defaultRelax(k as 'scribble', 128, 128)), [13, 13, 8]);
});

test('encodeInteraction crops with the frame\'s relax by default, with `relax` when given', () => {
  const small = image(128, 128);
  assert.equal(encodeInteraction(small, extreme(60, 50, 70, 58), { size: 32 }).bbox, [60 - 13, 50 - 13, 70 + 13, 58 + 13]);
  assert.equal(encodeInteraction(small, extreme(60, 50, 70, 58), { size: 32, relax: 50 }).bbox, [10, 0, 120, 108]);
  assert.equal(encodeInteraction(small, extreme(60, 50, 70, 58), { size: 32, relax: 0 }).bbox, [60, 50, 70, 58]);
  const box: Interaction = { kind: 'inside-outside', inside: { x: 64, y: 64 }, outside: [{ x: 60, y: 58 }, { x: 70, y: 72 }] };
  assert.equal(encodeInteraction(small, box, { size: 32 }).bbox, [52, 50, 78, 80]);
  const scribble = new Uint8Array(128 * 128);
  for (let x = 40; x <= 44; x++) scribble[30 * 128 + x] = 1;
  assert.equal(encodeInteraction(small, { kind: 'scribble', scribble: { width: 128, height: 128, data: scribble } }, { size: 32 }).bbox, [27, 17, 57, 43]);
  // At 512x512 the original's relaxes, unchanged.
  const big = image(512, 512);
  assert.equal(encodeInteraction(big, extreme(200, 210, 260, 300), { size: 32 }).bbox, [150, 160, 310, 350]);
  assert.equal(encodeInteraction(big, box, { size: 32 }).bbox, [30, 28, 100, 102]);
  assert.throws(() => encodeInteraction(small, extreme(60, 50, 70, 58), { relax: 2.5 }), /relax must be an integer >= 0 \(slice pixels\), got 2.5/);
  assert.throws(() => encodeInteraction(small, extreme(60, 50, 70, 58), { relax: -1 }), /relax must be an integer >= 0/);
});

test.run();
