// The reduction index of the im2col conv kernels (spliced by `// @include conv2d_taps`
// into kernels/conv2d.wgsl and conv2d_gpu.wgsl): index k of the K = KH * KW * CinPad
// reduction as its tap (kh, kw) and channel ci. Advanced incrementally because integer
// division is slow on GPUs and worse on CPU rasterisers (lavapipe).
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
