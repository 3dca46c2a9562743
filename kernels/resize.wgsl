// Bilinear resize of NHWC f32, PyTorch F.interpolate(mode='bilinear') semantics,
// one thread per output element (channels innermost for coalesced reads); entry main4
// (C % 4 == 0) one thread per 4 channels with vec4 loads and stores, a quarter of the
// index arithmetic (CPU drivers run the integer divisions lane by lane).
// Each axis maps output index d to the source coordinate (d * num + off) / den,
// clamped below at 0: the op passes exact integers for every PyTorch mode
// (align_corners, in/out ratio, 1/scale_factor), so the integer part and the
// fraction come out exact instead of carrying a float's rounding of in/out.
// The far neighbour is clamped to in - 1, as PyTorch does.

override WORKGROUP_SIZE: u32 = 256u;

struct Params {
  count: u32,
  C: u32,
  H: u32,
  W: u32,
  OH: u32,
  OW: u32,
  numY: i32,
  offY: i32,
  denY: i32,
  numX: i32,
  offX: i32,
  denX: i32,
}

// count and C are in the entry point's elements: f32 for main, vec4 for main4.
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> result: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;
// main4's view of the same bindings (an entry point uses one view or the other).
@group(0) @binding(0) var<storage, read> x4: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> result4: array<vec4f>;

struct Taps {
  i0: u32,
  i1: u32,
  frac: f32,
}

fn taps(d: u32, size: u32, num: i32, off: i32, den: i32) -> Taps {
  let s = max(i32(d) * num + off, 0);
  let i0 = min(u32(s / den), size - 1u);
  return Taps(i0, min(i0 + 1u, size - 1u), f32(s % den) / f32(den));
}

// The four source elements of output element i and the weights between them.
struct Corners {
  r0: u32,   // row i0 of the source, at the element's channel
  r1: u32,   // row i1
  x0: u32,   // column offsets of the two neighbours (elements)
  x1: u32,
  fx: f32,
  fy: f32,
}

fn corners(i: u32) -> Corners {
  let C = params.C;
  let W = params.W;
  let c = i % C;
  let pixel = i / C;
  let ox = pixel % params.OW;
  let oy = (pixel / params.OW) % params.OH;
  let n = pixel / (params.OW * params.OH);
  let ty = taps(oy, params.H, params.numY, params.offY, params.denY);
  let tx = taps(ox, W, params.numX, params.offX, params.denX);
  let base = n * params.H * W * C + c;
  return Corners(base + ty.i0 * W * C, base + ty.i1 * W * C, tx.i0 * C, tx.i1 * C, tx.frac, ty.frac);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + lid;
  if (i >= params.count) { return; }
  let k = corners(i);
  let top = mix(x[k.r0 + k.x0], x[k.r0 + k.x1], k.fx);
  let bottom = mix(x[k.r1 + k.x0], x[k.r1 + k.x1], k.fx);
  result[i] = mix(top, bottom, k.fy);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + lid;
  if (i >= params.count) { return; }
  let k = corners(i);
  let top = mix(x4[k.r0 + k.x0], x4[k.r0 + k.x1], vec4f(k.fx));
  let bottom = mix(x4[k.r1 + k.x0], x4[k.r1 + k.x1], vec4f(k.fx));
  result4[i] = mix(top, bottom, vec4f(k.fy));
}
