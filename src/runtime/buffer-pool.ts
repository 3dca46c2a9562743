// Reuses storage buffers by size class. A released buffer is reusable at once by a
// tensor that GPU commands write: commands run in the order they are encoded, so a
// dispatch encoded after the release writes it only after every earlier command has
// read it (WebGPU orders a queue's commands; Dawn puts barriers between dispatches that
// share a buffer). A tensor filled by queue.writeBuffer (an upload) gets only buffers
// released before the last submit: writeBuffer runs ahead of commands still being
// encoded, so it could overwrite data a pending dispatch has yet to read. Reusing at
// once keeps a network step's buffers near its live peak: held until the next submit
// (every 96 dispatches), they were ~6x the peak (126 MiB pooled against 22 MiB of peak
// activations in a QAMN step at 256x256), past 512 MiB at 512x512.
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
  /** Free buffers released since the last submit: not for queue writes yet. */
  private releasedUnsubmitted = new Set<GPUBuffer>();
  private liveBytes = 0;
  private pooledBytes = 0;
  peakBytes = 0;

  constructor(private readonly device: GPUDevice, private readonly usage: number) {}

  /** A buffer of at least `bytes`; `queueWrite`: it will be filled by queue.writeBuffer, not by GPU commands. */
  acquire(bytes: number, label: string, queueWrite = false): GPUBuffer {
    const size = sizeClass(bytes);
    const reused = this.takeFree(size, queueWrite);
    if (reused) {
      this.pooledBytes -= size;
      reused.label = label;
      return this.track(reused);
    }
    const b = this.device.createBuffer({ size, usage: this.usage, label });
    this.age.set(b, this.created++);
    return this.track(b);
  }

  /** Returns a buffer: reusable now by GPU-written tensors, by uploads after the next submit. */
  release(buffer: GPUBuffer): void {
    this.liveBytes -= buffer.size;
    const list = this.free.get(buffer.size) ?? [];
    const age = this.age.get(buffer)!;
    let at = list.length;
    while (at > 0 && this.age.get(list[at - 1])! < age) at--;
    list.splice(at, 0, buffer);
    this.free.set(buffer.size, list);
    this.pooledBytes += buffer.size;
    this.releasedUnsubmitted.add(buffer);
  }

  /** Called by the runtime right after queue.submit. */
  onSubmitted(): void {
    this.releasedUnsubmitted.clear();
  }

  /** The oldest free buffer of a size class (for a queue write, the oldest released before the last submit). */
  private takeFree(size: number, queueWrite: boolean): GPUBuffer | undefined {
    const list = this.free.get(size);
    if (!list?.length) return undefined;
    if (!queueWrite || this.releasedUnsubmitted.size === 0) return list.pop();
    for (let i = list.length - 1; i >= 0; i--) {
      if (!this.releasedUnsubmitted.has(list[i])) return list.splice(i, 1)[0];
    }
    return undefined;
  }

  /** Destroys every pooled (not live) buffer that no command still waiting for a submit uses. */
  trim(): void {
    for (const [size, list] of this.free) {
      const pending = list.filter((b) => this.releasedUnsubmitted.has(b));
      for (const b of list) if (!this.releasedUnsubmitted.has(b)) b.destroy();
      this.pooledBytes -= (list.length - pending.length) * size;
      if (pending.length) this.free.set(size, pending);
      else this.free.delete(size);
    }
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
