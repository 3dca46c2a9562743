// rt.warmup() with the pipelines of f16-weight convolutions before any f16 weights
// were loaded in the process: a network's recorded pipeline list is warmed at load,
// ahead of its weights. The f16 kernels (conv2d_f16, conv2d_gpu_f16) are derived from
// kernels/conv2d*.wgsl on first use; warmup must find them too, not only dispatch.
// This file must stay free of other f16 work: it checks a fresh process.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { conv2d, prepareConv2d } from '../src/ops/conv2d.ts';
import { testRuntime } from './_lib/gpu.ts';
import { uniform } from './_lib/random.ts';

test('warmup compiles conv2d_f16 and conv2d_gpu_f16 pipelines before any f16 weights exist; the f16 conv then reuses them', async () => {
  const rt = await testRuntime();
  assert.ok(rt.hasFeature('shader-f16'), `this adapter lacks shader-f16 (${rt.describe()}); the f16 warmup needs it`);
  assert.ok(!rt.pipelines.specs().some((s) => s.kernel.endsWith('_f16')), 'no f16 pipeline before the warmup');
  const epilogue = { VEC4_IN: true, VEC4_OUT: true, HAS_RESIDUAL: false, RELU: true };
  await rt.warmup([
    { kernel: 'conv2d_f16', entryPoint: 'main', constants: { TM: 8, TN4: 1, WGX: 16, WGY: 16, BK: 16, ...epilogue } },
    { kernel: 'conv2d_gpu_f16', entryPoint: 'main', constants: { TM: 8, TN4: 2, WGX: 16, WGY: 16, BK: 16, ...epilogue } },
  ]);
  const cold = rt.pipelines.coldCompiles;
  const w = prepareConv2d(rt, { weight: uniform(8 * 8 * 9, 1), shape: [8, 8, 3, 3] }, 'f16');
  const x = rt.upload([1, 5, 5, 8], uniform(200, 2));
  const a = conv2d(rt, x, w, { padding: 1, relu: true, variant: 'medium' });
  const b = conv2d(rt, x, w, { padding: 1, relu: true, variant: 'gpu-128x128' });
  const [ya, yb] = [await a.read(), await b.read()];
  assert.is(rt.pipelines.coldCompiles, cold, 'both convolutions ran on the warmed pipelines');
  // Same weights, same sums in a different order: the two kernels agree to f32 rounding.
  for (let i = 0; i < ya.length; i++) assert.ok(Math.abs(ya[i] - yb[i]) <= 1e-5 * (1 + Math.abs(ya[i])), `element ${i}: ${ya[i]} vs ${yb[i]}`);
  for (const t of [w, x, a, b]) t.dispose();
});

test.run();
