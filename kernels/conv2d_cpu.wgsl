// Conv2d for CPU Vulkan drivers (lavapipe's llvmpipe) on adapters with `subgroups`:
// the implicit GEMM of kernels/conv2d.wgsl (same Params, bindings, weight layout
// [K, CoutPad] and epilogue; read its header first), shaped for how llvmpipe runs a
// compute shader. It compiles the shader for one SIMD chunk of 8 invocations (AVX2:
// one lane each) and walks a workgroup chunk by chunk on one core. Measured there
// (bench/RESULTS.md, issue 16): arithmetic on per-lane registers is cheap; a storage
// load whose address is not a compile-time constant costs a per-lane loop with a
// bounds check per component (a vec4 costs about as much as 40 vec4 multiply-adds), whether or not the
// address is the same for every lane (llvmpipe proves uniformity only for constants),
// and adjacent vec4 loads merge into one such loop; subgroupBroadcast with a constant
// lane is a register shuffle. So:
//
//   - an invocation owns PX output pixels (WG apart) and 4*CB4 output channels, all
//     accumulated in named vec4s (an indexed array would live in memory);
//   - per 16 reduction rows (16 input channels of one tap), each pixel's channels
//     come in as 4 adjacent vec4 loads (one merged per-lane load), and the weights
//     are loaded 8 rows x 4*CB4 channels at a time, once per subgroup, spread over its
//     8 lanes (lane j holds one row), then handed to every lane by subgroupBroadcast:
//     8 lanes share one load instead of each repeating it (8 rows rather than 16 at a
//     time keep fewer values live: 1.1x faster, bench/RESULTS.md);
//   - no workgroup memory and no barriers.
//
// The row loop below is written out (subgroupBroadcast takes a constant lane; the
// text comes from tools/gen-conv2d-cpu.ts): row ci + 8h + j comes from lane j of block
// h and meets x channel ci + 8h + j, component (8h + j) % 4 of the (8h + j) / 4-th vec4.
//
// SG is how many lanes share a weight load: 8 needs subgroups of at least 8 (lanes 8..
// of a wider subgroup load rows nobody reads); with SG 4 (SwiftShader's subgroups are 4
// wide) lanes 0..3 load rows j < 4 and then rows j >= 4 of each block, two loads where
// SG 8 makes one. The op picks SG from the adapter's subgroupMinSize. SwiftShader runs
// a compute shader much as llvmpipe does (4 lanes per SSE register, per-lane loops for
// loads at non-constant addresses), and there this kernel with SG 4 ran 1.6-2.5x the
// direct kernel and 3-6x the tiles (bench/RESULTS.md, issue 16). Rows past this tap's
// CinPad channels belong to the next tap (or are clamped at K - 1) and meet x = 0, and
// channels past Cout read other columns and are never stored.
enable subgroups;

override WG: u32 = 64u;            // invocations per workgroup (a multiple of the subgroup size)
override SG: u32 = 8u;             // lanes that share a weight load: 8, or 4 (subgroups of 4)
override PX: u32 = 1u;             // output pixels per invocation: 1 or 2
override CB4: u32 = 4u;            // vec4 output-channel groups per invocation: 4 or 8
override VEC4_IN: bool = false;    // Cin % 4 == 0: x loads as vec4
override VEC4_OUT: bool = false;   // Cout, outChannels, outOffset all % 4 == 0
override HAS_RESIDUAL: bool = false;
override RELU: bool = false;

// @include conv2d_interface

// @include conv2d_store

// An output pixel's top-left input position and its image's first pixel; pixels past
// M start far outside the image, so every tap reads zeros.
struct Pixel { ih0: i32, iw0: i32, base: u32 }

fn pixelAt(m: u32) -> Pixel {
  let ohn = m / p.OW;
  let ih0 = select(i32((ohn % p.OH) * p.strideH) - p.padH, -0x40000000, m >= p.M);
  return Pixel(ih0, i32((m % p.OW) * p.strideW) - p.padW, (ohn / p.OH) * p.H * p.W);
}

// The flat x index of channel 0 of tap (kh, kw) for a pixel, and whether the tap lies
// inside the image (padding reads zeros).
struct Tap { i: u32, ok: bool }

fn tapAt(q: Pixel, kh: u32, kw: u32) -> Tap {
  let ih = q.ih0 + i32(kh * p.dilH);
  let iw = q.iw0 + i32(kw * p.dilW);
  let ok = ih >= 0 && ih < i32(p.H) && iw >= 0 && iw < i32(p.W);
  return Tap(select(0u, (q.base + u32(ih) * p.W + u32(iw)) * p.Cin, ok), ok);
}

struct X16 { v0: vec4f, v1: vec4f, v2: vec4f, v3: vec4f }

// Channels [ci, ci + 16) of a tap, zero past Cin and for padding. Channels past Cin
// must read nothing rather than the next pixel's (Inf * 0 is NaN).
fn loadX16(t: Tap, ci: u32) -> X16 {
  if (VEC4_IN) {
    // Four adjacent vec4 loads (the driver merges them), masked after loading.
    let i = (t.i + ci) >> 2u;
    let v0 = x[i]; let v1 = x[i + 1u]; let v2 = x[i + 2u]; let v3 = x[i + 3u];
    let z = vec4f(0.0);
    return X16(select(z, v0, t.ok), select(z, v1, t.ok && ci + 4u < p.Cin),
               select(z, v2, t.ok && ci + 8u < p.Cin), select(z, v3, t.ok && ci + 12u < p.Cin));
  }
  var v = array<vec4f, 4>();
  for (var e = 0u; e < 16u; e++) {
    let g = t.i + ci + e;
    if (t.ok && ci + e < p.Cin) { v[e >> 2u][e & 3u] = x[g >> 2u][g & 3u]; }
  }
  return X16(v[0], v[1], v[2], v[3]);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32, @builtin(subgroup_invocation_id) lane: u32) {
  let mA = (wid.y + wid.z * nwg.y) * WG * PX + lid;
  let mB = mA + WG;
  let qa = pixelAt(mA);
  let qb = pixelAt(select(mA, mB, PX == 2u));
  let g0 = wid.x * CB4;   // first vec4 channel group of this workgroup
  var a0 = vec4f(0.0); var a1 = vec4f(0.0); var a2 = vec4f(0.0); var a3 = vec4f(0.0);
  var a4 = vec4f(0.0); var a5 = vec4f(0.0); var a6 = vec4f(0.0); var a7 = vec4f(0.0);
  var d0 = vec4f(0.0); var d1 = vec4f(0.0); var d2 = vec4f(0.0); var d3 = vec4f(0.0);
  var d4 = vec4f(0.0); var d5 = vec4f(0.0); var d6 = vec4f(0.0); var d7 = vec4f(0.0);
  let taps = p.K / p.CinPad;
  let lastRow = p.K - 1u;
  for (var r = 0u; r < taps; r++) {
    let kh = r / p.KW;
    let kw = r % p.KW;
    let ta = tapAt(qa, kh, kw);
    let tb = tapAt(qb, kh, kw);
    for (var ci = 0u; ci < p.CinPad; ci += 16u) {
      let xa = loadX16(ta, ci);
      var xb: X16;
      if (PX == 2u) { xb = loadX16(tb, ci); }
      var s: f32;
      var b0: vec4f; var b1: vec4f; var b2: vec4f; var b3: vec4f;
      var b4: vec4f; var b5: vec4f; var b6: vec4f; var b7: vec4f;
      // generated by tools/gen-conv2d-cpu.ts: begin
      { // rows ci + 0 + j, j < 8: lane j loads row ci + 0 + j (past K: clamped, x = 0 there); with SG 4, lanes 0..3 load rows j < 4 into w and j >= 4 into v
        let wi = min(r * p.CinPad + ci + lane, lastRow) * p.coutPad4 + g0;
        let w0 = loadW(wi); let w1 = loadW(wi + 1u); let w2 = loadW(wi + 2u); let w3 = loadW(wi + 3u);
        var w4: vec4f; var w5: vec4f; var w6: vec4f; var w7: vec4f;
        if (CB4 == 8u) { w4 = loadW(wi + 4u); w5 = loadW(wi + 5u); w6 = loadW(wi + 6u); w7 = loadW(wi + 7u); }
        var v0: vec4f; var v1: vec4f; var v2: vec4f; var v3: vec4f; var v4: vec4f; var v5: vec4f; var v6: vec4f; var v7: vec4f;
        if (SG == 4u) {
          let vi = min(r * p.CinPad + ci + 4u + lane, lastRow) * p.coutPad4 + g0;
          v0 = loadW(vi); v1 = loadW(vi + 1u); v2 = loadW(vi + 2u); v3 = loadW(vi + 3u);
          if (CB4 == 8u) { v4 = loadW(vi + 4u); v5 = loadW(vi + 5u); v6 = loadW(vi + 6u); v7 = loadW(vi + 7u); }
        }
        b0 = subgroupBroadcast(w0, 0u); b1 = subgroupBroadcast(w1, 0u); b2 = subgroupBroadcast(w2, 0u); b3 = subgroupBroadcast(w3, 0u); if (CB4 == 8u) { b4 = subgroupBroadcast(w4, 0u); b5 = subgroupBroadcast(w5, 0u); b6 = subgroupBroadcast(w6, 0u); b7 = subgroupBroadcast(w7, 0u); }
        s = xa.v0.x; a0 += s * b0; a1 += s * b1; a2 += s * b2; a3 += s * b3; if (CB4 == 8u) { a4 += s * b4; a5 += s * b5; a6 += s * b6; a7 += s * b7; }
        if (PX == 2u) { s = xb.v0.x; d0 += s * b0; d1 += s * b1; d2 += s * b2; d3 += s * b3; if (CB4 == 8u) { d4 += s * b4; d5 += s * b5; d6 += s * b6; d7 += s * b7; } }
        b0 = subgroupBroadcast(w0, 1u); b1 = subgroupBroadcast(w1, 1u); b2 = subgroupBroadcast(w2, 1u); b3 = subgroupBroadcast(w3, 1u); if (CB4 == 8u) { b4 = subgroupBroadcast(w4, 1u); b5 = subgroupBroadcast(w5, 1u); b6 = subgroupBroadcast(w6, 1u); b7 = subgroupBroadcast(w7, 1u); }
        s = xa.v0.y; a0 += s * b0; a1 += s * b1; a2 += s * b2; a3 += s * b3; if (CB4 == 8u) { a4 += s * b4; a5 += s * b5; a6 += s * b6; a7 += s * b7; }
        if (PX == 2u) { s = xb.v0.y; d0 += s * b0; d1 += s * b1; d2 += s * b2; d3 += s * b3; if (CB4 == 8u) { d4 += s * b4; d5 += s * b5; d6 += s * b6; d7 += s * b7; } }
        b0 = subgroupBroadcast(w0, 2u); b1 = subgroupBroadcast(w1, 2u); b2 = subgroupBroadcast(w2, 2u); b3 = subgroupBroadcast(w3, 2u); if (CB4 == 8u) { b4 = subgroupBroadcast(w4, 2u); b5 = subgroupBroadcast(w5, 2u); b6 = subgroupBroadcast(w6, 2u); b7 = subgroupBroadcast(w7, 2u); }
        s = xa.v0.z; a0 += s * b0; a1 += s * b1; a2 += s * b2; a3 += s * b3; if (CB4 == 8u) { a4 += s * b4; a5 += s * b5; a6 += s * b6; a7 += s * b7; }
        if (PX == 2u) { s = xb.v0.z; d0 += s * b0; d1 += s * b1; d2 += s * b2; d3 += s * b3; if (CB4 == 8u) { d4 += s * b4; d5 += s * b5; d6 += s * b6; d7 += s * b7; } }
        b0 = subgroupBroadcast(w0, 3u); b1 = subgroupBroadcast(w1, 3u); b2 = subgroupBroadcast(w2, 3u); b3 = subgroupBroadcast(w3, 3u); if (CB4 == 8u) { b4 = subgroupBroadcast(w4, 3u); b5 = subgroupBroadcast(w5, 3u); b6 = subgroupBroadcast(w6, 3u); b7 = subgroupBroadcast(w7, 3u); }
        s = xa.v0.w; a0 += s * b0; a1 += s * b1; a2 += s * b2; a3 += s * b3; if (CB4 == 8u) { a4 += s * b4; a5 += s * b5; a6 += s * b6; a7 += s * b7; }
        if (PX == 2u) { s = xb.v0.w; d0 += s * b0; d1 += s * b1; d2 += s * b2; d3 += s * b3; if (CB4 == 8u) { d4 += s * b4; d5 += s * b5; d6 += s * b6; d7 += s * b7; } }
        if (SG == 8u) { b0 = subgroupBroadcast(w0, 4u); b1 = subgroupBroadcast(w1, 4u); b2 = subgroupBroadcast(w2, 4u); b3 = subgroupBroadcast(w3, 4u); if (CB4 == 8u) { b4 = subgroupBroadcast(w4, 4u); b5 = subgroupBroadcast(w5, 4u); b6 = subgroupBroadcast(w6, 4u); b7 = subgroupBroadcast(w7, 4u); } } else { b0 = subgroupBroadcast(v0, 0u); b1 = subgroupBroadcast(v1, 0u); b2 = subgroupBroadcast(v2, 0u); b3 = subgroupBroadcast(v3, 0u); if (CB4 == 8u) { b4 = subgroupBroadcast(v4, 0u); b5 = subgroupBroadcast(v5, 0u); b6 = subgroupBroadcast(v6, 0u); b7 = subgroupBroadcast(v7, 0u); } }
        s = xa.v1.x; a0 += s * b0; a1 += s * b1; a2 += s * b2; a3 += s * b3; if (CB4 == 8u) { a4 += s * b4; a5 += s * b5; a6 += s * b6; a7 += s * b7; }
        if (PX == 2u) { s = xb.v1.x; d0 += s * b0; d1 += s * b1; d2 += s * b2; d3 += s * b3; if (CB4 == 8u) { d4 += s * b4; d5 += s * b5; d6 += s * b6; d7 += s * b7; } }
        if (SG == 8u) { b0 = subgroupBroadcast(w0, 5u); b1 = subgroupBroadcast(w1, 5u); b2 = subgroupBroadcast(w2, 5u); b3 = subgroupBroadcast(w3, 5u); if (CB4 == 8u) { b4 = subgroupBroadcast(w4, 5u); b5 = subgroupBroadcast(w5, 5u); b6 = subgroupBroadcast(w6, 5u); b7 = subgroupBroadcast(w7, 5u); } } else { b0 = subgroupBroadcast(v0, 1u); b1 = subgroupBroadcast(v1, 1u); b2 = subgroupBroadcast(v2, 1u); b3 = subgroupBroadcast(v3, 1u); if (CB4 == 8u) { b4 = subgroupBroadcast(v4, 1u); b5 = subgroupBroadcast(v5, 1u); b6 = subgroupBroadcast(v6, 1u); b7 = subgroupBroadcast(v7, 1u); } }
        s = xa.v1.y; a0 += s * b0; a1 += s * b1; a2 += s * b2; a3 += s * b3; if (CB4 == 8u) { a4 += s * b4; a5 += s * b5; a6 += s * b6; a7 += s * b7; }
        if (PX == 2u) { s = xb.v1.y; d0 += s * b0; d1 += s * b1; d2 += s * b2; d3 += s * b3; if (CB4 == 8u) { d4 += s * b4; d5 += s * b5; d6 += s * b6; d7 += s * b7; } }
        if (SG == 8u) { b0 = subgroupBroadcast(w0, 6u); b1 = subgroupBroadcast(w1, 6u); b2 = subgroupBroadcast(w2, 6u); b3 = subgroupBroadcast(w3, 6u); if (CB4 == 8u) { b4 = subgroupBroadcast(w4, 6u); b5 = subgroupBroadcast(w5, 6u); b6 = subgroupBroadcast(w6, 6u); b7 = subgroupBroadcast(w7, 6u); } } else { b0 = subgroupBroadcast(v0, 2u); b1 = subgroupBroadcast(v1, 2u); b2 = subgroupBroadcast(v2, 2u); b3 = subgroupBroadcast(v3, 2u); if (CB4 == 8u) { b4 = subgroupBroadcast(v4, 2u); b5 = subgroupBroadcast(v5, 2u); b6 = subgroupBroadcast(v6, 2u); b7 = subgroupBroadcast(v7, 2u); } }
        s = xa.v1.z; a0 += s * b0; a1 += s * b1; a2 += s * b2; a3 += s * b3; if (CB4 == 8u) { a4 += s * b4; a5 += s * b5; a6 += s * b6; a7 += s * b7; }
        if (PX == 2u) { s = xb.v1.z; d0 += s * b0; d1 += s * b1; d2 += s * b2; d3 += s * b3; if (CB4 == 8u) { d4 += s * b4; d5 += s * b5; d6 += s * b6; d7 += s * b7; } }
        if (SG == 8u) { b0 = subgroupBroadcast(w0, 7u); b1 = subgroupBroadcast(w1, 7u); b2 = subgroupBroadcast(w2, 7u); b3 = subgroupBroadcast(w3, 7u); if (CB4 == 8u) { b4 = subgroupBroadcast(w4, 7u); b5 = subgroupBroadcast(w5, 7u); b6 = subgroupBroadcast(w6, 7u); b7 = subgroupBroadcast(w7, 7u); } } else { b0 = subgroupBroadcast(v0, 3u); b1 = subgroupBroadcast(v1, 3u); b2 = subgroupBroadcast(v2, 3u); b3 = subgroupBroadcast(v3, 3u); if (CB4 == 8u) { b4 = subgroupBroadcast(v4, 3u); b5 = subgroupBroadcast(v5, 3u); b6 = subgroupBroadcast(v6, 3u); b7 = subgroupBroadcast(v7, 3u); } }
        s = xa.v1.w; a0 += s * b0; a1 += s * b1; a2 += s * b2; a3 += s * b3; if (CB4 == 8u) { a4 += s * b4; a5 += s * b5; a6 += s * b6; a7 += s * b7; }
        if (PX == 2u) { s = xb.v1.w; d0 += s * b0; d1 += s * b1; d2 += s * b2; d3 += s * b3; if (CB4 == 8u) { d4 += s * b4; d5 += s * b5; d6 += s * b6; d7 += s * b7; } }
      }
      { // rows ci + 8 + j, j < 8: lane j loads row ci + 8 + j (past K: clamped, x = 0 there); with SG 4, lanes 0..3 load rows j < 4 into w and j >= 4 into v
        let wi = min(r * p.CinPad + ci + 8u + lane, lastRow) * p.coutPad4 + g0;
        let w0 = loadW(wi); let w1 = loadW(wi + 1u); let w2 = loadW(wi + 2u); let w3 = loadW(wi + 3u);
        var w4: vec4f; var w5: vec4f; var w6: vec4f; var w7: vec4f;
        if (CB4 == 8u) { w4 = loadW(wi + 4u); w5 = loadW(wi + 5u); w6 = loadW(wi + 6u); w7 = loadW(wi + 7u); }
        var v0: vec4f; var v1: vec4f; var v2: vec4f; var v3: vec4f; var v4: vec4f; var v5: vec4f; var v6: vec4f; var v7: vec4f;
        if (SG == 4u) {
          let vi = min(r * p.CinPad + ci + 12u + lane, lastRow) * p.coutPad4 + g0;
          v0 = loadW(vi); v1 = loadW(vi + 1u); v2 = loadW(vi + 2u); v3 = loadW(vi + 3u);
          if (CB4 == 8u) { v4 = loadW(vi + 4u); v5 = loadW(vi + 5u); v6 = loadW(vi + 6u); v7 = loadW(vi + 7u); }
        }
        b0 = subgroupBroadcast(w0, 0u); b1 = subgroupBroadcast(w1, 0u); b2 = subgroupBroadcast(w2, 0u); b3 = subgroupBroadcast(w3, 0u); if (CB4 == 8u) { b4 = subgroupBroadcast(w4, 0u); b5 = subgroupBroadcast(w5, 0u); b6 = subgroupBroadcast(w6, 0u); b7 = subgroupBroadcast(w7, 0u); }
        s = xa.v2.x; a0 += s * b0; a1 += s * b1; a2 += s * b2; a3 += s * b3; if (CB4 == 8u) { a4 += s * b4; a5 += s * b5; a6 += s * b6; a7 += s * b7; }
        if (PX == 2u) { s = xb.v2.x; d0 += s * b0; d1 += s * b1; d2 += s * b2; d3 += s * b3; if (CB4 == 8u) { d4 += s * b4; d5 += s * b5; d6 += s * b6; d7 += s * b7; } }
        b0 = subgroupBroadcast(w0, 1u); b1 = subgroupBroadcast(w1, 1u); b2 = subgroupBroadcast(w2, 1u); b3 = subgroupBroadcast(w3, 1u); if (CB4 == 8u) { b4 = subgroupBroadcast(w4, 1u); b5 = subgroupBroadcast(w5, 1u); b6 = subgroupBroadcast(w6, 1u); b7 = subgroupBroadcast(w7, 1u); }
        s = xa.v2.y; a0 += s * b0; a1 += s * b1; a2 += s * b2; a3 += s * b3; if (CB4 == 8u) { a4 += s * b4; a5 += s * b5; a6 += s * b6; a7 += s * b7; }
        if (PX == 2u) { s = xb.v2.y; d0 += s * b0; d1 += s * b1; d2 += s * b2; d3 += s * b3; if (CB4 == 8u) { d4 += s * b4; d5 += s * b5; d6 += s * b6; d7 += s * b7; } }
        b0 = subgroupBroadcast(w0, 2u); b1 = subgroupBroadcast(w1, 2u); b2 = subgroupBroadcast(w2, 2u); b3 = subgroupBroadcast(w3, 2u); if (CB4 == 8u) { b4 = subgroupBroadcast(w4, 2u); b5 = subgroupBroadcast(w5, 2u); b6 = subgroupBroadcast(w6, 2u); b7 = subgroupBroadcast(w7, 2u); }
        s = xa.v2.z; a0 += s * b0; a1 += s * b1; a2 += s * b2; a3 += s * b3; if (CB4 == 8u) { a4 += s * b4; a5 += s * b5; a6 += s * b6; a7 += s * b7; }
        if (PX == 2u) { s = xb.v2.z; d0 += s * b0; d1 += s * b1; d2 += s * b2; d3 += s * b3; if (CB4 == 8u) { d4 += s * b4; d5 += s * b5; d6 += s * b6; d7 += s * b7; } }
        b0 = subgroupBroadcast(w0, 3u); b1 = subgroupBroadcast(w1, 3u); b2 = subgroupBroadcast(w2, 3u); b3 = subgroupBroadcast(w3, 3u); if (CB4 == 8u) { b4 = subgroupBroadcast(w4, 3u); b5 = subgroupBroadcast(w5, 3u); b6 = subgroupBroadcast(w6, 3u); b7 = subgroupBroadcast(w7, 3u); }
        s = xa.v2.w; a0 += s * b0; a1 += s * b1; a2 += s * b2; a3 += s * b3; if (CB4 == 8u) { a4 += s * b4; a5 += s * b5; a6 += s * b6; a7 += s * b7; }
        if (PX == 2u) { s = xb.v2.w; d0 += s * b0; d1 += s * b1; d2 += s * b2; d3 += s * b3; if (CB4 == 8u) { d4 += s * b4; d5 += s * b5; d6 += s * b6; d7 += s * b7; } }
        if (SG == 8u) { b0 = subgroupBroadcast(w0, 4u); b1 = subgroupBroadcast(w1, 4u); b2 = subgroupBroadcast(w2, 4u); b3 = subgroupBroadcast(w3, 4u); if (CB4 == 8u) { b4 = subgroupBroadcast(w4, 4u); b5 = subgroupBroadcast(w5, 4u); b6 = subgroupBroadcast(w6, 4u); b7 = subgroupBroadcast(w7, 4u); } } else { b0 = subgroupBroadcast(v0, 0u); b1 = subgroupBroadcast(v1, 0u); b2 = subgroupBroadcast(v2, 0u); b3 = subgroupBroadcast(v3, 0u); if (CB4 == 8u) { b4 = subgroupBroadcast(v4, 0u); b5 = subgroupBroadcast(v5, 0u); b6 = subgroupBroadcast(v6, 0u); b7 = subgroupBroadcast(v7, 0u); } }
        s = xa.v3.x; a0 += s * b0; a1 += s * b1; a2 += s * b2; a3 += s * b3; if (CB4 == 8u) { a4 += s * b4; a5 += s * b5; a6 += s * b6; a7 += s * b7; }
        if (PX == 2u) { s = xb.v3.x; d0 += s * b0; d1 += s * b1; d2 += s * b2; d3 += s * b3; if (CB4 == 8u) { d4 += s * b4; d5 += s * b5; d6 += s * b6; d7 += s * b7; } }
        if (SG == 8u) { b0 = subgroupBroadcast(w0, 5u); b1 = subgroupBroadcast(w1, 5u); b2 = subgroupBroadcast(w2, 5u); b3 = subgroupBroadcast(w3, 5u); if (CB4 == 8u) { b4 = subgroupBroadcast(w4, 5u); b5 = subgroupBroadcast(w5, 5u); b6 = subgroupBroadcast(w6, 5u); b7 = subgroupBroadcast(w7, 5u); } } else { b0 = subgroupBroadcast(v0, 1u); b1 = subgroupBroadcast(v1, 1u); b2 = subgroupBroadcast(v2, 1u); b3 = subgroupBroadcast(v3, 1u); if (CB4 == 8u) { b4 = subgroupBroadcast(v4, 1u); b5 = subgroupBroadcast(v5, 1u); b6 = subgroupBroadcast(v6, 1u); b7 = subgroupBroadcast(v7, 1u); } }
        s = xa.v3.y; a0 += s * b0; a1 += s * b1; a2 += s * b2; a3 += s * b3; if (CB4 == 8u) { a4 += s * b4; a5 += s * b5; a6 += s * b6; a7 += s * b7; }
        if (PX == 2u) { s = xb.v3.y; d0 += s * b0; d1 += s * b1; d2 += s * b2; d3 += s * b3; if (CB4 == 8u) { d4 += s * b4; d5 += s * b5; d6 += s * b6; d7 += s * b7; } }
        if (SG == 8u) { b0 = subgroupBroadcast(w0, 6u); b1 = subgroupBroadcast(w1, 6u); b2 = subgroupBroadcast(w2, 6u); b3 = subgroupBroadcast(w3, 6u); if (CB4 == 8u) { b4 = subgroupBroadcast(w4, 6u); b5 = subgroupBroadcast(w5, 6u); b6 = subgroupBroadcast(w6, 6u); b7 = subgroupBroadcast(w7, 6u); } } else { b0 = subgroupBroadcast(v0, 2u); b1 = subgroupBroadcast(v1, 2u); b2 = subgroupBroadcast(v2, 2u); b3 = subgroupBroadcast(v3, 2u); if (CB4 == 8u) { b4 = subgroupBroadcast(v4, 2u); b5 = subgroupBroadcast(v5, 2u); b6 = subgroupBroadcast(v6, 2u); b7 = subgroupBroadcast(v7, 2u); } }
        s = xa.v3.z; a0 += s * b0; a1 += s * b1; a2 += s * b2; a3 += s * b3; if (CB4 == 8u) { a4 += s * b4; a5 += s * b5; a6 += s * b6; a7 += s * b7; }
        if (PX == 2u) { s = xb.v3.z; d0 += s * b0; d1 += s * b1; d2 += s * b2; d3 += s * b3; if (CB4 == 8u) { d4 += s * b4; d5 += s * b5; d6 += s * b6; d7 += s * b7; } }
        if (SG == 8u) { b0 = subgroupBroadcast(w0, 7u); b1 = subgroupBroadcast(w1, 7u); b2 = subgroupBroadcast(w2, 7u); b3 = subgroupBroadcast(w3, 7u); if (CB4 == 8u) { b4 = subgroupBroadcast(w4, 7u); b5 = subgroupBroadcast(w5, 7u); b6 = subgroupBroadcast(w6, 7u); b7 = subgroupBroadcast(w7, 7u); } } else { b0 = subgroupBroadcast(v0, 3u); b1 = subgroupBroadcast(v1, 3u); b2 = subgroupBroadcast(v2, 3u); b3 = subgroupBroadcast(v3, 3u); if (CB4 == 8u) { b4 = subgroupBroadcast(v4, 3u); b5 = subgroupBroadcast(v5, 3u); b6 = subgroupBroadcast(v6, 3u); b7 = subgroupBroadcast(v7, 3u); } }
        s = xa.v3.w; a0 += s * b0; a1 += s * b1; a2 += s * b2; a3 += s * b3; if (CB4 == 8u) { a4 += s * b4; a5 += s * b5; a6 += s * b6; a7 += s * b7; }
        if (PX == 2u) { s = xb.v3.w; d0 += s * b0; d1 += s * b1; d2 += s * b2; d3 += s * b3; if (CB4 == 8u) { d4 += s * b4; d5 += s * b5; d6 += s * b6; d7 += s * b7; } }
      }
      // generated by tools/gen-conv2d-cpu.ts: end
    }
  }
  let co = 4u * g0;
  if (mA < p.M) {
    if (co < p.Cout) { store(mA, co, a0); }
    if (co + 4u < p.Cout) { store(mA, co + 4u, a1); }
    if (co + 8u < p.Cout) { store(mA, co + 8u, a2); }
    if (co + 12u < p.Cout) { store(mA, co + 12u, a3); }
    if (CB4 == 8u) {
      if (co + 16u < p.Cout) { store(mA, co + 16u, a4); }
      if (co + 20u < p.Cout) { store(mA, co + 20u, a5); }
      if (co + 24u < p.Cout) { store(mA, co + 24u, a6); }
      if (co + 28u < p.Cout) { store(mA, co + 28u, a7); }
    }
  }
  if (PX == 2u && mB < p.M) {
    if (co < p.Cout) { store(mB, co, d0); }
    if (co + 4u < p.Cout) { store(mB, co + 4u, d1); }
    if (co + 8u < p.Cout) { store(mB, co + 8u, d2); }
    if (co + 12u < p.Cout) { store(mB, co + 12u, d3); }
    if (CB4 == 8u) {
      if (co + 16u < p.Cout) { store(mB, co + 16u, d4); }
      if (co + 20u < p.Cout) { store(mB, co + 20u, d5); }
      if (co + 24u < p.Cout) { store(mB, co + 24u, d6); }
      if (co + 28u < p.Cout) { store(mB, co + 28u, d7); }
    }
  }
}
