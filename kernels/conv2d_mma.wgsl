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
// (the adapter's f16 x f16 -> f32 matrix shape), LANES (its subgroup size) and TM, TN (the
// variant's tile); the rest of the kernel is the same text in both.
//
// Workgroup: 4 subgroups of LANES invocations in a 2 x 2 grid, each owning TM x TN result
// matrices of SM x SN: a tile of BM = 2 TM SM pixels by BN = 2 TN SN channels (64 x 64 for
// 16x16x16 matrices and TM = TN = 2, the `mma` variant; conv2d-variants.ts names the
// others), reduced over K in slices of BK = 2 SK. Every invocation gathers its share of a
// slice's A tile (pixels x reduction: im2col of x) and B tile (reduction x channels: w)
// into registers as f16, and the tiles are double-buffered in workgroup memory as in
// kernels/conv2d_gpu.wgsl: pass kt loads slice kt into registers, multiplies slice kt - 1
// from the other buffer while those loads are in flight, then stores slice kt: one
// barrier per slice. An invocation gathers the same A rows and columns in every slice, so
// the input origins of its rows' pixels are found once, before the K loop. Each tile
// row is PAD elements longer than its data (16 bytes): with rows of 64 or 128 bytes every
// row of a matrix load would start in the same memory bank (NVIDIA's ldmatrix reads 8
// rows of 16 bytes at once: an 8-way conflict at 128); padded, consecutive rows start
// 4 or 20 banks apart, and rows stay 16-byte aligned as cooperative matrix loads want. The
// accumulators are variables of main (subgroup matrices may live only in function
// scope); the results leave one matrix at a time through each subgroup's own SM x SN
// area of workgroup memory (Cs) to the epilogue, a vec4 at a time.
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
const TM: u32 = 2u;     // result matrices per subgroup along pixels
const TN: u32 = 2u;     // result matrices per subgroup along channels
const PAD: u32 = 8u;    // f16 elements past each tile row (16 bytes; conv2d-mma.ts may set 0)

const BM: u32 = 2u * TM * SM;
const BN: u32 = 2u * TN * SN;
const BK: u32 = 2u * SK;
const WG: u32 = 4u * LANES;
const A_STRIDE: u32 = BK + PAD;                       // f16 elements from one A row (pixel) to the next
const B_STRIDE: u32 = BN + PAD;                       // from one B row (k) to the next
const A_TILE: u32 = BM * A_STRIDE;                    // f16 elements per buffer
const B_TILE: u32 = BK * B_STRIDE;
const A_GROUPS: u32 = BM * BK / 4u;                   // vec4 groups of data per tile
const B_GROUPS: u32 = BK * BN / 4u;
const A_SLOTS: u32 = (A_GROUPS + WG - 1u) / WG;       // vec4 groups each invocation gathers
const B_SLOTS: u32 = (B_GROUPS + WG - 1u) / WG;
const A_ROW_STEP: u32 = WG / (BK / 4u);               // tile rows between an invocation's A groups (conv2d-mma.ts checks BK / 4 divides WG)

override VEC4_IN: bool = false;
override VEC4_OUT: bool = false;
override HAS_RESIDUAL: bool = false;
override RELU: bool = false;

// @include conv2d_split_interface

var<workgroup> As: array<f16, 2u * A_TILE>;   // 2 A tiles, row-major: [pixel][k], stride A_STRIDE
var<workgroup> Bs: array<f16, 2u * B_TILE>;   // 2 B tiles, row-major: [k][channel], stride B_STRIDE
var<workgroup> Cs: array<f32, 4u * SM * SN>;  // one result matrix per subgroup, row-major: [pixel][channel], stride SN

// This invocation's index in its subgroup (the per-invocation matrix ops read it).
var<private> lane: u32;

// ---- matrix ops (per invocation; conv2d-mma.ts swaps this block) ----
// Each invocation owns elements lane, lane + LANES, ... of each of its subgroup's TM x TN
// result matrices and computes them from the tiles in workgroup memory, as a matrix unit
// would (f16 products are exact in f32; the sums are f32).
const OWN: u32 = SM * SN / LANES;
alias Accumulators = array<f32, TM * TN * OWN>;

// Multiplies the slice in buffer buf of As/Bs into the subgroup's matrices, whose top-left
// result element is (row0, col0) of the tile; matrix (i, j) is i SM rows and j SN columns on.
// k runs outermost: once the small inner loops unroll, every accumulator index is a
// constant and the accumulators stay in registers (with k innermost lavapipe took ~8 s to
// compile a pipeline and ran it at half the speed). Each sum still adds its products in
// k order.
fn multiplySlice(acc: ptr<function, Accumulators>, row0: u32, col0: u32, buf: u32) {
  for (var k = 0u; k < BK; k++) {
    for (var i = 0u; i < TM; i++) {
      for (var j = 0u; j < TN; j++) {
        for (var o = 0u; o < OWN; o++) {
          let e = lane + o * LANES;
          let a = f32(As[buf * A_TILE + (row0 + i * SM + e / SN) * A_STRIDE + k]);
          let b = f32(Bs[buf * B_TILE + k * B_STRIDE + col0 + j * SN + e % SN]);
          (*acc)[(i * TN + j) * OWN + o] += a * b;
        }
      }
    }
  }
}

// Writes matrix (i, j) to Cs[at ..]: SM rows of SN, row-major.
fn stageMatrix(acc: ptr<function, Accumulators>, i: u32, j: u32, at: u32) {
  for (var o = 0u; o < OWN; o++) { Cs[at + lane + o * LANES] = (*acc)[(i * TN + j) * OWN + o]; }
}
// ---- end matrix ops ----

// Rows past M get an origin whose rows no tap reaches (ih < 0).
const NO_PIXEL: i32 = -1073741824;

// Where output pixel m's window starts in x: (n * H, oh * strideH - padH, ow * strideW - padW).
fn pixelOrigin(m: u32) -> vec3i {
  if (m >= p.M) { return vec3i(0, NO_PIXEL, 0); }
  let ow = m % p.OW;
  let oh = (m / p.OW) % p.OH;
  let n = m / p.OW / p.OH;
  return vec3i(i32(n * p.H), i32(oh * p.strideH) - p.padH, i32(ow * p.strideW) - p.padW);
}

// x[ci..ci+3] at offset (dh, dw) from origin o; zeros for padding and for channels past
// Cin (they meet zero weight rows, but Inf * 0 is NaN).
fn loadX4(o: vec3i, dh: i32, dw: i32, ci: u32) -> vec4f {
  let ih = o.y + dh;
  let iw = o.z + dw;
  if (ih < 0 || ih >= i32(p.H) || iw < 0 || iw >= i32(p.W)) { return vec4f(0.0); }
  let i = ((u32(o.x + ih)) * p.W + u32(iw)) * p.Cin + ci;
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
  let row0 = (sg / 2u) * TM * SM;
  let col0 = (sg % 2u) * TN * SN;
  var acc: Accumulators; // zero

  // A group g = lid + s WG is row g / (BK/4), columns 4 (g % (BK/4)) .. + 3 of its tile:
  // rows lid / (BK/4) + s A_ROW_STEP, the same columns in every slot.
  let aCol = 4u * (lid % (BK / 4u));
  var origin: array<vec3i, A_SLOTS>;
  for (var s = 0u; s < A_SLOTS; s++) { origin[s] = pixelOrigin(m0 + lid / (BK / 4u) + s * A_ROW_STEP); }

  let kTiles = (p.K + BK - 1u) / BK;
  let ktBegin = split * p.kTilesPerSplit;
  let ktEnd = min(kTiles, ktBegin + p.kTilesPerSplit);
  var aReg: array<vec4<f16>, A_SLOTS>;
  var bReg: array<vec4<f16>, B_SLOTS>;
  for (var kt = ktBegin; kt <= ktEnd; kt++) {
    let buf = (kt - ktBegin) & 1u;
    if (kt < ktEnd) {
      // This invocation's reduction index k is one tap (kh, kw) and channels ci .. ci + 3.
      let k = kt * BK + aCol;
      let r = k / p.CinPad;
      let ci = k % p.CinPad;
      let dh = i32((r / p.KW) * p.dilH);
      let dw = i32((r % p.KW) * p.dilW);
      for (var s = 0u; s < A_SLOTS; s++) {
        var v = vec4f(0.0);
        if (lid + s * WG < A_GROUPS && k < p.K) { v = loadX4(origin[s], dh, dw, ci); }
        aReg[s] = half4(v);
      }
      for (var s = 0u; s < B_SLOTS; s++) {
        let g = lid + s * WG;
        let kb = kt * BK + g / (BN / 4u);
        let bn4 = n0 / 4u + g % (BN / 4u);
        var v = vec4f(0.0);
        if (g < B_GROUPS && kb < p.K && bn4 < p.coutPad4) { v = loadW(kb * p.coutPad4 + bn4); }
        bReg[s] = half4(v);
      }
    }
    // Slice kt - 1 (buffer 1 - buf) while the loads above are in flight.
    if (kt > ktBegin) { multiplySlice(&acc, row0, col0, 1u - buf); }
    if (kt < ktEnd) {
      for (var s = 0u; s < A_SLOTS; s++) {
        let g = lid + s * WG;
        if (g < A_GROUPS) {
          let o = buf * A_TILE + (g / (BK / 4u)) * A_STRIDE + 4u * (g % (BK / 4u));
          As[o] = aReg[s].x; As[o + 1u] = aReg[s].y; As[o + 2u] = aReg[s].z; As[o + 3u] = aReg[s].w;
        }
      }
      for (var s = 0u; s < B_SLOTS; s++) {
        let g = lid + s * WG;
        if (g < B_GROUPS) {
          let o = buf * B_TILE + (g / (BN / 4u)) * B_STRIDE + 4u * (g % (BN / 4u));
          Bs[o] = bReg[s].x; Bs[o + 1u] = bReg[s].y; Bs[o + 2u] = bReg[s].z; Bs[o + 3u] = bReg[s].w;
        }
      }
    }
    // Buffer buf is complete for the next pass, which reads it; the pass after that
    // overwrites buffer 1 - buf, read above, only after this barrier.
    workgroupBarrier();
  }

  // Each subgroup stages one of its matrices in its own area of Cs, then its lanes store it.
  let at = sg * SM * SN;
  for (var i = 0u; i < TM; i++) {
    for (var j = 0u; j < TN; j++) {
      stageMatrix(&acc, i, j, at);
      workgroupBarrier();
      for (var g = lane; g < SM * SN / 4u; g += LANES) {
        let r = g / (SN / 4u);
        let c = 4u * (g % (SN / 4u));
        let m = m0 + row0 + i * SM + r;
        let co = n0 + col0 + j * SN + c;
        if (m < p.M && co < p.Cout) {
          let o = at + r * SN + c;
          let v = vec4f(Cs[o], Cs[o + 1u], Cs[o + 2u], Cs[o + 3u]);
          if (p.splits == 1u) {
            store(m, co, v);
          } else {
            partial[(split * p.M + m) * p.coutPad4 + co / 4u] = v;
          }
        }
      }
      workgroupBarrier();
    }
  }
}

// @include conv2d_store
