// The memory read as two matrix products (src/ops/memory-read-gemm.ts): the scores
// S = Q K^T and the read O = P V run as 1x1 convolutions on the conv2d kernels (the
// tiled, split-K and matrix-unit variants and their tuning), with two helpers here:
//   pad_matrix   - a [rows, cols] operand laid out as the conv kernels' weights want it:
//                  [outRows, outCols] with zero rows and columns past the source, read
//                  transposed (TRANSPOSE) for K^T.
//   softmax_rows - P = softmax over each row's first srcCols columns of scale * S, zero in
//                  the padding columns; a workgroup per row (rows are thousands of
//                  memory positions long, and only as many as the queries).

override TRANSPOSE: bool = false;
const PAD_WG: u32 = 256u;
const SOFTMAX_WG: u32 = 256u;

// One uniform struct for both entries (the runtime finds it by binding): an [rows, cols]
// output from a source whose data is [srcRows, srcCols] (softmax_rows: srcCols is the
// number of memory positions, the columns taking part).
struct Params {
  rows: u32,
  cols: u32,
  srcRows: u32,
  srcCols: u32,
  scale: f32, // softmax_rows only
}

@group(0) @binding(2) var<uniform> params: Params;

@group(0) @binding(0) var<storage, read> padSrc: array<f32>;
@group(0) @binding(1) var<storage, read_write> padOut: array<f32>;

// out[r, c] = src[r, c], or with TRANSPOSE src[c, r]; 0 outside the source [srcRows, srcCols].
@compute @workgroup_size(PAD_WG)
fn pad_matrix(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * PAD_WG + lid;
  if (i >= params.rows * params.cols) { return; }
  let r = i / params.cols;
  let c = i % params.cols;
  var v = 0.0;
  if (TRANSPOSE) {
    if (c < params.srcRows && r < params.srcCols) { v = padSrc[c * params.srcCols + r]; }
  } else {
    if (r < params.srcRows && c < params.srcCols) { v = padSrc[r * params.srcCols + c]; }
  }
  padOut[i] = v;
}

@group(0) @binding(0) var<storage, read> scores: array<f32>;
@group(0) @binding(1) var<storage, read_write> weights: array<f32>;

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
  if (row >= params.rows) { return; }
  let base = row * params.cols;
  let scale = params.scale;
  var m = -3.402823e38;
  for (var c = lid; c < params.srcCols; c += SOFTMAX_WG) { m = max(m, scale * scores[base + c]); }
  partial[lid] = m;
  let rowMax = reduce(lid, true);
  var sum = 0.0;
  for (var c = lid; c < params.srcCols; c += SOFTMAX_WG) { sum += exp(scale * scores[base + c] - rowMax); }
  partial[lid] = sum;
  let inv = 1.0 / reduce(lid, false);
  for (var c = lid; c < params.cols; c += SOFTMAX_WG) {
    weights[base + c] = select(0.0, exp(scale * scores[base + c] - rowMax) * inv, c < params.srcCols);
  }
}
