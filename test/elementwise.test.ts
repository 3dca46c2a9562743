import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { add, addRelu, affineClamp, clamp, relu, sigmoid } from '../src/ops/elementwise.ts';
import { testRuntime } from './_lib/gpu.ts';
import { uniform } from './_lib/random.ts';
import { assertClose } from './_lib/tolerance.ts';
import { addRef, clampRef, reluRef, sigmoidRef } from './cpu/elementwise.ts';

// Odd sizes, including one spanning more than 65535 workgroups' worth of elements.
const SHAPES = [[1], [1, 7, 5, 3], [1, 33, 17, 5], [1, 130, 129, 1001]];

for (const shape of SHAPES) {
  test(`elementwise ops on [${shape}]`, async () => {
    const rt = await testRuntime();
    const n = shape.reduce((p, d) => p * d, 1);
    const a = uniform(n, 1, -12, 12);
    const b = uniform(n, 2, -3, 3);
    const ta = rt.upload(shape, a);
    const tb = rt.upload(shape, b);
    const outs = { add: add(rt, ta, tb), addRelu: addRelu(rt, ta, tb), relu: relu(rt, ta), sigmoid: sigmoid(rt, ta), clamp: clamp(rt, ta, -0.5, 2.25), background: affineClamp(rt, ta, -1, 1, 0, 1) };
    assertClose(await outs.add.read(), addRef(a, b), { label: 'add' });
    assertClose(await outs.addRelu.read(), reluRef(addRef(a, b)), { label: 'add+relu' });
    assertClose(await outs.relu.read(), reluRef(a), { label: 'relu', factor: 0 });
    assertClose(await outs.sigmoid.read(), sigmoidRef(a), { label: 'sigmoid', factor: 64 });
    assertClose(await outs.clamp.read(), clampRef(a, -0.5, 2.25), { label: 'clamp', factor: 0 });
    // 1 - x rounds once in f32 on the GPU: within one ulp of the f64 value.
    assertClose(await outs.background.read(), clampRef(a, 0, 1, -1, 1), { label: 'clamp(1 - x)', factor: 1 });
    for (const t of [ta, tb, ...Object.values(outs)]) t.dispose();
  });
}

test('elementwise rejects mismatched shapes and disposed tensors', async () => {
  const rt = await testRuntime();
  const a = rt.upload([1, 2, 2, 1], [1, 2, 3, 4]);
  const b = rt.upload([1, 2, 1, 2], [1, 2, 3, 4]);
  assert.throws(() => add(rt, a, b), /shapes differ/);
  a.dispose();
  assert.throws(() => relu(rt, a), /already disposed/);
  b.dispose();
});

test.run();
