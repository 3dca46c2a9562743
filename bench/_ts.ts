import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);
for (const flags of [[], ['disable-dawn-features=timestamp_quantization']]) {
  const gpu = create(flags);
  const adapter = await gpu.requestAdapter();
  const device = await adapter!.requestDevice({ requiredFeatures: ['timestamp-query'] });
  const qs = device.createQuerySet({ type: 'timestamp', count: 8 });
  const mod = device.createShaderModule({ code: '@group(0) @binding(0) var<storage, read_write> a: array<f32>; @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) { a[g.x] = a[g.x] * 2.0 + 1.0; }' });
  const pipe = device.createComputePipeline({ layout: 'auto', compute: { module: mod, entryPoint: 'main' } });
  const buf = device.createBuffer({ size: 4 * 4096, usage: GPUBufferUsage.STORAGE });
  const bg = device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: buf } }] });
  const res = device.createBuffer({ size: 64, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  const rd = device.createBuffer({ size: 64, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  for (let i = 0; i < 4; i++) {
    const p = enc.beginComputePass({ timestampWrites: { querySet: qs, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
    p.setPipeline(pipe); p.setBindGroup(0, bg); p.dispatchWorkgroups(64); p.end();
  }
  enc.resolveQuerySet(qs, 0, 8, res, 0);
  enc.copyBufferToBuffer(res, 0, rd, 0, 64);
  device.queue.submit([enc.finish()]);
  await rd.mapAsync(GPUMapMode.READ);
  const t = new BigUint64Array(rd.getMappedRange().slice(0));
  console.log(flags.join(' ') || 'default', [...t].map((v) => `${v} (low16 ${v & 0xffffn})`).join(' | '));
  console.log('  durations ns:', [0, 1, 2, 3].map((i) => Number(t[2 * i + 1] - t[2 * i])));
  device.destroy();
}
process.exit(0);
