// Warm start on drivers that compile at first dispatch (src/runtime/driver-jit.ts): the
// recorded dispatches run once on helper devices without errors, a broken record is
// refused plainly, and a warmed conv (awkward shape, residual + ReLU) then computes the
// float64 reference's result. Whether the priming saves time is a benchmark's question
// (bench/step-profile.ts --warm; bench/RESULTS.md), not this file's.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { conv2d, prepareConv2d } from '../src/ops/conv2d.ts';
import { acquireDevice } from '../src/runtime/device.ts';
import { compilesAtFirstDispatch, primeDriverJit } from '../src/runtime/driver-jit.ts';
import { Runtime } from '../src/runtime/runtime.ts';
import { conv2dRef } from './cpu/conv2d.ts';
import { testRuntime } from './_lib/gpu.ts';
import { uniform } from './_lib/random.ts';
import { assertClose } from './_lib/tolerance.ts';

test('only llvmpipe is taken for a driver that compiles at first dispatch', () => {
  assert.ok(compilesAtFirstDispatch('llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6)', ''));
  assert.ok(compilesAtFirstDispatch('', 'llvmpipe-llvm-15-0-6-256-bits-'));
  assert.not.ok(compilesAtFirstDispatch('', ''));
  assert.not.ok(compilesAtFirstDispatch('NVIDIA H200', 'nvidia-h200'));
  assert.not.ok(compilesAtFirstDispatch('SwiftShader Device (Subzero)', 'swiftshader'));
});

const X: [number, number, number, number] = [2, 7, 5, 6];
const W: [number, number, number, number] = [10, 6, 3, 3];

test('recorded dispatches run on helper devices, each helper taking its share; a broken record is refused', async () => {
  const rt = await testRuntime();
  const w = prepareConv2d(rt, { weight: uniform(10 * 6 * 9, 1), shape: W, bias: uniform(10, 2) });
  const x = rt.upload(X, uniform(2 * 7 * 5 * 6, 3));
  const records = rt.recordDispatches(() => conv2d(rt, conv2d(rt, x, w, { padding: 1, relu: true, variant: 'cpu-p1c16' }), prepareConv2d(rt, { weight: uniform(4 * 10, 4), shape: [4, 10, 1, 1] }), { variant: 'direct-p1c4' }));
  assert.is(records.length, 2);
  assert.equal(records.map((r) => r.spec.kernel), ['conv2d_cpu', 'conv2d']);
  let devices = 0;
  const make = async () => { devices++; return (await acquireDevice({})).device; };
  await primeDriverJit(records, make, 8);
  assert.is(devices, 2, 'no more helpers than pipelines');
  await primeDriverJit(records, make, 1);
  assert.is(devices, 3);
  const broken = { ...records[0], storageBytes: records[0].storageBytes.slice(1) };
  await primeDriverJit([broken], make, 1).then(
    () => assert.unreachable('a dispatch missing a binding must be refused'),
    (e: Error) => assert.match(e.message, /^JIT priming: /),
  );
  w.dispose();
  x.dispose();
});

test('warmupFrom primes the JIT, and the warmed conv then matches the float64 reference', async () => {
  const rt = await Runtime.create({ jitHelpers: 2 });
  try {
    const ws = uniform(10 * 6 * 9, 11);
    const bias = uniform(10, 12);
    const xs = uniform(2 * 7 * 5 * 6, 13);
    const ref = conv2dRef({ x: xs, xShape: X, weight: ws, wShape: W, bias, stride: [1, 1], padding: [1, 1], dilation: [1, 1] });
    const res = uniform(ref.out.length, 14);
    const want = conv2dRef({ x: xs, xShape: X, weight: ws, wShape: W, bias, stride: [1, 1], padding: [1, 1], dilation: [1, 1], residual: res, relu: true });
    const w = prepareConv2d(rt, { weight: ws, shape: W, bias });
    const x = rt.upload(X, xs);
    const r = rt.upload(want.shape, res);
    const run = () => conv2d(rt, x, w, { padding: 1, residual: r, relu: true, variant: 'cpu-p2c32' });
    assert.is(await rt.warmupFrom(run), 1);
    const y = run();
    assertClose(await y.read(), want.out, { k: 54, label: 'after warmupFrom' });
    for (const t of [w, x, r, y]) t.dispose();
  } finally {
    rt.destroy();
  }
});

test('jitHelpers must be a whole number', async () => {
  await Runtime.create({ jitHelpers: -1 }).then(
    () => assert.unreachable('jitHelpers -1 must be refused'),
    (e: Error) => assert.match(e.message, /jitHelpers must be a whole number, got -1/),
  );
});

test.run();
