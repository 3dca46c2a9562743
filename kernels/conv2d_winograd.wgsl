// Winograd F(2x2, 3x3) conv2d for CPU Vulkan drivers (lavapipe's llvmpipe) on adapters
// with `subgroups` of at least 8: 3x3 kernels, stride 1, any dilation and padding. Same
// bindings and fused epilogue as kernels/conv2d_cpu.wgsl (read its header for what
// llvmpipe charges for: a per-lane loop for every storage load at a non-constant
// address, cheap register arithmetic and constant-lane broadcasts), but binding 1 holds
// the transformed weights U = G g G^T (kernels/conv2d_winograd_weights.wgsl): rows
// ((blk * 16 + 4i + j) * 8 + c) of CoutPad channels, for input channel 8 blk + c and
// transformed position (i, j).
//
// An invocation owns TILES output tiles (side by side, sharing two patch columns) x 16
// output channels. A tile is 2x2
// output pixels dil apart (standard Winograd on the dil-subsampled grid): pixels
// (oh + r dilH, ow + c dilW), r, c in {0, 1}, from the 4x4 input patch at
// (oh - padH + a dilH, ow - padW + b dilW). The transformed rows i = 0..3 run as an
// outer loop: row i of B^T d needs two patch rows (B^T has two non-zeros per row), so
// per block of 8 input channels the invocation loads 8 patch positions (2 adjacent vec4s
// each, one merged per-lane load), forms V[i][0..3] = (B^T d B)[i] in registers, and for
// each j loads 8 rows of U[i][j] once per subgroup (lane c holds row c) and hands them
// to every lane by subgroupBroadcast into M[i][j] (16 channels). After the last block
// row i of the output transform, A^T[., i] (M[i] A), is added to the tile's 2x2 outputs.
// Per tile, block and 16 output channels that is 16 x 8 x 4 vec4 multiply-adds and 32
// pixel loads (24 with two tiles, which share two patch columns), against 36 x 8 x 4
// and 36 for the same 4 pixels in the direct kernel.
// Loading all 16 patch positions once per block and keeping M for all 16 positions
// (4x the accumulators, 4x the unrolled body) ran at 9-10 GFLOP per CPU-second on
// lavapipe against this loop's 14, and took 20 s of CPU to compile a pipeline instead
// of 5 (bench/RESULTS.md).
//
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  A^T = [1 1 1 0; 0 1 -1 -1]
//
// Accumulators are named vec4s (y, z: tile A, B outputs; m, n: their M[i][j]); the body
// is written out because subgroupBroadcast takes a constant lane (its four positions by
// tools/gen-conv2d-winograd.ts). Rows of U past Cin
// are zero and channels past Cin read x = 0; channels past Cout read other columns and
// are never stored; tiles past the output read padding and store nothing.
enable subgroups;

override WG: u32 = 64u;            // invocations per workgroup (a multiple of the subgroup size)
override TILES: u32 = 1u;          // 2x2 output tiles per invocation: 1 or 2
override VEC4_IN: bool = false;    // Cin % 4 == 0: x loads as vec4
override VEC4_OUT: bool = false;   // Cout, outChannels, outOffset all % 4 == 0
override HAS_RESIDUAL: bool = false;
override RELU: bool = false;

struct Params {
  H: u32, W: u32, Cin: u32,
  OH: u32, OW: u32, Cout: u32,
  dilH: u32, dilW: u32, padH: i32, padW: i32,
  tilesH: u32, tilesW: u32, tiles: u32, blocks: u32,
  outChannels: u32, outOffset: u32, coutPad4: u32,
}

@group(0) @binding(0) var<storage, read> x: array<vec4f>;
@group(0) @binding(1) var<storage, read> u: array<vec4f>;
@group(0) @binding(2) var<storage, read> bias: array<vec4f>;
@group(0) @binding(3) var<storage, read> residual: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(5) var<uniform> p: Params;

// Epilogue for pixel m, channels [co, co + 4); the caller checks m and co < Cout.
fn store(m: u32, co: u32, acc: vec4f) {
  var v = acc + bias[co >> 2u];
  if (VEC4_OUT) {
    if (HAS_RESIDUAL) { v += residual[(m * p.Cout + co) >> 2u]; }
    if (RELU) { v = max(v, vec4f(0.0)); }
    out[(m * p.outChannels + p.outOffset + co) >> 2u] = v;
  } else {
    storeOne(m, co, v.x);
    if (co + 1u < p.Cout) { storeOne(m, co + 1u, v.y); }
    if (co + 2u < p.Cout) { storeOne(m, co + 2u, v.z); }
    if (co + 3u < p.Cout) { storeOne(m, co + 3u, v.w); }
  }
}

fn storeOne(m: u32, c: u32, value: f32) {
  var s = value;
  if (HAS_RESIDUAL) {
    let r = m * p.Cout + c;
    s += residual[r >> 2u][r & 3u];
  }
  if (RELU) { s = max(s, 0.0); }
  let o = m * p.outChannels + p.outOffset + c;
  out[o >> 2u][o & 3u] = s;
}

// Tile t: its top-left output pixel, image and top-left input position. Tile rows run
// over the dil phases first: row th covers output rows oh and oh + dilH with
// oh = (th / dilH) * 2 dilH + th % dilH; columns likewise, TILES tiles (2 TILES output
// columns) per step. Tiles past the last start far outside the image.
struct Tile { oh: u32, ow: u32, n: u32, ih0: i32, iw0: i32, live: bool }

fn tileAt(t: u32) -> Tile {
  let tw = t % p.tilesW;
  let r = t / p.tilesW;
  let th = r % p.tilesH;
  let oh = (th / p.dilH) * 2u * p.dilH + th % p.dilH;
  let ow = (tw / p.dilW) * 2u * TILES * p.dilW + tw % p.dilW;
  let live = t < p.tiles;
  return Tile(oh, ow, r / p.tilesH, select(-0x40000000, i32(oh) - p.padH, live), i32(ow) - p.padW, live);
}

// The flat x index of channel 0 of patch position (a, b), and whether it lies inside the image.
struct Tap { i: u32, ok: bool }

fn tapAt(q: Tile, a: u32, b: u32) -> Tap {
  let ih = q.ih0 + i32(a * p.dilH);
  let iw = q.iw0 + i32(b * p.dilW);
  let ok = ih >= 0 && ih < i32(p.H) && iw >= 0 && iw < i32(p.W);
  return Tap(select(0u, ((q.n * p.H + u32(ih)) * p.W + u32(iw)) * p.Cin, ok), ok);
}

struct X8 { v0: vec4f, v1: vec4f }

// Channels [ci, ci + 8) of a position, zero past Cin and for padding. Channels past Cin
// must read nothing rather than the next pixel's (Inf * 0 is NaN).
fn loadX8(t: Tap, ci: u32) -> X8 {
  if (VEC4_IN) {
    // Two adjacent vec4 loads (the driver merges them), masked after loading.
    let i = (t.i + ci) >> 2u;
    let v0 = x[i]; let v1 = x[i + 1u];
    let z = vec4f(0.0);
    return X8(select(z, v0, t.ok), select(z, v1, t.ok && ci + 4u < p.Cin));
  }
  // Cin % 4 != 0: the 8 channels start at any component; three adjacent vec4 loads
  // (merged) cover them, shifted into place in registers, where a scalar load per
  // channel would cost a per-lane loop each (8 per position).
  let g = t.i + ci;
  let i = g >> 2u;
  let r = g & 3u;
  let a0 = x[i]; let a1 = x[i + 1u]; let a2 = x[i + 2u];
  let c = vec4u(ci) + vec4u(0u, 1u, 2u, 3u);
  let ok = vec4<bool>(t.ok);
  let z = vec4f(0.0);
  return X8(select(z, shift(a0, a1, r), ok & (c < vec4u(p.Cin))), select(z, shift(a1, a2, r), ok & (c + 4u < vec4u(p.Cin))));
}

// Components r .. r + 3 of the 8 floats (a, b).
fn shift(a: vec4f, b: vec4f, r: u32) -> vec4f {
  let s1 = vec4f(a.yzw, b.x);
  let s2 = vec4f(a.zw, b.xy);
  let s3 = vec4f(a.w, b.xyz);
  return select(select(select(a, s1, r == 1u), s2, r == 2u), s3, r == 3u);
}

// The epilogue for the 2x2 output pixels of tile q, channels [co, co + 4), inside the output.
fn storeTile(q: Tile, co: u32, y00: vec4f, y01: vec4f, y10: vec4f, y11: vec4f) {
  if (!q.live) { return; }
  let base = q.n * p.OH;
  let oh1 = q.oh + p.dilH;
  let ow1 = q.ow + p.dilW;
  if (q.oh < p.OH) {
    if (q.ow < p.OW) { store((base + q.oh) * p.OW + q.ow, co, y00); }
    if (ow1 < p.OW) { store((base + q.oh) * p.OW + ow1, co, y01); }
  }
  if (oh1 < p.OH) {
    if (q.ow < p.OW) { store((base + oh1) * p.OW + q.ow, co, y10); }
    if (ow1 < p.OW) { store((base + oh1) * p.OW + ow1, co, y11); }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32, @builtin(subgroup_invocation_id) lane: u32) {
  let qa = tileAt((wid.y + wid.z * nwg.y) * WG + lid);
  // Tile B: the next tile of the same dil phase to the right; its patch shares columns 2, 3 with A's.
  let qb = Tile(qa.oh, qa.ow + 2u * p.dilW, qa.n, qa.ih0, qa.iw0 + 2 * i32(p.dilW), qa.live);
  let g0 = wid.x * 4u;   // first vec4 channel group of this workgroup (16 channels)
  // Output accumulators y (tile A) and z (tile B): pixel (r, c), channel group k.
  var y00_0 = vec4f(0.0); var y00_1 = vec4f(0.0); var y00_2 = vec4f(0.0); var y00_3 = vec4f(0.0);
  var y01_0 = vec4f(0.0); var y01_1 = vec4f(0.0); var y01_2 = vec4f(0.0); var y01_3 = vec4f(0.0);
  var y10_0 = vec4f(0.0); var y10_1 = vec4f(0.0); var y10_2 = vec4f(0.0); var y10_3 = vec4f(0.0);
  var y11_0 = vec4f(0.0); var y11_1 = vec4f(0.0); var y11_2 = vec4f(0.0); var y11_3 = vec4f(0.0);
  var z00_0 = vec4f(0.0); var z00_1 = vec4f(0.0); var z00_2 = vec4f(0.0); var z00_3 = vec4f(0.0);
  var z01_0 = vec4f(0.0); var z01_1 = vec4f(0.0); var z01_2 = vec4f(0.0); var z01_3 = vec4f(0.0);
  var z10_0 = vec4f(0.0); var z10_1 = vec4f(0.0); var z10_2 = vec4f(0.0); var z10_3 = vec4f(0.0);
  var z11_0 = vec4f(0.0); var z11_1 = vec4f(0.0); var z11_2 = vec4f(0.0); var z11_3 = vec4f(0.0);
  for (var i = 0u; i < 4u; i++) {
    // Row i of B^T d: patch row ra + sg * patch row rb.
    let ra = select(select(1u, 2u, i == 2u), 0u, i == 0u);
    let rb = select(select(3u, 1u, i == 2u), 2u, i < 2u);
    let sg = select(-1.0, 1.0, i == 1u);
    // Patch columns 0..3 are tile A's, 2..5 tile B's.
    let t00 = tapAt(qa, ra, 0u); let t01 = tapAt(qa, ra, 1u); let t02 = tapAt(qa, ra, 2u); let t03 = tapAt(qa, ra, 3u); let t04 = tapAt(qa, ra, 4u); let t05 = tapAt(qa, ra, 5u);
    let t10 = tapAt(qa, rb, 0u); let t11 = tapAt(qa, rb, 1u); let t12 = tapAt(qa, rb, 2u); let t13 = tapAt(qa, rb, 3u); let t14 = tapAt(qa, rb, 4u); let t15 = tapAt(qa, rb, 5u);
    // Accumulators m (tile A) and n (tile B): transformed position (i, j), channel group k.
    var m0_0 = vec4f(0.0); var m0_1 = vec4f(0.0); var m0_2 = vec4f(0.0); var m0_3 = vec4f(0.0);
    var m1_0 = vec4f(0.0); var m1_1 = vec4f(0.0); var m1_2 = vec4f(0.0); var m1_3 = vec4f(0.0);
    var m2_0 = vec4f(0.0); var m2_1 = vec4f(0.0); var m2_2 = vec4f(0.0); var m2_3 = vec4f(0.0);
    var m3_0 = vec4f(0.0); var m3_1 = vec4f(0.0); var m3_2 = vec4f(0.0); var m3_3 = vec4f(0.0);
    var n0_0 = vec4f(0.0); var n0_1 = vec4f(0.0); var n0_2 = vec4f(0.0); var n0_3 = vec4f(0.0);
    var n1_0 = vec4f(0.0); var n1_1 = vec4f(0.0); var n1_2 = vec4f(0.0); var n1_3 = vec4f(0.0);
    var n2_0 = vec4f(0.0); var n2_1 = vec4f(0.0); var n2_2 = vec4f(0.0); var n2_3 = vec4f(0.0);
    var n3_0 = vec4f(0.0); var n3_1 = vec4f(0.0); var n3_2 = vec4f(0.0); var n3_3 = vec4f(0.0);
    for (var blk = 0u; blk < p.blocks; blk++) {
      let ci = blk * 8u;
      let d00 = loadX8(t00, ci); let d01 = loadX8(t01, ci); let d02 = loadX8(t02, ci); let d03 = loadX8(t03, ci);
      let d10 = loadX8(t10, ci); let d11 = loadX8(t11, ci); let d12 = loadX8(t12, ci); let d13 = loadX8(t13, ci);
      let e0_0 = d00.v0 + sg * d10.v0; let e1_0 = d01.v0 + sg * d11.v0; let e2_0 = d02.v0 + sg * d12.v0; let e3_0 = d03.v0 + sg * d13.v0;
      let va0_0 = e0_0 - e2_0; let va1_0 = e1_0 + e2_0; let va2_0 = e2_0 - e1_0; let va3_0 = e1_0 - e3_0;
      let e0_1 = d00.v1 + sg * d10.v1; let e1_1 = d01.v1 + sg * d11.v1; let e2_1 = d02.v1 + sg * d12.v1; let e3_1 = d03.v1 + sg * d13.v1;
      let va0_1 = e0_1 - e2_1; let va1_1 = e1_1 + e2_1; let va2_1 = e2_1 - e1_1; let va3_1 = e1_1 - e3_1;
      var vb0_0: vec4f; var vb0_1: vec4f; var vb1_0: vec4f; var vb1_1: vec4f; var vb2_0: vec4f; var vb2_1: vec4f; var vb3_0: vec4f; var vb3_1: vec4f;
      if (TILES == 2u) {
        let d04 = loadX8(t04, ci); let d05 = loadX8(t05, ci); let d14 = loadX8(t14, ci); let d15 = loadX8(t15, ci);
        let e4_0 = d04.v0 + sg * d14.v0; let e5_0 = d05.v0 + sg * d15.v0;
        vb0_0 = e2_0 - e4_0; vb1_0 = e3_0 + e4_0; vb2_0 = e4_0 - e3_0; vb3_0 = e3_0 - e5_0;
        let e4_1 = d04.v1 + sg * d14.v1; let e5_1 = d05.v1 + sg * d15.v1;
        vb0_1 = e2_1 - e4_1; vb1_1 = e3_1 + e4_1; vb2_1 = e4_1 - e3_1; vb3_1 = e3_1 - e5_1;
      }
      // generated by tools/gen-conv2d-winograd.ts: begin
      { // position (i, 0): lane c loads row c (channel ci + c) of U[i][0], 16 columns (lanes past 8 of a wider subgroup the same rows: only 0..7 are broadcast, and row 8 on would run past U)
        let wi = ((blk * 16u + 4u * i + 0u) * 8u + (lane & 7u)) * p.coutPad4 + g0;
        let w0 = u[wi]; let w1 = u[wi + 1u]; let w2 = u[wi + 2u]; let w3 = u[wi + 3u];
        var s: f32; var b0: vec4f; var b1: vec4f; var b2: vec4f; var b3: vec4f;
        b0 = subgroupBroadcast(w0, 0u); b1 = subgroupBroadcast(w1, 0u); b2 = subgroupBroadcast(w2, 0u); b3 = subgroupBroadcast(w3, 0u);
        s = va0_0.x; m0_0 += s * b0; m0_1 += s * b1; m0_2 += s * b2; m0_3 += s * b3;
        if (TILES == 2u) { s = vb0_0.x; n0_0 += s * b0; n0_1 += s * b1; n0_2 += s * b2; n0_3 += s * b3; }
        b0 = subgroupBroadcast(w0, 1u); b1 = subgroupBroadcast(w1, 1u); b2 = subgroupBroadcast(w2, 1u); b3 = subgroupBroadcast(w3, 1u);
        s = va0_0.y; m0_0 += s * b0; m0_1 += s * b1; m0_2 += s * b2; m0_3 += s * b3;
        if (TILES == 2u) { s = vb0_0.y; n0_0 += s * b0; n0_1 += s * b1; n0_2 += s * b2; n0_3 += s * b3; }
        b0 = subgroupBroadcast(w0, 2u); b1 = subgroupBroadcast(w1, 2u); b2 = subgroupBroadcast(w2, 2u); b3 = subgroupBroadcast(w3, 2u);
        s = va0_0.z; m0_0 += s * b0; m0_1 += s * b1; m0_2 += s * b2; m0_3 += s * b3;
        if (TILES == 2u) { s = vb0_0.z; n0_0 += s * b0; n0_1 += s * b1; n0_2 += s * b2; n0_3 += s * b3; }
        b0 = subgroupBroadcast(w0, 3u); b1 = subgroupBroadcast(w1, 3u); b2 = subgroupBroadcast(w2, 3u); b3 = subgroupBroadcast(w3, 3u);
        s = va0_0.w; m0_0 += s * b0; m0_1 += s * b1; m0_2 += s * b2; m0_3 += s * b3;
        if (TILES == 2u) { s = vb0_0.w; n0_0 += s * b0; n0_1 += s * b1; n0_2 += s * b2; n0_3 += s * b3; }
        b0 = subgroupBroadcast(w0, 4u); b1 = subgroupBroadcast(w1, 4u); b2 = subgroupBroadcast(w2, 4u); b3 = subgroupBroadcast(w3, 4u);
        s = va0_1.x; m0_0 += s * b0; m0_1 += s * b1; m0_2 += s * b2; m0_3 += s * b3;
        if (TILES == 2u) { s = vb0_1.x; n0_0 += s * b0; n0_1 += s * b1; n0_2 += s * b2; n0_3 += s * b3; }
        b0 = subgroupBroadcast(w0, 5u); b1 = subgroupBroadcast(w1, 5u); b2 = subgroupBroadcast(w2, 5u); b3 = subgroupBroadcast(w3, 5u);
        s = va0_1.y; m0_0 += s * b0; m0_1 += s * b1; m0_2 += s * b2; m0_3 += s * b3;
        if (TILES == 2u) { s = vb0_1.y; n0_0 += s * b0; n0_1 += s * b1; n0_2 += s * b2; n0_3 += s * b3; }
        b0 = subgroupBroadcast(w0, 6u); b1 = subgroupBroadcast(w1, 6u); b2 = subgroupBroadcast(w2, 6u); b3 = subgroupBroadcast(w3, 6u);
        s = va0_1.z; m0_0 += s * b0; m0_1 += s * b1; m0_2 += s * b2; m0_3 += s * b3;
        if (TILES == 2u) { s = vb0_1.z; n0_0 += s * b0; n0_1 += s * b1; n0_2 += s * b2; n0_3 += s * b3; }
        b0 = subgroupBroadcast(w0, 7u); b1 = subgroupBroadcast(w1, 7u); b2 = subgroupBroadcast(w2, 7u); b3 = subgroupBroadcast(w3, 7u);
        s = va0_1.w; m0_0 += s * b0; m0_1 += s * b1; m0_2 += s * b2; m0_3 += s * b3;
        if (TILES == 2u) { s = vb0_1.w; n0_0 += s * b0; n0_1 += s * b1; n0_2 += s * b2; n0_3 += s * b3; }
      }
      { // position (i, 1): lane c loads row c (channel ci + c) of U[i][1], 16 columns (lanes past 8 of a wider subgroup the same rows: only 0..7 are broadcast, and row 8 on would run past U)
        let wi = ((blk * 16u + 4u * i + 1u) * 8u + (lane & 7u)) * p.coutPad4 + g0;
        let w0 = u[wi]; let w1 = u[wi + 1u]; let w2 = u[wi + 2u]; let w3 = u[wi + 3u];
        var s: f32; var b0: vec4f; var b1: vec4f; var b2: vec4f; var b3: vec4f;
        b0 = subgroupBroadcast(w0, 0u); b1 = subgroupBroadcast(w1, 0u); b2 = subgroupBroadcast(w2, 0u); b3 = subgroupBroadcast(w3, 0u);
        s = va1_0.x; m1_0 += s * b0; m1_1 += s * b1; m1_2 += s * b2; m1_3 += s * b3;
        if (TILES == 2u) { s = vb1_0.x; n1_0 += s * b0; n1_1 += s * b1; n1_2 += s * b2; n1_3 += s * b3; }
        b0 = subgroupBroadcast(w0, 1u); b1 = subgroupBroadcast(w1, 1u); b2 = subgroupBroadcast(w2, 1u); b3 = subgroupBroadcast(w3, 1u);
        s = va1_0.y; m1_0 += s * b0; m1_1 += s * b1; m1_2 += s * b2; m1_3 += s * b3;
        if (TILES == 2u) { s = vb1_0.y; n1_0 += s * b0; n1_1 += s * b1; n1_2 += s * b2; n1_3 += s * b3; }
        b0 = subgroupBroadcast(w0, 2u); b1 = subgroupBroadcast(w1, 2u); b2 = subgroupBroadcast(w2, 2u); b3 = subgroupBroadcast(w3, 2u);
        s = va1_0.z; m1_0 += s * b0; m1_1 += s * b1; m1_2 += s * b2; m1_3 += s * b3;
        if (TILES == 2u) { s = vb1_0.z; n1_0 += s * b0; n1_1 += s * b1; n1_2 += s * b2; n1_3 += s * b3; }
        b0 = subgroupBroadcast(w0, 3u); b1 = subgroupBroadcast(w1, 3u); b2 = subgroupBroadcast(w2, 3u); b3 = subgroupBroadcast(w3, 3u);
        s = va1_0.w; m1_0 += s * b0; m1_1 += s * b1; m1_2 += s * b2; m1_3 += s * b3;
        if (TILES == 2u) { s = vb1_0.w; n1_0 += s * b0; n1_1 += s * b1; n1_2 += s * b2; n1_3 += s * b3; }
        b0 = subgroupBroadcast(w0, 4u); b1 = subgroupBroadcast(w1, 4u); b2 = subgroupBroadcast(w2, 4u); b3 = subgroupBroadcast(w3, 4u);
        s = va1_1.x; m1_0 += s * b0; m1_1 += s * b1; m1_2 += s * b2; m1_3 += s * b3;
        if (TILES == 2u) { s = vb1_1.x; n1_0 += s * b0; n1_1 += s * b1; n1_2 += s * b2; n1_3 += s * b3; }
        b0 = subgroupBroadcast(w0, 5u); b1 = subgroupBroadcast(w1, 5u); b2 = subgroupBroadcast(w2, 5u); b3 = subgroupBroadcast(w3, 5u);
        s = va1_1.y; m1_0 += s * b0; m1_1 += s * b1; m1_2 += s * b2; m1_3 += s * b3;
        if (TILES == 2u) { s = vb1_1.y; n1_0 += s * b0; n1_1 += s * b1; n1_2 += s * b2; n1_3 += s * b3; }
        b0 = subgroupBroadcast(w0, 6u); b1 = subgroupBroadcast(w1, 6u); b2 = subgroupBroadcast(w2, 6u); b3 = subgroupBroadcast(w3, 6u);
        s = va1_1.z; m1_0 += s * b0; m1_1 += s * b1; m1_2 += s * b2; m1_3 += s * b3;
        if (TILES == 2u) { s = vb1_1.z; n1_0 += s * b0; n1_1 += s * b1; n1_2 += s * b2; n1_3 += s * b3; }
        b0 = subgroupBroadcast(w0, 7u); b1 = subgroupBroadcast(w1, 7u); b2 = subgroupBroadcast(w2, 7u); b3 = subgroupBroadcast(w3, 7u);
        s = va1_1.w; m1_0 += s * b0; m1_1 += s * b1; m1_2 += s * b2; m1_3 += s * b3;
        if (TILES == 2u) { s = vb1_1.w; n1_0 += s * b0; n1_1 += s * b1; n1_2 += s * b2; n1_3 += s * b3; }
      }
      { // position (i, 2): lane c loads row c (channel ci + c) of U[i][2], 16 columns (lanes past 8 of a wider subgroup the same rows: only 0..7 are broadcast, and row 8 on would run past U)
        let wi = ((blk * 16u + 4u * i + 2u) * 8u + (lane & 7u)) * p.coutPad4 + g0;
        let w0 = u[wi]; let w1 = u[wi + 1u]; let w2 = u[wi + 2u]; let w3 = u[wi + 3u];
        var s: f32; var b0: vec4f; var b1: vec4f; var b2: vec4f; var b3: vec4f;
        b0 = subgroupBroadcast(w0, 0u); b1 = subgroupBroadcast(w1, 0u); b2 = subgroupBroadcast(w2, 0u); b3 = subgroupBroadcast(w3, 0u);
        s = va2_0.x; m2_0 += s * b0; m2_1 += s * b1; m2_2 += s * b2; m2_3 += s * b3;
        if (TILES == 2u) { s = vb2_0.x; n2_0 += s * b0; n2_1 += s * b1; n2_2 += s * b2; n2_3 += s * b3; }
        b0 = subgroupBroadcast(w0, 1u); b1 = subgroupBroadcast(w1, 1u); b2 = subgroupBroadcast(w2, 1u); b3 = subgroupBroadcast(w3, 1u);
        s = va2_0.y; m2_0 += s * b0; m2_1 += s * b1; m2_2 += s * b2; m2_3 += s * b3;
        if (TILES == 2u) { s = vb2_0.y; n2_0 += s * b0; n2_1 += s * b1; n2_2 += s * b2; n2_3 += s * b3; }
        b0 = subgroupBroadcast(w0, 2u); b1 = subgroupBroadcast(w1, 2u); b2 = subgroupBroadcast(w2, 2u); b3 = subgroupBroadcast(w3, 2u);
        s = va2_0.z; m2_0 += s * b0; m2_1 += s * b1; m2_2 += s * b2; m2_3 += s * b3;
        if (TILES == 2u) { s = vb2_0.z; n2_0 += s * b0; n2_1 += s * b1; n2_2 += s * b2; n2_3 += s * b3; }
        b0 = subgroupBroadcast(w0, 3u); b1 = subgroupBroadcast(w1, 3u); b2 = subgroupBroadcast(w2, 3u); b3 = subgroupBroadcast(w3, 3u);
        s = va2_0.w; m2_0 += s * b0; m2_1 += s * b1; m2_2 += s * b2; m2_3 += s * b3;
        if (TILES == 2u) { s = vb2_0.w; n2_0 += s * b0; n2_1 += s * b1; n2_2 += s * b2; n2_3 += s * b3; }
        b0 = subgroupBroadcast(w0, 4u); b1 = subgroupBroadcast(w1, 4u); b2 = subgroupBroadcast(w2, 4u); b3 = subgroupBroadcast(w3, 4u);
        s = va2_1.x; m2_0 += s * b0; m2_1 += s * b1; m2_2 += s * b2; m2_3 += s * b3;
        if (TILES == 2u) { s = vb2_1.x; n2_0 += s * b0; n2_1 += s * b1; n2_2 += s * b2; n2_3 += s * b3; }
        b0 = subgroupBroadcast(w0, 5u); b1 = subgroupBroadcast(w1, 5u); b2 = subgroupBroadcast(w2, 5u); b3 = subgroupBroadcast(w3, 5u);
        s = va2_1.y; m2_0 += s * b0; m2_1 += s * b1; m2_2 += s * b2; m2_3 += s * b3;
        if (TILES == 2u) { s = vb2_1.y; n2_0 += s * b0; n2_1 += s * b1; n2_2 += s * b2; n2_3 += s * b3; }
        b0 = subgroupBroadcast(w0, 6u); b1 = subgroupBroadcast(w1, 6u); b2 = subgroupBroadcast(w2, 6u); b3 = subgroupBroadcast(w3, 6u);
        s = va2_1.z; m2_0 += s * b0; m2_1 += s * b1; m2_2 += s * b2; m2_3 += s * b3;
        if (TILES == 2u) { s = vb2_1.z; n2_0 += s * b0; n2_1 += s * b1; n2_2 += s * b2; n2_3 += s * b3; }
        b0 = subgroupBroadcast(w0, 7u); b1 = subgroupBroadcast(w1, 7u); b2 = subgroupBroadcast(w2, 7u); b3 = subgroupBroadcast(w3, 7u);
        s = va2_1.w; m2_0 += s * b0; m2_1 += s * b1; m2_2 += s * b2; m2_3 += s * b3;
        if (TILES == 2u) { s = vb2_1.w; n2_0 += s * b0; n2_1 += s * b1; n2_2 += s * b2; n2_3 += s * b3; }
      }
      { // position (i, 3): lane c loads row c (channel ci + c) of U[i][3], 16 columns (lanes past 8 of a wider subgroup the same rows: only 0..7 are broadcast, and row 8 on would run past U)
        let wi = ((blk * 16u + 4u * i + 3u) * 8u + (lane & 7u)) * p.coutPad4 + g0;
        let w0 = u[wi]; let w1 = u[wi + 1u]; let w2 = u[wi + 2u]; let w3 = u[wi + 3u];
        var s: f32; var b0: vec4f; var b1: vec4f; var b2: vec4f; var b3: vec4f;
        b0 = subgroupBroadcast(w0, 0u); b1 = subgroupBroadcast(w1, 0u); b2 = subgroupBroadcast(w2, 0u); b3 = subgroupBroadcast(w3, 0u);
        s = va3_0.x; m3_0 += s * b0; m3_1 += s * b1; m3_2 += s * b2; m3_3 += s * b3;
        if (TILES == 2u) { s = vb3_0.x; n3_0 += s * b0; n3_1 += s * b1; n3_2 += s * b2; n3_3 += s * b3; }
        b0 = subgroupBroadcast(w0, 1u); b1 = subgroupBroadcast(w1, 1u); b2 = subgroupBroadcast(w2, 1u); b3 = subgroupBroadcast(w3, 1u);
        s = va3_0.y; m3_0 += s * b0; m3_1 += s * b1; m3_2 += s * b2; m3_3 += s * b3;
        if (TILES == 2u) { s = vb3_0.y; n3_0 += s * b0; n3_1 += s * b1; n3_2 += s * b2; n3_3 += s * b3; }
        b0 = subgroupBroadcast(w0, 2u); b1 = subgroupBroadcast(w1, 2u); b2 = subgroupBroadcast(w2, 2u); b3 = subgroupBroadcast(w3, 2u);
        s = va3_0.z; m3_0 += s * b0; m3_1 += s * b1; m3_2 += s * b2; m3_3 += s * b3;
        if (TILES == 2u) { s = vb3_0.z; n3_0 += s * b0; n3_1 += s * b1; n3_2 += s * b2; n3_3 += s * b3; }
        b0 = subgroupBroadcast(w0, 3u); b1 = subgroupBroadcast(w1, 3u); b2 = subgroupBroadcast(w2, 3u); b3 = subgroupBroadcast(w3, 3u);
        s = va3_0.w; m3_0 += s * b0; m3_1 += s * b1; m3_2 += s * b2; m3_3 += s * b3;
        if (TILES == 2u) { s = vb3_0.w; n3_0 += s * b0; n3_1 += s * b1; n3_2 += s * b2; n3_3 += s * b3; }
        b0 = subgroupBroadcast(w0, 4u); b1 = subgroupBroadcast(w1, 4u); b2 = subgroupBroadcast(w2, 4u); b3 = subgroupBroadcast(w3, 4u);
        s = va3_1.x; m3_0 += s * b0; m3_1 += s * b1; m3_2 += s * b2; m3_3 += s * b3;
        if (TILES == 2u) { s = vb3_1.x; n3_0 += s * b0; n3_1 += s * b1; n3_2 += s * b2; n3_3 += s * b3; }
        b0 = subgroupBroadcast(w0, 5u); b1 = subgroupBroadcast(w1, 5u); b2 = subgroupBroadcast(w2, 5u); b3 = subgroupBroadcast(w3, 5u);
        s = va3_1.y; m3_0 += s * b0; m3_1 += s * b1; m3_2 += s * b2; m3_3 += s * b3;
        if (TILES == 2u) { s = vb3_1.y; n3_0 += s * b0; n3_1 += s * b1; n3_2 += s * b2; n3_3 += s * b3; }
        b0 = subgroupBroadcast(w0, 6u); b1 = subgroupBroadcast(w1, 6u); b2 = subgroupBroadcast(w2, 6u); b3 = subgroupBroadcast(w3, 6u);
        s = va3_1.z; m3_0 += s * b0; m3_1 += s * b1; m3_2 += s * b2; m3_3 += s * b3;
        if (TILES == 2u) { s = vb3_1.z; n3_0 += s * b0; n3_1 += s * b1; n3_2 += s * b2; n3_3 += s * b3; }
        b0 = subgroupBroadcast(w0, 7u); b1 = subgroupBroadcast(w1, 7u); b2 = subgroupBroadcast(w2, 7u); b3 = subgroupBroadcast(w3, 7u);
        s = va3_1.w; m3_0 += s * b0; m3_1 += s * b1; m3_2 += s * b2; m3_3 += s * b3;
        if (TILES == 2u) { s = vb3_1.w; n3_0 += s * b0; n3_1 += s * b1; n3_2 += s * b2; n3_3 += s * b3; }
      }
      // generated by tools/gen-conv2d-winograd.ts: end
    }
    // Y += A^T[., i] (M[i] A), column i of A^T = (1, 0), (1, 1), (1, -1), (0, -1): added, subtracted or
    // skipped, never multiplied by 0, so a non-finite input stays inside its outputs' receptive fields.
    { let p0 = m0_0 + m1_0 + m2_0; let p1 = m1_0 - m2_0 - m3_0; if (i < 3u) { y00_0 += p0; y01_0 += p1; } if (i == 1u) { y10_0 += p0; y11_0 += p1; } if (i >= 2u) { y10_0 -= p0; y11_0 -= p1; } }
    { let p0 = m0_1 + m1_1 + m2_1; let p1 = m1_1 - m2_1 - m3_1; if (i < 3u) { y00_1 += p0; y01_1 += p1; } if (i == 1u) { y10_1 += p0; y11_1 += p1; } if (i >= 2u) { y10_1 -= p0; y11_1 -= p1; } }
    { let p0 = m0_2 + m1_2 + m2_2; let p1 = m1_2 - m2_2 - m3_2; if (i < 3u) { y00_2 += p0; y01_2 += p1; } if (i == 1u) { y10_2 += p0; y11_2 += p1; } if (i >= 2u) { y10_2 -= p0; y11_2 -= p1; } }
    { let p0 = m0_3 + m1_3 + m2_3; let p1 = m1_3 - m2_3 - m3_3; if (i < 3u) { y00_3 += p0; y01_3 += p1; } if (i == 1u) { y10_3 += p0; y11_3 += p1; } if (i >= 2u) { y10_3 -= p0; y11_3 -= p1; } }
    if (TILES == 2u) { let p0 = n0_0 + n1_0 + n2_0; let p1 = n1_0 - n2_0 - n3_0; if (i < 3u) { z00_0 += p0; z01_0 += p1; } if (i == 1u) { z10_0 += p0; z11_0 += p1; } if (i >= 2u) { z10_0 -= p0; z11_0 -= p1; } }
    if (TILES == 2u) { let p0 = n0_1 + n1_1 + n2_1; let p1 = n1_1 - n2_1 - n3_1; if (i < 3u) { z00_1 += p0; z01_1 += p1; } if (i == 1u) { z10_1 += p0; z11_1 += p1; } if (i >= 2u) { z10_1 -= p0; z11_1 -= p1; } }
    if (TILES == 2u) { let p0 = n0_2 + n1_2 + n2_2; let p1 = n1_2 - n2_2 - n3_2; if (i < 3u) { z00_2 += p0; z01_2 += p1; } if (i == 1u) { z10_2 += p0; z11_2 += p1; } if (i >= 2u) { z10_2 -= p0; z11_2 -= p1; } }
    if (TILES == 2u) { let p0 = n0_3 + n1_3 + n2_3; let p1 = n1_3 - n2_3 - n3_3; if (i < 3u) { z00_3 += p0; z01_3 += p1; } if (i == 1u) { z10_3 += p0; z11_3 += p1; } if (i >= 2u) { z10_3 -= p0; z11_3 -= p1; } }
  }
  let co = 4u * g0;
  if (co + 0u < p.Cout) { storeTile(qa, co + 0u, y00_0, y01_0, y10_0, y11_0); }
  if (co + 4u < p.Cout) { storeTile(qa, co + 4u, y00_1, y01_1, y10_1, y11_1); }
  if (co + 8u < p.Cout) { storeTile(qa, co + 8u, y00_2, y01_2, y10_2, y11_2); }
  if (co + 12u < p.Cout) { storeTile(qa, co + 12u, y00_3, y01_3, y10_3, y11_3); }
  if (TILES == 2u && co + 0u < p.Cout) { storeTile(qb, co + 0u, z00_0, z01_0, z10_0, z11_0); }
  if (TILES == 2u && co + 4u < p.Cout) { storeTile(qb, co + 4u, z00_1, z01_1, z10_1, z11_1); }
  if (TILES == 2u && co + 8u < p.Cout) { storeTile(qb, co + 8u, z00_2, z01_2, z10_2, z11_2); }
  if (TILES == 2u && co + 12u < p.Cout) { storeTile(qb, co + 12u, z00_3, z01_3, z10_3, z11_3); }
}
