// Winograd conv2d for GPUs as three dispatches (src/ops/conv2d-winograd-gemm.ts): 3x3
// kernels, stride 1, any dilation and padding, the direct kernels' fused epilogue, in
// F(2x2, 3x3) (entries input, output: 4x4 patches, 16 transformed positions) or F(4x4,
// 3x3) (input4, output4: 6x6 patches, 36 positions). With n = 4 or 6 and P = n^2:
//
//   input:  V = B^T d B of every tile's n x n input patch d, per input channel, written as
//           the rows of a GEMM's A: V[t][P CinP] (transformed position b = n i + j
//           major, channel ci minor; CinP = Cin rounded up to the GEMM's K slice).
//   GEMM:   the split-K main entry of kernels/conv2d_gpu.wgsl unchanged, as a 1x1 conv
//           over K = P CinP with P splits of CinP each: split b multiplies V[., b] by
//           U_b = G g G^T (weights rows b CinP + ci, kernels/conv2d_winograd_weights.wgsl)
//           and writes its own product Mb[b][t][coutPad4] where the split-K path keeps
//           its partial sums.
//   output: Y = A^T M A of each tile's P products, + bias, + residual, ReLU, into the
//           output pixels of the tile that lie inside the output (conv2d_store).
//
// Per tile and output channel the GEMM does 16 CinP multiply-adds for 4 outputs (F2) or
// 36 CinP for 16 (F4) where the direct conv does 9 Cin per output: 2.25x or 4x fewer, in
// P independent products that fill a GPU even when the output is small. F2's transforms
// only add and subtract and each input reaches only the outputs whose windows hold it, so
// an Inf input stays inside its receptive field; F4's spread an input over the whole
// tile (exact sums cancel there, Inf - Inf does not), and round with coefficients up to 8.
//
// Tiles as kernels/conv2d_winograd.wgsl lays them out: a tile is m x m output pixels
// (m = 2 or 4) dil apart (standard Winograd on the dil-subsampled grid), tile rows over
// the dil phases first: row th covers output rows oh + r dilH, r < m, with
// oh = (th / dilH) m dilH + th % dilH; columns likewise.
//
//   F2: B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  A^T = [1 1 1 0; 0 1 -1 -1]
//   F4: B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0;
//              0 4 0 -5 0 1],
//       A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]   (Lavin and Gray 2016)

// The load and epilogue paths come as uniform flags (bits FLAG_*), not overrides, so each
// entry is one pipeline for every layer (a uniform branch costs the transforms nothing next
// to the GEMM; F4's compile for 3-4 s each on a CPU driver). Entries copy them into these (the names
// conv2d_store reads) first.
var<private> VEC4_IN: bool;        // Cin % 4 == 0: x loads as vec4
var<private> VEC4_OUT: bool;       // Cout, outChannels, outOffset all % 4 == 0
var<private> HAS_RESIDUAL: bool;
var<private> RELU: bool;
const FLAG_VEC4_IN: u32 = 1u;
const FLAG_VEC4_OUT: u32 = 2u;
const FLAG_HAS_RESIDUAL: u32 = 4u;
const FLAG_RELU: u32 = 8u;

struct Params {
  H: u32, W: u32, Cin: u32, cinP4: u32,
  OH: u32, OW: u32, Cout: u32, coutPad4: u32,
  dilH: u32, dilW: u32, padH: i32, padW: i32,
  tilesH: u32, tilesW: u32, tiles: u32,
  outChannels: u32, outOffset: u32, flags: u32,
}

@group(0) @binding(0) var<storage, read> x: array<vec4f>;
// input: V, written; output: the GEMM's products Mb[b][t][coutPad4], read.
@group(0) @binding(1) var<storage, read_write> v: array<vec4f>;
@group(0) @binding(2) var<storage, read> bias: array<vec4f>;
@group(0) @binding(3) var<storage, read> residual: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(5) var<uniform> p: Params;

const WG: u32 = 64u;

// @include conv2d_store

fn readFlags() {
  VEC4_IN = (p.flags & FLAG_VEC4_IN) != 0u;
  VEC4_OUT = (p.flags & FLAG_VEC4_OUT) != 0u;
  HAS_RESIDUAL = (p.flags & FLAG_HAS_RESIDUAL) != 0u;
  RELU = (p.flags & FLAG_RELU) != 0u;
}

// What one invocation owns: element i = t * groups + c4 of (tile t, vec4 channel group c4),
// live for tiles that exist and the first liveGroups groups. Every entry starts here, which also
// keeps all bindings in each entry's bind group layout (the op binds the same buffers to
// every entry point): writes no invocation reaches, as H > 0 always.
struct Job { i: u32, t: u32, c4: u32, live: bool }

fn job(wid: vec3u, nwg: vec3u, lid: u32, groups: u32, liveGroups: u32) -> Job {
  readFlags();
  if (p.H == 0u) { out[0] = x[0] + bias[0] + residual[0] + v[0]; }
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  let c4 = i % groups;
  return Job(i, i / groups, c4, i < p.tiles * groups && c4 < liveGroups);
}

struct Tile { n: u32, oh: u32, ow: u32 }

// Tile t of m x m outputs.
fn tileAt(t: u32, m: u32) -> Tile {
  let tw = t % p.tilesW;
  let r = t / p.tilesW;
  let th = r % p.tilesH;
  return Tile(r / p.tilesH, (th / p.dilH) * m * p.dilH + th % p.dilH, (tw / p.dilW) * m * p.dilW + tw % p.dilW);
}

// Channels [ci, ci + 4) of patch position (a, b) of tile q: zero for padding and past Cin.
fn loadX4(q: Tile, a: u32, b: u32, ci: u32) -> vec4f {
  let ih = i32(q.oh + a * p.dilH) - p.padH;
  let iw = i32(q.ow + b * p.dilW) - p.padW;
  if (ih < 0 || ih >= i32(p.H) || iw < 0 || iw >= i32(p.W) || ci >= p.Cin) { return vec4f(0.0); }
  let i = ((q.n * p.H + u32(ih)) * p.W + u32(iw)) * p.Cin + ci;
  if (VEC4_IN) { return x[i >> 2u]; }
  var r = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    let e = i + j;
    if (ci + j < p.Cin) { r[j] = x[e >> 2u][e & 3u]; }
  }
  return r;
}

// ---- input: one invocation per (tile, 4 input channels) ----

@compute @workgroup_size(WG)
fn input(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let jb = job(wid, nwg, lid, p.cinP4, p.cinP4);
  if (!jb.live) { return; }
  let c4 = jb.c4;
  let t = jb.t;
  let q = tileAt(t, 2u);
  // e = B^T d, row by row over patch columns b.
  var e: array<vec4f, 16>;
  for (var b = 0u; b < 4u; b++) {
    let d0 = loadX4(q, 0u, b, 4u * c4);
    let d1 = loadX4(q, 1u, b, 4u * c4);
    let d2 = loadX4(q, 2u, b, 4u * c4);
    let d3 = loadX4(q, 3u, b, 4u * c4);
    e[b] = d0 - d2;
    e[4u + b] = d1 + d2;
    e[8u + b] = d2 - d1;
    e[12u + b] = d1 - d3;
  }
  // V = e B, row by row; position 4 a + j goes to column block (4 a + j) of row t.
  let base = t * 16u * p.cinP4 + c4;
  for (var a = 0u; a < 4u; a++) {
    let r = 4u * a;
    v[base + (r + 0u) * p.cinP4] = e[r] - e[r + 2u];
    v[base + (r + 1u) * p.cinP4] = e[r + 1u] + e[r + 2u];
    v[base + (r + 2u) * p.cinP4] = e[r + 2u] - e[r + 1u];
    v[base + (r + 3u) * p.cinP4] = e[r + 1u] - e[r + 3u];
  }
}

// ---- output: one invocation per (tile, 4 output channels) ----

@compute @workgroup_size(WG)
fn output(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let jb = job(wid, nwg, lid, p.coutPad4, (p.Cout + 3u) / 4u);
  if (!jb.live) { return; }
  let i = jb.i;
  let c4 = jb.c4;
  let t = jb.t;
  // s = A^T M: s[j] = M[0][j] + M[1][j] + M[2][j], s[4 + j] = M[1][j] - M[2][j] - M[3][j].
  let stride = p.tiles * p.coutPad4; // from product b to b + 1
  var s: array<vec4f, 8>;
  for (var j = 0u; j < 4u; j++) {
    let m0 = v[(0u + j) * stride + i];
    let m1 = v[(4u + j) * stride + i];
    let m2 = v[(8u + j) * stride + i];
    let m3 = v[(12u + j) * stride + i];
    s[j] = m0 + m1 + m2;
    s[4u + j] = m1 - m2 - m3;
  }
  let q = tileAt(t, 2u);
  for (var r = 0u; r < 2u; r++) {
    let oh = q.oh + r * p.dilH;
    let k = 4u * r;
    // Y[r] = s[r] A: columns 0 and 1 of the tile.
    let y0 = s[k] + s[k + 1u] + s[k + 2u];
    let y1 = s[k + 1u] - s[k + 2u] - s[k + 3u];
    if (oh < p.OH) {
      let row = (q.n * p.OH + oh) * p.OW;
      if (q.ow < p.OW) { store(row + q.ow, 4u * c4, y0); }
      if (q.ow + p.dilW < p.OW) { store(row + q.ow + p.dilW, 4u * c4, y1); }
    }
  }
}

// ---- F(4x4, 3x3): input4 and output4, as input and output with 6x6 patches ----

// B^T applied to six values (a column or a row of a patch).
fn bt6(d: array<vec4f, 6>) -> array<vec4f, 6> {
  return array<vec4f, 6>(
    4.0 * d[0] - 5.0 * d[2] + d[4],
    d[3] + d[4] - 4.0 * (d[1] + d[2]),
    4.0 * (d[1] - d[2]) - d[3] + d[4],
    2.0 * (d[3] - d[1]) - d[2] + d[4],
    2.0 * (d[1] - d[3]) - d[2] + d[4],
    4.0 * d[1] - 5.0 * d[3] + d[5],
  );
}

// A^T applied to six values.
fn at6(m: array<vec4f, 6>) -> array<vec4f, 4> {
  let s12 = m[1] + m[2];
  let d12 = m[1] - m[2];
  let s34 = m[3] + m[4];
  let d34 = m[3] - m[4];
  return array<vec4f, 4>(m[0] + s12 + s34, d12 + 2.0 * d34, s12 + 4.0 * s34, d12 + 8.0 * d34 + m[5]);
}

@compute @workgroup_size(WG)
fn input4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let jb = job(wid, nwg, lid, p.cinP4, p.cinP4);
  if (!jb.live) { return; }
  let c4 = jb.c4;
  let t = jb.t;
  let q = tileAt(t, 4u);
  // e = B^T d, column by column; then each row of e times B.
  var e: array<vec4f, 36>;
  for (var b = 0u; b < 6u; b++) {
    var col: array<vec4f, 6>;
    for (var a = 0u; a < 6u; a++) { col[a] = loadX4(q, a, b, 4u * c4); }
    let r = bt6(col);
    for (var a = 0u; a < 6u; a++) { e[6u * a + b] = r[a]; }
  }
  let base = t * 36u * p.cinP4 + c4;
  for (var a = 0u; a < 6u; a++) {
    let r = bt6(array<vec4f, 6>(e[6u * a], e[6u * a + 1u], e[6u * a + 2u], e[6u * a + 3u], e[6u * a + 4u], e[6u * a + 5u]));
    for (var j = 0u; j < 6u; j++) { v[base + (6u * a + j) * p.cinP4] = r[j]; }
  }
}

@compute @workgroup_size(WG)
fn output4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let jb = job(wid, nwg, lid, p.coutPad4, (p.Cout + 3u) / 4u);
  if (!jb.live) { return; }
  let i = jb.i;
  let c4 = jb.c4;
  let t = jb.t;
  let stride = p.tiles * p.coutPad4; // from product b to b + 1
  // s = A^T M, column by column (4 x 6), then each row of s times A.
  var s: array<vec4f, 24>;
  for (var j = 0u; j < 6u; j++) {
    var col: array<vec4f, 6>;
    for (var a = 0u; a < 6u; a++) { col[a] = v[(6u * a + j) * stride + i]; }
    let r = at6(col);
    for (var a = 0u; a < 4u; a++) { s[6u * a + j] = r[a]; }
  }
  let q = tileAt(t, 4u);
  for (var r = 0u; r < 4u; r++) {
    let oh = q.oh + r * p.dilH;
    if (oh >= p.OH) { break; }
    let y = at6(array<vec4f, 6>(s[6u * r], s[6u * r + 1u], s[6u * r + 2u], s[6u * r + 3u], s[6u * r + 4u], s[6u * r + 5u]));
    let row = (q.n * p.OH + oh) * p.OW;
    for (var c = 0u; c < 4u; c++) {
      let ow = q.ow + c * p.dilW;
      if (ow < p.OW) { store(row + ow, 4u * c4, y[c]); }
    }
  }
}
