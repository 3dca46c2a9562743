import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sizeClass } from '../src/runtime/buffer-pool.ts';
import { acquireDevice, importDawn, NoAdapterError } from '../src/runtime/device.ts';
import { PipelineCache } from '../src/runtime/pipelines.ts';
import { GpuKernelError, grid1d } from '../src/runtime/runtime.ts';
import { viewOf } from '../src/runtime/tensor.ts';
import { relu } from '../src/ops/elementwise.ts';
import { testRuntime } from './_lib/gpu.ts';

test('device: requests the optional features the adapter offers and raised limits', async () => {
  const rt = await testRuntime();
  assert.ok(rt.adapter.maxStorageBufferBindingSize >= 128 * 1024 * 1024, 'binding size raised to the adapter maximum');
  assert.ok(rt.adapter.maxComputeWorkgroupStorageSize >= 16384);
  for (const f of ['shader-f16', 'subgroups', 'timestamp-query']) {
    // Each optional feature is on the device exactly when the adapter has it.
    assert.is(rt.hasFeature(f), rt.adapter.features.includes(f));
  }
});

test('device: no adapter gives one clear message naming the CPU drivers', async () => {
  const nav = globalThis as { navigator?: unknown };
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: { requestAdapter: async () => null } }, configurable: true, writable: true });
  try {
    await acquireDevice();
    assert.unreachable('should have thrown');
  } catch (e) {
    assert.instance(e, NoAdapterError);
    assert.match((e as Error).message, /lavapipe/);
    assert.match((e as Error).message, /vk_swiftshader_icd\.json/);
    assert.match((e as Error).message, /VK_ICD_FILENAMES/);
  } finally {
    if (saved) Object.defineProperty(globalThis, 'navigator', saved);
    else delete nav.navigator;
  }
});

test('device: Dawn (npm webgpu, an optional dependency) missing or without a build says what to install; other load errors pass through', async () => {
  const dawn = await importDawn();
  assert.type(dawn.create, 'function', 'the installed package loads');
  const failing = (code: string, message: string) => async () => {
    throw Object.assign(new Error(message), { code });
  };
  for (const [code, message] of [['ERR_MODULE_NOT_FOUND', "Cannot find package 'webgpu' imported from /x/device.ts"], ['MODULE_NOT_FOUND', "Cannot find module '/x/webgpu/dist/freebsd-x64/dawn.node'"]]) {
    try {
      await importDawn(failing(code, message));
      assert.unreachable('should have thrown');
    } catch (e) {
      assert.match((e as Error).message, /needs Dawn, the npm package 'webgpu'/);
      assert.match((e as Error).message, /npm install webgpu/);
      assert.ok((e as Error).message.includes(message), 'the loader\'s own message is kept');
    }
  }
  try {
    await importDawn(failing('ERR_DLOPEN_FAILED', 'libvulkan.so.1: cannot open shared object file'));
    assert.unreachable('should have thrown');
  } catch (e) {
    assert.is((e as Error).message, 'libvulkan.so.1: cannot open shared object file', 'not mistaken for a missing package');
  }
});

test('a validation error surfaces as an exception naming the kernel', async () => {
  const rt = await testRuntime();
  const a = rt.upload([4], [1, 2, 3, 4]);
  // One buffer bound as both read-only and writable storage in one dispatch: a usage conflict WebGPU rejects.
  const uniforms = { count: 4, lo: 0, hi: 0, scale: 1, shift: 0 };
  rt.dispatch({ kernel: 'elementwise', label: 'deliberately-broken', constants: { OP: 1 }, bindings: [a, a, a], uniforms, workgroups: [1] });
  try {
    await rt.sync();
    assert.unreachable('sync should throw');
  } catch (e) {
    assert.instance(e, GpuKernelError);
    assert.match((e as Error).message, /deliberately-broken/);
  }
  // The runtime stays usable after a reported error.
  const b = relu(rt, a);
  assert.equal(Array.from(await b.read()), [1, 2, 3, 4]);
  a.dispose();
  b.dispose();
});

test('unknown kernel names fail at dispatch with the kernel name', async () => {
  const rt = await testRuntime();
  assert.throws(() => rt.dispatch({ kernel: 'no_such_kernel', bindings: [], uniforms: {}, workgroups: [1] }), /no_such_kernel/);
});

test('buffer pool: a released buffer goes at once to a tensor GPU commands write, to an upload only after a submit', async () => {
  const rt = await testRuntime();
  await rt.sync();
  const a = rt.upload([1000], Float32Array.from({ length: 1000 }, (_, i) => i - 500), 'f32', 'first');
  const buffer = a.buffer;
  const r = relu(rt, a); // a pending dispatch reads a
  a.dispose();
  // An upload's writeBuffer would run before that dispatch: it must not get a's buffer.
  const b = rt.upload([1000], new Float32Array(1000).fill(-7), 'f32', 'second');
  assert.is.not(b.buffer, buffer, 'an upload does not get a buffer a pending command reads');
  // A dispatch encoded now runs after the one reading a: its output may take a's buffer.
  const c = relu(rt, b);
  assert.is(c.buffer, buffer, 'a GPU-written tensor reuses it at once');
  assert.equal(Array.from(await r.read()), Array.from({ length: 1000 }, (_, i) => Math.max(0, i - 500)), 'the earlier reader saw the old data');
  assert.ok((await c.read()).every((v) => v === 0), 'the new owner holds its own result');
  c.dispose();
  rt.flush();
  const d = rt.upload([1000], new Float32Array(1000), 'f32', 'third');
  assert.is(d.buffer, buffer, 'an upload reuses it after the submit');
  for (const t of [b, d, r]) t.dispose();
});

test('reading or using a disposed tensor throws', async () => {
  const rt = await testRuntime();
  const a = rt.upload([2], [1, 2]);
  a.dispose();
  a.dispose(); // idempotent
  let readError: unknown = null;
  await a.read().catch((e) => (readError = e));
  assert.match(String(readError), /disposed/);
  assert.throws(() => relu(rt, a), /disposed/);
});

test('upload checks the element count; oversized tensors are refused with the limit', async () => {
  const rt = await testRuntime();
  assert.throws(() => rt.upload([2, 2], [1, 2, 3]), /4 elements, data has 3/);
  const tooBig = Math.floor(rt.adapter.maxStorageBufferBindingSize / 4) + 1;
  assert.throws(() => rt.empty([tooBig]), /maxStorageBufferBindingSize/);
});

test('viewOf: a tensor\'s first values under another shape, read through the same buffer; never larger than the tensor', async () => {
  const rt = await testRuntime();
  const t = rt.upload([2, 3], Float32Array.from([1, 2, 3, 4, 5, 6]));
  const v = viewOf(t, [5]);
  assert.is(v.buffer, t.buffer);
  assert.equal(Array.from(await v.read()), [1, 2, 3, 4, 5]);
  assert.throws(() => viewOf(t, [7]), /larger than \[2, 3\]/);
  t.dispose();
});

test('pipeline cache: one pipeline per override values in any order; bad overrides refused at every call', async () => {
  const rt = await testRuntime();
  const cache = new PipelineCache(rt.device);
  const a = cache.get('elementwise', 'main', { OP: 1, WORKGROUP_SIZE: 64 });
  assert.is(cache.get('elementwise', 'main', { WORKGROUP_SIZE: 64, OP: 1 }), a);
  assert.is(cache.get('elementwise', 'main', { OP: 1, WORKGROUP_SIZE: 64 }), a);
  assert.is.not(cache.get('elementwise', 'main', { OP: 2, WORKGROUP_SIZE: 64 }), a);
  assert.is(cache.coldCompiles, 2);
  for (let i = 0; i < 2; i++) {
    assert.throws(() => cache.get('elementwise', 'main', { OP: -1, WORKGROUP_SIZE: 64 }), /override 'OP': u32 must be an integer/);
    assert.throws(() => cache.get('elementwise', 'main', { OPS: 1 }), /override 'OPS' is not declared/);
  }
});

test('sizeClass and grid1d', () => {
  assert.is(sizeClass(1), 256);
  assert.is(sizeClass(1000), 1024);
  assert.is(sizeClass(1025), 1536);
  assert.is(sizeClass(1537), 2048);
  assert.equal(grid1d(10), [10, 1]);
  const [x, y] = grid1d(200000);
  assert.ok(x <= 65535 && x * y >= 200000);
});

test.run();
