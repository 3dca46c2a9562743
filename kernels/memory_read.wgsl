// Space-time memory read (the STM / Mem3D `Memory` module), fused:
//   out[q, c] = sum_m softmax_m(mk[m] . qk[q] / sqrt(Dk)) * mv[m, c]
// Flash-attention style: the M x Q affinity matrix never exists. A workgroup owns
// BQ queries and a block of BC channels and walks memory in tiles of BM positions,
// keeping a running max and sum per query and rescaling its accumulators, so no
// exp ever sees a positive argument.
//
// Threads form TQ rows (queries) x TC columns (channels); each holds a QPT x CPT
// register tile of accumulators: BQ = TQ * QPT, BC = TC * CPT. Channel blocks
// beyond the first (Dv > BC) recompute the scores, so Dk and Dv are unbounded.
// Register arrays need const sizes in WGSL, so they are declared at MAX_* and
// indexed under override-bounded loops (constant after override substitution,
// hence unrolled). The op checks QPT * CPT <= MAX_ACC, CPT <= MAX_CPT, BQ <= MAX_BQ
// and that R = TQ * TC / BQ (threads per query row in the softmax reductions) is a
// power of two.

// @include memory_read_tiles

struct Params {
  numQueries: u32,
  numMemory: u32,
  keyDim: u32,
  valueDim: u32,
  queryBlocks: u32,
  scale: f32,
}

@group(0) @binding(4) var<uniform> params: Params;

var<workgroup> reduce: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let block = wid.x + wid.y * nwg.x;
  if (block >= params.queryBlocks) { return; }
  let Q = params.numQueries;
  let M = params.numMemory;
  let Dk = params.keyDim;
  let Dv = params.valueDim;
  let q0 = block * BQ;

  // A literal 0 when TQ == 1, so compilers see the P reads of the PV loop as uniform.
  let tq = select(lid / TC, 0u, TQ == 1u);
  let tc = lid % TC;
  let cBase = wid.z * TC * CPT + tc;
  let rowQ = lid / R;
  let rowR = lid % R;

  var acc: array<f32, MAX_ACC>;
  if (lid < BQ) {
    rowMax[lid] = NEG_BIG;
    rowSum[lid] = 0.0;
  }

  for (var m0 = 0u; m0 < M; m0 += BM) {
    let valid = min(BM, M - m0);

    scoreTile(q0, Q, Dk, m0, valid, lid);

    // Online softmax: R threads per query row reduce max, then sum.
    var mx = NEG_BIG;
    for (var j = rowR; j < valid; j += R) { mx = max(mx, pTile[rowQ * BM + j]); }
    reduce[lid] = mx;
    workgroupBarrier();
    for (var s = R / 2u; s > 0u; s >>= 1u) {
      if (rowR < s) { reduce[lid] = max(reduce[lid], reduce[lid + s]); }
      workgroupBarrier();
    }
    let oldMax = rowMax[rowQ];
    let newMax = max(oldMax, reduce[rowQ * R]);
    var sum = 0.0;
    for (var j = rowR; j < valid; j += R) {
      let p = exp(pTile[rowQ * BM + j] - newMax);
      pTile[rowQ * BM + j] = p;
      sum += p;
    }
    workgroupBarrier();
    reduce[lid] = sum;
    workgroupBarrier();
    for (var s = R / 2u; s > 0u; s >>= 1u) {
      if (rowR < s) { reduce[lid] += reduce[lid + s]; }
      workgroupBarrier();
    }
    if (rowR == 0u) {
      let alpha = exp(max(oldMax - newMax, MIN_EXP_ARG));
      rowAlpha[rowQ] = alpha;
      rowSum[rowQ] = rowSum[rowQ] * alpha + reduce[lid];
      rowMax[rowQ] = newMax;
    }
    workgroupBarrier();

    accumulateTile(&acc, tq, cBase, Dv, m0, valid);
  }

  for (var i = 0u; i < QPT; i++) {
    let qi = tq * QPT + i;
    let q = q0 + qi;
    // rowSum >= 1: the running max's own term contributes exp(0).
    let inv = 1.0 / rowSum[qi];
    for (var c = 0u; c < CPT; c++) {
      let ch = cBase + c * TC;
      if (q < Q && ch < Dv) { result[q * Dv + ch] = acc[i * CPT + c] * inv; }
    }
  }
}

// Row-block copy for building the memory on the GPU: dst[offset + i] = src[i].
struct CopyParams {
  count: u32,
  offset: u32,
}

@group(0) @binding(0) var<storage, read> copySrc: array<f32>;
@group(0) @binding(1) var<storage, read_write> copyDst: array<f32>;
@group(0) @binding(2) var<uniform> copyParams: CopyParams;

const COPY_WG: u32 = 256u;

@compute @workgroup_size(COPY_WG)
fn copy_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * COPY_WG + lid;
  if (i < copyParams.count) { copyDst[copyParams.offset + i] = copySrc[i]; }
}
