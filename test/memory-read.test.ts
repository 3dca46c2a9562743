import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { concatRows, memoryRead, type MemoryReadTiles } from '../src/ops/memory-read.ts';
import type { Runtime } from '../src/runtime/runtime.ts';
import { testRuntime } from './_lib/gpu.ts';
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

interface Case {
  name: string;
  keys: number[]; // memory keys shape [..., Dk]
  dv: number;
  query: number[]; // [1, H, W, Dk] or [Q, Dk]
  tiles?: MemoryReadTiles;
  /** Adds offset + slope * m to key channel 0 (query channel 0 is set to 1): scores shift by that over sqrt(Dk). */
  offset?: number;
  slope?: number;
}

const SMALL_TILES: MemoryReadTiles = { TQ: 2, TC: 32, QPT: 4, CPT: 2, BM: 16, DKT: 8 };

const CASES: Case[] = [
  // Q = 30 and M = 63 are multiples of no tile size.
  { name: '1 frame 7x9, Dk 16, Dv 24', keys: [1, 7, 9, 16], dv: 24, query: [1, 5, 6, 16] },
  { name: 'odd Dk 5, Dv 3, 2-D query', keys: [37, 5], dv: 3, query: [11, 5] },
  { name: 'single memory position', keys: [1, 5], dv: 3, query: [4, 5] },
  // Dk not a multiple of the Dk chunk, Dv over one channel block.
  { name: 'Dk 130, Dv 600', keys: [2, 3, 5, 130], dv: 600, query: [1, 3, 3, 130] },
  { name: 'thread rows (TQ 2), several channel blocks', keys: [3, 7, 9, 16], dv: 150, query: [1, 5, 7, 16], tiles: SMALL_TILES },
  { name: 'odd sizes with small tiles', keys: [41, 5], dv: 3, query: [13, 5], tiles: SMALL_TILES },
  // Scores near +300 or -300: a naive exp overflows to inf, or underflows to 0/0.
  { name: 'scores near +300', keys: [3, 7, 9, 16], dv: 8, query: [1, 4, 5, 16], offset: 1200 },
  { name: 'scores near -300', keys: [3, 7, 9, 16], dv: 8, query: [1, 4, 5, 16], offset: -1200 },
  // Scores rising by ~0.5 per position, from -80 to +80: every tile raises the
  // running max and rescales the accumulators, by e^-8 to e^-32 per tile.
  { name: 'scores rising -80 to +80 across tiles', keys: [5, 8, 8, 16], dv: 8, query: [1, 3, 3, 16], offset: -320, slope: 2 },
];

async function runCase(rt: Runtime, c: Case, seed: number): Promise<void> {
  const dk = c.keys[c.keys.length - 1];
  const m = c.keys.slice(0, -1).reduce((a, b) => a * b, 1);
  const nq = c.query.slice(0, -1).reduce((a, b) => a * b, 1);
  const mk = uniform(m * dk, seed, -1, 1);
  const mv = uniform(m * c.dv, seed + 1, -1, 1);
  const q = uniform(nq * dk, seed + 2, -1, 1);
  if (c.offset !== undefined) {
    for (let i = 0; i < nq; i++) q[i * dk] = 1;
    for (let j = 0; j < m; j++) mk[j * dk] = Math.fround(c.offset + (c.slope ?? 0) * j + mk[j * dk]);
  }
  const tk = rt.upload(c.keys, mk);
  const tv = rt.upload([...c.keys.slice(0, -1), c.dv], mv);
  const tq = rt.upload(c.query, q);
  const out = memoryRead(rt, tk, tv, tq, { tiles: c.tiles });
  assert.equal(out.shape, c.query.length === 4 ? [1, c.query[1], c.query[2], c.dv] : [nq, c.dv]);
  check(await out.read(), mk, mv, q, dk, c.dv, c.name);
  for (const t of [tk, tv, tq, out]) t.dispose();
}

CASES.forEach((c, i) => test(`memoryRead: ${c.name}`, async () => runCase(await testRuntime(), c, 10 * i + 1)));

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
