// When the runtime submits (RuntimeOptions.firstSubmitDispatches): the GPU starts nothing
// before a submit, so after it has gone idle (a read or sync) the first batch goes after
// a few dispatches and each later one waits for twice as many, up to
// maxDispatchesPerSubmit; on CPU drivers every maxDispatchesPerSubmit dispatches. GPU
// defaults are checked on Dawn's null backend (an adapter that is no CPU driver).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { relu } from '../src/ops/elementwise.ts';
import { FIRST_SUBMIT_DISPATCHES, Runtime } from '../src/runtime/runtime.ts';
import { nullBackendGpu } from './_lib/dawn-null.ts';
import { testRuntime } from './_lib/gpu.ts';

/** After how many of `n` dispatches (1-based) each submit happened, from an idle GPU and a compiled pipeline. */
async function submitPoints(rt: Runtime, n: number): Promise<number[]> {
  const x = rt.upload([4], new Float32Array([1, -2, 3, -4]));
  relu(rt, x).dispose(); // compiles (a compile counts in the batch like a dispatch)
  await rt.sync();
  const points: number[] = [];
  for (let i = 1; i <= n; i++) {
    const before = rt.submitCount;
    relu(rt, x).dispose();
    if (rt.submitCount > before) points.push(i);
  }
  x.dispose();
  return points;
}

test('after an idle GPU the first submit comes early and later ones double, up to maxDispatchesPerSubmit; a read starts over', async () => {
  const rt = await Runtime.create({ firstSubmitDispatches: 4, maxDispatchesPerSubmit: 20 });
  try {
    // Batches of 4, 8, 16, then 20 each.
    assert.equal(await submitPoints(rt, 70), [4, 12, 28, 48, 68]);
    // 70 dispatches left 2 in the batch: a read submits them with its own and waits for the GPU.
    const x = rt.upload([4], new Float32Array(4));
    const before = rt.submitCount;
    await relu(rt, x).read();
    assert.is(rt.submitCount - before, 1);
    const after: number[] = [];
    for (let i = 1; i <= 14; i++) {
      const n = rt.submitCount;
      relu(rt, x).dispose();
      if (rt.submitCount > n) after.push(i);
    }
    x.dispose();
    assert.equal(after, [4, 12], 'after the read the ramp starts over');
  } finally {
    rt.destroy();
  }
});

test('a CPU driver submits every maxDispatchesPerSubmit dispatches (no ramp): its threads share the cores with the encoding', async () => {
  const rt = await testRuntime();
  if (!/llvmpipe|swiftshader/i.test(rt.describe())) throw new Error(`this test wants the CI's CPU driver, got ${rt.describe()}`);
  await rt.sync();
  assert.equal(await submitPoints(rt, 200), [96, 192]);
});

test('a GPU (here Dawn\'s null backend) ramps from FIRST_SUBMIT_DISPATCHES by default', async () => {
  const had = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  // The instance is held for the process (test/_lib/dawn-null.ts): one collected while its device lives aborts the process.
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: nullBackendGpu() }, configurable: true, writable: true });
  let rt: Runtime;
  try {
    rt = await Runtime.create();
  } finally {
    if (had) Object.defineProperty(globalThis, 'navigator', had);
    else delete (globalThis as { navigator?: unknown }).navigator;
  }
  try {
    // Batches of FIRST_SUBMIT_DISPATCHES, doubling up to the default 96 a batch.
    const expected: number[] = [];
    for (let at = 0, batch = FIRST_SUBMIT_DISPATCHES; at + batch <= 400; batch = Math.min(2 * batch, 96)) expected.push((at += batch));
    assert.equal(await submitPoints(rt, 400), expected);
    assert.ok(expected[0] === FIRST_SUBMIT_DISPATCHES && expected.at(-1)! - expected.at(-2)! === 96, String(expected));
  } finally {
    rt.destroy();
  }
});

test('submit counts must be positive integers, checked before a device is opened', async () => {
  for (const [options, message] of [[{ firstSubmitDispatches: 0 }, /firstSubmitDispatches must be a positive integer, got 0/], [{ maxDispatchesPerSubmit: 2.5 }, /maxDispatchesPerSubmit must be a positive integer, got 2.5/]] as const) {
    await Runtime.create(options).then(
      (rt) => {
        rt.destroy();
        assert.unreachable('created');
      },
      (e: Error) => assert.match(e.message, message),
    );
  }
});

test.run();
