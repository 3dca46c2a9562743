// Per-dispatch GPU time from timestamp queries (adapters with 'timestamp-query';
// lavapipe has it). While profiling, the runtime gives every dispatch its own
// compute pass whose timestampWrites bracket it; at each submit the queries are
// resolved and copied to a mappable buffer, read back by report(). The report sums
// GPU time, FLOPs and bytes by dispatch label, by kernel and by module (the label's
// network prefix, e.g. conv2d 'Encoder_M.res4.0.conv1' -> Encoder_M), with GFLOP/s
// and GB/s, as JSON-ready data; formatProfile() prints it as a table.
//
// Separate passes serialise dispatches the driver could otherwise overlap, so a
// profiled run is slower than an unprofiled one; per-kernel shares stay meaningful.

export interface DispatchCost {
  /** Floating-point operations (2 per multiply-add). */
  flop?: number;
  /** Bytes read and written; defaults to the size of every binding. */
  bytes?: number;
}

interface Entry {
  label: string;
  kernel: string;
  flop: number;
  bytes: number;
}

interface Batch {
  entries: Entry[];
  staging: GPUBuffer;
  /** Released once read: the query set and the resolve buffer. */
  owned: { destroy(): void }[];
}

export interface ProfileRow {
  name: string;
  dispatches: number;
  ms: number;
  /** Share of the profiled GPU time, 0..1. */
  share: number;
  gflop: number;
  gflops: number;
  gbytes: number;
  gbps: number;
}

export interface ProfileReport {
  adapter: string;
  dispatches: number;
  /** Sum of per-dispatch GPU time. */
  gpuMs: number;
  byKernel: ProfileRow[];
  byModule: ProfileRow[];
  byLabel: ProfileRow[];
}

/** The module a dispatch label belongs to: the first segment of a quoted weight path, else the label. */
export function moduleOf(label: string): string {
  const quoted = /'([^']+)'/.exec(label);
  const name = quoted ? quoted[1] : label;
  return name.split('.')[0];
}

export class Profiler {
  private set: GPUQuerySet | null = null;
  private entries: Entry[] = [];
  private readonly batches: Batch[] = [];

  constructor(
    private readonly device: GPUDevice,
    /** Dispatches per submit at most (the runtime flushes at this count). */
    private readonly capacity: number,
  ) {
    if (!device.features.has('timestamp-query')) throw new Error("profiling needs the adapter feature 'timestamp-query', which this adapter does not offer");
  }

  /** The descriptor of the pass that will hold exactly this dispatch. */
  passDescriptor(label: string, kernel: string, cost: Required<DispatchCost>): GPUComputePassDescriptor {
    if (this.entries.length >= this.capacity) throw new Error(`profiler: more than ${this.capacity} dispatches in one submit`);
    this.set ??= this.device.createQuerySet({ type: 'timestamp', count: 2 * this.capacity, label: 'profiler' });
    const i = this.entries.length;
    this.entries.push({ label, kernel, ...cost });
    return { label, timestampWrites: { querySet: this.set, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } };
  }

  /** Called by the runtime just before it finishes a command encoder. */
  resolve(encoder: GPUCommandEncoder): void {
    if (!this.set || this.entries.length === 0) return;
    const n = 2 * this.entries.length;
    const resolved = this.device.createBuffer({ size: 8 * n, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC, label: 'profiler resolve' });
    const staging = this.device.createBuffer({ size: 8 * n, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'profiler readback' });
    encoder.resolveQuerySet(this.set, 0, n, resolved, 0);
    encoder.copyBufferToBuffer(resolved, 0, staging, 0, 8 * n);
    this.batches.push({ entries: this.entries, staging, owned: [this.set, resolved] });
    this.entries = [];
    // The query set's results are copied in this submit; the next batch gets a fresh set.
    this.set = null;
  }

  /** Reads every resolved batch (call after the work was submitted and finished). */
  async report(adapter: string): Promise<ProfileReport> {
    const timed: (Entry & { ms: number })[] = [];
    for (const b of this.batches.splice(0)) {
      await b.staging.mapAsync(GPUMapMode.READ);
      const t = new BigUint64Array(b.staging.getMappedRange().slice(0));
      b.staging.destroy();
      for (const o of b.owned) o.destroy();
      b.entries.forEach((e, i) => {
        const ns = t[2 * i + 1] > t[2 * i] ? Number(t[2 * i + 1] - t[2 * i]) : 0;
        timed.push({ ...e, ms: ns / 1e6 });
      });
    }
    const gpuMs = timed.reduce((s, e) => s + e.ms, 0);
    const group = (key: (e: Entry) => string): ProfileRow[] => {
      const rows = new Map<string, { dispatches: number; ms: number; flop: number; bytes: number }>();
      for (const e of timed) {
        const r = rows.get(key(e)) ?? { dispatches: 0, ms: 0, flop: 0, bytes: 0 };
        r.dispatches++;
        r.ms += e.ms;
        r.flop += e.flop;
        r.bytes += e.bytes;
        rows.set(key(e), r);
      }
      return [...rows]
        .map(([name, r]) => ({
          name,
          dispatches: r.dispatches,
          ms: r.ms,
          share: gpuMs > 0 ? r.ms / gpuMs : 0,
          gflop: r.flop / 1e9,
          gflops: r.ms > 0 ? r.flop / 1e6 / r.ms : 0,
          gbytes: r.bytes / 1e9,
          gbps: r.ms > 0 ? r.bytes / 1e6 / r.ms : 0,
        }))
        .sort((a, b) => b.ms - a.ms);
    };
    return { adapter, dispatches: timed.length, gpuMs, byKernel: group((e) => e.kernel), byModule: group((e) => moduleOf(e.label)), byLabel: group((e) => e.label) };
  }
}

/** The report as text tables (kernels, modules, the top `top` dispatch labels). */
export function formatProfile(r: ProfileReport, top = 15): string {
  const table = (title: string, rows: ProfileRow[]) => [
    `${title}`,
    '  ms        share  calls  GFLOP/s  GB/s    name',
    ...rows.map((x) => `  ${x.ms.toFixed(1).padStart(8)}  ${(100 * x.share).toFixed(1).padStart(5)}%  ${String(x.dispatches).padStart(5)}  ${x.gflops.toFixed(2).padStart(7)}  ${x.gbps.toFixed(2).padStart(6)}  ${x.name}`),
  ];
  return [
    `GPU time ${r.gpuMs.toFixed(1)} ms over ${r.dispatches} dispatches (${r.adapter})`,
    ...table('by kernel', r.byKernel),
    ...table('by module', r.byModule),
    ...table(`top ${top} dispatches by label`, r.byLabel.slice(0, top)),
  ].join('\n');
}
