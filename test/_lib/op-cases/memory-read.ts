// Memory read cases (softmax(q k^T / sqrt(Dk)) v, flash-style): sizes that end in
// partial tiles, small tiles with several channel blocks, scores near +-300 (a naive
// exp overflows or underflows) and scores rising across tiles (every tile rescales).
// Cases without tiles run the default (the 'gemm' path where it fits); 'fused:' cases the
// fused kernel the adapter would get (subgroup, else flat).
import { memoryRead, type MemoryReadTiles } from '../../../src/ops/memory-read.ts';
import { maxAbsScore, memoryReadRef } from '../../cpu/memory-read.ts';
import { uniform } from '../random.ts';
import { count, inputs, type OpCase, type Tier } from './case.ts';

interface Spec {
  name: string;
  tier: Tier;
  keys: number[]; // memory keys shape [..., Dk]
  dv: number;
  query: number[]; // [1, H, W, Dk] or [Q, Dk]
  tiles?: MemoryReadTiles;
  /** The fused kernel of the adapter (subgroup, else flat) instead of the default. */
  fused?: boolean;
  /** Adds offset + slope * m to key channel 0 (query channel 0 is set to 1): scores shift by that over sqrt(Dk). */
  offset?: number;
  slope?: number;
}

const SMALL_TILES: MemoryReadTiles = { TQ: 2, TC: 32, QPT: 4, CPT: 2, BM: 16, DKT: 8 };

const SPECS: Spec[] = [
  // 3 memory frames of 5x7 read by a 6x5 query: M = 105, 30 queries, 24 value channels, all partial tiles.
  { name: '3 frames 5x7, Dk 16, Dv 24', tier: 'smoke', keys: [3, 5, 7, 16], dv: 24, query: [1, 6, 5, 16] },
  // Q = 30 and M = 63 are multiples of no tile size.
  { name: '1 frame 7x9, Dk 16, Dv 24', tier: 'unit', keys: [1, 7, 9, 16], dv: 24, query: [1, 5, 6, 16] },
  { name: 'odd Dk 5, Dv 3, 2-D query', tier: 'unit', keys: [37, 5], dv: 3, query: [11, 5] },
  { name: 'single memory position', tier: 'unit', keys: [1, 5], dv: 3, query: [4, 5] },
  // Dk not a multiple of the Dk chunk, Dv over one channel block.
  { name: 'Dk 130, Dv 600', tier: 'unit', keys: [2, 3, 5, 130], dv: 600, query: [1, 3, 3, 130] },
  { name: 'thread rows (TQ 2), several channel blocks', tier: 'unit', keys: [3, 7, 9, 16], dv: 150, query: [1, 5, 7, 16], tiles: SMALL_TILES },
  { name: 'odd sizes with small tiles', tier: 'unit', keys: [41, 5], dv: 3, query: [13, 5], tiles: SMALL_TILES },
  { name: 'scores near +300', tier: 'unit', keys: [3, 7, 9, 16], dv: 8, query: [1, 4, 5, 16], offset: 1200 },
  { name: 'scores near -300', tier: 'unit', keys: [3, 7, 9, 16], dv: 8, query: [1, 4, 5, 16], offset: -1200 },
  // Scores rising by ~0.5 per position, from -80 to +80: every tile raises the
  // running max and rescales the accumulators, by e^-8 to e^-32 per tile.
  { name: 'scores rising -80 to +80 across tiles', tier: 'unit', keys: [5, 8, 8, 16], dv: 8, query: [1, 3, 3, 16], offset: -320, slope: 2 },
  // A propagation step: 32x32 queries, 5 memorized slices, keydim 128, valdim 512.
  { name: 'propagation step Q=1024 M=5120 Dk=128 Dv=512', tier: 'perf', keys: [5, 32, 32, 128], dv: 512, query: [1, 32, 32, 128] },
  { name: 'fused: 3 frames 5x7, Dk 16, Dv 24', tier: 'smoke', keys: [3, 5, 7, 16], dv: 24, query: [1, 6, 5, 16], fused: true },
  { name: 'fused: odd Dk 5, Dv 3, 2-D query', tier: 'unit', keys: [37, 5], dv: 3, query: [11, 5], fused: true },
  { name: 'fused: Dk 130, Dv 600', tier: 'unit', keys: [2, 3, 5, 130], dv: 600, query: [1, 3, 3, 130], fused: true },
  { name: 'fused: scores near +300', tier: 'unit', keys: [3, 7, 9, 16], dv: 8, query: [1, 4, 5, 16], offset: 1200, fused: true },
  { name: 'fused: scores rising -80 to +80', tier: 'unit', keys: [5, 8, 8, 16], dv: 8, query: [1, 3, 3, 16], offset: -320, slope: 2, fused: true },
  { name: 'fused: propagation step Q=1024 M=5120 Dk=128 Dv=512', tier: 'perf', keys: [5, 32, 32, 128], dv: 512, query: [1, 32, 32, 128], fused: true },
];

function memoryReadCase(s: Spec, seed: number): OpCase {
  return {
    op: 'memoryRead',
    name: `memoryRead ${s.name}: keys [${s.keys}], Dv ${s.dv}, query [${s.query}]`,
    tier: s.tier,
    prepare(rt) {
      const dk = s.keys[s.keys.length - 1];
      const m = count(s.keys) / dk;
      const nq = count(s.query) / dk;
      const mk = uniform(m * dk, seed, -1, 1);
      const mv = uniform(m * s.dv, seed + 1, -1, 1);
      const q = uniform(nq * dk, seed + 2, -1, 1);
      if (s.offset !== undefined) {
        for (let i = 0; i < nq; i++) q[i * dk] = 1;
        for (let j = 0; j < m; j++) mk[j * dk] = Math.fround(s.offset + (s.slope ?? 0) * j + mk[j * dk]);
      }
      const io = inputs(rt);
      const tk = io.upload(s.keys, mk);
      const tv = io.upload([...s.keys.slice(0, -1), s.dv], mv);
      const tq = io.upload(s.query, q);
      return {
        run: () => memoryRead(rt, tk, tv, tq, { tiles: s.tiles, path: s.fused ? (rt.hasFeature('subgroups') ? 'subgroup' : 'flat') : undefined }),
        expected: () => {
          // The output is a convex combination of value rows, so its rounding error scales
          // with max|v|, not max|out|. Two sources: the P.V sum of M terms (k = M), and the
          // scores: an absolute score error d perturbs out by up to ~2 d max|v|, with
          // d ~ eps sqrt(Dk) S and S = max_{m,q} sum_d |mk q| / sqrt(Dk). Folding the
          // second into the first's scale: k = M, scale = max|v| (1 + 2 S sqrt(Dk / M)).
          const maxV = mv.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
          const scale = maxV * (1 + 2 * maxAbsScore(mk, q, dk) * Math.sqrt(dk / m));
          const shape = s.query.length === 4 ? [1, s.query[1], s.query[2], s.dv] : [nq, s.dv];
          return { shape, data: memoryReadRef(mk, mv, q, dk, s.dv), opts: { k: m, scale } };
        },
        flop: 2 * nq * m * (dk + s.dv),
        dispose: () => io.dispose(),
      };
    },
  };
}

export const MEMORY_READ_CASES: OpCase[] = SPECS.map((s, i) => memoryReadCase(s, 10 * i + 1));
