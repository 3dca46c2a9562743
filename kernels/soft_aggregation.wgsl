// Mem3D's segmentation head for one object, per pixel of the decoder's 2-channel logits:
//   ps        = softmax(logit)[1]                         (probability of the object)
//   agg       = log(em / (1 - em)), em = clamp((1 - ps, ps), 1e-7, 1 - 1e-7)   (Soft_aggregation)
//   fg        = softmax(agg)[1]                           (the mask the next memorize reads)
//   quality   = (argmax softmax(agg), max softmax(agg))   (the quality head's two extra channels)
// Outputs are channels-last: ps [P], agg [P, 2], fg [P], quality [P, 2].

override WORKGROUP_SIZE: u32 = 256u;

struct Params {
  pixels: u32,
  // 1e-7 and 1 - 1e-7 as the f32 values nearest to PyTorch's bounds.
  lo: f32,
  hi: f32,
}

@group(0) @binding(0) var<storage, read> logit: array<f32>;
@group(0) @binding(1) var<storage, read_write> ps: array<f32>;
@group(0) @binding(2) var<storage, read_write> agg: array<f32>;
@group(0) @binding(3) var<storage, read_write> fg: array<f32>;
@group(0) @binding(4) var<storage, read_write> quality: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

// softmax over two values, second component. The difference is clamped so exp
// stays finite (WGSL leaves overflow indeterminate); at +-80 the result is already
// within 2e-35 of 0 or 1.
fn softmax2(a: f32, b: f32) -> f32 {
  return 1.0 / (1.0 + exp(clamp(a - b, -80.0, 80.0)));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + lid;
  if (i >= params.pixels) { return; }
  let p = softmax2(logit[2u * i], logit[2u * i + 1u]);
  // 1 - p is computed as the other softmax component, not by subtraction, and
  // 1 - clamp(p) as clamp(1 - p) (the bounds are symmetric): the log-odds keep
  // their relative precision where p is within 1e-7 of 0 or 1.
  let q = softmax2(logit[2u * i + 1u], logit[2u * i]);
  let a1 = log(clamp(p, params.lo, params.hi) / clamp(q, params.lo, params.hi));
  let a0 = -a1;
  let f = softmax2(a0, a1);
  ps[i] = p;
  agg[2u * i] = a0;
  agg[2u * i + 1u] = a1;
  fg[i] = f;
  // torch.argmax returns the first maximal index: background wins a tie.
  quality[2u * i] = select(0.0, 1.0, a1 > a0);
  quality[2u * i + 1u] = max(f, softmax2(a1, a0));
}
