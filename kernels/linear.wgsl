// Fully connected layer y[n, j] = act(sum_k x[n, k] * w[j, k] + bias[j]) with w in
// PyTorch's [out, in] layout. Batch 1 makes it a matrix-vector product, bound by
// reading w once: one workgroup per (n, j), its threads striding along `in` so
// each step reads one contiguous run of w's row, then a tree reduction.
// ACT: one of the ACT_* consts below (exported to src/ops/linear.ts).

const ACT_NONE: u32 = 0u;
const ACT_RELU: u32 = 1u;
const ACT_SIGMOID: u32 = 2u;
override ACT: u32 = ACT_NONE;
override WORKGROUP_SIZE: u32 = 64u; // a power of two, for the tree reduction

struct Params {
  rows: u32,
  inFeatures: u32,
  outFeatures: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> result: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

var<workgroup> partial: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = wid.x + wid.y * nwg.x;
  // Uniform across the workgroup, so returning before the barriers is allowed.
  if (g >= params.rows * params.outFeatures) { return; }
  let j = g % params.outFeatures;
  let n = g / params.outFeatures;
  let K = params.inFeatures;
  var acc = 0.0;
  for (var k = lid; k < K; k += WORKGROUP_SIZE) {
    acc += x[n * K + k] * w[j * K + k];
  }
  partial[lid] = acc;
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (lid < stride) {
      partial[lid] += partial[lid + stride];
    }
  }
  if (lid == 0u) {
    let y = partial[0] + bias[j];
    var r: f32;
    switch ACT {
      case ACT_RELU: { r = max(y, 0.0); }
      // Stable for large |y|: exp never overflows.
      case ACT_SIGMOID: { r = select(exp(y) / (1.0 + exp(y)), 1.0 / (1.0 + exp(-y)), y >= 0.0); }
      default: { r = y; }
    }
    result[n * params.outFeatures + j] = r;
  }
}
