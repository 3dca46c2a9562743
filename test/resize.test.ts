import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { resizeBilinear } from '../src/ops/resize.ts';
import { entryPointsDispatched } from './_lib/dispatch-spy.ts';
import { testRuntime } from './_lib/gpu.ts';
import { assertCase, casesOf, UNIT_TIERS } from './_lib/op-cases/index.ts';
import { RESIZE_SPECS } from './_lib/op-cases/resize.ts';
import { uniform } from './_lib/random.ts';
import { compare } from './_lib/tolerance.ts';
import { resizeBilinearRef, type Shape4 } from './cpu/resize.ts';

const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

// Up, down, one pixel, wide channels, scale factors: test/_lib/op-cases/resize.ts.
for (const c of casesOf('resize', UNIT_TIERS)) test(c.name, async () => assertCase(await testRuntime(), c));

test('the scale-factor cases above do exercise a different mapping than in / out', () => {
  for (const [shape, out, scale] of RESIZE_SPECS.slice(-3)) {
    const x = uniform(size(shape), 1);
    assert.not.ok(compare(resizeBilinearRef(x, shape, out, false, scale), resizeBilinearRef(x, shape, out, false), { factor: 64 }).ok);
  }
});

test('channels in fours run four to a thread (entry main4), other counts one (main)', async () => {
  const rt = await testRuntime();
  const entries = entryPointsDispatched(rt, () => {
    for (const c of [4, 8, 5, 6]) {
      const x = rt.upload([1, 3, 2, c], uniform(6 * c, c));
      resizeBilinear(rt, x, [5, 3], { alignCorners: false }).dispose();
      x.dispose();
    }
  });
  assert.equal(entries, ['main4', 'main4', 'main', 'main']);
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
