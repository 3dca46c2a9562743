// The host interface of the split-K conv kernels (spliced by `// @include
// conv2d_split_interface` into kernels/conv2d_gpu.wgsl and conv2d_mma.wgsl): conv2d.wgsl's
// uniforms and bindings plus the split (splits, kTilesPerSplit) and the partial sums,
// partial[(split * M + m) * coutPad4 + co / 4], which conv2d_gpu.wgsl's `reduce` adds up for
// both (src/ops/conv2d-gpu.ts dispatchSplitKConv).
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
