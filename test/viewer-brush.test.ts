// The viewer's brush and eraser (web/src/brush.ts) on slice images that are not square
// (rows a != columns b), so a transposed index would land outside or elsewhere.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { paintDisc, paintStroke, type SliceMaskImage } from '../web/src/brush.ts';

const blank = (rows: number, cols: number, fill = 0): SliceMaskImage => ({ rows, cols, data: new Uint8Array(rows * cols).fill(fill) });
const set = (m: SliceMaskImage) => {
  const out: string[] = [];
  for (let a = 0; a < m.rows; a++) for (let b = 0; b < m.cols; b++) if (m.data[a * m.cols + b]) out.push(`${a},${b}`);
  return out;
};

test('a disc of radius r holds the voxels whose centres are within r: 1, 5, 13, 29 voxels for r = 0..3', () => {
  const counts = [0, 1, 2, 3].map((r) => {
    const m = blank(21, 17);
    paintDisc(m, [10, 8], r, 1);
    for (let a = 0; a < m.rows; a++) {
      for (let b = 0; b < m.cols; b++) assert.is(m.data[a * m.cols + b], (a - 10) ** 2 + (b - 8) ** 2 <= r * r ? 1 : 0, `r ${r} voxel (${a}, ${b})`);
    }
    return set(m).length;
  });
  assert.equal(counts, [1, 5, 13, 29]);
});

test('a disc at the slice corner is clipped, never wrapped onto the next row', () => {
  const m = blank(6, 9);
  paintDisc(m, [0, 8], 2, 1);
  assert.equal(set(m), ['0,6', '0,7', '0,8', '1,7', '1,8', '2,8']);
  const far = blank(6, 9);
  paintDisc(far, [-5, 40], 2, 1);
  assert.equal(set(far), [], 'a disc wholly outside paints nothing');
});

test('the eraser clears only its disc', () => {
  const m = blank(5, 7, 1);
  paintDisc(m, [2, 3], 1, 0);
  assert.equal(set(blank(5, 7, 1)).filter((k) => !set(m).includes(k)), ['1,3', '2,2', '2,3', '2,4', '3,3']);
});

test('a stroke covers every voxel on the line between two mouse positions, both ends included', () => {
  const m = blank(12, 30);
  paintStroke(m, [1, 2], [9, 27], 0, 1);
  const painted = set(m);
  assert.ok(painted.includes('1,2') && painted.includes('9,27'), 'both ends');
  // A one-voxel brush draws an 8-connected line: one voxel per column along the longer axis.
  assert.is(painted.length, 26);
  for (let b = 2; b <= 27; b++) assert.ok(painted.some((k) => k.endsWith(`,${b}`)), `column ${b} reached`);
  const still = blank(4, 4);
  paintStroke(still, [2, 1], [2, 1], 1, 1);
  assert.equal(set(still), ['1,1', '2,0', '2,1', '2,2', '3,1'], 'a click without a move paints one disc');
});

test.run();
