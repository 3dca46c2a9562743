import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { adaptiveAvgPool2d, avgPool2d, maxPool2d } from '../src/ops/pool.ts';
import { testRuntime } from './_lib/gpu.ts';
import { uniform } from './_lib/random.ts';
import { assertClose } from './_lib/tolerance.ts';
import { adaptiveAvgPoolRef, avgPoolRef, maxPoolRef, type Shape4, type WindowSpec } from './cpu/pool.ts';

const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
const spec = (k: [number, number], s: [number, number], p: [number, number]): WindowSpec => ({ kernel: k, stride: s, padding: p });

// [input shape, window, value range]: the all-negative ranges would expose padding treated as 0 in max pooling.
const WINDOWED: [Shape4, WindowSpec, [number, number]][] = [
  [[1, 33, 17, 5], spec([3, 3], [2, 2], [1, 1]), [-5, -1]], // ResNet stem on odd sizes
  [[2, 8, 8, 3], spec([3, 3], [2, 2], [1, 1]), [-1, 1]],
  [[1, 1, 1, 1], spec([3, 3], [2, 2], [1, 1]), [-3, -2]], // one pixel, window mostly padding
  [[1, 7, 9, 2], spec([2, 2], [2, 2], [0, 0]), [-1, 1]], // odd input: last row / column dropped
  [[1, 5, 6, 3], spec([2, 2], [1, 1], [1, 1]), [-4, -1]], // padding = kernel / 2
  [[1, 9, 7, 1], spec([3, 2], [1, 2], [1, 0]), [-1, 1]], // rectangular everything
  [[1, 6, 5, 1001], spec([3, 3], [3, 3], [0, 0]), [-1, 1]],
];

for (const [shape, s, [lo, hi]] of WINDOWED) {
  test(`maxPool2d / avgPool2d k[${s.kernel}] s[${s.stride}] p[${s.padding}] on [${shape}]`, async () => {
    const rt = await testRuntime();
    const x = uniform(size(shape), size(shape) + 1, lo, hi);
    const tx = rt.upload(shape, x);
    const opts = { kernel: s.kernel, stride: s.stride, padding: s.padding };
    const mx = maxPool2d(rt, tx, opts);
    const av = avgPool2d(rt, tx, opts);
    const mref = maxPoolRef(x, shape, s);
    const aref = avgPoolRef(x, shape, s);
    assert.equal(mx.shape, [...mref.shape]);
    assert.equal(av.shape, [...aref.shape]);
    assertClose(await mx.read(), mref.data, { label: 'maxPool2d', factor: 0 });
    assertClose(await av.read(), aref.data, { label: 'avgPool2d', k: s.kernel[0] * s.kernel[1] });
    for (const t of [tx, mx, av]) t.dispose();
  });
}

test('avgPool2d defaults stride to the kernel and padding to 0', async () => {
  const rt = await testRuntime();
  const shape: Shape4 = [1, 7, 5, 3];
  const x = uniform(size(shape), 3);
  const tx = rt.upload(shape, x);
  const av = avgPool2d(rt, tx, { kernel: 2 });
  assert.equal(av.shape, [1, 3, 2, 3]);
  assertClose(await av.read(), avgPoolRef(x, shape, spec([2, 2], [2, 2], [0, 0])).data, { label: 'avgPool2d', k: 4 });
  tx.dispose();
  av.dispose();
});

// PSP's pyramid sizes over even and odd maps (odd ones give overlapping bins), and outputs larger than the input.
const ADAPTIVE: [Shape4, [number, number][]][] = [
  [[1, 32, 32, 5], [[1, 1], [2, 2], [3, 3], [6, 6]]],
  [[1, 33, 17, 3], [[1, 1], [2, 2], [3, 3], [6, 6], [5, 4]]],
  [[2, 5, 3, 2], [[7, 4], [5, 3], [1, 6]]],
  [[1, 1, 1, 1001], [[3, 2]]],
];

for (const [shape, outs] of ADAPTIVE) {
  test(`adaptiveAvgPool2d on [${shape}] to ${outs.map((o) => `${o[0]}x${o[1]}`).join(', ')}`, async () => {
    const rt = await testRuntime();
    const x = uniform(size(shape), 7 + shape[1], -2, 3);
    const tx = rt.upload(shape, x);
    for (const out of outs) {
      const y = adaptiveAvgPool2d(rt, tx, out);
      assert.equal(y.shape, [shape[0], out[0], out[1], shape[3]]);
      const maxBin = Math.ceil(shape[1] / out[0] + 1) * Math.ceil(shape[2] / out[1] + 1);
      assertClose(await y.read(), adaptiveAvgPoolRef(x, shape, out), { label: `adaptive ${out}`, k: maxBin });
      y.dispose();
    }
    tx.dispose();
  });
}

test('pooling rejects bad inputs with the op name and shapes', async () => {
  const rt = await testRuntime();
  const x = rt.upload([1, 4, 4, 2], new Float32Array(32));
  const flat = rt.upload([4, 8], new Float32Array(32));
  const ints = rt.upload([1, 4, 4, 2], new Int32Array(32), 'i32');
  assert.throws(() => maxPool2d(rt, flat, { kernel: 2 }), /maxPool2d: expects an NHWC tensor .*\[4, 8\]/);
  assert.throws(() => avgPool2d(rt, ints, { kernel: 2 }), /avgPool2d: expects f32, got i32/);
  assert.throws(() => maxPool2d(rt, x, { kernel: 3, padding: 2 }), /maxPool2d: padding \[2,2\] must be at most half the kernel \[3,3\]/);
  assert.throws(() => avgPool2d(rt, x, { kernel: [5, 1] }), /avgPool2d: kernel \[5,1\] .* does not fit input \[1, 4, 4, 2\]/);
  assert.throws(() => maxPool2d(rt, x, { kernel: 2, stride: 0 }), /maxPool2d: stride must be integers >= 1/);
  assert.throws(() => adaptiveAvgPool2d(rt, x, [0, 2]), /adaptiveAvgPool2d: output size must be integers >= 1/);
  const empty = rt.empty([1, 0, 3, 2]);
  assert.throws(() => adaptiveAvgPool2d(rt, empty, [1, 1]), /H, W >= 1, got \[1, 0, 3, 2\]/);
  empty.dispose();
  x.dispose();
  assert.throws(() => maxPool2d(rt, x, { kernel: 2 }), /already disposed/);
  flat.dispose();
  ints.dispose();
});

test.run();
