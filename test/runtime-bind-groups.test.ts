// The runtime's bind-group cache (src/runtime/bind-groups.ts) and the buffer pool's
// oldest-first reuse that makes repeated steps hit it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { affineClamp, relu } from '../src/ops/elementwise.ts';
import { BindGroupCache } from '../src/runtime/bind-groups.ts';
import { BufferPool } from '../src/runtime/buffer-pool.ts';
import { testRuntime } from './_lib/gpu.ts';

test('a repeated op on new data reuses its bind group and reads the new data', async () => {
  const rt = await testRuntime();
  const step = async (values: number[]) => {
    const x = rt.upload([5], values);
    const y = relu(rt, x);
    const out = Array.from(await y.read());
    x.dispose();
    y.dispose();
    return out;
  };
  // The upload takes only buffers released before a submit, relu's output any free one
  // (buffer-pool.ts): after three steps the free set repeats and so do the buffers.
  assert.equal(await step([-1, 2, -3, 4, -5]), [0, 2, 0, 4, 0]);
  assert.equal(await step([1, 1, -1, -1, 0]), [1, 1, 0, 0, 0]);
  assert.equal(await step([2, -2, 2, -2, 2]), [2, 0, 2, 0, 2]);
  const hits = rt.bindGroups.hits;
  assert.equal(await step([7, -8, 9, -10, 11]), [7, 0, 9, 0, 11]);
  assert.equal(await step([-0.5, 0.5, 1.5, -2.5, 3]), [0, 0.5, 1.5, 0, 3]);
  assert.is(rt.bindGroups.hits - hits, 2, 'the fourth and fifth steps hit');
});

test('different uniforms in one batch get their own bind groups and values', async () => {
  const rt = await testRuntime();
  const x = rt.upload([4], [-2, -0.5, 0.5, 2]);
  const misses = rt.bindGroups.misses;
  const outs = [affineClamp(rt, x, 1, 0, -1, 1), affineClamp(rt, x, 2, 1, -3, 3), affineClamp(rt, x, 1, 0, -1, 1)];
  assert.is(rt.bindGroups.misses - misses, 3, 'each output buffer differs within a batch');
  const values = await rt.readMany(outs);
  assert.equal(values.map((v) => Array.from(v)), [[-1, -0.5, 0.5, 1], [-3, 0, 2, 3], [-1, -0.5, 0.5, 1]]);
  for (const t of [x, ...outs]) t.dispose();
});

test('the cache evicts the least recently used entry past its capacity and builds it again on demand', async () => {
  const rt = await testRuntime();
  const cache = new BindGroupCache(rt.device, 2);
  const x = rt.upload([4], [1, 2, 3, 4]);
  relu(rt, x).dispose();
  await rt.sync();
  // A pipeline whose group 0 is (a, b, result, params): the elementwise kernel's.
  const pipeline = (rt as unknown as { pipelines: { get(k: string, e: string, c: object, f: () => void): GPUComputePipeline } }).pipelines.get('elementwise', 'main', { OP: 1, WORKGROUP_SIZE: 256 }, () => {});
  const bytes = (n: number) => new Uint32Array([n, 0, 0, 0, 0, 0, 0, 0]).buffer;
  const buffers = [x.buffer, x.buffer, x.buffer];
  const a = cache.get(pipeline, buffers, bytes(1), 'a');
  cache.get(pipeline, buffers, bytes(2), 'b');
  assert.is(cache.get(pipeline, buffers, bytes(1), 'a'), a, 'same key, same group');
  cache.get(pipeline, buffers, bytes(3), 'c'); // evicts 2, the least recently used
  assert.is(cache.size, 2);
  assert.is(cache.get(pipeline, buffers, bytes(1), 'a'), a, '1 survived');
  const misses = cache.misses;
  cache.get(pipeline, buffers, bytes(2), 'b');
  assert.is(cache.misses - misses, 1, '2 is built again');
  cache.onSubmitted();
  x.dispose();
});

test('uniforms that differ in any byte of any word get their own bind groups', async () => {
  const rt = await testRuntime();
  const cache = new BindGroupCache(rt.device);
  const x = rt.upload([4], [1, 2, 3, 4]);
  const pipeline = (rt as unknown as { pipelines: { get(k: string, e: string, c: object, f: () => void): GPUComputePipeline } }).pipelines.get('elementwise', 'main', { OP: 1, WORKGROUP_SIZE: 256 }, () => {});
  const buffers = [x.buffer, x.buffer, x.buffer];
  const words = (at: number, v: number) => {
    const w = new Uint32Array(8);
    w[at] = v;
    return w.buffer;
  };
  const zero = cache.get(pipeline, buffers, words(0, 0), 'zero');
  // The key holds the bytes as 16-bit code units: each half of a word, the last word, a value that is a lone surrogate.
  const others = [words(0, 1), words(0, 0x10000), words(7, 1), words(7, 0x80000000), words(3, 0xd800), words(3, 0xdc00)];
  const groups = others.map((b, i) => cache.get(pipeline, buffers, b, `other ${i}`));
  assert.is(new Set([zero, ...groups]).size, others.length + 1);
  assert.is(cache.get(pipeline, buffers, words(0, 0), 'zero'), zero);
  assert.is(cache.get(pipeline, buffers, words(3, 0xdc00), 'again'), groups[5]);
  x.dispose();
});

test('the pool hands out the oldest free buffer of a class, whatever order they were released in', async () => {
  const rt = await testRuntime();
  const pool = new BufferPool(rt.device, GPUBufferUsage.STORAGE);
  const [b0, b1, b2] = [pool.acquire(1000, 'b0'), pool.acquire(1000, 'b1'), pool.acquire(1000, 'b2')];
  for (const order of [[b2, b0, b1], [b1, b2, b0], [b0, b1, b2]]) {
    for (const b of order) pool.release(b);
    pool.onSubmitted();
    assert.equal([pool.acquire(1000, 'x'), pool.acquire(1000, 'y'), pool.acquire(1000, 'z')], [b0, b1, b2]);
  }
  for (const b of [b0, b1, b2]) pool.release(b);
  pool.onSubmitted();
  pool.trim();
});

test.run();
