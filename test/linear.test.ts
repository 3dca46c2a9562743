import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { linear, prepareLinear } from '../src/ops/linear.ts';
import { testRuntime } from './_lib/gpu.ts';
import { assertCase, casesOf, UNIT_TIERS } from './_lib/op-cases/index.ts';

// Network and awkward shapes, each with no activation, ReLU and sigmoid: test/_lib/op-cases/linear.ts.
for (const c of casesOf('linear', UNIT_TIERS)) test(c.name, async () => assertCase(await testRuntime(), c));

test('linear rejects bad inputs with the op name and shapes', async () => {
  const rt = await testRuntime();
  assert.throws(() => prepareLinear(rt, { weight: new Float32Array(6), shape: [2, 4], label: 'fc' }), /prepareLinear 'fc': weight has 6 values, shape \[2, 4\] needs 8/);
  assert.throws(() => prepareLinear(rt, { weight: new Float32Array(8), bias: new Float32Array(3), shape: [2, 4] }), /prepareLinear 'linear': bias has 3 values, shape \[2, 4\] needs 2/);
  assert.throws(() => prepareLinear(rt, { weight: new Float32Array(0), shape: [0, 4] }), /shape must be \[out, in\] with positive sizes, got \[0, 4\]/);
  const w = prepareLinear(rt, { weight: new Float32Array(8), shape: [2, 4], label: 'fc2' });
  const x = rt.upload([1, 5], new Float32Array(5));
  const ok = rt.upload([1, 4], new Float32Array(4));
  const ints = rt.upload([1, 4], new Int32Array(4), 'i32');
  assert.throws(() => linear(rt, x, w), /linear 'fc2': input \[1, 5\] must end in the weight's in-features 4 \(weight \[2, 4\]\)/);
  assert.throws(() => linear(rt, ints, w), /linear 'fc2': expects f32, got i32/);
  assert.throws(() => linear(rt, ok, w, { relu: true, sigmoid: true }), /relu and sigmoid are exclusive/);
  w.dispose();
  assert.throws(() => linear(rt, ok, w), /already disposed/);
  for (const t of [x, ok, ints]) t.dispose();
});

test.run();
