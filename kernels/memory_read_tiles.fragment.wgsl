// The tiling both memory-read kernels share (spliced by `// @include memory_read_tiles`
// into kernels/memory_read.wgsl and memory_read_subgroup.wgsl; memory_read.wgsl's header
// says how it works): the tile sizes and register bounds, the four bindings before each
// kernel's own, the staging tiles and running softmax state, the score tile and the
// accumulators' update. Each kernel declares its Params (numQueries, keyDim, scale, ... first).
override TQ: u32 = 1u;
override TC: u32 = 64u;
override QPT: u32 = 8u;
override CPT: u32 = 8u;
override BM: u32 = 64u;
// Dk is staged in chunks of DKT so long keys fit in workgroup memory.
override DKT: u32 = 32u;

const MAX_ACC: u32 = 64u;
const MAX_CPT: u32 = 16u;
const MAX_BQ: u32 = 32u;
// Alphas below exp(-80) are 0 for our purpose; the clamp keeps exp's argument
// finite on the first tile (running max starts at -FLT_MAX).
const MIN_EXP_ARG: f32 = -80.0;
const NEG_BIG: f32 = -3.4028234e38;

override WG: u32 = TQ * TC;
override BQ: u32 = TQ * QPT;
override R: u32 = WG / BQ;
override KS: u32 = DKT + 1u; // padded key row: no bank conflicts when threads walk rows

@group(0) @binding(0) var<storage, read> memKeys: array<f32>;
@group(0) @binding(1) var<storage, read> memValues: array<f32>;
@group(0) @binding(2) var<storage, read> queryKeys: array<f32>;
@group(0) @binding(3) var<storage, read_write> result: array<f32>;

var<workgroup> qTile: array<f32, BQ * DKT>;
var<workgroup> kTile: array<f32, BM * KS>;
// Scores, then (in place) their exps for the current tile.
var<workgroup> pTile: array<f32, BQ * BM>;
var<workgroup> rowMax: array<f32, BQ>;
var<workgroup> rowSum: array<f32, BQ>;
var<workgroup> rowAlpha: array<f32, BQ>;

// The scaled scores of queries q0 .. q0 + BQ (of Q) against the `valid` memory positions
// from m0 into pTile ([query][position], stride BM), Dk chunk by chunk; ends at a barrier.
fn scoreTile(q0: u32, Q: u32, Dk: u32, m0: u32, valid: u32, lid: u32) {
  for (var d0 = 0u; d0 < Dk; d0 += DKT) {
    workgroupBarrier();
    for (var e = lid; e < BQ * DKT; e += WG) {
      let q = q0 + e / DKT;
      let d = d0 + e % DKT;
      // select() evaluates both operands: past the keys the load reads element 0, not past the array.
      let inQ = q < Q && d < Dk;
      qTile[e] = select(0.0, queryKeys[select(0u, q * Dk + d, inQ)] * params.scale, inQ);
    }
    for (var e = lid; e < BM * DKT; e += WG) {
      let j = e / DKT;
      let d = d0 + e % DKT;
      let inM = j < valid && d < Dk;
      kTile[j * KS + e % DKT] = select(0.0, memKeys[select(0u, (m0 + j) * Dk + d, inM)], inM);
    }
    workgroupBarrier();
    // One memory position per thread, all BQ queries: the query reads are broadcasts.
    for (var j = lid; j < BM; j += WG) {
      var s: array<f32, MAX_BQ>;
      for (var i = 0u; i < BQ; i++) { s[i] = select(pTile[i * BM + j], 0.0, d0 == 0u); }
      for (var d = 0u; d < DKT; d++) {
        let k = kTile[j * KS + d];
        for (var i = 0u; i < BQ; i++) { s[i] += qTile[i * DKT + d] * k; }
      }
      for (var i = 0u; i < BQ; i++) { pTile[i * BM + j] = s[i]; }
    }
  }
  workgroupBarrier();
}

// acc = acc * alpha + P V for the thread's QPT queries x CPT channels (channels cBase +
// c TC), with V rows read straight from memory (coalesced along channels).
fn accumulateTile(acc: ptr<function, array<f32, MAX_ACC>>, tq: u32, cBase: u32, Dv: u32, m0: u32, valid: u32) {
  for (var i = 0u; i < QPT; i++) {
    let alpha = rowAlpha[tq * QPT + i];
    for (var c = 0u; c < CPT; c++) { (*acc)[i * CPT + c] *= alpha; }
  }
  for (var j = 0u; j < valid; j++) {
    let row = (m0 + j) * Dv;
    var v: array<f32, MAX_CPT>;
    // Out-of-range channels read a valid element and are never written.
    for (var c = 0u; c < CPT; c++) { v[c] = memValues[row + min(cBase + c * TC, Dv - 1u)]; }
    for (var i = 0u; i < QPT; i++) {
      let p = pTile[(tq * QPT + i) * BM + j];
      for (var c = 0u; c < CPT; c++) { (*acc)[i * CPT + c] += p * v[c]; }
    }
  }
}
