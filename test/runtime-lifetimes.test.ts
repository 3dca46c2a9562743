// Tensor lifetimes (scopes, weights owned by the load), device loss, and the
// memory network's input checks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { readSafetensors } from '../src/io/safetensors-node.ts';
import { MemoryNetwork } from '../src/networks/mem3d/memory-network.ts';
import { relu } from '../src/ops/elementwise.ts';
import { DeviceLostError, GpuKernelError, Runtime } from '../src/runtime/runtime.ts';
import type { Tensor } from '../src/runtime/tensor.ts';
import { WeightMismatchError, weightsSliceLayout } from '../src/weights/loader.ts';
import { synthWeightSource, type SynthManifest } from '../src/weights/safetensors-source.ts';
import type { WeightSource } from '../src/weights/source.ts';
import { testRuntime } from './_lib/gpu.ts';

const SYNTH = new URL('../weights/qamn-synth-v1/', import.meta.url).pathname;

function synthQamn(): WeightSource {
  const manifest = JSON.parse(readFileSync(`${SYNTH}qamn_manifest.json`, 'utf8')) as SynthManifest;
  return synthWeightSource(manifest, readSafetensors(`${SYNTH}qamn_small.safetensors`));
}

const live = (rt: Runtime) => rt.memoryStats().liveBytes;

test('scope: releases what it created except its result; the result joins the enclosing scope', async () => {
  const rt = await testRuntime();
  const x = rt.upload([4], [-1, 2, -3, 4], 'f32', 'x');
  const start = live(rt);
  let inner: Tensor[] = [];
  const out = rt.scope(() => {
    const a = relu(rt, x);
    const b = relu(rt, a);
    inner = [a, b];
    return b;
  });
  assert.is(out, inner[1]);
  assert.ok(inner[0].disposed, 'an intermediate is released at scope end');
  assert.not.ok(out.disposed, 'the result survives');
  assert.not.ok(x.disposed, 'a tensor from outside the scope is never touched');
  assert.equal(Array.from(await out.read()), [0, 2, 0, 4]);
  out.dispose();
  assert.is(live(rt), start, 'allocated bytes back where they started');

  // Nested: the inner result belongs to the outer scope, which releases it unless it returns it too.
  let fromInner: Tensor | null = null;
  const outer = rt.scope(() => {
    fromInner = rt.scope(() => relu(rt, relu(rt, x)));
    assert.not.ok(fromInner.disposed);
    return { kept: [relu(rt, fromInner)], label: 'arrays and objects are searched' };
  });
  assert.ok(fromInner!.disposed, 'released by the outer scope');
  assert.not.ok(outer.kept[0].disposed);
  outer.kept[0].dispose();
  assert.is(live(rt), start);

  // keep: out of every scope, released only explicitly.
  let kept: Tensor | null = null;
  rt.scope(() => {
    kept = rt.keep(relu(rt, x));
  });
  assert.not.ok(kept!.disposed, 'a kept tensor outlives the scope');
  kept!.dispose();
  assert.is(live(rt), start);
  x.dispose();
});

test('scope: a throwing function releases everything it created; async scopes close when they settle', async () => {
  const rt = await testRuntime();
  const x = rt.upload([4], [1, 2, 3, 4]);
  const start = live(rt);
  assert.throws(() => rt.scope(() => {
    relu(rt, x);
    throw new Error('boom');
  }), /boom/);
  assert.is(live(rt), start);
  const made: Tensor[] = [];
  const result = await rt.scope(async () => {
    made.push(relu(rt, x));
    await rt.sync();
    made.push(relu(rt, made[0]));
    return made[1];
  });
  assert.ok(made[0].disposed);
  assert.equal(Array.from(await result.read()), [1, 2, 3, 4]);
  result.dispose();
  await rt.scope(async () => {
    relu(rt, x);
    throw new Error('async boom');
  }).then(() => assert.unreachable('should reject'), (e: Error) => assert.match(e.message, /async boom/));
  assert.is(live(rt), start);
  x.dispose();
});

test('device loss: every later call, upload included, names the loss and its reason', async () => {
  const rt = await Runtime.create(); // its own device: the shared test runtime stays alive
  const x = rt.upload([4], [1, 2, 3, 4]);
  const pending = relu(rt, x); // encoded, not yet submitted
  rt.device.destroy();
  await rt.device.lost;
  const lost = (fn: () => unknown, during: RegExp) => {
    try {
      fn();
      assert.unreachable('should throw');
    } catch (e) {
      assert.instance(e, DeviceLostError);
      assert.not.instance(e, GpuKernelError, 'not blamed on kernels');
      assert.match((e as Error).message, /device was lost \(destroyed/);
      assert.match((e as Error).message, during);
    }
  };
  lost(() => rt.upload([2], [1, 2], 'f32', 'after-loss'), /upload 'after-loss'/);
  lost(() => relu(rt, x), /cannot run/);
  lost(() => rt.empty([2]), /creating tensor/);
  for (const call of [() => rt.sync(), () => pending.read()]) {
    const e = await call().then(() => null, (err: unknown) => err);
    assert.instance(e, DeviceLostError);
    assert.match((e as Error).message, /device was lost \(destroyed/);
  }
});

test('weights owned by the load: load + use + dispose of the synth-v1 memory network returns every allocated byte', async () => {
  const rt = await testRuntime();
  await rt.sync();
  const start = live(rt);
  const net = MemoryNetwork.load(rt, synthQamn(), { variant: 'qamn' });
  assert.is(net.sliceLayout, 'rows-first-axis', 'synth-v1 states the seed layout');
  assert.is(live(rt) - start, net.weightBytes, 'weightBytes is what the load allocated');
  const frame = rt.upload([1, 32, 32, 3], Float32Array.from({ length: 32 * 32 * 3 }, (_, i) => Math.sin(i)));
  const mask = rt.upload([1, 32, 32, 1], Float32Array.from({ length: 32 * 32 }, (_, i) => (i % 7 < 3 ? 1 : 0)));
  const entry = net.memorize(frame, mask);
  const out = net.segment(frame, [entry]);
  await out.probability.read();
  const odd = rt.upload([1, 48, 32, 3], new Float32Array(48 * 32 * 3));
  assert.throws(() => net.segment(odd, [entry]), /memory entry 0 was built from 32x32 frames, this frame is 48x32/);
  const nan = rt.upload([1, 32, 32, 3], Float32Array.from({ length: 32 * 32 * 3 }, (_, i) => (i === 77 ? NaN : 0)), 'f32', 'nan frame');
  assert.throws(() => net.memorize(nan, mask), /memorize: the frame 'nan frame' holds a non-finite value \(NaN or Inf\) at element 77/);
  assert.throws(() => net.segment(nan, [entry]), /segment: the frame 'nan frame' holds a non-finite/);
  const inf = rt.upload([1, 32, 32, 1], Float32Array.from({ length: 32 * 32 }, (_, i) => (i === 5 ? Infinity : 0)), 'f32', 'inf mask');
  assert.throws(() => net.memorize(frame, inf), /the mask 'inf mask' holds a non-finite value .* at element 5/);
  for (const t of [out, entry, frame, mask, odd, nan, inf]) t.dispose();
  net.dispose();
  assert.is(live(rt), start, 'every byte the load and the steps allocated is released');
  assert.throws(() => net.memorize(frame, mask), /this MemoryNetwork was disposed/);
});

test('a load that fails while uploading releases what it uploaded; a mismatch uploads nothing', async () => {
  const rt = await testRuntime();
  const base = synthQamn();
  const start = live(rt);
  let reads = 0;
  const failing: WeightSource = { ...base, description: 'failing', names: () => base.names(), has: (n) => base.has(n), shape: (n) => base.shape(n), float32: (n) => {
    if (++reads > 40) throw new Error('disk error while reading');
    return base.float32(n);
  } };
  assert.throws(() => MemoryNetwork.load(rt, failing, { variant: 'qamn' }), /disk error/);
  assert.ok(reads > 40, 'some weights were uploaded before the failure');
  assert.is(live(rt), start);
  const renamed: WeightSource = { ...failing, names: () => base.names().map((n) => (n === 'fc2.bias' ? 'fc2.b' : n)), float32: () => assert.unreachable('no tensor is read before the check passes') as never };
  assert.throws(() => MemoryNetwork.load(rt, renamed, { variant: 'qamn' }), (e: unknown) => e instanceof WeightMismatchError && /missing \(1\): fc2\.bias \[1\]/.test((e as Error).message) && /unexpected \(1\): fc2\.b/.test((e as Error).message));
  assert.is(live(rt), start);
});

test('slice layout: from the metadata, overridden by the option, undefined when unstated, refused when unknown', () => {
  const base = synthQamn();
  const bare: WeightSource = { ...base, metadata: {} };
  assert.is(weightsSliceLayout(base, undefined), 'rows-first-axis');
  assert.is(weightsSliceLayout(base, 'rows-second-axis'), 'rows-second-axis');
  assert.is(weightsSliceLayout(bare, undefined), undefined);
  assert.throws(() => weightsSliceLayout({ ...base, metadata: { slice_layout: 'columns' } }, undefined), /metadata 'slice_layout': slice layout 'columns' is not one of rows-first-axis, rows-second-axis/);
  assert.throws(() => MemoryNetwork.load(null as unknown as Runtime, { ...base, metadata: { slice_layout: 'x' } }, { variant: 'qamn' }), /slice layout 'x'/, 'refused before anything touches the GPU');
});

test.run();
