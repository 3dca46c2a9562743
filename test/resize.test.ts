import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { resizeBilinear } from '../src/ops/resize.ts';
import { testRuntime } from './_lib/gpu.ts';
import { uniform } from './_lib/random.ts';
import { assertClose, compare } from './_lib/tolerance.ts';
import { resizeBilinearRef, type Shape4 } from './cpu/resize.ts';

const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

// [input, output, scale_factor as the PyTorch code would pass it (or none)]
const CASES: [Shape4, [number, number], [number, number]?][] = [
  [[1, 32, 32, 2], [512, 512], [16, 16]], // x16 to the output resolution
  [[1, 16, 16, 3], [32, 32], [2, 2]], // Refine-style 2x
  [[1, 17, 9, 5], [34, 18], [2, 2]],
  [[1, 40, 40, 3], [7, 7]], // 512 -> 32-like downsampling
  [[1, 40, 33, 2], [7, 5]],
  [[2, 7, 5, 3], [11, 13]],
  [[1, 1, 1, 3], [5, 4]], // one input pixel
  [[1, 9, 6, 2], [1, 1]], // one output pixel
  [[1, 1, 8, 1], [3, 1]],
  [[1, 6, 7, 1001], [4, 9]],
  // in * scale not an integer: PyTorch steps by 1 / scale, not in / out.
  [[1, 33, 17, 3], [16, 8], [0.5, 0.5]],
  [[1, 33, 17, 3], [49, 51], [1.5, 3]],
  [[1, 11, 17, 2], [3, 5], [1 / 3, 0.3]],
];

for (const [shape, out, scale] of CASES) {
  for (const alignCorners of [false, true]) {
    test(`resizeBilinear [${shape}] -> ${out[0]}x${out[1]}${scale ? ` scale [${scale}]` : ''} alignCorners=${alignCorners}`, async () => {
      const rt = await testRuntime();
      const x = uniform(size(shape), size(shape), -2, 2);
      const tx = rt.upload(shape, x);
      const y = resizeBilinear(rt, tx, out, { alignCorners, scale });
      assert.equal(y.shape, [shape[0], out[0], out[1], shape[3]]);
      assertClose(await y.read(), resizeBilinearRef(x, shape, out, alignCorners, scale), { label: 'resize' });
      tx.dispose();
      y.dispose();
    });
  }
}

test('the scale-factor cases above do exercise a different mapping than in / out', () => {
  for (const [shape, out, scale] of CASES.slice(-3)) {
    const x = uniform(size(shape), 1);
    assert.not.ok(compare(resizeBilinearRef(x, shape, out, false, scale), resizeBilinearRef(x, shape, out, false), { factor: 64 }).ok);
  }
});

test('resizeBilinear to the same size is the identity', async () => {
  const rt = await testRuntime();
  const shape: Shape4 = [1, 5, 7, 3];
  const x = uniform(size(shape), 4);
  const tx = rt.upload(shape, x);
  for (const alignCorners of [false, true]) {
    const y = resizeBilinear(rt, tx, [5, 7], { alignCorners });
    assert.equal(await y.read(), x);
    y.dispose();
  }
  tx.dispose();
});

test('resizeBilinear rejects bad inputs with the op name and shapes', async () => {
  const rt = await testRuntime();
  const x = rt.upload([1, 4, 6, 2], new Float32Array(48));
  const flat = rt.upload([6, 8], new Float32Array(48));
  const ints = rt.upload([1, 4, 6, 2], new Int32Array(48), 'i32');
  assert.throws(() => resizeBilinear(rt, flat, [2, 2], { alignCorners: false }), /resizeBilinear: expects an NHWC tensor .*\[6, 8\]/);
  assert.throws(() => resizeBilinear(rt, ints, [2, 2], { alignCorners: false }), /resizeBilinear: expects f32, got i32/);
  assert.throws(() => resizeBilinear(rt, x, [0, 2], { alignCorners: true }), /resizeBilinear: output size must be positive integers, got \[0, 2\] for input \[1, 4, 6, 2\]/);
  assert.throws(() => resizeBilinear(rt, x, [8, 11], { alignCorners: false, scale: [2, 2] }), /resizeBilinear: output \[8, 11\] is not floor\(input \[4, 6\] \* scale \[2, 2\]\)/);
  assert.throws(() => resizeBilinear(rt, x, [4, 6], { alignCorners: false, scale: [1, -1] }), /resizeBilinear: scale must be positive/);
  assert.throws(() => resizeBilinear(rt, x, [4, 6], { alignCorners: false, scale: [1, Math.PI / 2.7] }), /resizeBilinear: scale factor .* is not a fraction/);
  x.dispose();
  assert.throws(() => resizeBilinear(rt, x, [2, 2], { alignCorners: false }), /already disposed/);
  flat.dispose();
  ints.dispose();
});

test.run();
