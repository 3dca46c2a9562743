// The memory read as two matrix products (src/ops/memory-read-gemm.ts): the scores
// S = Q K^T and the read O = P V run as 1x1 convolutions on the conv2d kernels (the
// tiled, split-K and matrix-unit variants and their tuning), with two helpers here:
//   pad_matrix   - a [rows, cols] operand laid out as the conv kernels' weights want it:
//                  [outRows, outCols] with zero rows and columns past the source, read
//                  transposed (TRANSPOSE) for K^T.
//   softmax_rows - P = softmax over each row's first `valid` columns of scale * S, zero in
//                  the padding columns, written over S; a workgroup per row (rows are
//                  thousands of memory positions long, and only as many as the queries).

override TRANSPOSE: bool = false;
const PAD_WG: u32 = 256u;
const SOFTMAX_WG: u32 = 256u;

struct PadParams {
  srcRows: u32,
  srcCols: u32,
  outRows: u32,
  outCols: u32,
}

@group(0) @binding(2) var<uniform> padParams: PadParams;

@group(0) @binding(0) var<storage, read> padSrc: array<f32>;
@group(0) @binding(1) var<storage, read_write> padOut: array<f32>;

// out[r, c] = src[r, c], or with TRANSPOSE src[c, r]; 0 outside the source [srcRows, srcCols].
@compute @workgroup_size(PAD_WG)
fn pad_matrix(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * PAD_WG + lid;
  if (i >= padParams.outRows * padParams.outCols) { return; }
  let r = i / padParams.outCols;
  let c = i % padParams.outCols;
  var v = 0.0;
  if (TRANSPOSE) {
    if (c < padParams.srcRows && r < padParams.srcCols) { v = padSrc[c * padParams.srcCols + r]; }
  } else {
    if (r < padParams.srcRows && c < padParams.srcCols) { v = padSrc[r * padParams.srcCols + c]; }
  }
  padOut[i] = v;
}

// In place: each row's values are read and overwritten by its own workgroup, each element
// by the thread that read it (the affinities need one [Q, M4] buffer, not two).
struct SoftmaxParams {
  rows: u32,
  cols: u32,  // the row stride (padded width)
  valid: u32, // columns taking part; the rest get 0
  scale: f32,
}

@group(0) @binding(0) var<storage, read_write> scores: array<f32>;
@group(0) @binding(1) var<uniform> softmaxParams: SoftmaxParams;

var<workgroup> partial: array<f32, SOFTMAX_WG>;

/** The workgroup's reduction of partial[] (max or sum), left in partial[0] for every thread. */
fn reduce(lid: u32, isMax: bool) -> f32 {
  workgroupBarrier();
  for (var s = SOFTMAX_WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      partial[lid] = select(partial[lid] + partial[lid + s], max(partial[lid], partial[lid + s]), isMax);
    }
    workgroupBarrier();
  }
  let r = partial[0];
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(SOFTMAX_WG)
fn softmax_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  // Uniform per workgroup: every thread of a workgroup returns or none does (barriers below).
  if (row >= softmaxParams.rows) { return; }
  let base = row * softmaxParams.cols;
  let scale = softmaxParams.scale;
  var m = -3.402823e38;
  for (var c = lid; c < softmaxParams.valid; c += SOFTMAX_WG) { m = max(m, scale * scores[base + c]); }
  partial[lid] = m;
  let rowMax = reduce(lid, true);
  var sum = 0.0;
  for (var c = lid; c < softmaxParams.valid; c += SOFTMAX_WG) { sum += exp(scale * scores[base + c] - rowMax); }
  partial[lid] = sum;
  let inv = 1.0 / reduce(lid, false);
  for (var c = lid; c < softmaxParams.cols; c += SOFTMAX_WG) {
    scores[base + c] = select(0.0, exp(scale * scores[base + c] - rowMax) * inv, c < softmaxParams.valid);
  }
}
