// BENCHMARK-ONLY RUNG: used by bench/conv2d-layout.ts alone, never by the engine.
// The tiled implicit GEMM of kernels/conv2d.wgsl (same tiles, thread layout and
// shared-memory staging) on NCHW activations, to time the layout decision:
//   out[n, co, oh, ow] = bias[co] + sum_k A[m, k] * Wt[k, co],  m = (n, oh, ow),  k = (ci, kh, kw)
// Weights are [K, CoutPad] with K ordered (ci, kh, kw), i.e. OIHW transposed.
// Consecutive k are kw steps (dilation apart) and channels are a whole plane
// apart, so input reads are scalar here; the epilogue is bias only.

override TM: u32 = 8u;
override TN4: u32 = 1u;
override WGX: u32 = 16u;
override WGY: u32 = 8u;
override BK: u32 = 16u;

override BM: u32 = TM * WGY;
override BN: u32 = 4u * WGX * TN4;
override WG: u32 = WGX * WGY;
override A_TILE: u32 = BK * BM / 4u;
override B_TILE: u32 = BK * BN / 4u;
override A_SLOTS: u32 = (A_TILE + WG - 1u) / WG;
override B_SLOTS: u32 = (B_TILE + WG - 1u) / WG;
const MAX_SLOTS: u32 = 8u;

struct Params {
  H: u32, W: u32, Cin: u32, KH: u32,
  KW: u32, OH: u32, OW: u32, Cout: u32,
  K: u32, strideH: u32, strideW: u32, dilH: u32,
  dilW: u32, padH: i32, padW: i32, M: u32,
  coutPad4: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<vec4f>;
@group(0) @binding(2) var<storage, read> bias: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> As: array<vec4f, A_TILE>;
var<workgroup> Bs: array<vec4f, B_TILE>;

struct Tap { k: u32, ci: u32, kh: u32, kw: u32 }

fn tapAt(k: u32) -> Tap {
  let r = k / p.KW;
  return Tap(k, r / p.KH, r % p.KH, k % p.KW);
}

fn advance(t: Tap, by: u32) -> Tap {
  var r = t;
  r.k += by;
  r.kw += by;
  while (r.kw >= p.KW) {
    r.kw -= p.KW;
    r.kh += 1u;
    if (r.kh == p.KH) { r.kh = 0u; r.ci += 1u; }
  }
  return r;
}

fn loadX(t: Tap, ih0: i32, iw0: i32, xBase: u32) -> f32 {
  let ih = ih0 + i32(t.kh * p.dilH);
  let iw = iw0 + i32(t.kw * p.dilW);
  if (t.k >= p.K || ih < 0 || ih >= i32(p.H) || iw < 0 || iw >= i32(p.W)) { return 0.0; }
  return x[xBase + (t.ci * p.H + u32(ih)) * p.W + u32(iw)];
}

@compute @workgroup_size(WGX, WGY)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32, @builtin(local_invocation_id) tid: vec3u) {
  let m0 = (wid.y + wid.z * nwg.y) * BM;
  let n0 = wid.x * BN;
  let aRow = lid % BM;
  let am = m0 + aRow;
  let ow = am % p.OW;
  let ohn = am / p.OW;
  var ih0 = i32((ohn % p.OH) * p.strideH) - p.padH;
  if (am >= p.M) { ih0 = -0x40000000; }
  let iw0 = i32(ow * p.strideW) - p.padW;
  let xBase = (ohn / p.OH) * p.Cin * p.H * p.W;
  var taps: array<Tap, MAX_SLOTS>;
  for (var s = 0u; s < A_SLOTS; s++) {
    taps[s] = tapAt(4u * (lid / BM + s * (WG / BM)));
  }

  var acc: array<vec4f, 32>;
  let kTiles = (p.K + BK - 1u) / BK;
  for (var kt = 0u; kt < kTiles; kt++) {
    for (var s = 0u; s < A_SLOTS; s++) {
      let kg = lid / BM + s * (WG / BM);
      if (kg < BK / 4u) {
        let t1 = advance(taps[s], 1u);
        let t2 = advance(t1, 1u);
        let t3 = advance(t2, 1u);
        let base = 4u * kg * (BM / 4u) + aRow / 4u;
        let c = aRow % 4u;
        As[base][c] = loadX(taps[s], ih0, iw0, xBase);
        As[base + BM / 4u][c] = loadX(t1, ih0, iw0, xBase);
        As[base + BM / 2u][c] = loadX(t2, ih0, iw0, xBase);
        As[base + 3u * BM / 4u][c] = loadX(t3, ih0, iw0, xBase);
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

  let plane = p.OH * p.OW;
  for (var e = 0u; e < min(TM * TN4, p.M + TM * TN4); e++) {
    var v = acc[0];
    for (var q = 1u; q < TM * TN4; q++) {
      if (q == e) { v = acc[q]; }
    }
    let m = m0 + tid.y * TM + e % TM;
    let co = n0 + 4u * (tid.x + WGX * (e / TM));
    if (m < p.M && co < p.Cout) {
      v += bias[co >> 2u];
      let o = (m / plane) * p.Cout * plane + m % plane;
      for (var c = 0u; c < min(4u, p.Cout - co); c++) {
        out[o + (co + c) * plane] = v[c];
      }
    }
  }
}
