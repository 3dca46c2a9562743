// Bind groups reused across dispatches. Creating one costs Dawn's Node binding about
// 22 us (bench/RESULTS.md, host work per step), a third of a dispatch's host time, and a
// network step makes ~160. A step's dispatches repeat from one step to the next: the
// same pipelines on the same pooled buffers with the same shapes. So a bind group is
// cached under its layout, its storage buffers and its uniform bytes, and owns a
// uniform buffer written once with those bytes and never again: reusing an entry needs
// no write, and no write can race a dispatch still waiting in the batch.
//
// Storage buffers are only destroyed with the runtime (the pool never frees a buffer
// while the device lives), so an entry never outlives its buffers; evicted entries'
// uniform buffers are destroyed after the next submit, when nothing pending uses them.

/** Entries kept (least recently used evicted first); each holds one small uniform buffer. */
export const BIND_GROUP_CACHE_ENTRIES = 4096;

interface Entry {
  group: GPUBindGroup;
  uniforms: GPUBuffer;
}

export class BindGroupCache {
  private readonly entries = new Map<string, Entry>();
  private readonly ids = new WeakMap<object, number>();
  // getBindGroupLayout returns a new wrapper at every call: one per pipeline keeps the key stable.
  private readonly layouts = new WeakMap<GPUComputePipeline, GPUBindGroupLayout>();
  private nextId = 1;
  private retired: GPUBuffer[] = [];
  hits = 0;
  misses = 0;

  constructor(private readonly device: GPUDevice, private readonly capacity = BIND_GROUP_CACHE_ENTRIES) {}

  /** The bind group of the pipeline's group 0 with `buffers` at bindings 0.. and a uniform buffer holding `uniformBytes` after them. */
  get(pipeline: GPUComputePipeline, buffers: readonly GPUBuffer[], uniformBytes: ArrayBuffer, label: string): GPUBindGroup {
    let layout = this.layouts.get(pipeline);
    if (!layout) this.layouts.set(pipeline, (layout = pipeline.getBindGroupLayout(0)));
    let key = `${this.id(layout)}`;
    for (const b of buffers) key += `,${this.id(b)}`;
    // The uniform bytes as UTF-16 code units: one native call, where a number per word cost ~1 us a dispatch.
    key += ':' + String.fromCharCode.apply(null, new Uint16Array(uniformBytes) as unknown as number[]);
    const found = this.entries.get(key);
    if (found) {
      // Most recently used last: Map keeps insertion order.
      this.entries.delete(key);
      this.entries.set(key, found);
      this.hits++;
      return found.group;
    }
    this.misses++;
    const uniforms = this.device.createBuffer({ size: uniformBytes.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: `${label} params` });
    this.device.queue.writeBuffer(uniforms, 0, uniformBytes);
    const entries: GPUBindGroupEntry[] = buffers.map((buffer, binding) => ({ binding, resource: { buffer } }));
    entries.push({ binding: buffers.length, resource: { buffer: uniforms } });
    const group = this.device.createBindGroup({ label, layout, entries });
    this.entries.set(key, { group, uniforms });
    if (this.entries.size > this.capacity) {
      const [oldest, entry] = this.entries.entries().next().value as [string, Entry];
      this.entries.delete(oldest);
      this.retired.push(entry.uniforms);
    }
    return group;
  }

  /** Called by the runtime right after queue.submit: evicted uniform buffers are no longer in use. */
  onSubmitted(): void {
    for (const b of this.retired) b.destroy();
    this.retired = [];
  }

  get size(): number {
    return this.entries.size;
  }

  private id(o: object): number {
    let id = this.ids.get(o);
    if (id === undefined) this.ids.set(o, (id = this.nextId++));
    return id;
  }
}
