// Conv2d (groups = 1) as an implicit GEMM over NHWC activations:
//   out[m, co] = sum_k A[m, k] * Wt[k, co],   m = (n, oh, ow),  k = (kh, kw, ci)
// A is the im2col matrix, never materialised. Weights arrive pre-transposed to
// [K, CoutPad] (CoutPad = Cout rounded up to 4, zero-filled, bias likewise), so a
// K row is contiguous along Cout and always loads as vec4; K runs over
// (kh, kw, ci) with ci padded to CinPad = Cin rounded up to 4 (zero weight rows),
// so every group of 4 reduction indices lies in one input pixel: x loads as one
// vec4 when Cin % 4 == 0 and as 4 masked scalars from one pixel otherwise.
//
// Two entry points (variants the op, or its autotuner, picks per shape):
//   main   - tiled: each workgroup stages BM x BK of A and BK x BN of W in shared
//            memory; suits GPUs (reuse through workgroup memory).
//   direct - no workgroup memory and no barriers: a thread owns DP pixels, and all
//            threads of a workgroup share DCN4 vec4 channel groups, so weight reads
//            are workgroup-uniform (meant as scalar loads + broadcasts on CPU
//            rasterisers; lavapipe's llvmpipe proves uniformity only for constant
//            addresses and runs them per lane: kernels/conv2d_cpu.wgsl is its kernel).
// Epilogue: + bias, + residual (HAS_RESIDUAL), then ReLU (RELU): ResNet's order.
// The result may go to channels [outOffset, outOffset + Cout) of a tensor with
// outChannels channels, so concatenation (ASPP, PSP) needs no copy.
//
// Every buffer is viewed as array<vec4f> (f16 weights: array<vec4h>) (the runtime's pooled buffers are
// 16-byte multiples); scalar paths index components, so one layout serves all.
//
// Workgroup = WGX x WGY threads. Thread (tx, ty) owns output pixels
// [ty*TM, ty*TM + TM) and channels 4*tx + 4*WGX*j (j < TN4) of the BM x BN tile.
// Channels vary along x, pixels along y: every 8 consecutive invocations share
// ty, so their reads of the A tile are uniform. That matters on CPU rasterisers
// (lavapipe runs 8 invocations per SIMD group and turns non-uniform shared-memory
// reads into per-lane scalar loads) and is a broadcast on GPUs.

override TM: u32 = 8u;             // output pixels per thread: 4, 8, 16 or 32, dividing WGX
override TN4: u32 = 2u;            // vec4 channel groups per thread: 1 or 2 (TM * TN4 <= 32)
override WGX: u32 = 16u;           // channel groups per workgroup (a multiple of 8 keeps A reads uniform)
override WGY: u32 = 16u;           // pixel groups per workgroup
override BK: u32 = 16u;            // reduction slice staged in shared memory
override VEC4_IN: bool = false;    // Cin % 4 == 0: x loads as vec4
override VEC4_OUT: bool = false;   // Cout, outChannels, outOffset all % 4 == 0
override HAS_RESIDUAL: bool = false;
override RELU: bool = false;

override BM: u32 = TM * WGY;
override BN: u32 = 4u * WGX * TN4;
override WG: u32 = WGX * WGY;
override A_TILE: u32 = BK * BM / 4u;   // vec4 slots: As[k * BM/4 + m/4][m % 4]
override B_TILE: u32 = BK * BN / 4u;   // vec4 slots: Bs[k * BN/4 + n/4]
// The op checks WGX % TM == 0 (so WG % BM == 0: each thread gathers A for one
// fixed pixel) and BK * TM <= 32 * WGX (so A_SLOTS <= MAX_SLOTS).
override A_SLOTS: u32 = (A_TILE + WG - 1u) / WG;
override B_SLOTS: u32 = (B_TILE + WG - 1u) / WG;
const MAX_SLOTS: u32 = 8u;

// @include conv2d_interface

var<workgroup> As: array<vec4f, A_TILE>;
var<workgroup> Bs: array<vec4f, B_TILE>;

// @include conv2d_taps

// Flat x index of tap t for the pixel whose top-left input is (ih0, iw0), or -1 if padding.
fn xIndex(t: Tap, ih0: i32, iw0: i32, xBase: u32) -> i32 {
  let ih = ih0 + i32(t.kh * p.dilH);
  let iw = iw0 + i32(t.kw * p.dilW);
  if (t.k >= p.K || ih < 0 || ih >= i32(p.H) || iw < 0 || iw >= i32(p.W)) { return -1; }
  return i32(xBase + (u32(ih) * p.W + u32(iw)) * p.Cin + t.ci);
}

// x[i + j] for j < 4 where ci + j < Cin (channels past Cin meet zero weight rows
// but must read nothing: Inf * 0 is NaN). i is a flat index of channel ci; valid
// is false for padding taps.
fn loadX4At(i: u32, ci: u32, valid: bool) -> vec4f {
  if (VEC4_IN) {
    return select(vec4f(0.0), x[i >> 2u], valid);
  }
  var v = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    let e = i + j;
    if (valid && ci + j < p.Cin) { v[j] = x[e >> 2u][e & 3u]; }
  }
  return v;
}

fn loadX4(t: Tap, ih0: i32, iw0: i32, xBase: u32) -> vec4f {
  let i = xIndex(t, ih0, iw0, xBase);
  return loadX4At(u32(max(i, 0)), t.ci, i >= 0);
}

// @include conv2d_store

@compute @workgroup_size(WGX, WGY)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32, @builtin(local_invocation_id) tid: vec3u) {
  // No early return past the last tile: such rows read zeros and store nothing,
  // and uniform control flow keeps CPU rasterisers off their masked paths.
  let m0 = (wid.y + wid.z * nwg.y) * BM;
  let n0 = wid.x * BN;

  // The pixel this thread gathers A for; rows past M start far outside the image.
  let aRow = lid % BM;
  let am = m0 + aRow;
  let ow = am % p.OW;
  let ohn = am / p.OW;
  var ih0 = i32((ohn % p.OH) * p.strideH) - p.padH;
  if (am >= p.M) { ih0 = -0x40000000; }
  let iw0 = i32(ow * p.strideW) - p.padW;
  let xBase = (ohn / p.OH) * p.H * p.W * p.Cin;
  var taps: array<Tap, MAX_SLOTS>;
  for (var s = 0u; s < A_SLOTS; s++) {
    taps[s] = tapAt(4u * (lid / BM + s * (WG / BM)));
  }

  var acc: array<vec4f, 32>;  // acc[j * TM + i]: pixel ty*TM + i, channel group j
  let kTiles = (p.K + BK - 1u) / BK;
  for (var kt = 0u; kt < kTiles; kt++) {
    for (var s = 0u; s < A_SLOTS; s++) {
      let kg = lid / BM + s * (WG / BM);
      if (kg < BK / 4u) {
        let v = loadX4(taps[s], ih0, iw0, xBase);
        let base = 4u * kg * (BM / 4u) + aRow / 4u;
        let c = aRow % 4u;
        As[base][c] = v.x;
        As[base + BM / 4u][c] = v.y;
        As[base + BM / 2u][c] = v.z;
        As[base + 3u * BM / 4u][c] = v.w;
        taps[s] = advance(taps[s], BK);
      }
    }
    for (var s = 0u; s < B_SLOTS; s++) {
      let e = lid + s * WG;
      if (e < B_TILE) {
        let bn4 = n0 / 4u + e % (BN / 4u);
        let k = kt * BK + e / (BN / 4u);
        var v = vec4f(0.0);
        if (k < p.K && bn4 < p.coutPad4) { v = loadW(k * p.coutPad4 + bn4); }
        Bs[e] = v;
      }
    }
    workgroupBarrier();
    // The opaque bound (k >= K reads zeros anyway) keeps compilers from fully
    // unrolling: lavapipe compiles several times faster and runs no slower.
    for (var k = 0u; k < min(BK, p.K); k++) {
      for (var j = 0u; j < TN4; j++) {
        let b = Bs[k * (BN / 4u) + tid.x + WGX * j];
        for (var i = 0u; i < TM / 4u; i++) {
          let a = As[k * (BM / 4u) + tid.y * (TM / 4u) + i];
          acc[j * TM + 4u * i] += a.x * b;
          acc[j * TM + 4u * i + 1u] += a.y * b;
          acc[j * TM + 4u * i + 2u] += a.z * b;
          acc[j * TM + 4u * i + 3u] += a.w * b;
        }
      }
    }
    workgroupBarrier();
  }

  // One store site inside a loop the compiler cannot unroll, selecting the
  // accumulator by constant indices: unrolled store sites multiply the code
  // CPU rasterisers generate (and compile) per scatter.
  for (var e = 0u; e < min(TM * TN4, p.M + TM * TN4); e++) {
    var v = acc[0];
    for (var q = 1u; q < TM * TN4; q++) {
      if (q == e) { v = acc[q]; }
    }
    let m = m0 + tid.y * TM + e % TM;
    let co = n0 + 4u * (tid.x + WGX * (e / TM));
    if (m < p.M && co < p.Cout) { store(m, co, v); }
  }
}

// ---- direct variant ---------------------------------------------------------
// Accumulators are named variables, not an array: CPU rasterisers keep a thread's
// values in SIMD registers only when nothing indexes them (an indexed array goes to
// memory), and the register file holds about 16 floats per lane, hence the small
// register tiles (DP * DCN4 * 4 floats).

override DWG: u32 = 64u;   // threads per workgroup
override DP: u32 = 1u;     // pixels per thread, DWG apart: 1 or 2
override DCN4: u32 = 2u;   // vec4 channel groups per workgroup, 1..4

struct DirectPixel { xi: u32, ok: bool }

// The first x index of tap (kh, kw) for the pixel whose top-left input is (ih0, iw0).
fn directPixel(ih0: i32, iw0: i32, xBase: u32, kh: u32, kw: u32) -> DirectPixel {
  let ih = ih0 + i32(kh * p.dilH);
  let iw = iw0 + i32(kw * p.dilW);
  let ok = ih >= 0 && ih < i32(p.H) && iw >= 0 && iw < i32(p.W);
  return DirectPixel(select(0u, (xBase + u32(ih) * p.W + u32(iw)) * p.Cin, ok), ok);
}

// acc += xv . rows [wi, wi + 4) of W at vec4 column wi (uniform across the workgroup).
fn fma4(acc: vec4f, xv: vec4f, wi: u32) -> vec4f {
  return acc + xv.x * loadW(wi) + xv.y * loadW(wi + p.coutPad4) + xv.z * loadW(wi + 2u * p.coutPad4) + xv.w * loadW(wi + 3u * p.coutPad4);
}

@compute @workgroup_size(DWG)
fn direct(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
          @builtin(local_invocation_index) lid: u32) {
  let mA = (wid.y + wid.z * nwg.y) * DWG * DP + lid;
  let mB = mA + DWG;
  let n4 = wid.x * DCN4;
  // Channel groups past CoutPad read the last one (uniformly) and are never stored.
  let c0 = min(n4, p.coutPad4 - 1u);
  let c1 = min(n4 + 1u, p.coutPad4 - 1u);
  let c2 = min(n4 + 2u, p.coutPad4 - 1u);
  let c3 = min(n4 + 3u, p.coutPad4 - 1u);
  let ohnA = mA / p.OW;
  let ohnB = mB / p.OW;
  let ih0A = select(i32((ohnA % p.OH) * p.strideH) - p.padH, -0x40000000, mA >= p.M);
  let ih0B = select(i32((ohnB % p.OH) * p.strideH) - p.padH, -0x40000000, mB >= p.M || DP < 2u);
  let iw0A = i32((mA % p.OW) * p.strideW) - p.padW;
  let iw0B = i32((mB % p.OW) * p.strideW) - p.padW;
  let baseA = (ohnA / p.OH) * p.H * p.W;
  let baseB = (ohnB / p.OH) * p.H * p.W;
  var a0 = vec4f(0.0); var a1 = vec4f(0.0); var a2 = vec4f(0.0); var a3 = vec4f(0.0);
  var b0 = vec4f(0.0); var b1 = vec4f(0.0); var b2 = vec4f(0.0); var b3 = vec4f(0.0);
  let taps = p.K / p.CinPad;
  for (var r = 0u; r < taps; r++) {
    let kh = r / p.KW;
    let kw = r % p.KW;
    let pa = directPixel(ih0A, iw0A, baseA, kh, kw);
    let pb = directPixel(ih0B, iw0B, baseB, kh, kw);
    var wRow = r * p.CinPad * p.coutPad4;
    for (var ci = 0u; ci < p.CinPad; ci += 4u) {
      let xa = loadX4At(pa.xi + ci, ci, pa.ok);
      a0 = fma4(a0, xa, wRow + c0);
      if (DCN4 > 1u) { a1 = fma4(a1, xa, wRow + c1); }
      if (DCN4 > 2u) { a2 = fma4(a2, xa, wRow + c2); }
      if (DCN4 > 3u) { a3 = fma4(a3, xa, wRow + c3); }
      if (DP > 1u) {
        let xb = loadX4At(pb.xi + ci, ci, pb.ok);
        b0 = fma4(b0, xb, wRow + c0);
        if (DCN4 > 1u) { b1 = fma4(b1, xb, wRow + c1); }
        if (DCN4 > 2u) { b2 = fma4(b2, xb, wRow + c2); }
        if (DCN4 > 3u) { b3 = fma4(b3, xb, wRow + c3); }
      }
      wRow += 4u * p.coutPad4;
    }
  }
  let co = 4u * n4;
  if (mA < p.M) {
    if (co < p.Cout) { store(mA, co, a0); }
    if (DCN4 > 1u && co + 4u < p.Cout) { store(mA, co + 4u, a1); }
    if (DCN4 > 2u && co + 8u < p.Cout) { store(mA, co + 8u, a2); }
    if (DCN4 > 3u && co + 12u < p.Cout) { store(mA, co + 12u, a3); }
  }
  if (DP > 1u && mB < p.M) {
    if (co < p.Cout) { store(mB, co, b0); }
    if (DCN4 > 1u && co + 4u < p.Cout) { store(mB, co + 4u, b1); }
    if (DCN4 > 2u && co + 8u < p.Cout) { store(mB, co + 8u, b2); }
    if (DCN4 > 3u && co + 12u < p.Cout) { store(mB, co + 12u, b3); }
  }
}
