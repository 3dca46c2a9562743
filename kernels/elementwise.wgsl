// Elementwise ops over flat f32 arrays; one pipeline per OP (the OP_* consts below,
// exported to src/ops/elementwise.ts by tools/embed-wgsl.ts).
// Unary ops bind `a` twice so every pipeline shares one layout.

const OP_ADD: u32 = 0u;       // a + b
const OP_RELU: u32 = 1u;      // relu(a)
const OP_SIGMOID: u32 = 2u;   // sigmoid(a)
const OP_CLAMP: u32 = 3u;     // clamp(scale * a + shift, lo, hi)
const OP_ADD_RELU: u32 = 4u;  // relu(a + b)
override OP: u32 = OP_ADD;
override WORKGROUP_SIZE: u32 = 256u;

struct Params {
  count: u32,
  lo: f32,
  hi: f32,
  scale: f32,
  shift: f32,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> result: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + lid;
  if (i >= params.count) { return; }
  let x = a[i];
  var y: f32;
  switch OP {
    case OP_ADD: { y = x + b[i]; }
    case OP_RELU: { y = max(x, 0.0); }
    // Stable for large |x|: exp never overflows.
    case OP_SIGMOID: { y = select(exp(x) / (1.0 + exp(x)), 1.0 / (1.0 + exp(-x)), x >= 0.0); }
    case OP_CLAMP: { y = clamp(params.scale * x + params.shift, params.lo, params.hi); }
    case OP_ADD_RELU: { y = max(x + b[i], 0.0); }
    default: { y = x; }
  }
  result[i] = y;
}
