import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { adaptiveAvgPool2d, avgPool2d, maxPool2d } from '../src/ops/pool.ts';
import { testRuntime } from './_lib/gpu.ts';
import { assertCase, casesOf, UNIT_TIERS } from './_lib/op-cases/index.ts';
import { uniform } from './_lib/random.ts';
import { assertClose } from './_lib/tolerance.ts';
import { avgPoolRef, type Shape4, type WindowSpec } from './cpu/pool.ts';

const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
const spec = (k: [number, number], s: [number, number], p: [number, number]): WindowSpec => ({ kernel: k, stride: s, padding: p });

// Windows and adaptive bins on awkward shapes: test/_lib/op-cases/pool.ts.
for (const c of casesOf('pool', UNIT_TIERS)) test(c.name, async () => assertCase(await testRuntime(), c));

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
