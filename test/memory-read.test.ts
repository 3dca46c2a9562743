import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { concatRows, memoryRead } from '../src/ops/memory-read.ts';
import { testRuntime } from './_lib/gpu.ts';
import { assertCase, casesOf, UNIT_TIERS } from './_lib/op-cases/index.ts';
import { uniform } from './_lib/random.ts';
import { assertClose } from './_lib/tolerance.ts';
import { maxAbsScore, memoryReadRef } from './cpu/memory-read.ts';

// Tolerance. The output is a convex combination of value rows, so its rounding error
// scales with max|v|, not max|out| (spreading attention over many positions shrinks
// out, not the error). Two sources: the P.V sum of M terms (k = M), and the scores:
// an absolute score error d perturbs out by up to ~2 d max|v|, with d ~ eps sqrt(Dk) S
// and S = max_{m,q} sum_d |mk q| / sqrt(Dk) (large for large keys even when the
// scores themselves cancel). Folding the second into the first's scale:
//     k = M, scale = max|v| (1 + 2 S sqrt(Dk / M)).
function check(got: Float32Array, mk: Float32Array, mv: Float32Array, q: Float32Array, dk: number, dv: number, label: string): void {
  const m = mk.length / dk;
  const maxV = mv.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
  const scale = maxV * (1 + 2 * maxAbsScore(mk, q, dk) * Math.sqrt(dk / m));
  assertClose(got, memoryReadRef(mk, mv, q, dk, dv), { k: m, scale, label });
}

// Partial tiles, small tiles, scores near +-300 and rising across tiles: test/_lib/op-cases/memory-read.ts.
for (const c of casesOf('memoryRead', UNIT_TIERS)) test(c.name, async () => assertCase(await testRuntime(), c));

test('memoryRead: 23 frames of 7x9 built with concatRows, Dk 128, Dv 512', async () => {
  const rt = await testRuntime();
  const [t, h, w, dk, dv] = [23, 7, 9, 128, 512];
  const frame = h * w;
  const mk = uniform(t * frame * dk, 101, -1, 1);
  const mv = uniform(t * frame * dv, 102, -1, 1);
  const q = uniform(2 * 3 * dk, 103, -1, 1);
  const keyFrames = [];
  const valueFrames = [];
  for (let f = 0; f < t; f++) {
    keyFrames.push(rt.upload([1, h, w, dk], mk.subarray(f * frame * dk, (f + 1) * frame * dk)));
    valueFrames.push(rt.upload([1, h, w, dv], mv.subarray(f * frame * dv, (f + 1) * frame * dv)));
  }
  const keys = concatRows(rt, keyFrames);
  const values = concatRows(rt, valueFrames);
  assert.equal(keys.shape, [t * frame, dk]);
  assert.equal(await keys.read(), mk);
  const tq = rt.upload([1, 2, 3, dk], q);
  const out = memoryRead(rt, keys, values, tq);
  assert.equal(out.shape, [1, 2, 3, dv]);
  check(await out.read(), mk, mv, q, dk, dv, '23 frames');
  for (const x of [...keyFrames, ...valueFrames, keys, values, tq, out]) x.dispose();
});

test('memoryRead and concatRows reject bad inputs', async () => {
  const rt = await testRuntime();
  const zeros = (shape: number[]) => rt.upload(shape, new Float32Array(shape.reduce((a, b) => a * b, 1)));
  const keys = zeros([4, 6]);
  const values = zeros([4, 3]);
  const query = zeros([1, 2, 2, 6]);
  const query5 = zeros([5, 5]);
  const values5 = zeros([5, 3]);
  const query2 = zeros([2, 2, 2, 6]);
  const emptyKeys = rt.empty([0, 6]);
  const emptyValues = rt.empty([0, 3]);
  const intKeys = rt.upload([4, 6], new Int32Array(24), 'i32');
  assert.throws(() => memoryRead(rt, keys, values, query5), /memoryRead: query has 5 key channels, memory keys 6/);
  assert.throws(() => memoryRead(rt, keys, values5, query), /keys hold 4 memory positions, values 5/);
  assert.throws(() => memoryRead(rt, emptyKeys, emptyValues, query), /memory is empty/);
  assert.throws(() => memoryRead(rt, keys, values, query2), /query must be \[1, H, W, Dk\] or \[Q, Dk\]/);
  assert.throws(() => memoryRead(rt, intKeys, values, query), /memoryKeys must be f32, got i32/);
  assert.throws(() => memoryRead(rt, keys, values, query, { tiles: { TQ: 1, TC: 48, QPT: 8, CPT: 4, BM: 32, DKT: 32 } }), /power of two/);
  assert.throws(() => memoryRead(rt, keys, values, query, { tiles: { TQ: 1, TC: 64, QPT: 8, CPT: 16, BM: 32, DKT: 32 } }), /QPT\*CPT <= 64/);
  assert.throws(() => memoryRead(rt, keys, values, query, { tiles: { TQ: 1, TC: 64, QPT: 8, CPT: 8, BM: 512, DKT: 64 } }), /bytes of workgroup memory/);
  assert.throws(() => concatRows(rt, [keys, values]), /concatRows: last dimensions differ: \[4, 6\], \[4, 3\]/);
  assert.throws(() => concatRows(rt, []), /no tensors/);
  values.dispose();
  assert.throws(() => memoryRead(rt, keys, values, query), /already disposed/);
  assert.throws(() => concatRows(rt, [keys, values]), /already disposed/);
  for (const t of [keys, query, query5, values5, query2, emptyKeys, emptyValues, intKeys]) t.dispose();
});

test.run();
