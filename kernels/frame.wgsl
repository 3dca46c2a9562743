// 8-bit grey slices to a network's float input on the GPU: each pixel's grey level g
// picks CHANNELS values from a lookup table (table[CHANNELS * g + c]), the output is
// channels-last [outHeight, outWidth, CHANNELS], and pixels past the slice's width or
// height (the network's padding) take grey level 0. The host builds the table with its
// CPU preprocessing (src/networks/mem3d/preprocess.ts), so the GPU frame is bit for bit
// the CPU one, and uploads a quarter of a byte per output value instead of four.
//
// The slice arrives as bytes packed little-endian into u32 words (row-major, `width`
// bytes a row, the last word zero-filled). A batch of `items` slices arrives as their
// bytes one slice after the other and leaves as [items, outHeight, outWidth, CHANNELS].

override CHANNELS: u32 = 3u;
override WORKGROUP_SIZE: u32 = 256u;

struct Params {
  width: u32,
  height: u32,
  outWidth: u32,
  outHeight: u32,
  items: u32,
}

@group(0) @binding(0) var<storage, read> grey: array<u32>;
@group(0) @binding(1) var<storage, read> table: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let o = (wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + lid;
  let plane = p.outWidth * p.outHeight;
  if (o >= plane * p.items) { return; }
  let item = o / plane;
  let y = (o % plane) / p.outWidth;
  let x = o % p.outWidth;
  var g = 0u;
  if (x < p.width && y < p.height) {
    let i = (item * p.height + y) * p.width + x;
    g = (grey[i >> 2u] >> (8u * (i & 3u))) & 0xffu;
  }
  for (var c = 0u; c < CHANNELS; c++) {
    out[o * CHANNELS + c] = table[g * CHANNELS + c];
  }
}
