// Elementwise ops over flat f32 arrays; one pipeline per OP.
// OP: 0 add(a, b) | 1 relu(a) | 2 sigmoid(a) | 3 clamp(scale * a + shift, lo, hi) | 4 relu(a + b)
// Unary ops bind `a` twice so every pipeline shares one layout.

override OP: u32 = 0u;
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
    case 0u: { y = x + b[i]; }
    case 1u: { y = max(x, 0.0); }
    // Stable for large |x|: exp never overflows.
    case 2u: { y = select(exp(x) / (1.0 + exp(x)), 1.0 / (1.0 + exp(-x)), x >= 0.0); }
    case 3u: { y = clamp(params.scale * x + params.shift, params.lo, params.hi); }
    case 4u: { y = max(x + b[i], 0.0); }
    default: { y = x; }
  }
  result[i] = y;
}
