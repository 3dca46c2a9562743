// Undo/redo from snapshots, not replay. A snapshot holds references to per-slice arrays
// that are never written once made (structures.ts), so consecutive snapshots share every
// slice that did not change: a step costs O(depth x structures) references plus the arrays
// of the slices it changed. The history is bounded by a number of steps and by bytes
// (the arrays only the history holds, plus 8 bytes per reference); the oldest steps are
// dropped first. A step larger than the whole byte bound is dropped at once (it cannot
// be undone) rather than the bound being broken.

export interface HistoryLimits {
  /** Most undo steps kept. Default 50. */
  steps?: number;
  /** Most bytes the history may hold beyond the current state. Default 256 MiB. */
  bytes?: number;
}

export const DEFAULT_HISTORY_LIMITS: Required<HistoryLimits> = { steps: 50, bytes: 256 * 2 ** 20 };

/** How a snapshot is measured: its arrays (shared ones counted once) and its references. */
export interface SnapshotContents {
  arrays: Iterable<ArrayBufferView>;
  references: number;
}

export class History<S> {
  private undos: S[] = [];
  private redos: S[] = [];
  private readonly limits: Required<HistoryLimits>;

  constructor(
    private readonly contents: (s: S) => SnapshotContents,
    limits: HistoryLimits = {},
  ) {
    this.limits = { ...DEFAULT_HISTORY_LIMITS, ...limits };
    const { steps, bytes } = this.limits;
    if (!(Number.isInteger(steps) && steps >= 0)) throw new RangeError(`history: steps must be a non-negative integer, got ${steps}`);
    if (!(bytes >= 0)) throw new RangeError(`history: bytes must be non-negative, got ${bytes}`);
  }

  get canUndo(): boolean {
    return this.undos.length > 0;
  }

  get canRedo(): boolean {
    return this.redos.length > 0;
  }

  get steps(): { undo: number; redo: number } {
    return { undo: this.undos.length, redo: this.redos.length };
  }

  /** A new step: `before` is the state it changed; redo is gone; the bounds are applied. */
  record(before: S, current: S): void {
    this.redos = [];
    this.undos.push(before);
    this.trim(current);
  }

  /** The state to go back to (current goes onto redo), or null. */
  undo(current: S): S | null {
    const s = this.undos.pop();
    if (s === undefined) return null;
    this.redos.push(current);
    return s;
  }

  redo(current: S): S | null {
    const s = this.redos.pop();
    if (s === undefined) return null;
    this.undos.push(current);
    return s;
  }

  clear(): void {
    this.undos = [];
    this.redos = [];
  }

  /** Bytes the history holds beyond `current`: arrays no current slice references, plus 8 per reference. */
  bytes(current: S): number {
    const live = new Set(this.contents(current).arrays);
    const held = new Set<ArrayBufferView>();
    let references = 0;
    for (const s of [...this.undos, ...this.redos]) {
      const c = this.contents(s);
      references += c.references;
      for (const a of c.arrays) if (!live.has(a)) held.add(a);
    }
    let bytes = 8 * references;
    for (const a of held) bytes += a.byteLength;
    return bytes;
  }

  private trim(current: S): void {
    while (this.undos.length > this.limits.steps) this.undos.shift();
    while (this.undos.length > 0 && this.bytes(current) > this.limits.bytes) this.undos.shift();
  }
}
