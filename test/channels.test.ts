import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { concatChannels, copyIntoChannels, copyItemIntoChannels, stackItems, takeItem } from '../src/ops/channels.ts';
import { entryPointsDispatched } from './_lib/dispatch-spy.ts';
import { testRuntime } from './_lib/gpu.ts';
import { assertCase, casesOf, UNIT_TIERS } from './_lib/op-cases/index.ts';
import { uniform } from './_lib/random.ts';
import { assertClose } from './_lib/tolerance.ts';
import { concatRef } from './cpu/channels.ts';

// Concatenation of odd channel counts and of channels in fours: test/_lib/op-cases/channels.ts.
for (const c of casesOf('channels', UNIT_TIERS)) test(c.name, async () => assertCase(await testRuntime(), c));

test('concatChannels and copyIntoChannels over odd channel counts', async () => {
  const rt = await testRuntime();
  const [n, h, w] = [2, 5, 3];
  const pixels = n * h * w;
  const parts = [1, 3, 5, 2].map((c, i) => ({ c, data: uniform(pixels * c, 20 + i) }));
  const tensors = parts.map((p) => rt.upload([n, h, w, p.c], p.data));
  const cat = concatChannels(rt, tensors);
  assert.equal(cat.shape, [n, h, w, 11]);
  assertClose(await cat.read(), concatRef(parts, pixels), { label: 'concat', factor: 0 });

  // Writing into a window must leave the channels around it as they were.
  const before = uniform(pixels * 11, 30);
  const dst = rt.upload([n, h, w, 11], before);
  copyIntoChannels(rt, tensors[2], dst, 4);
  const expected = Float64Array.from(before);
  for (let p = 0; p < pixels; p++) for (let ch = 0; ch < 5; ch++) expected[p * 11 + 4 + ch] = parts[2].data[p * 5 + ch];
  assertClose(await dst.read(), expected, { label: 'copyIntoChannels', factor: 0 });
  for (const t of [...tensors, cat, dst]) t.dispose();
});

test('stackItems, takeItem and copyItemIntoChannels move whole items of a batch (odd sizes, 3 and 5 channels)', async () => {
  const rt = await testRuntime();
  const [h, w, c] = [5, 3, 3];
  const pixels = h * w;
  const items = [0, 1, 2].map((b) => uniform(pixels * c, 40 + b));
  const uploaded = items.map((d) => rt.upload([1, h, w, c], d));
  const batch = stackItems(rt, uploaded);
  assert.equal(batch.shape, [3, h, w, c]);
  assertClose(await batch.read(), Float64Array.from(items.flatMap((d) => Array.from(d))), { label: 'stack', factor: 0 });
  for (const b of [2, 0, 1]) {
    const item = takeItem(rt, batch, b);
    assert.equal(item.shape, [1, h, w, c]);
    assertClose(await item.read(), Float64Array.from(items[b]), { label: `item ${b}`, factor: 0 });
    item.dispose();
  }
  // Item 2 of the batch into channels [1, 4) of item 1 of a [2, h, w, 5] tensor: nothing else changes.
  const before = uniform(2 * pixels * 5, 50);
  const dst = rt.upload([2, h, w, 5], before);
  copyItemIntoChannels(rt, batch, 2, dst, 1, 1);
  const expected = Float64Array.from(before);
  for (let p = 0; p < pixels; p++) for (let ch = 0; ch < c; ch++) expected[(pixels + p) * 5 + 1 + ch] = items[2][p * c + ch];
  assertClose(await dst.read(), expected, { label: 'copyItemIntoChannels', factor: 0 });

  assert.throws(() => stackItems(rt, [uploaded[0], dst]), /stackItems: items must all be one \[1, H, W, C\] shape/);
  assert.throws(() => takeItem(rt, batch, 3), /takeItem: the item 3 is not in \[3, 5, 3, 3\]/);
  assert.throws(() => copyItemIntoChannels(rt, batch, 0, dst, 2, 0), /copyItemIntoChannels: destination item 2 is not in \[2, 5, 3, 5\]/);
  assert.throws(() => copyItemIntoChannels(rt, batch, 0, dst, 0, 3), /copyItemIntoChannels: channels \[3, 6\) of src \[3, 5, 3, 3\] do not fit dst \[2, 5, 3, 5\]/);
  for (const t of [...uploaded, batch, dst]) t.dispose();
});

test('items of 8 channels into a window at channel 4 of 16 move in vec4s (entry copy4); nothing else changes', async () => {
  const rt = await testRuntime();
  const [h, w, c] = [3, 5, 8];
  const pixels = h * w;
  const items = [0, 1].map((b) => uniform(pixels * c, 60 + b));
  const uploaded = items.map((d) => rt.upload([1, h, w, c], d));
  const batch = stackItems(rt, uploaded);
  const before = uniform(3 * pixels * 16, 62);
  const dst = rt.upload([3, h, w, 16], before);
  assert.equal(entryPointsDispatched(rt, () => copyItemIntoChannels(rt, batch, 1, dst, 2, 4)), ['copy4']);
  const expected = Float64Array.from(before);
  for (let p = 0; p < pixels; p++) for (let ch = 0; ch < c; ch++) expected[(2 * pixels + p) * 16 + 4 + ch] = items[1][p * c + ch];
  assertClose(await dst.read(), expected, { label: 'copyItemIntoChannels in vec4s', factor: 0 });
  const item = takeItem(rt, batch, 0);
  assertClose(await item.read(), Float64Array.from(items[0]), { label: 'takeItem in vec4s', factor: 0 });
  for (const t of [...uploaded, batch, dst, item]) t.dispose();
});

test('channel ops reject bad inputs with the op name and shapes', async () => {
  const rt = await testRuntime();
  const a = rt.upload([1, 2, 3, 2], new Float32Array(12));
  const b = rt.upload([1, 3, 2, 2], new Float32Array(12));
  const flat = rt.upload([6, 2], new Float32Array(12));
  const ints = rt.upload([1, 2, 3, 2], new Int32Array(12), 'i32');
  assert.throws(() => concatChannels(rt, [a, b]), /concatChannels: N, H, W differ: \[1, 2, 3, 2\] and \[1, 3, 2, 2\]/);
  assert.throws(() => concatChannels(rt, []), /concatChannels: needs at least one tensor/);
  assert.throws(() => copyIntoChannels(rt, a, a, 0), /copyIntoChannels: src and dst are the same buffer/);
  const dst = rt.empty([1, 2, 3, 3]);
  assert.throws(() => copyIntoChannels(rt, a, dst, 2), /copyIntoChannels: channels \[2, 4\) of src \[1, 2, 3, 2\] do not fit dst \[1, 2, 3, 3\]/);
  assert.throws(() => concatChannels(rt, [flat]), /concatChannels: expects an NHWC tensor \[N, H, W, C\], got \[6, 2\]/);
  assert.throws(() => concatChannels(rt, [ints]), /concatChannels: expects f32, got i32/);
  a.dispose();
  assert.throws(() => concatChannels(rt, [a]), /already disposed/);
  for (const t of [b, flat, ints, dst]) t.dispose();
});

test.run();
