import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { linear, prepareLinear } from '../src/ops/linear.ts';
import { testRuntime } from './_lib/gpu.ts';
import { uniform } from './_lib/random.ts';
import { assertClose } from './_lib/tolerance.ts';
import { linearRef } from './cpu/linear.ts';

// [x shape, out features, with bias]; x's last dimension is `in`.
const CASES: [number[], number, boolean][] = [
  [[1, 2048], 1000, true], // QAMN quality head fc
  [[1, 1000], 1, true], // and its fc2
  [[1, 1, 1, 2048], 13, true], // a pooled NHWC map
  [[3, 37], 5, true],
  [[2, 1], 7, false],
  [[70, 3], 1000, true], // more (row, output) pairs than one row of workgroups
];

for (const [shape, outF, withBias] of CASES) {
  const inF = shape[shape.length - 1];
  test(`linear [${shape}] -> ${outF}${withBias ? '' : ' without bias'}: plain, relu, sigmoid`, async () => {
    const rt = await testRuntime();
    const rows = shape.reduce((p, d) => p * d, 1) / inF;
    const bound = Math.sqrt(6 / inF); // nn.Linear-like magnitudes
    const x = uniform(rows * inF, inF, -1, 1);
    const weight = uniform(outF * inF, outF, -bound, bound);
    const bias = withBias ? uniform(outF, 3, -0.5, 0.5) : undefined;
    const w = prepareLinear(rt, { weight, bias, shape: [outF, inF], label: 'fc' });
    const tx = rt.upload(shape, x);
    for (const act of ['none', 'relu', 'sigmoid'] as const) {
      const y = linear(rt, tx, w, { relu: act === 'relu', sigmoid: act === 'sigmoid' });
      assert.equal(y.shape, [rows, outF]);
      assertClose(await y.read(), linearRef(x, weight, bias, [outF, inF], act), { label: `linear ${act}`, k: inF, factor: act === 'sigmoid' ? 64 : 8 });
      y.dispose();
    }
    w.dispose();
    tx.dispose();
  });
}

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
