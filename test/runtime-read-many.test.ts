import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeF16 } from '../src/io/float16.ts';
import { testRuntime } from './_lib/gpu.ts';

test('readMany returns each tensor as read() does, in one readback (f32, i32, u32, an odd f16 count, an empty tensor)', async () => {
  const rt = await testRuntime();
  const f32 = rt.upload([2, 3], [1.5, -2, 3, 4, 5, 6.25]);
  const i32 = rt.upload([3], [-7, 0, 9], 'i32');
  const f16 = rt.upload([3], encodeF16(Float32Array.of(0.5, -1, 2)), 'f16');
  const u32 = rt.upload([1], [4000000000], 'u32');
  const empty = rt.upload([0], []);
  const tensors = [f32, f16, i32, empty, u32, f32];
  const submits = rt.submitCount;
  const many = await rt.readMany(tensors);
  assert.is(rt.submitCount - submits, 1, 'one submission for all six');
  for (const [i, t] of tensors.entries()) {
    const one = await t.read();
    assert.is(many[i].constructor, one.constructor, `tensor ${i}: array type`);
    assert.equal([...many[i]], [...one], `tensor ${i}: values`);
  }
  assert.equal([...many[2]], [-7, 0, 9]);
  assert.equal([...many[4]], [4000000000]);
  assert.equal(await rt.readMany([]), []);
  for (const t of [f32, i32, f16, u32, empty]) t.dispose();
  let error: unknown = null;
  await rt.readMany([f32]).catch((e: unknown) => (error = e));
  assert.match(String(error), /disposed/);
});

test.run();
