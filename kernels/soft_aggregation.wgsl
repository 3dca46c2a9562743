// Mem3D's segmentation head, per pixel of the decoder's 2-channel logits.
//
// Entry `main`, one object:
//   ps        = softmax(logit)[1]                         (probability of the object)
//   agg       = log(em / (1 - em)), em = clamp((1 - ps, ps), 1e-7, 1 - 1e-7)   (Soft_aggregation)
//   fg        = softmax(agg)[1]                           (the mask the next memorize reads)
//   quality   = (argmax softmax(agg), max softmax(agg))   (the quality head's two extra channels)
// Outputs are channels-last: ps [P], agg [P, 2], fg [P], quality [P, 2].
//
// Entry `objects`, K objects (the original Soft_aggregation over K decoders), K = params.objects:
//   logit [P, 2K]: object j's decoder logits at channels (2j, 2j + 1)
//   em = (prod_j (1 - ps_j), ps_1, ..., ps_K), clamped;  agg = log(em / (1 - em))  [P, K + 1]
// One dispatch per object k = params.object writes that object's view: ps [P] = ps_k,
// fg [P] = softmax(agg)[k + 1], quality [P, 2] = (argmax, max) of its binary view
// (1 - fg, fg). Object 0's dispatch also writes agg. With K = 1 every output is bit for bit
// `main`'s: the same operations on the same values (test/soft-aggregation-objects.test.ts).

override WORKGROUP_SIZE: u32 = 256u;

struct Params {
  pixels: u32,
  // 1e-7 and 1 - 1e-7 as the f32 values nearest to PyTorch's bounds.
  lo: f32,
  hi: f32,
  // Entry `objects` only: K, and the object (0-based) whose view this dispatch writes.
  objects: u32,
  object: u32,
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

// Object j's (p, 1 - p) at pixel i of the K-object logits, 1 - p as the other softmax component.
fn object_probability(i: u32, j: u32) -> vec2f {
  let base = 2u * (i * params.objects + j);
  return vec2f(softmax2(logit[base], logit[base + 1u]), softmax2(logit[base + 1u], logit[base]));
}

// Aggregated log-odds of em = p, 1 - em = q, as in `main`.
fn log_odds(pq: vec2f) -> f32 {
  return log(clamp(pq.x, params.lo, params.hi) / clamp(pq.y, params.lo, params.hi));
}

// Aggregated log-odds of channel c (0 = background) at pixel i; `a0` is the background's.
fn channel_log_odds(i: u32, c: u32, a0: f32) -> f32 {
  if (c == 0u) { return a0; }
  return log_odds(object_probability(i, c - 1u));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn objects(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + lid;
  if (i >= params.pixels) { return; }
  let K = params.objects;
  let k = params.object;
  // Background em0 = prod_j (1 - p_j) (`rest`), and 1 - em0, the objects' union (`covered`),
  // each accumulated without a subtraction: covered' = covered + rest * p_j, rest' = rest * (1 - p_j).
  var rest = 1.0;
  var covered = 0.0;
  for (var j = 0u; j < K; j++) {
    let pq = object_probability(i, j);
    covered = covered + rest * pq.x;
    rest = rest * pq.y;
  }
  let a0 = -log_odds(vec2f(covered, rest));
  if (k == 0u) {
    agg[(K + 1u) * i] = a0;
    for (var c = 1u; c <= K; c++) {
      agg[(K + 1u) * i + c] = channel_log_odds(i, c, a0);
    }
  }
  let own = object_probability(i, k);
  let a = log_odds(own);
  // r = log-sum-exp of the other channels: the log-odds of the object's complement.
  // Every log-odds lies within +-16.2 (the clamp), so exp cannot overflow. The largest
  // other channel m is taken out of the sum exactly: r = m when it is the only one
  // (K = 1, where r is `main`'s a0), and r >= m always, so at most one object's
  // binary view can win a pixel.
  var m = a0;
  var mc = 0u;
  for (var c = 1u; c <= K; c++) {
    if (c == k + 1u) { continue; }
    let v = channel_log_odds(i, c, a0);
    if (v > m) {
      m = v;
      mc = c;
    }
  }
  var s = 0.0;
  for (var c = 0u; c <= K; c++) {
    if (c == k + 1u || c == mc) { continue; }
    s += exp(channel_log_odds(i, c, a0) - m);
  }
  let r = select(m + max(log(1.0 + s), 0.0), m, s == 0.0);
  let f = softmax2(r, a);
  ps[i] = own.x;
  fg[i] = f;
  quality[2u * i] = select(0.0, 1.0, a > r);
  quality[2u * i + 1u] = max(f, softmax2(a, r));
}
