// Per-pixel channel ops over NHWC f32 (channels are the innermost dimension).
// Entry `copy`: one thread per source element, writes `count` elements of src [P, srcC]
//   from pixel srcPixel on into the channel window [offset, offset + srcC) of dst
//   [P', dstC] from pixel dstPixel on (concatenation; with pixel offsets, one item of a
//   batch into or out of a batched tensor). Entry `copy4`: the same in vec4s, where srcC,
//   dstC and offset are multiples of 4 (its uniforms count them in vec4s): a quarter of
//   the threads and index arithmetic, vector loads and stores.
// `result` is raw 32-bit words, so one kernel copies f32 and i32 tensors alike.

override WORKGROUP_SIZE: u32 = 256u;

struct Params {
  count: u32, // source elements (copy4: vec4s)
  srcC: u32,
  dstC: u32,
  offset: u32,
  srcPixel: u32,
  dstPixel: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> result: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;
// copy4's view of the same bindings (an entry point uses one view or the other).
@group(0) @binding(0) var<storage, read> x4: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> result4: array<vec4u>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn copy(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + lid;
  if (i >= params.count) { return; }
  let pixel = i / params.srcC;
  let c = i % params.srcC;
  result[(params.dstPixel + pixel) * params.dstC + params.offset + c] = bitcast<u32>(x[params.srcPixel * params.srcC + i]);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn copy4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + lid;
  if (i >= params.count) { return; }
  let pixel = i / params.srcC;
  let c = i % params.srcC;
  result4[(params.dstPixel + pixel) * params.dstC + params.offset + c] = bitcast<vec4u>(x4[params.srcPixel * params.srcC + i]);
}
