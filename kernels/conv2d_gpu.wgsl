// Conv2d (groups = 1) for discrete GPUs: the implicit GEMM of kernels/conv2d.wgsl
// (read its header: NHWC, weights [K, CoutPad] as vec4, K = (kh, kw, ci) with ci
// padded to CinPad; the same uniforms and epilogue), restructured the way fast
// SGEMMs are on GPUs:
//
// - Double-buffered workgroup memory with register prefetch: the global loads of
//   K-slice t+1 are issued before the multiply-adds of slice t and stored to the other
//   buffer after them, so memory latency hides behind arithmetic and each slice costs
//   one barrier instead of two.
// - Accumulators are 16 named vec4 variables, not an array: no compiler can demote them
//   to local memory for want of unrolling (an indexed array stays in registers only if
//   every loop around its uses is unrolled). The reduction loop is left rolled; its body
//   is straight-line: 2 vec4 loads of A (8 pixels), TN4 of W, TM*TN4 vec4 multiply-adds.
// - Split-K for layers whose output is too small to fill a GPU (ResNet's res4/res5 at
//   512x512: 3x3 512->512 on 16x16 gives 8 tiles of 128x128 for 132 multiprocessors):
//   workgroup x = split * nBlocks + channel block reads only K-slices
//   [split * kTilesPerSplit, ...) and, with splits > 1, writes raw sums to
//   partial[(split * M + m) * coutPad4 + co / 4]; entry `reduce` adds the splits and
//   applies the epilogue. With one split main applies the epilogue itself.
//
// Workgroup WGX x WGY; thread (tx, ty) owns pixels [ty*TM, ty*TM + TM) and channel
// groups tx + WGX*j (j < TN4) of the BM x BN tile, as in conv2d.wgsl.

override TM: u32 = 8u;             // output pixels per thread: 4 or 8, dividing WGX
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
override A_TILE: u32 = BK * BM / 4u;    // vec4 slots: As[k * BM/4 + m/4][m % 4]
override B_TILE: u32 = BK * BN / 4u;    // vec4 slots: Bs[k * BN/4 + n/4]
// The op checks WGX % TM == 0 (so WG % BM == 0: each thread gathers A for one fixed
// pixel) and that both slot counts are at most MAX_SLOTS.
override A_SLOTS: u32 = (A_TILE + WG - 1u) / WG;
override B_SLOTS: u32 = (B_TILE + WG - 1u) / WG;
const MAX_SLOTS: u32 = 8u;

// @include conv2d_split_interface

var<workgroup> As: array<vec4f, 2u * A_TILE>;
var<workgroup> Bs: array<vec4f, 2u * B_TILE>;

// @include conv2d_taps

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
  // cJI: pixel ty*TM + I, channel group tx + WGX*J (J < TN4, I < TM; the rest stay unused).
  var c00 = vec4f(0.0); var c01 = vec4f(0.0); var c02 = vec4f(0.0); var c03 = vec4f(0.0);
  var c04 = vec4f(0.0); var c05 = vec4f(0.0); var c06 = vec4f(0.0); var c07 = vec4f(0.0);
  var c10 = vec4f(0.0); var c11 = vec4f(0.0); var c12 = vec4f(0.0); var c13 = vec4f(0.0);
  var c14 = vec4f(0.0); var c15 = vec4f(0.0); var c16 = vec4f(0.0); var c17 = vec4f(0.0);

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
      let aBase = (1u - buf) * A_TILE + tid.y * (TM / 4u);
      let bBase = (1u - buf) * B_TILE + tid.x;
      // The opaque bound (K > 0 always) keeps compilers from unrolling: CPU drivers
      // compile several times faster, and a GPU loses one branch per 64 multiply-adds.
      for (var k = 0u; k < min(BK, p.K); k++) {
        let lo = As[aBase + k * (BM / 4u)];
        var hi = vec4f(0.0);
        if (TM > 4u) { hi = As[aBase + k * (BM / 4u) + 1u]; }
        let b0 = Bs[bBase + k * (BN / 4u)];
        c00 += lo.x * b0; c01 += lo.y * b0; c02 += lo.z * b0; c03 += lo.w * b0;
        if (TM > 4u) { c04 += hi.x * b0; c05 += hi.y * b0; c06 += hi.z * b0; c07 += hi.w * b0; }
        if (TN4 > 1u) {
          let b1 = Bs[bBase + k * (BN / 4u) + WGX];
          c10 += lo.x * b1; c11 += lo.y * b1; c12 += lo.z * b1; c13 += lo.w * b1;
          if (TM > 4u) { c14 += hi.x * b1; c15 += hi.y * b1; c16 += hi.z * b1; c17 += hi.w * b1; }
        }
      }
    }
    if (kt < ktEnd) {
      for (var s = 0u; s < A_SLOTS; s++) {
        let kg = lid / BM + s * (WG / BM);
        if (kg < KG) {
          // Four reduction indices of pixel aRow: one component in each of 4 rows.
          let at = buf * A_TILE + 4u * kg * (BM / 4u) + aRow / 4u;
          let c = aRow % 4u;
          As[at][c] = aReg[s].x;
          As[at + BM / 4u][c] = aReg[s].y;
          As[at + BM / 2u][c] = aReg[s].z;
          As[at + 3u * BM / 4u][c] = aReg[s].w;
        }
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

  // One store site inside a loop compilers cannot unroll, picking the accumulator by a
  // switch (as conv2d.wgsl does by selects): unrolled store sites multiply the code, which
  // CPU drivers compile for seconds; on a GPU the switch costs nothing next to the GEMM.
  let single = p.splits == 1u;
  for (var e = 0u; e < min(TM * TN4, p.M + TM * TN4); e++) {
    var v = c00;
    switch ((e / TM) * 8u + e % TM) {
      case 1u: { v = c01; } case 2u: { v = c02; } case 3u: { v = c03; } case 4u: { v = c04; }
      case 5u: { v = c05; } case 6u: { v = c06; } case 7u: { v = c07; } case 8u: { v = c10; }
      case 9u: { v = c11; } case 10u: { v = c12; } case 11u: { v = c13; } case 12u: { v = c14; }
      case 13u: { v = c15; } case 14u: { v = c16; } case 15u: { v = c17; } default: {}
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

// @include conv2d_store

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
