// Conv2d (groups = 1) as an implicit GEMM over NHWC activations:
//   out[m, co] = sum_k A[m, k] * Wt[k, co],   m = (n, oh, ow),  k = (kh, kw, ci)
// A is the im2col matrix, never materialised: each workgroup gathers its BM x BK
// slice of A straight from x into shared memory. Weights arrive pre-transposed
// to [K, CoutPad] (CoutPad = Cout rounded up to 4, zero-filled, bias likewise),
// so a K row is contiguous along Cout and always loads as vec4.
// Epilogue: + bias, + residual (HAS_RESIDUAL), then ReLU (RELU): ResNet's order.
// The result may go to channels [outOffset, outOffset + Cout) of a tensor with
// outChannels channels, so concatenation (ASPP, PSP) needs no copy.
//
// Every buffer is viewed as array<vec4f> (the runtime's pooled buffers are
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

struct Params {
  H: u32, W: u32, Cin: u32, KW: u32,
  OH: u32, OW: u32, Cout: u32, K: u32,
  strideH: u32, strideW: u32, dilH: u32, dilW: u32,
  padH: i32, padW: i32, M: u32,
  outChannels: u32, outOffset: u32, coutPad4: u32,
}

@group(0) @binding(0) var<storage, read> x: array<vec4f>;
@group(0) @binding(1) var<storage, read> w: array<vec4f>;
@group(0) @binding(2) var<storage, read> bias: array<vec4f>;
@group(0) @binding(3) var<storage, read> residual: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(5) var<uniform> p: Params;

var<workgroup> As: array<vec4f, A_TILE>;
var<workgroup> Bs: array<vec4f, B_TILE>;

// Position of reduction index k as (kh, kw, ci); advanced incrementally because
// integer division is slow on GPUs and worse on CPU rasterisers (lavapipe).
struct Tap { k: u32, kh: u32, kw: u32, ci: u32 }

fn tapAt(k: u32) -> Tap {
  let r = k / p.Cin;
  return Tap(k, r / p.KW, r % p.KW, k % p.Cin);
}

fn advance(t: Tap, by: u32) -> Tap {
  var r = t;
  r.k += by;
  r.ci += by;
  while (r.ci >= p.Cin) {
    r.ci -= p.Cin;
    r.kw += 1u;
    if (r.kw == p.KW) { r.kw = 0u; r.kh += 1u; }
  }
  return r;
}

// Flat x index of tap t for the pixel whose top-left input is (ih0, iw0), or -1 if padding.
fn xIndex(t: Tap, ih0: i32, iw0: i32, xBase: u32) -> i32 {
  let ih = ih0 + i32(t.kh * p.dilH);
  let iw = iw0 + i32(t.kw * p.dilW);
  if (t.k >= p.K || ih < 0 || ih >= i32(p.H) || iw < 0 || iw >= i32(p.W)) { return -1; }
  return i32(xBase + (u32(ih) * p.W + u32(iw)) * p.Cin + t.ci);
}

fn loadX1(t: Tap, ih0: i32, iw0: i32, xBase: u32) -> f32 {
  let i = xIndex(t, ih0, iw0, xBase);
  if (i < 0) { return 0.0; }
  return x[u32(i) >> 2u][u32(i) & 3u];
}

fn loadX4(t: Tap, ih0: i32, iw0: i32, xBase: u32) -> vec4f {
  if (VEC4_IN) {
    let i = xIndex(t, ih0, iw0, xBase);
    if (i < 0) { return vec4f(0.0); }
    return x[u32(i) >> 2u];
  }
  let t1 = advance(t, 1u);
  let t2 = advance(t1, 1u);
  let t3 = advance(t2, 1u);
  return vec4f(loadX1(t, ih0, iw0, xBase), loadX1(t1, ih0, iw0, xBase), loadX1(t2, ih0, iw0, xBase), loadX1(t3, ih0, iw0, xBase));
}

// Epilogue for pixel m, channels [co, co + 4); the caller checks m < M and co < Cout.
fn store(m: u32, co: u32, acc: vec4f) {
  var v = acc + bias[co >> 2u];
  if (VEC4_OUT) {
    if (HAS_RESIDUAL) { v += residual[(m * p.Cout + co) >> 2u]; }
    if (RELU) { v = max(v, vec4f(0.0)); }
    out[(m * p.outChannels + p.outOffset + co) >> 2u] = v;
  } else {
    for (var j = 0u; j < min(4u, p.Cout - co); j++) {
      var s = v[j];
      if (HAS_RESIDUAL) {
        let r = m * p.Cout + co + j;
        s += residual[r >> 2u][r & 3u];
      }
      if (RELU) { s = max(s, 0.0); }
      let o = m * p.outChannels + p.outOffset + co + j;
      out[o >> 2u][o & 3u] = s;
    }
  }
}

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
        if (k < p.K && bn4 < p.coutPad4) { v = w[k * p.coutPad4 + bn4]; }
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
