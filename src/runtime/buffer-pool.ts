// Reuses storage buffers by size class. A released buffer becomes reusable only
// after the commands that used it have been submitted: queue.writeBuffer runs
// ahead of commands still being encoded, so handing the buffer out earlier could
// overwrite data a pending dispatch has yet to read.
//
// Of the free buffers of a class, the oldest (first created) goes out first: which
// buffer an allocation gets then depends on the set of free buffers, not on the order
// they were released in, so a network step that repeats the previous one's allocations
// gets the same buffers, and the runtime's cached bind groups (bind-groups.ts) match.

/** Rounds a byte size up to a size class: powers of two and their 1.5x midpoints, at least 256 B. */
export function sizeClass(bytes: number): number {
  const n = Math.max(256, Math.ceil(bytes / 16) * 16);
  const p = 2 ** Math.ceil(Math.log2(n));
  return n <= p * 0.75 ? p * 0.75 : p;
}

export class BufferPool {
  /** Free buffers per size class, newest first: pop() takes the oldest. */
  private readonly free = new Map<number, GPUBuffer[]>();
  private readonly age = new WeakMap<GPUBuffer, number>();
  private created = 0;
  private pendingRelease: GPUBuffer[] = [];
  private liveBytes = 0;
  private pooledBytes = 0;
  peakBytes = 0;

  constructor(private readonly device: GPUDevice, private readonly usage: number) {}

  acquire(bytes: number, label: string): GPUBuffer {
    const size = sizeClass(bytes);
    const list = this.free.get(size);
    const reused = list?.pop();
    if (reused) {
      this.pooledBytes -= size;
      reused.label = label;
      return this.track(reused);
    }
    const b = this.device.createBuffer({ size, usage: this.usage, label });
    this.age.set(b, this.created++);
    return this.track(b);
  }

  /** Returns a buffer; it is reusable after the next submit. */
  release(buffer: GPUBuffer): void {
    this.liveBytes -= buffer.size;
    this.pendingRelease.push(buffer);
  }

  /** Called by the runtime right after queue.submit. */
  onSubmitted(): void {
    for (const b of this.pendingRelease) {
      const list = this.free.get(b.size) ?? [];
      const age = this.age.get(b)!;
      let at = list.length;
      while (at > 0 && this.age.get(list[at - 1])! < age) at--;
      list.splice(at, 0, b);
      this.free.set(b.size, list);
      this.pooledBytes += b.size;
    }
    this.pendingRelease = [];
  }

  /** Destroys every pooled (not live) buffer. */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.pooledBytes = 0;
  }

  /** Starts a new peak measurement from the bytes live now. */
  resetPeak(): void {
    this.peakBytes = this.liveBytes;
  }

  stats(): { liveBytes: number; pooledBytes: number; peakBytes: number } {
    return { liveBytes: this.liveBytes, pooledBytes: this.pooledBytes, peakBytes: this.peakBytes };
  }

  private track(b: GPUBuffer): GPUBuffer {
    this.liveBytes += b.size;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes);
    return b;
  }
}
