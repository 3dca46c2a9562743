// 2-D pooling over NHWC f32 with PyTorch semantics (ceil_mode false), one thread
// per output element; channels are innermost so neighbouring threads read
// neighbouring addresses.
// OP: one of the OP_* consts below (exported to src/ops/pool.ts).
// The window clipped to the input is never empty: the op requires
// padding <= kernel / 2, as PyTorch does.
// max() with a NaN operand is implementation-defined in WGSL, so unlike PyTorch
// a NaN need not propagate through max pooling.

const OP_MAX: u32 = 0u;           // padding acts as -inf
const OP_AVG: u32 = 1u;           // divisor kernel_h * kernel_w (count_include_pad)
const OP_ADAPTIVE_AVG: u32 = 2u;  // bins [floor(i * in / out), ceil((i + 1) * in / out)), which may overlap
override OP: u32 = OP_MAX;
override WORKGROUP_SIZE: u32 = 256u;

struct Params {
  count: u32,
  C: u32,
  H: u32,
  W: u32,
  OH: u32,
  OW: u32,
  kh: u32,
  kw: u32,
  sh: u32,
  sw: u32,
  ph: i32,
  pw: i32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> result: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

// Clipped input range [lo, hi) of output index o along one axis.
fn window(o: u32, size: u32, outSize: u32, k: u32, s: u32, p: i32) -> vec2u {
  if (OP == OP_ADAPTIVE_AVG) {
    return vec2u(o * size / outSize, ((o + 1u) * size + outSize - 1u) / outSize);
  }
  let start = i32(o * s) - p;
  return vec2u(u32(max(start, 0)), u32(min(start + i32(k), i32(size))));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + lid;
  if (i >= params.count) { return; }
  let C = params.C;
  let W = params.W;
  let c = i % C;
  let pixel = i / C;
  let ox = pixel % params.OW;
  let oy = (pixel / params.OW) % params.OH;
  let n = pixel / (params.OW * params.OH);
  let ys = window(oy, params.H, params.OH, params.kh, params.sh, params.ph);
  let xs = window(ox, W, params.OW, params.kw, params.sw, params.pw);
  let base = n * params.H * W * C + c;
  // Seeding max with a window element keeps -inf inputs exact (no finite sentinel).
  var acc = select(0.0, x[base + (ys.x * W + xs.x) * C], OP == OP_MAX);
  for (var y = ys.x; y < ys.y; y++) {
    for (var xx = xs.x; xx < xs.y; xx++) {
      let v = x[base + (y * W + xx) * C];
      acc = select(acc + v, max(acc, v), OP == OP_MAX);
    }
  }
  if (OP == OP_AVG) {
    acc /= f32(params.kh * params.kw);
  } else if (OP == OP_ADAPTIVE_AVG) {
    acc /= f32((ys.y - ys.x) * (xs.y - xs.x));
  }
  result[i] = acc;
}
