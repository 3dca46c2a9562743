// Probes of what llvmpipe (lavapipe) charges for, run by bench/lavapipe-probe.ts: each
// invocation runs n iterations of 16 vec4 multiply-adds on registers plus, per KIND,
//   0: nothing else (the FMA roofline of lavapipe's lanes),
//   1: one vec4 storage load at a per-lane address,
//   2: four adjacent vec4 loads at a per-lane address (the driver merges them),
//   3: one vec4 load at an address the same for every lane but not a constant
//      (llvmpipe treats it as per-lane),
//   4: 16 subgroupBroadcasts of a vec4 from constant lanes.
enable subgroups;

struct Params { n: u32, mask: u32 }
@group(0) @binding(0) var<storage, read> src: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(2) var<uniform> p: Params;

override KIND: u32 = 0u;
override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(local_invocation_index) lid: u32) {
  var a0 = vec4f(0.0); var a1 = vec4f(0.0); var a2 = vec4f(0.0); var a3 = vec4f(0.0);
  let w0 = vec4f(0.1, 0.2, 0.3, 0.4); let w1 = vec4f(0.5, 0.6, 0.7, 0.8);
  let w2 = vec4f(0.9, 1.0, 1.1, 1.2); let w3 = vec4f(1.3, 1.4, 1.5, 1.6);
  var x = vec4f(f32(lid), 1.0, 2.0, 3.0);
  for (var i = 0u; i < p.n; i++) {
    if (KIND == 1u) { x = src[(i * WG + lid) & p.mask]; }
    if (KIND == 2u) { let b = ((i * WG + lid) * 4u) & p.mask; x = src[b] + src[b + 1u] + src[b + 2u] + src[b + 3u]; }
    if (KIND == 3u) { x = src[i & p.mask]; }
    if (KIND == 4u) {
      x = subgroupBroadcast(x, 0u) + subgroupBroadcast(x, 1u) + subgroupBroadcast(x, 2u) + subgroupBroadcast(x, 3u) +
          subgroupBroadcast(x, 4u) + subgroupBroadcast(x, 5u) + subgroupBroadcast(x, 6u) + subgroupBroadcast(x, 7u) +
          subgroupBroadcast(a0, 0u) + subgroupBroadcast(a0, 1u) + subgroupBroadcast(a0, 2u) + subgroupBroadcast(a0, 3u) +
          subgroupBroadcast(a1, 4u) + subgroupBroadcast(a1, 5u) + subgroupBroadcast(a1, 6u) + subgroupBroadcast(a1, 7u);
    }
    a0 = fma(vec4f(x.x), w0, a0); a1 = fma(vec4f(x.x), w1, a1); a2 = fma(vec4f(x.x), w2, a2); a3 = fma(vec4f(x.x), w3, a3);
    a0 = fma(vec4f(x.y), w1, a0); a1 = fma(vec4f(x.y), w2, a1); a2 = fma(vec4f(x.y), w3, a2); a3 = fma(vec4f(x.y), w0, a3);
    a0 = fma(vec4f(x.z), w2, a0); a1 = fma(vec4f(x.z), w3, a1); a2 = fma(vec4f(x.z), w0, a2); a3 = fma(vec4f(x.z), w1, a3);
    a0 = fma(vec4f(x.w), w3, a0); a1 = fma(vec4f(x.w), w0, a1); a2 = fma(vec4f(x.w), w1, a2); a3 = fma(vec4f(x.w), w2, a3);
    x = x * 0.999 + a0 * 1e-7;
  }
  out[g.x] = a0 + a1 + a2 + a3;
}
