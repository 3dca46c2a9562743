// Conv2d (groups = 1) on matrix units (NVIDIA's tensor cores through Vulkan cooperative
// matrices, Dawn's `chromium_experimental_subgroup_matrix`): the implicit GEMM of
// kernels/conv2d.wgsl (read its header: NHWC, weights [K, CoutPad] as vec4, K = (kh, kw,
// ci) with ci padded to CinPad; the same uniforms and epilogue) whose multiply-adds run
// on SM x SK times SK x SN matrix products of f16 operands with f32 accumulation.
// Activations and weights are rounded to f16 where they enter workgroup memory, so the
// result is the f32-accumulated conv of the f16-rounded operands (the op's opt-in
// precision, src/ops/conv2d-mma.ts; activations beyond f16's range saturate at +-65504).
//
// This file holds the matrix operations written out per invocation (between the
// `matrix ops` markers): it compiles on any adapter with shader-f16 and tests check it
// against the float64 reference. On adapters with subgroup matrices, conv2d-mma.ts swaps
// that block for kernels/conv2d_mma_subgroup_matrix.fragment.wgsl's and substitutes SM, SN, SK
// (the adapter's f16 x f16 -> f32 matrix shape) and LANES (its subgroup size); the rest
// of the kernel is the same text in both.
//
// Workgroup: 4 subgroups of LANES invocations in a 2 x 2 grid, each owning a 2 x 2 block
// of SM x SN result matrices: a tile of BM = 4 SM pixels by BN = 4 SN channels (64 x 64
// for 16x16x16 matrices), reduced over K in slices of BK = 2 SK. Per slice every
// invocation gathers its share of the A tile (pixels x reduction: im2col of x) and of
// the B tile (reduction x channels: w) into workgroup memory as f16; after a barrier each
// subgroup multiplies its block; a second barrier frees the tiles for the next slice.
// The results pass through workgroup memory (Cs) to the epilogue, a vec4 at a time.
//
// Split-K as kernels/conv2d_gpu.wgsl does it, for outputs too small to fill a GPU:
// workgroup x = split * nBlocks + channel block reduces K-slices [split * kTilesPerSplit,
// ...) and, with splits > 1, writes raw sums to partial[(split * M + m) * coutPad4 + co / 4],
// which conv2d_gpu.wgsl's `reduce` adds up before the epilogue.

enable f16;

const SM: u32 = 16u;    // result rows (pixels) per matrix
const SN: u32 = 16u;    // result columns (channels) per matrix
const SK: u32 = 16u;    // reduction depth per matrix product
const LANES: u32 = 32u; // invocations per subgroup

const BM: u32 = 4u * SM;
const BN: u32 = 4u * SN;
const BK: u32 = 2u * SK;
const WG: u32 = 4u * LANES;

override VEC4_IN: bool = false;
override VEC4_OUT: bool = false;
override HAS_RESIDUAL: bool = false;
override RELU: bool = false;

// @include conv2d_split_interface

var<workgroup> As: array<f16, BM * BK>;   // A tile, row-major: [pixel][k], stride BK
var<workgroup> Bs: array<f16, BK * BN>;   // B tile, row-major: [k][channel], stride BN
var<workgroup> Cs: array<f32, BM * BN>;   // results, row-major: [pixel][channel], stride BN

// This invocation's index in its subgroup (the per-invocation matrix ops read it).
var<private> lane: u32;

// ---- matrix ops (per invocation; conv2d-mma.ts swaps this block) ----
// Each invocation owns elements lane, lane + LANES, ... of each of its subgroup's four
// SM x SN result matrices and computes them from the tiles in workgroup memory, as a
// matrix unit would (f16 products are exact in f32; the sums are f32).
const OWN: u32 = SM * SN / LANES;
var<private> acc: array<f32, 4u * OWN>;

fn zeroAccumulators() {
  for (var i = 0u; i < 4u * OWN; i++) { acc[i] = 0.0; }
}

// Multiplies the slice in As/Bs into the 2 x 2 block whose top-left result element is
// (row0, col0) of the tile.
fn multiplySlice(row0: u32, col0: u32) {
  for (var b = 0u; b < 4u; b++) {
    let r0 = row0 + (b / 2u) * SM;
    let c0 = col0 + (b % 2u) * SN;
    for (var i = 0u; i < OWN; i++) {
      let e = lane + i * LANES;
      let aRow = (r0 + e / SN) * BK;
      let bCol = c0 + e % SN;
      var s = acc[b * OWN + i];
      for (var k = 0u; k < BK; k++) { s += f32(As[aRow + k]) * f32(Bs[k * BN + bCol]); }
      acc[b * OWN + i] = s;
    }
  }
}

fn storeAccumulators(row0: u32, col0: u32) {
  for (var b = 0u; b < 4u; b++) {
    for (var i = 0u; i < OWN; i++) {
      let e = lane + i * LANES;
      Cs[(row0 + (b / 2u) * SM + e / SN) * BN + col0 + (b % 2u) * SN + e % SN] = acc[b * OWN + i];
    }
  }
}
// ---- end matrix ops ----

// x[ci..ci+3] of reduction index k for output pixel m; zeros for padding, past K,
// past M and for channels past Cin (they meet zero weight rows, but Inf * 0 is NaN).
fn loadX4(m: u32, k: u32) -> vec4f {
  if (m >= p.M || k >= p.K) { return vec4f(0.0); }
  let r = k / p.CinPad;
  let ci = k % p.CinPad;
  let ow = m % p.OW;
  let oh = (m / p.OW) % p.OH;
  let n = m / p.OW / p.OH;
  let ih = i32(oh * p.strideH + (r / p.KW) * p.dilH) - p.padH;
  let iw = i32(ow * p.strideW + (r % p.KW) * p.dilW) - p.padW;
  if (ih < 0 || ih >= i32(p.H) || iw < 0 || iw >= i32(p.W)) { return vec4f(0.0); }
  let i = ((n * p.H + u32(ih)) * p.W + u32(iw)) * p.Cin + ci;
  if (VEC4_IN) { return x[i >> 2u]; }
  var v = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    let e = i + j;
    if (ci + j < p.Cin) { v[j] = x[e >> 2u][e & 3u]; }
  }
  return v;
}

const F16_MAX: f32 = 65504.0;

fn half4(v: vec4f) -> vec4<f16> {
  return vec4<f16>(clamp(v, vec4f(-F16_MAX), vec4f(F16_MAX)));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let nBlocks = (p.Cout + BN - 1u) / BN;
  let split = wid.x / nBlocks;
  let n0 = (wid.x % nBlocks) * BN;
  let m0 = (wid.y + wid.z * nwg.y) * BM;
  let sg = lid / LANES;
  lane = lid % LANES;
  let row0 = (sg / 2u) * 2u * SM;
  let col0 = (sg % 2u) * 2u * SN;
  zeroAccumulators();

  let kTiles = (p.K + BK - 1u) / BK;
  let ktEnd = min(kTiles, (split + 1u) * p.kTilesPerSplit);
  for (var kt = split * p.kTilesPerSplit; kt < ktEnd; kt++) {
    for (var g = lid; g < BM * BK / 4u; g += WG) {
      let r = g / (BK / 4u);
      let k4 = 4u * (g % (BK / 4u));
      let v = half4(loadX4(m0 + r, kt * BK + k4));
      let o = r * BK + k4;
      As[o] = v.x; As[o + 1u] = v.y; As[o + 2u] = v.z; As[o + 3u] = v.w;
    }
    for (var g = lid; g < BK * BN / 4u; g += WG) {
      let kr = g / (BN / 4u);
      let c4 = g % (BN / 4u);
      let k = kt * BK + kr;
      let bn4 = n0 / 4u + c4;
      var v = vec4f(0.0);
      if (k < p.K && bn4 < p.coutPad4) { v = loadW(k * p.coutPad4 + bn4); }
      let h = half4(v);
      let o = kr * BN + 4u * c4;
      Bs[o] = h.x; Bs[o + 1u] = h.y; Bs[o + 2u] = h.z; Bs[o + 3u] = h.w;
    }
    workgroupBarrier();
    multiplySlice(row0, col0);
    workgroupBarrier();
  }

  storeAccumulators(row0, col0);
  workgroupBarrier();
  for (var g = lid; g < BM * BN / 4u; g += WG) {
    let r = g / (BN / 4u);
    let c4 = g % (BN / 4u);
    let m = m0 + r;
    let co = n0 + 4u * c4;
    if (m < p.M && co < p.Cout) {
      let o = r * BN + 4u * c4;
      let v = vec4f(Cs[o], Cs[o + 1u], Cs[o + 2u], Cs[o + 3u]);
      if (p.splits == 1u) {
        store(m, co, v);
      } else {
        partial[(split * p.M + m) * p.coutPad4 + co / 4u] = v;
      }
    }
  }
}

// @include conv2d_store
