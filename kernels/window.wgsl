// Zero outside a window: out = x inside rows [0, height) and columns [0, width) of an
// NHWC image with outHeight rows and outWidth columns, 0 elsewhere. A network output at a
// padded frame size becomes a mask that is zero in the padding again, as a mask padded
// with zeros would be (Mem3D's own models do not pad: its frames are already multiples of
// 16; STM's pad_divide_by pads centred, here the padding is at the bottom and right).

override WORKGROUP_SIZE: u32 = 256u;

struct Params {
  count: u32,
  channels: u32,
  width: u32,
  height: u32,
  outWidth: u32,
  outHeight: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + lid;
  if (i >= p.count) { return; }
  let pixel = i / p.channels;
  let column = pixel % p.outWidth;
  let row = (pixel / p.outWidth) % p.outHeight;
  out[i] = select(0.0, x[i], column < p.width && row < p.height);
}
