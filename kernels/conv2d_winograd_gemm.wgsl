// Winograd F(2x2, 3x3) conv2d for GPUs as three dispatches (src/ops/conv2d-winograd-gemm.ts):
// 3x3 kernels, stride 1, any dilation and padding, the direct kernels' fused epilogue.
//
//   input:  V = B^T d B of every tile's 4x4 input patch d, per input channel, written as
//           the rows of a GEMM's A: V[t][16 CinP] (transformed position b = 4i + j
//           major, channel ci minor; CinP = Cin rounded up to the GEMM's K slice).
//   GEMM:   the split-K main entry of kernels/conv2d_gpu.wgsl (or conv2d_mma.wgsl)
//           unchanged, as a 1x1 conv over K = 16 CinP with 16 splits of CinP each:
//           split b multiplies V[., b] by U_b = G g G^T (weights rows b CinP + ci,
//           kernels/conv2d_winograd_weights.wgsl) and writes its own product
//           Mb[b][t][coutPad4] where the split-K path keeps its partial sums.
//   output: Y = A^T M A of each tile's 16 products, + bias, + residual, ReLU, into the
//           2x2 output pixels that lie inside the output (conv2d_store).
//
// The GEMM does 16 CinP multiply-adds per tile and output channel where the direct conv
// does 36 Cin: 2.25x fewer, in 16 independent products that fill a GPU even when the
// output is small. Both transforms only add and subtract, so an Inf input reaches only the
// outputs whose windows hold it (no zero coefficient multiplies it).
//
// Tiles as kernels/conv2d_winograd.wgsl lays them out: a tile is 2x2 output pixels dil
// apart (standard Winograd on the dil-subsampled grid), tile rows over the dil phases
// first: row th covers output rows oh and oh + dilH with oh = (th / dilH) 2 dilH +
// th % dilH; columns likewise.
//
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  A^T = [1 1 1 0; 0 1 -1 -1]
override VEC4_IN: bool = false;    // Cin % 4 == 0: x loads as vec4
override VEC4_OUT: bool = false;   // Cout, outChannels, outOffset all % 4 == 0
override HAS_RESIDUAL: bool = false;
override RELU: bool = false;

struct Params {
  H: u32, W: u32, Cin: u32, cinP4: u32,
  OH: u32, OW: u32, Cout: u32, coutPad4: u32,
  dilH: u32, dilW: u32, padH: i32, padW: i32,
  tilesH: u32, tilesW: u32, tiles: u32,
  outChannels: u32, outOffset: u32,
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

struct Tile { n: u32, oh: u32, ow: u32 }

fn tileAt(t: u32) -> Tile {
  let tw = t % p.tilesW;
  let r = t / p.tilesW;
  let th = r % p.tilesH;
  return Tile(r / p.tilesH, (th / p.dilH) * 2u * p.dilH + th % p.dilH, (tw / p.dilW) * 2u * p.dilW + tw % p.dilW);
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
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.tiles * p.cinP4) { return; }
  // Keeps bias, residual and out in this entry's bind group layout (the op binds the same
  // buffers to both entry points): a write no invocation reaches, as H > 0 always.
  if (p.H == 0u) { out[0] = bias[0] + residual[0]; }
  let c4 = i % p.cinP4;
  let t = i / p.cinP4;
  let q = tileAt(t);
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
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.tiles * p.coutPad4) { return; }
  let c4 = i % p.coutPad4;
  let t = i / p.coutPad4;
  if (4u * c4 >= p.Cout) { return; }
  // Keeps x in this entry's bind group layout, as input keeps the epilogue's buffers.
  if (p.H == 0u) { out[0] = x[0]; }
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
  let q = tileAt(t);
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
