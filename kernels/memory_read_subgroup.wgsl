// Space-time memory read for adapters with the `subgroups` feature (discrete GPUs):
//   out[q, c] = sum_m softmax_m(mk[m] . qk[q] / sqrt(Dk)) * mv[m, c]
// The tiling of kernels/memory_read.wgsl (read its header first: BQ queries x BC
// channels per workgroup, memory walked in tiles of BM with an online softmax), with
// two changes for GPUs:
//
// 1. Softmax row reductions (max, then sum, over the R threads of a query row) go
//    through subgroupShuffleXor butterflies instead of a workgroup-memory tree with a
//    barrier per step. Lanes are assumed to be consecutive local invocation indices
//    (a 1-D workgroup's subgroups, as every driver forms them), so the SGR
//    consecutive threads of a butterfly share a subgroup when SGR <= the adapter's
//    smallest subgroup size (the op passes SGR = min(R, subgroupMinSize)). Rows wider
//    than that (R > SGR) add one workgroup-memory step over R / SGR partials.
//
// 2. Split memory (flash-decoding): when Q alone gives too few workgroups to fill a
//    GPU, workgroup z = split * channelBlocks + channel block reads only memory
//    positions [split * chunk, (split + 1) * chunk) and writes its unnormalised
//    accumulators to partial[(split * Q + q) * Dv + c] and its row max and sum to
//    stats[(split * Q + q) * 2 + 0 / 1]; entry `combine` merges the splits:
//      out[q, c] = sum_s e^(max_s - M) partial_s[q, c] / sum_s e^(max_s - M) sum_s,
//      M = max_s max_s.
//    With one split, main writes the normalised result straight to `result` (and
//    nothing to stats). The op sizes chunk so that no split is empty.
enable subgroups;

// @include memory_read_tiles

// Lanes reduced by subgroup shuffles: a power of two dividing R, at most the adapter's subgroupMinSize.
override SGR: u32 = 8u;
override SG_PARTIALS: u32 = WG / SGR;

struct Params {
  numQueries: u32,
  numMemory: u32,
  keyDim: u32,
  valueDim: u32,
  queryBlocks: u32,
  scale: f32,
  channelBlocks: u32,
  splits: u32,
  chunk: u32,
}

@group(0) @binding(4) var<storage, read_write> stats: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

var<workgroup> partials: array<f32, SG_PARTIALS>;

// max (IS_MAX) or sum of v over the R consecutive threads of lid's softmax row; every thread of the row gets it.
fn rowReduce(v: f32, isMax: bool, lid: u32) -> f32 {
  var x = v;
  for (var s = SGR / 2u; s > 0u; s >>= 1u) {
    let o = subgroupShuffleXor(x, s);
    x = select(x + o, max(x, o), isMax);
  }
  if (SGR == R) { return x; }
  workgroupBarrier();
  if (lid % SGR == 0u) { partials[lid / SGR] = x; }
  workgroupBarrier();
  let first = (lid / R) * (R / SGR);
  var r = partials[first];
  for (var k = 1u; k < R / SGR; k++) {
    let o = partials[first + k];
    r = select(r + o, max(r, o), isMax);
  }
  return r;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let block = wid.x + wid.y * nwg.x;
  if (block >= params.queryBlocks) { return; }
  let Q = params.numQueries;
  let Dk = params.keyDim;
  let Dv = params.valueDim;
  let q0 = block * BQ;
  let split = wid.z / params.channelBlocks;
  let mBegin = split * params.chunk;
  let mEnd = min(params.numMemory, mBegin + params.chunk);

  let tq = select(lid / TC, 0u, TQ == 1u);
  let tc = lid % TC;
  let cBase = (wid.z % params.channelBlocks) * TC * CPT + tc;
  let rowQ = lid / R;
  let rowR = lid % R;

  var acc: array<f32, MAX_ACC>;
  if (lid < BQ) {
    rowMax[lid] = NEG_BIG;
    rowSum[lid] = 0.0;
  }

  for (var m0 = mBegin; m0 < mEnd; m0 += BM) {
    let valid = min(BM, mEnd - m0);

    scoreTile(q0, Q, Dk, m0, valid, lid);

    var mx = NEG_BIG;
    for (var j = rowR; j < valid; j += R) { mx = max(mx, pTile[rowQ * BM + j]); }
    let oldMax = rowMax[rowQ];
    let newMax = max(oldMax, rowReduce(mx, true, lid));
    var sum = 0.0;
    for (var j = rowR; j < valid; j += R) {
      let p = exp(pTile[rowQ * BM + j] - newMax);
      pTile[rowQ * BM + j] = p;
      sum += p;
    }
    let tileSum = rowReduce(sum, false, lid);
    // Every thread of the row read rowMax above; the barrier orders those reads before the update.
    workgroupBarrier();
    if (rowR == 0u) {
      let alpha = exp(max(oldMax - newMax, MIN_EXP_ARG));
      rowAlpha[rowQ] = alpha;
      rowSum[rowQ] = rowSum[rowQ] * alpha + tileSum;
      rowMax[rowQ] = newMax;
    }
    workgroupBarrier();

    accumulateTile(&acc, tq, cBase, Dv, m0, valid);
  }

  let single = params.splits == 1u;
  for (var i = 0u; i < QPT; i++) {
    let qi = tq * QPT + i;
    let q = q0 + qi;
    // rowSum >= 1: the running max's own term contributes exp(0).
    let inv = select(1.0, 1.0 / rowSum[qi], single);
    for (var c = 0u; c < CPT; c++) {
      let ch = cBase + c * TC;
      if (q < Q && ch < Dv) { result[(split * Q + q) * Dv + ch] = acc[i * CPT + c] * inv; }
    }
  }
  if (!single && lid < BQ && q0 + lid < Q && wid.z % params.channelBlocks == 0u) {
    let at = (split * Q + q0 + lid) * 2u;
    stats[at] = rowMax[lid];
    stats[at + 1u] = rowSum[lid];
  }
}

// ---- combine: merges the splits' partial results (one thread per output element) ----

struct CombineParams {
  count: u32,
  numQueries: u32,
  valueDim: u32,
  splits: u32,
}

@group(0) @binding(0) var<storage, read> partial: array<f32>;
@group(0) @binding(1) var<storage, read> partialStats: array<f32>;
@group(0) @binding(2) var<storage, read_write> combined: array<f32>;
@group(0) @binding(3) var<uniform> combineParams: CombineParams;

const COMBINE_WG: u32 = 256u;

@compute @workgroup_size(COMBINE_WG)
fn combine(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * COMBINE_WG + lid;
  if (i >= combineParams.count) { return; }
  let Q = combineParams.numQueries;
  let q = i / combineParams.valueDim;
  var mx = NEG_BIG;
  for (var s = 0u; s < combineParams.splits; s++) { mx = max(mx, partialStats[(s * Q + q) * 2u]); }
  var num = 0.0;
  var den = 0.0;
  for (var s = 0u; s < combineParams.splits; s++) {
    let w = exp(max(partialStats[(s * Q + q) * 2u] - mx, MIN_EXP_ARG));
    num += w * partial[s * Q * combineParams.valueDim + i];
    den += w * partialStats[(s * Q + q) * 2u + 1u];
  }
  // den >= 1: the split holding the overall max contributes its own sum (>= 1) with weight 1.
  combined[i] = num / den;
}
