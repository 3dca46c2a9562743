// The ONNX writer and exporter behind the peer benchmarks (bench/onnx-writer.ts,
// bench/onnx-export.ts): graphs they build run on onnxruntime-node's CPU provider and
// must match the float64 references of our own ops (test/cpu/*) on awkward shapes, so
// a peer's timing in bench/peers.ts is for the same computation as ours.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ort from 'onnxruntime-node';
import { prepareConv2d } from '../src/ops/conv2d.ts';
import { prepareLinear } from '../src/ops/linear.ts';
import { Exporter } from '../bench/onnx-export.ts';
import { float, OnnxGraph } from '../bench/onnx-writer.ts';
import { nchwToNhwc, nhwcToNchw } from '../bench/peer-kernels.ts';
import { conv2dRef } from './cpu/conv2d.ts';
import { adaptiveAvgPoolRef } from './cpu/pool.ts';
import { resizeBilinearRef } from './cpu/resize.ts';
import { testRuntime } from './_lib/gpu.ts';
import { uniform } from './_lib/random.ts';

type Shape4 = [number, number, number, number];

async function run(g: OnnxGraph, feeds: Record<string, { data: Float32Array; dims: number[] }>): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(g.toBytes(), { intraOpNumThreads: 1 });
  const inputs: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) inputs[k] = new ort.Tensor('float32', v.data, v.dims);
  const out = await session.run(inputs);
  await session.release();
  return Object.values(out)[0].data as Float32Array;
}

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  assert.is(got.length, want.length, `${what}: length`);
  let scale = 0, err = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]));
    err = Math.max(err, Math.abs(got[i] - want[i]));
  }
  assert.ok(scale > 0, `${what}: the reference is all zeros, which would prove nothing`);
  assert.ok(err <= 1e-5 * scale, `${what}: max abs error ${err} against max |ref| ${scale}`);
}

test('exported conv: Cin 5, stride 2, padding 2, dilation 2, bias, residual and ReLU match the float64 conv', async () => {
  const rt = await testRuntime();
  const xShape: Shape4 = [1, 9, 11, 5];
  const x = uniform(9 * 11 * 5, 1);
  const weight = uniform(6 * 5 * 3 * 3, 2);
  const bias = uniform(6, 3);
  const w = prepareConv2d(rt, { weight, shape: [6, 5, 3, 3], bias, label: 'c' });
  const base = { x, xShape, weight, wShape: [6, 5, 3, 3] as const, bias, stride: [2, 2] as const, padding: [2, 2] as const, dilation: [2, 2] as const };
  const { shape } = conv2dRef(base);
  const residual = uniform(shape[1] * shape[2] * 6, 4);
  const want = conv2dRef({ ...base, residual, relu: true }).out;
  const e = new Exporter('conv');
  const res = e.input('r', [1, 6, shape[1], shape[2]]);
  const y = await e.conv(e.input('x', [1, 5, 9, 11]), w, { stride: 2, padding: 2, dilation: 2, residual: res, relu: true });
  assert.equal(y.shape, [1, 6, shape[1], shape[2]]);
  e.output(y, 'y');
  const got = await run(e.g, { x: { data: nhwcToNchw(x, 9, 11, 5), dims: [1, 5, 9, 11] }, r: { data: nhwcToNchw(residual, shape[1], shape[2], 6), dims: [1, 6, shape[1], shape[2]] } });
  assertClose(nchwToNhwc(got, shape[1], shape[2], 6), want, 'conv');
  assert.is(e.flops, 2 * shape[1] * shape[2] * 6 * 5 * 9);
  w.dispose();
});

test('exported resize (both corner modes, up and down) and adaptive average pool (uneven bins) match the float64 references', async () => {
  const shape: Shape4 = [1, 7, 6, 3];
  const x = uniform(7 * 6 * 3, 5);
  const cases: { size: [number, number]; align: boolean }[] = [
    { size: [13, 4], align: true },
    { size: [3, 11], align: false },
    { size: [5, 5], align: false },
  ];
  for (const c of cases) {
    const e = new Exporter('resize');
    e.output(e.resize(e.input('x', [1, 3, 7, 6]), c.size, c.align), 'y');
    const got = await run(e.g, { x: { data: nhwcToNchw(x, 7, 6, 3), dims: [1, 3, 7, 6] } });
    assertClose(nchwToNhwc(got, c.size[0], c.size[1], 3), resizeBilinearRef(x, shape, c.size, c.align), `resize to ${c.size} align ${c.align}`);
  }
  for (const s of [1, 3, 4]) {
    const e = new Exporter('pool');
    // 7x7 into 3 or 4 bins: overlapping, uneven windows.
    const square = uniform(7 * 7 * 3, 6);
    e.output(e.adaptiveAvgPool(e.input('x', [1, 3, 7, 7]), s), 'y');
    const got = await run(e.g, { x: { data: nhwcToNchw(square, 7, 7, 3), dims: [1, 3, 7, 7] } });
    assertClose(nchwToNhwc(got, s, s, 3), adaptiveAvgPoolRef(square, [1, 7, 7, 3], [s, s]), `adaptive pool to ${s}`);
  }
});

test('exported linear with sigmoid, and a Gemm with a float attribute and transA, match float64', async () => {
  const rt = await testRuntime();
  const weight = uniform(3 * 10, 7), bias = uniform(3, 8), x = uniform(10, 9);
  const l = prepareLinear(rt, { weight, shape: [3, 10], bias, label: 'fc' });
  const e = new Exporter('linear');
  e.output(await e.linear(e.input('x', [1, 10, 1, 1]), l, 'sigmoid'), 'y');
  const want = Array.from({ length: 3 }, (_, o) => 1 / (1 + Math.exp(-(bias[o] + weight.slice(o * 10, o * 10 + 10).reduce((s, w, i) => s + w * x[i], 0)))));
  assertClose(await run(e.g, { x: { data: x, dims: [1, 10, 1, 1] } }), want, 'linear');
  l.dispose();

  // The memory read's first product: A^T B * alpha, A [2, 3], B [2, 4].
  const g = new OnnxGraph('gemm');
  g.output(g.node('Gemm', [g.input('a', [2, 3]), g.input('b', [2, 4])], { transA: 1, alpha: float(0.375) }, 'y'));
  const a = uniform(6, 10), b = uniform(8, 11);
  const ref = Array.from({ length: 12 }, (_, k) => 0.375 * (a[Math.floor(k / 4)] * b[k % 4] + a[3 + Math.floor(k / 4)] * b[4 + (k % 4)]));
  assertClose(await run(g, { a: { data: a, dims: [2, 3] }, b: { data: b, dims: [2, 4] } }), ref, 'gemm');
});

test('the writer refuses what it cannot encode faithfully', () => {
  const g = new OnnxGraph('bad');
  assert.throws(() => g.node('Gemm', ['a', 'b'], { alpha: 0.5 }), /'alpha': 0.5 is not an integer; wrap floats in float\(\)/);
  assert.throws(() => g.initializer([2, 3], new Float32Array(5)), /5 values for dims \[2, 3\]/);
});

test.run();
