// The host interface of the single-pass conv kernels (spliced by `// @include
// conv2d_interface` into kernels/conv2d.wgsl and conv2d_cpu.wgsl; the split-K kernels
// include conv2d_split_interface, the same plus the split). Weights are read only through
// loadW: the f16-weight variants (src/ops/conv2d-f16.ts) swap these two lines for an
// array<vec4h> binding whose loadW widens to f32, so the arithmetic (and accumulation)
// stays f32; adapters without shader-f16 never see them.
struct Params {
  H: u32, W: u32, Cin: u32, CinPad: u32, KW: u32,
  OH: u32, OW: u32, Cout: u32, K: u32,
  strideH: u32, strideW: u32, dilH: u32, dilW: u32,
  padH: i32, padW: i32, M: u32,
  outChannels: u32, outOffset: u32, coutPad4: u32,
}

@group(0) @binding(0) var<storage, read> x: array<vec4f>;
@group(0) @binding(1) var<storage, read> w: array<vec4f>;
fn loadW(i: u32) -> vec4f { return w[i]; }
@group(0) @binding(2) var<storage, read> bias: array<vec4f>;
@group(0) @binding(3) var<storage, read> residual: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(5) var<uniform> p: Params;
