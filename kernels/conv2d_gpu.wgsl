// Conv2d (groups = 1) for discrete GPUs: the implicit GEMM of kernels/conv2d.wgsl
// (read its header: NHWC, weights [K, CoutPad] as vec4, K = (kh, kw, ci) with ci
// padded to CinPad; the same uniforms and epilogue), restructured the way fast
// SGEMMs are on GPUs:
//
// - Double-buffered workgroup memory with register prefetch: the global loads of
//   K-slice t+1 are issued before the multiply-adds of slice t and stored to the other
//   buffer after them, so memory latency hides behind arithmetic and each slice costs
//   one barrier instead of two.
// - A is staged as vec4 over 4 reduction indices of one pixel (As[kg][m]), so the
//   gather stores whole vec4s and the inner loop reads TM vec4s of A and TN4 vec4s
//   of W per 4 reduction steps; the inner loop is fully unrolled (BK is a constant).
// - Split-K for layers whose output is too small to fill a GPU (ResNet's res4/res5 at
//   512x512: 3x3 512->512 on 16x16 gives 8 tiles of 128x128 for 132 multiprocessors):
//   workgroup x = split * nBlocks + channel block reads only K-slices
//   [split * kTilesPerSplit, ...) and, with splits > 1, writes raw sums to
//   partial[(split * M + m) * coutPad4 + co / 4]; entry `reduce` adds the splits and
//   applies the epilogue. With one split main applies the epilogue itself.
//
// Workgroup WGX x WGY; thread (tx, ty) owns pixels [ty*TM, ty*TM + TM) and channel
// groups tx + WGX*j (j < TN4) of the BM x BN tile, as in conv2d.wgsl.

override TM: u32 = 8u;             // output pixels per thread, <= 16, dividing WGX
override TN4: u32 = 2u;            // vec4 channel groups per thread: 1 or 2
override WGX: u32 = 16u;
override WGY: u32 = 16u;
override BK: u32 = 16u;            // reduction slice per stage, a multiple of 4
override VEC4_IN: bool = false;
override VEC4_OUT: bool = false;
override HAS_RESIDUAL: bool = false;
override RELU: bool = false;

override BM: u32 = TM * WGY;
override BN: u32 = 4u * WGX * TN4;
override WG: u32 = WGX * WGY;
override KG: u32 = BK / 4u;             // vec4 groups of reduction indices per slice
override A_TILE: u32 = KG * BM;         // vec4 slots: As[kg * BM + m]
override B_TILE: u32 = BK * BN / 4u;    // vec4 slots: Bs[k * BN/4 + n/4]
// The op checks WGX % TM == 0 (so WG % BM == 0: each thread gathers A for one fixed
// pixel) and that both slot counts are at most MAX_SLOTS.
override A_SLOTS: u32 = (A_TILE + WG - 1u) / WG;
override B_SLOTS: u32 = (B_TILE + WG - 1u) / WG;
const MAX_SLOTS: u32 = 8u;
const MAX_TM: u32 = 16u;

struct Params {
  H: u32, W: u32, Cin: u32, CinPad: u32, KW: u32,
  OH: u32, OW: u32, Cout: u32, K: u32,
  strideH: u32, strideW: u32, dilH: u32, dilW: u32,
  padH: i32, padW: i32, M: u32,
  outChannels: u32, outOffset: u32, coutPad4: u32,
  splits: u32, kTilesPerSplit: u32,
}

@group(0) @binding(0) var<storage, read> x: array<vec4f>;
// The f16-weight variant swaps these two lines as for conv2d.wgsl (src/ops/conv2d-f16.ts).
@group(0) @binding(1) var<storage, read> w: array<vec4f>;
fn loadW(i: u32) -> vec4f { return w[i]; }
@group(0) @binding(2) var<storage, read> bias: array<vec4f>;
@group(0) @binding(3) var<storage, read> residual: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> partial: array<vec4f>;
@group(0) @binding(6) var<uniform> p: Params;

var<workgroup> As: array<vec4f, 2u * A_TILE>;
var<workgroup> Bs: array<vec4f, 2u * B_TILE>;

struct Tap { k: u32, kh: u32, kw: u32, ci: u32 }

fn tapAt(k: u32) -> Tap {
  let r = k / p.CinPad;
  return Tap(k, r / p.KW, r % p.KW, k % p.CinPad);
}

fn advance(t: Tap, by: u32) -> Tap {
  var r = t;
  r.k += by;
  r.ci += by;
  while (r.ci >= p.CinPad) {
    r.ci -= p.CinPad;
    r.kw += 1u;
    if (r.kw == p.KW) { r.kw = 0u; r.kh += 1u; }
  }
  return r;
}

// x[ci..ci+3] of tap t for the pixel whose top-left input is (ih0, iw0); zeros for
// padding, past K, and channels past Cin (they meet zero weight rows, but Inf * 0 is NaN).
fn loadX4(t: Tap, ih0: i32, iw0: i32, xBase: u32) -> vec4f {
  let ih = ih0 + i32(t.kh * p.dilH);
  let iw = iw0 + i32(t.kw * p.dilW);
  if (t.k >= p.K || ih < 0 || ih >= i32(p.H) || iw < 0 || iw >= i32(p.W)) { return vec4f(0.0); }
  let i = xBase + (u32(ih) * p.W + u32(iw)) * p.Cin + t.ci;
  if (VEC4_IN) { return x[i >> 2u]; }
  var v = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    let e = i + j;
    if (t.ci + j < p.Cin) { v[j] = x[e >> 2u][e & 3u]; }
  }
  return v;
}

@compute @workgroup_size(WGX, WGY)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32, @builtin(local_invocation_id) tid: vec3u) {
  let nBlocks = (p.Cout + BN - 1u) / BN;
  let split = wid.x / nBlocks;
  let n0 = (wid.x % nBlocks) * BN;
  let m0 = (wid.y + wid.z * nwg.y) * BM;

  // The pixel this thread gathers A for; rows past M start far outside the image.
  let aRow = lid % BM;
  let am = m0 + aRow;
  var ih0 = i32(((am / p.OW) % p.OH) * p.strideH) - p.padH;
  if (am >= p.M) { ih0 = -0x40000000; }
  let iw0 = i32((am % p.OW) * p.strideW) - p.padW;
  let xBase = (am / p.OW / p.OH) * p.H * p.W * p.Cin;

  let kTiles = (p.K + BK - 1u) / BK;
  let ktBegin = split * p.kTilesPerSplit;
  let ktEnd = min(kTiles, ktBegin + p.kTilesPerSplit);
  var taps: array<Tap, MAX_SLOTS>;
  for (var s = 0u; s < A_SLOTS; s++) {
    taps[s] = tapAt(ktBegin * BK + 4u * (lid / BM + s * (WG / BM)));
  }
  var aReg: array<vec4f, MAX_SLOTS>;
  var bReg: array<vec4f, MAX_SLOTS>;
  var acc: array<vec4f, 32>;  // acc[j * TM + i]: pixel ty*TM + i, channel group j

  // Pass kt fetches slice kt into registers, multiplies slice kt - 1 (buffer 1 - buf),
  // then stores slice kt into buffer buf: ktEnd - ktBegin + 1 passes, one barrier each.
  for (var kt = ktBegin; kt <= ktEnd; kt++) {
    let buf = (kt - ktBegin) & 1u;
    if (kt < ktEnd) {
      for (var s = 0u; s < A_SLOTS; s++) {
        let kg = lid / BM + s * (WG / BM);
        if (kg < KG) {
          aReg[s] = loadX4(taps[s], ih0, iw0, xBase);
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
          bReg[s] = v;
        }
      }
    }
    // Multiply-adds of slice kt - 1 (in buffer 1 - buf) while the loads above are in flight.
    if (kt > ktBegin) {
      let aBase = (1u - buf) * A_TILE;
      let bBase = (1u - buf) * B_TILE;
      // The opaque bound (K > 0 always) keeps compilers from unrolling this loop as well as
      // the ones inside it: a quarter of the code, and CPU drivers compile it several times faster.
      for (var kg = 0u; kg < min(KG, p.K); kg++) {
        var a: array<vec4f, MAX_TM>;
        for (var i = 0u; i < TM; i++) { a[i] = As[aBase + kg * BM + tid.y * TM + i]; }
        for (var kk = 0u; kk < 4u; kk++) {
          for (var j = 0u; j < TN4; j++) {
            let b = Bs[bBase + (4u * kg + kk) * (BN / 4u) + tid.x + WGX * j];
            for (var i = 0u; i < TM; i++) { acc[j * TM + i] += a[i][kk] * b; }
          }
        }
      }
    }
    if (kt < ktEnd) {
      for (var s = 0u; s < A_SLOTS; s++) {
        let kg = lid / BM + s * (WG / BM);
        if (kg < KG) { As[buf * A_TILE + kg * BM + aRow] = aReg[s]; }
      }
      for (var s = 0u; s < B_SLOTS; s++) {
        let e = lid + s * WG;
        if (e < B_TILE) { Bs[buf * B_TILE + e] = bReg[s]; }
      }
    }
    // Buffer buf is complete for the next pass, which reads it; the pass after that
    // overwrites buffer 1 - buf, read above, only after this barrier.
    workgroupBarrier();
  }

  // One store site inside a loop compilers cannot unroll, picking the accumulator by
  // constant indices (as conv2d.wgsl): unrolled store sites multiply the code, which
  // CPU drivers compile for seconds; on a GPU the selects cost nothing next to the GEMM.
  let single = p.splits == 1u;
  for (var e = 0u; e < min(TM * TN4, p.M + TM * TN4); e++) {
    var v = acc[0];
    for (var q = 1u; q < TM * TN4; q++) {
      if (q == e) { v = acc[q]; }
    }
    let m = m0 + tid.y * TM + e % TM;
    let co = n0 + 4u * (tid.x + WGX * (e / TM));
    if (m < p.M && co < p.Cout) {
      if (single) {
        store(m, co, v);
      } else {
        partial[(split * p.M + m) * p.coutPad4 + co / 4u] = v;
      }
    }
  }
}

// Epilogue for pixel m, channels [co, co + 4): + bias, + residual, ReLU, into channel
// outOffset + co of an outChannels-wide output (conv2d.wgsl's store).
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

// ---- reduce: sums the splits' partials, then the epilogue (one thread per pixel and channel group) ----

const REDUCE_WG: u32 = 64u;

@compute @workgroup_size(REDUCE_WG)
fn reduce(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * REDUCE_WG + lid;
  if (i >= p.M * p.coutPad4) { return; }
  let m = i / p.coutPad4;
  let co = 4u * (i % p.coutPad4);
  if (co >= p.Cout) { return; }
  var sum = vec4f(0.0);
  for (var s = 0u; s < p.splits; s++) { sum += partial[s * p.M * p.coutPad4 + i]; }
  // Keeps x and w in reduce's bind group layout (the op binds the same buffers to both
  // entry points): a read no thread reaches, since every pixel has K > 0.
  if (p.K == 0u) { sum += x[0] + loadW(0u); }
  store(m, co, sum);
}
