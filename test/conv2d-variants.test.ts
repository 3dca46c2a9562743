// Every conv2d variant (tiled tiles and direct register shapes; the autotuner may
// pick any of them on some adapter) against the float64 reference on the awkward
// shapes: Cin not a multiple of 4 (padded weight rows), partial pixel and channel
// tiles, stride / padding / dilation, N = 2, residual + ReLU, a channel-offset
// output, and a non-finite input that must stay inside its receptive field. The CPU
// drivers' Winograd kernel (kind 'winograd') is the exception: test/conv2d-winograd.test.ts
// runs both its variants on every such case it can take (3x3, stride 1) and on its
// refusals; here each of its pipelines would compile for another 5-14 s (cold, lavapipe)
// for no case that file lacks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CONV2D_VARIANTS, conv2d, prepareConv2d, winogradVariantIneligible, type Conv2dVariantName } from '../src/ops/conv2d.ts';
import { conv2dCpuSupported } from '../src/ops/conv2d-cpu.ts';
import { tensorCoresEnabled } from '../src/ops/conv2d-mma.ts';
import type { Runtime } from '../src/runtime/runtime.ts';
import { testRuntime } from './_lib/gpu.ts';
import { uniform } from './_lib/random.ts';
import { assertClose } from './_lib/tolerance.ts';
import { conv2dRef } from './cpu/conv2d.ts';
import { channelWindow } from './_lib/channel-window.ts';
import { convCaseOnGpu, type ConvCase, type Shape4 } from './_lib/conv-case.ts';


const CASES: ConvCase[] = [
  { name: 'Cin 5 (padded to 8), Cout 7, 3x3/2 pad 1 on 13x11', x: [1, 13, 11, 5], w: [7, 5, 3, 3], stride: [2, 2], padding: [1, 1], relu: true },
  { name: 'Cin 20, Cout 70, N 2, residual + ReLU', x: [2, 9, 7, 20], w: [70, 20, 3, 3], padding: [1, 1], residual: true, relu: true },
  { name: 'Cin 10 (the 1026 tail), Cout 3, 1x1 on 17x9', x: [1, 17, 9, 10], w: [3, 10, 1, 1] },
  { name: 'Cin 3, Cout 16, dilation 2, asymmetric', x: [1, 12, 15, 3], w: [16, 3, 3, 5], stride: [2, 1], padding: [2, 3], dilation: [2, 2] },
  { name: 'Cin 1, Cout 1', x: [1, 11, 9, 1], w: [1, 1, 3, 3], padding: [1, 1] },
  { name: 'Cin 8, Cout 136, 145 pixels', x: [1, 29, 5, 8], w: [136, 8, 3, 3], padding: [1, 1], residual: true },
];

const NAMES = (Object.keys(CONV2D_VARIANTS) as Conv2dVariantName[]).filter((n) => CONV2D_VARIANTS[n].kind !== 'winograd');

// The CPU kernel needs subgroups of at least 8 (SwiftShader's are 4): there conv2d must
// refuse it with a plain message, which is what such an adapter checks instead. The
// Winograd GEMM kernels run 3x3 stride-1 convs only: elsewhere conv2d must refuse them
// with a RangeError naming what the conv lacks.
function refusedHere(rt: Runtime, variant: Conv2dVariantName, run: () => unknown, conv: { KH: number; KW: number; stride?: readonly [number, number] }): boolean {
  // The matrix-unit kernel runs only after enableTensorCores (its cases: test/conv2d-mma.test.ts).
  if (CONV2D_VARIANTS[variant].kind === 'mma' && !tensorCoresEnabled(rt)) {
    assert.throws(run, (e: Error) => e instanceof RangeError && e.message.includes('needs enableTensorCores(rt) first'));
    return true;
  }
  const why = winogradVariantIneligible(rt, CONV2D_VARIANTS[variant], { ...conv, stride: conv.stride ?? [1, 1] });
  if (why) {
    assert.throws(run, (e: Error) => e instanceof RangeError && e.message.includes(`Winograd conv variant needs ${why}`));
    return true;
  }
  if (CONV2D_VARIANTS[variant].kind !== 'cpu' || conv2dCpuSupported(rt)) return false;
  assert.throws(run, /needs the 'subgroups' feature with subgroups of at least 8/);
  return true;
}

for (const c of CASES) {
  test(`every conv2d variant: ${c.name}`, async () => {
    const rt = await testRuntime();
    const k = convCaseOnGpu(rt, c, 11);
    const { stride, padding, dilation } = k.options;
    for (const variant of NAMES) {
      if (refusedHere(rt, variant, () => conv2d(rt, k.x, k.w, { stride, padding, dilation, variant }), { KH: c.w[2], KW: c.w[3], stride })) continue;
      const y = conv2d(rt, k.x, k.w, { ...k.options, variant });
      assert.equal(y.shape, k.ref.shape);
      assertClose(await y.read(), k.ref.out, { k: k.k, label: `${variant}: ${c.name}` });
      y.dispose();
    }
    k.dispose();
  });
}

test('every conv2d variant writes a channel window (scalar stores) and leaves the rest', async () => {
  const rt = await testRuntime();
  const xShape: Shape4 = [1, 6, 5, 6];
  const xs = uniform(6 * 5 * 6, 21);
  const ws = uniform(3 * 6 * 9, 22);
  const ref = conv2dRef({ x: xs, xShape, weight: ws, wShape: [3, 6, 3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1] });
  const w = prepareConv2d(rt, { weight: ws, shape: [3, 6, 3, 3] });
  const x = rt.upload(xShape, xs);
  for (const variant of NAMES) {
    if (refusedHere(rt, variant, () => conv2d(rt, x, w, { padding: 1, variant }), { KH: 3, KW: 3 })) continue;
    const before = uniform(6 * 5 * 10, 23, 5, 6);
    const out = rt.upload([1, 6, 5, 10], before);
    conv2d(rt, x, w, { padding: 1, out: { tensor: out, channelOffset: 5 }, variant });
    const got = await out.read();
    const window = channelWindow(got, before, { pixels: 30, channels: 10, offset: 5, count: 3, label: variant });
    assertClose(window, ref.out, { k: 54, label: `${variant} window` });
    out.dispose();
  }
  x.dispose();
  w.dispose();
});

// Cin 5 pads to 8: the padding channels 5..7 of a pixel must read nothing (they would
// be the next pixel's channels 0..2, and Inf * 0 weight is NaN).
test('every conv2d variant keeps a non-finite input inside its receptive field (Cin 5)', async () => {
  const rt = await testRuntime();
  const xShape: Shape4 = [1, 6, 5, 5];
  const xs = uniform(6 * 5 * 5, 30);
  const hot = 3 * 5 + 2;
  xs[hot * 5] = Infinity;
  const ws = uniform(8 * 5, 31);
  const ref = conv2dRef({ x: xs, xShape, weight: ws, wShape: [8, 5, 1, 1], stride: [1, 1], padding: [0, 0], dilation: [1, 1] });
  const w = prepareConv2d(rt, { weight: ws, shape: [8, 5, 1, 1] });
  const x = rt.upload(xShape, xs);
  const keep = (_: number, i: number): boolean => Math.floor(i / 8) !== hot;
  for (const variant of NAMES) {
    if (refusedHere(rt, variant, () => conv2d(rt, x, w, { variant }), { KH: 1, KW: 1 })) continue;
    const y = conv2d(rt, x, w, { variant });
    const got = await y.read();
    assertClose(got.filter(keep), ref.out.filter(keep), { k: 5, label: `${variant}: other pixels` });
    y.dispose();
  }
  x.dispose();
  w.dispose();
});

test('conv2d refuses an unknown variant name', async () => {
  const rt = await testRuntime();
  const w = prepareConv2d(rt, { weight: uniform(4 * 4, 1), shape: [4, 4, 1, 1] });
  const x = rt.upload([1, 2, 2, 4], uniform(16, 2));
  assert.throws(() => conv2d(rt, x, w, { variant: 'fastest' as Conv2dVariantName }), /unknown variant 'fastest'/);
  assert.throws(() => conv2d(rt, x, w, { variant: { kind: 'direct', direct: { DWG: 64, DP: 3, DCN4: 1 } } }), /unsupported direct variant/);
  x.dispose();
  w.dispose();
});

test.run();
