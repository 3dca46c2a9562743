// The conv kernels' epilogue (spliced by `// @include conv2d_store` into kernels/conv2d.wgsl,
// conv2d_cpu.wgsl, conv2d_gpu.wgsl, conv2d_mma.wgsl and conv2d_winograd_gemm.wgsl;
// tools/embed-wgsl.ts): for pixel m, channels [co, co + 4), + bias, + residual
// (HAS_RESIDUAL), then ReLU (RELU): ResNet's order, into channel outOffset + co of an
// outChannels-wide output (the concatenations of ASPP and PSP need no copy). The caller checks m < M and co < Cout. Uses the including
// kernel's bias, residual, out, p and VEC4_OUT, HAS_RESIDUAL, RELU (overrides, or private
// variables set from uniforms in conv2d_winograd_gemm.wgsl).
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
