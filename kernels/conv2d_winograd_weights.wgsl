// The transformed weights of the Winograd F(2x2, 3x3) convs (kernels/conv2d_winograd.wgsl,
// conv2d_winograd_gemm.wgsl; entry f4: F(4x4, 3x3)'s 6x6, positions 6i + j where this says
// 16 and 4i + j): U = G g G^T for every (input channel, 4 output channels)
// of a 3x3 conv's prepared weights ([9 * CinPad, CoutPad], rows ordered kh, kw, ci;
// kernels/conv2d.wgsl), written as rows ((blk * 16 + 4i + j) * block + c) of CoutPad
// channels, input channel block * blk + c, in f32 whatever the source precision: blocks
// of 8 channels for the CPU kernel, one block of all `rows` channels for the GEMM form
// (row (4i + j) * rows + ci). Rows for channels past CinPad (up to `rows`, a multiple of
// block) are zero. Computed in f32 from the stored weights, once per Conv2dWeights and
// layout.
//
//   G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
@group(0) @binding(0) var<storage, read_write> u: array<vec4f>;
// Weights are read only through loadW; the f16-weight kernel conv2d_winograd_weights_f16
// swaps these two lines (src/ops/conv2d-f16.ts, as for conv2d.wgsl).
@group(0) @binding(1) var<storage, read> w: array<vec4f>;
fn loadW(i: u32) -> vec4f { return w[i]; }

struct Params { CinPad: u32, coutPad4: u32, rows: u32, block: u32 }
@group(0) @binding(2) var<uniform> p: Params;

const WG: u32 = 64u;

// The 3x3 taps g[3 kh + kw] of input channel ci, output channels 4 co4 .. + 3; zero past CinPad.
fn taps(ci: u32, co4: u32) -> array<vec4f, 9> {
  var g: array<vec4f, 9>;
  if (ci < p.CinPad) {
    for (var t = 0u; t < 9u; t++) { g[t] = loadW((t * p.CinPad + ci) * p.coutPad4 + co4); }
  }
  return g;
}

// Where U's transformed position pos (of `positions`) of input channel ci, group co4 goes.
fn uAt(ci: u32, co4: u32, positions: u32, pos: u32) -> u32 {
  return (((ci / p.block) * positions + pos) * p.block + ci % p.block) * p.coutPad4 + co4;
}

// G applied to a column (a, b, c) of three vec4s: the 4 rows of the transform.
fn rowT(a: vec4f, b: vec4f, c: vec4f) -> array<vec4f, 4> {
  return array<vec4f, 4>(a, 0.5 * (a + b + c), 0.5 * (a - b + c), c);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  // One invocation per (input channel ci < rows, vec4 output group co4).
  let idx = (wid.x + wid.y * nwg.x) * WG + lid;
  let co4 = idx % p.coutPad4;
  let ci = idx / p.coutPad4;
  if (ci >= p.rows) { return; }
  let g = taps(ci, co4);
  // r_kw[i] = (G g)[i][kw]: G applied to column kw of g (g[3 kh + kw]).
  let r0 = rowT(g[0], g[3], g[6]);
  let r1 = rowT(g[1], g[4], g[7]);
  let r2 = rowT(g[2], g[5], g[8]);
  for (var i = 0u; i < 4u; i++) {
    let u4 = rowT(r0[i], r1[i], r2[i]);
    for (var j = 0u; j < 4u; j++) { u[uAt(ci, co4, 16u, 4u * i + j)] = u4[j]; }
  }
}

// F(4x4, 3x3): G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1].
fn rowT6(a: vec4f, b: vec4f, c: vec4f) -> array<vec4f, 6> {
  return array<vec4f, 6>(
    0.25 * a, -(a + b + c) / 6.0, -(a - b + c) / 6.0,
    a / 24.0 + b / 12.0 + c / 6.0, a / 24.0 - b / 12.0 + c / 6.0, c,
  );
}

@compute @workgroup_size(WG)
fn f4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * nwg.x) * WG + lid;
  let co4 = idx % p.coutPad4;
  let ci = idx / p.coutPad4;
  if (ci >= p.rows) { return; }
  let g = taps(ci, co4);
  let r0 = rowT6(g[0], g[3], g[6]);
  let r1 = rowT6(g[1], g[4], g[7]);
  let r2 = rowT6(g[2], g[5], g[8]);
  for (var i = 0u; i < 6u; i++) {
    let u6 = rowT6(r0[i], r1[i], r2[i]);
    for (var j = 0u; j < 6u; j++) { u[uAt(ci, co4, 36u, 6u * i + j)] = u6[j]; }
  }
}
