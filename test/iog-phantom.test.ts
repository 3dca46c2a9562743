// The phantom generator (src/phantom/phantom.ts): deterministic, the README's grey levels
// and geometry, and volumes whose anatomy is smooth along z and whose tumour covers
// one contiguous run of slices.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { phantomSlice, phantomVolume, volumeSlice } from '../src/phantom/phantom.ts';

const sum = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0);
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

test('phantomSlice: same seed same slice, another seed another; any size; 0 / 1 tumour mask', () => {
  const a = phantomSlice({ seed: 11, width: 96, height: 80 });
  assert.equal([a.width, a.height, a.image.length, a.mask.length], [96, 80, 96 * 80, 96 * 80]);
  assert.equal(phantomSlice({ seed: 11, width: 96, height: 80 }), a);
  assert.ok(phantomSlice({ seed: 12, width: 96, height: 80 }).image.some((v, i) => v !== a.image[i]));
  assert.ok(a.mask.every((v) => v === 0 || v === 1));
  assert.equal(volumeSlice(phantomVolume({ seed: 11, width: 96, height: 80, depth: 1 }), 0), a, 'a slice is the one-slice volume');
  assert.throws(() => phantomSlice({ seed: 1, width: 0 }), /width must be a positive integer, got 0/);
});

test('phantomSlice at 512x512: air, body, lungs, spine and tumour in their grey ranges; tumour radius 10..60 px', () => {
  for (const seed of [1, 2, 3]) {
    const s = phantomSlice({ seed });
    const W = 512;
    const at = (x: number, y: number) => s.image[y * W + x];
    const corner = [];
    for (let y = 0; y < 20; y++) for (let x = 0; x < 20; x++) corner.push(at(x, y));
    assert.ok(median(corner) <= 10, `seed ${seed}: air near 0 (${median(corner)})`);
    const tumour: number[] = [];
    let [x0, y0, x1, y1] = [W, W, -1, -1];
    for (let i = 0; i < s.mask.length; i++) {
      if (!s.mask[i]) continue;
      tumour.push(s.image[i]);
      const [x, y] = [i % W, Math.floor(i / W)];
      [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
    }
    assert.ok(tumour.length > Math.PI * 10 * 10 * 0.9, `seed ${seed}: ${tumour.length} tumour px`);
    assert.ok(x1 - x0 <= 2 * 60 * 1.6 + 1 && y1 - y0 <= 2 * 60 * 1.6 + 1, `seed ${seed}: tumour box ${x1 - x0}x${y1 - y0} px`);
    assert.ok(median(tumour) >= 80 && median(tumour) <= 235, `seed ${seed}: tumour grey ${median(tumour)}`);
    // The horizontal profile through the lungs: body grey at the sides, darker lungs inside.
    const row = Array.from({ length: W }, (_, x) => at(x, 245));
    const bodyGrey = median(row.slice(60, 90));
    assert.ok(bodyGrey >= 85 && bodyGrey <= 145, `seed ${seed}: body ${bodyGrey}`);
    const lung = median(row.slice(150, 190));
    assert.ok(lung >= 10 && lung <= 70, `seed ${seed}: lung ${lung}`);
    // The spine disc (radius >= 20 px) lies on the midline below the lungs.
    const column = Array.from({ length: 100 }, (_, k) => at(256, 330 + k)).sort((p, q) => p - q);
    assert.ok(column[70] >= 145, `seed ${seed}: spine ${column[70]}`);
  }
});

test('phantomVolume: slice-major layout, smooth anatomy, a tumour over one contiguous run of slices clear of both ends', () => {
  const [w, h, d] = [64, 64, 24];
  const v = phantomVolume({ seed: 4, width: w, height: h, depth: d });
  assert.equal([v.image.length, v.mask.length, v.depth], [w * h * d, w * h * d, d]);
  assert.equal(v.spacing, { x: 0.8, y: 0.8, z: 2.5 });
  const perSlice = Array.from({ length: d }, (_, z) => sum(v.mask.subarray(z * w * h, (z + 1) * w * h)));
  const present = perSlice.flatMap((n, z) => (n > 0 ? [z] : []));
  assert.ok(present.length >= 2, `tumour on ${present.length} slices`);
  assert.is(present[present.length - 1] - present[0] + 1, present.length, `contiguous: ${perSlice}`);
  assert.ok(present[0] > 0 && present[present.length - 1] < d - 1, 'clear of the first and last slice');
  // Neighbouring slices differ by noise and slow changes, not by new structures.
  for (let z = 1; z < d; z++) {
    let diff = 0;
    for (let i = 0; i < w * h; i++) diff += Math.abs(v.image[z * w * h + i] - v.image[(z - 1) * w * h + i]);
    assert.ok(diff / (w * h) < 25, `slices ${z - 1} and ${z}: mean |difference| ${(diff / (w * h)).toFixed(1)}`);
  }
  assert.equal(volumeSlice(v, 5).mask, v.mask.slice(5 * w * h, 6 * w * h));
  assert.throws(() => volumeSlice(v, d), /slice 24 is outside 0..23/);
});

test.run();
