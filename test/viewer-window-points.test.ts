// The viewer's pure helpers: the percentile auto-window and the per-slice point store.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pointNear, SlicePoints } from '../web/src/points.ts';
import { CT_PRESETS, percentileWindow, windowed } from '../web/src/window.ts';

test('percentile window: a few extreme voxels do not widen it; scaling applies; NaN ignored', () => {
  // 0..999 once each, plus 3 metal voxels at 30000 (0.3%) and NaNs: 0.5..99.5% lies within 0..999, about 5..997.
  const data = new Float32Array(1006);
  for (let i = 0; i < 1000; i++) data[i] = i;
  data.set([30000, 30000, 30000, NaN, NaN, NaN], 1000);
  const w = percentileWindow(data);
  const [lo, hi] = [w.level - w.width / 2, w.level + w.width / 2];
  assert.ok(lo >= 3 && lo <= 7 && hi >= 992 && hi <= 999, `${lo}..${hi}`);
  const scaled = percentileWindow(data, 2, -1000);
  assert.ok(Math.abs(scaled.level - (2 * w.level - 1000)) < 1e-9 && Math.abs(scaled.width - 2 * w.width) < 1e-9);
  const full = percentileWindow(data, 1, 0, 0, 100);
  assert.is(full.level + full.width / 2, 30000);
});

test('percentile window: a mostly constant image falls back to its full range; bad percentiles refused', () => {
  const mask = new Uint8Array(1000);
  mask[10] = 1;
  assert.equal(percentileWindow(mask), { width: 1, level: 0.5 });
  assert.equal(percentileWindow(new Float32Array([NaN])), { width: 1, level: 0.5 });
  assert.throws(() => percentileWindow(mask, 1, 0, 50, 10), /percentiles 50\.\.10/);
});

test('windowed grey levels and the CT presets', () => {
  const soft = CT_PRESETS['soft-tissue'];
  assert.is(windowed(40, soft), 127.5);
  assert.is(windowed(-160, soft), 0);
  assert.is(windowed(240, soft), 255);
  assert.is(windowed(-1000, CT_PRESETS.lung), 255 * (-1000 - (-600 - 750)) / 1500);
});

test('points: four per slice, a fifth refused, slices independent, move and remove', () => {
  const p = new SlicePoints();
  for (const q of [[1, 2], [3, 4], [5, 6], [7, 8]] as const) assert.ok(p.add(5, q));
  assert.not.ok(p.add(5, [9, 9]));
  assert.equal(p.get(5), [[1, 2], [3, 4], [5, 6], [7, 8]]);
  assert.ok(p.add(6, [0, 0]));
  assert.equal(p.slices(), [5, 6]);
  p.move(5, 1, [30, 40]);
  p.remove(5, 0);
  assert.equal(p.get(5), [[30, 40], [5, 6], [7, 8]]);
  p.remove(6, 0);
  assert.equal(p.slices(), [5]);
  p.clearAll();
  assert.equal(p.get(5), []);
});

test('pointNear: the nearest point within the radius, else -1', () => {
  const marks = [{ col: 10, row: 10 }, { col: 14, row: 10 }];
  assert.is(pointNear(marks, 13, 10, 5), 1);
  assert.is(pointNear(marks, 11, 10, 5), 0);
  assert.is(pointNear(marks, 30, 30, 5), -1);
});

test.run();
