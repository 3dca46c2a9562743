import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { conv2d, prepareConv2d } from '../src/ops/conv2d.ts';
import { testRuntime } from './_lib/gpu.ts';
import { batchNorm } from './_lib/op-cases/conv2d.ts';
import { assertCase, casesOf, UNIT_TIERS } from './_lib/op-cases/index.ts';
import { uniform } from './_lib/random.ts';
import { assertClose } from './_lib/tolerance.ts';
import { conv2dRef } from './cpu/conv2d.ts';

// The shapes, tiles and big dispatch: test/_lib/op-cases/conv2d.ts.
for (const c of casesOf('conv2d', UNIT_TIERS)) test(c.name, async () => assertCase(await testRuntime(), c));

// Scalar path (Cout 3 at offset 5 of 10) and vec4 path (Cout 8 at offset 4 of 16).
for (const [cout, offset, channels] of [[3, 5, 10], [8, 4, 16]]) {
  test(`conv2d writes channels [${offset}, ${offset + cout}) of a ${channels}-channel output and leaves the rest`, async () => {
    const rt = await testRuntime();
    const xShape: [number, number, number, number] = [2, 6, 5, 4];
    const wShape: [number, number, number, number] = [cout, 4, 3, 3];
    const xs = uniform(2 * 6 * 5 * 4, 7);
    const ws = uniform(cout * 4 * 9, 8);
    const bias = uniform(cout, 9);
    const res = uniform(2 * 6 * 5 * cout, 10);
    const ref = conv2dRef({ x: xs, xShape, weight: ws, wShape, bias, stride: [1, 1], padding: [1, 1], dilation: [1, 1], residual: res, relu: true });
    const before = uniform(2 * 6 * 5 * channels, 11, 5, 6);
    const out = rt.upload([2, 6, 5, channels], before);
    const w = prepareConv2d(rt, { weight: ws, shape: wShape, bias });
    const x = rt.upload(xShape, xs);
    const r = rt.upload([2, 6, 5, cout], res);
    const y = conv2d(rt, x, w, { padding: 1, residual: r, relu: true, out: { tensor: out, channelOffset: offset } });
    assert.is(y, out);
    const got = await out.read();
    const window = new Float32Array(ref.out.length);
    for (let p = 0; p < 2 * 6 * 5; p++) {
      for (let c = 0; c < channels; c++) {
        const v = got[p * channels + c];
        if (c >= offset && c < offset + cout) window[p * cout + c - offset] = v;
        else if (v !== before[p * channels + c]) assert.unreachable(`pixel ${p} channel ${c} changed from ${before[p * channels + c]} to ${v}`);
      }
    }
    assertClose(window, ref.out, { k: 36, label: 'channel window' });
    for (const t of [x, r, out]) t.dispose();
    w.dispose();
  });
}

// K = 20 leaves the second 16-deep K tile three-quarters past the end of the
// reduction; those slots must read nothing, not merely meet zero weights
// (Inf * 0 would leak NaN into the pixel above).
test('conv2d keeps a non-finite input inside its receptive field', async () => {
  const rt = await testRuntime();
  const xShape: [number, number, number, number] = [1, 6, 5, 20];
  const xs = uniform(6 * 5 * 20, 30);
  const hot = 3 * 5 + 2;
  xs[hot * 20 + 1] = Infinity;
  const ws = uniform(8 * 20, 31);
  const ref = conv2dRef({ x: xs, xShape, weight: ws, wShape: [8, 20, 1, 1], stride: [1, 1], padding: [0, 0], dilation: [1, 1] });
  const w = prepareConv2d(rt, { weight: ws, shape: [8, 20, 1, 1] });
  const x = rt.upload(xShape, xs);
  const y = conv2d(rt, x, w);
  const got = await y.read();
  const keep = (_: number, i: number): boolean => Math.floor(i / 8) !== hot;
  assert.ok(got.slice(hot * 8, hot * 8 + 8).every((v) => !Number.isFinite(v)), 'the Inf pixel stays non-finite');
  assertClose(got.filter(keep), ref.out.filter(keep), { k: 20, label: 'other pixels' });
  x.dispose();
  y.dispose();
  w.dispose();
});

test('conv2d rejects bad inputs with the op and shapes in the message', async () => {
  const rt = await testRuntime();
  const w = prepareConv2d(rt, { weight: uniform(4 * 3 * 9, 1), shape: [4, 3, 3, 3], label: 'c1' });
  const x = rt.upload([1, 5, 5, 3], uniform(75, 2));
  const x4 = rt.upload([1, 5, 5, 4], uniform(100, 3));
  assert.throws(() => conv2d(rt, x4, w), /conv2d 'c1'.*\[1, 5, 5, 4\] has 4 channels.*expect 3/);
  assert.throws(() => conv2d(rt, x, w, { residual: x4 }), /residual \[1, 5, 5, 4\] must match the output \[1, 3, 3, 4\]/);
  assert.throws(() => conv2d(rt, x, w, { dilation: 3 }), /output would be -1x-1/);
  assert.throws(() => conv2d(rt, x, w, { stride: 0 }), /stride must be integers >= 1/);
  assert.throws(() => conv2d(rt, x, w, { padding: [1, -1] }), /padding must be integers >= 0/);
  assert.throws(() => conv2d(rt, x, w, { tile: { TM: 8, TN4: 1, WGX: 4, WGY: 4, BK: 16 } }), /unsupported tile/);
  const big = rt.empty([1, 3, 3, 6]);
  assert.throws(() => conv2d(rt, x, w, { out: { tensor: big, channelOffset: 3 } }), /channel offset 3 \+ 4 output channels exceeds the output tensor's 6 channels/);
  assert.throws(() => conv2d(rt, x, w, { out: { tensor: big, channelOffset: -1 } }), /channel offset -1/);
  assert.throws(() => conv2d(rt, x, w, { padding: 1, out: { tensor: big, channelOffset: 0 } }), /output tensor \[1, 3, 3, 6\] must be \[1, 5, 5, C\]/);
  const same = prepareConv2d(rt, { weight: uniform(3 * 3, 4), shape: [3, 3, 1, 1] });
  assert.throws(() => conv2d(rt, x, same, { out: { tensor: x, channelOffset: 0 } }), /must not be the input/);
  const xi = rt.upload([1, 5, 5, 3], new Int32Array(75), 'i32');
  assert.throws(() => conv2d(rt, xi, w), /expects f32 input, got i32/);
  assert.throws(() => prepareConv2d(rt, { weight: new Float32Array(10), shape: [4, 3, 3, 3] }), /weight has 10 values.*needs 108/);
  assert.throws(() => prepareConv2d(rt, { weight: new Float32Array(108), shape: [4, 3, 3, 3], batchNorm: batchNorm(3, 5) }), /batchNorm.weight has 3 values, expected 4/);
  x.dispose();
  assert.throws(() => conv2d(rt, x, same), /already disposed/);
  w.dispose();
  assert.throws(() => conv2d(rt, x4, w), /conv2d weights 'c1' were already disposed/);
  for (const t of [x4, big, xi]) t.dispose();
  same.dispose();
});

test.run();
