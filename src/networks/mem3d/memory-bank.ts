// The memory read wants every memorized key in one [M, Dk] tensor and every value in one
// [M, Dv]. A propagation's memory changes little from one step to the next: it is
// [kept entries..., the previous slice], the previous slice memorized anew each step and
// kept every few steps (session.ts). Concatenating it afresh for each read copied every
// entry on every step (two dispatches per entry, and the whole memory's bytes: 50 MB per
// read at 512x512 with 20 entries). A bank keeps the concatenation from one read to the
// next and copies only the entries past the part it already holds: one per step.
//
// A read continues the bank whose entries match its own in all but at most the bank's
// last (the previous slice replaced, or kept and a new one added); anything else (another
// lane, another object, a new propagation) starts a bank of its own, so streams that
// alternate do not overwrite each other. Past MAX_BANKS streams a read concatenates its
// memory for itself, as before banks, unless the least recently read bank has gone
// STALE_READS reads unread (its stream ended or paused): then that bank gives way. Rows the
// GPU still has to read for an earlier step are overwritten by commands queued after that
// read, so they run after it. A bank is released when its first entry is disposed (a
// propagation's memory ends with it: the annotated slice is kept to the end), when it gives
// way, or with the network.
import { concatRows, copyValuesInto } from '../../ops/memory-read.ts';
import type { Runtime } from '../../runtime/runtime.ts';
import { viewOf, type Tensor } from '../../runtime/tensor.ts';
import type { MemoryEntry } from './memory-network.ts';

/** Banks kept at once: two lanes of two objects each (at 512x512 a bank of 20 entries holds 50 MB). */
export const MAX_BANKS = 4;
/** Reads after which an unread bank may give way to a new stream's (twice the banks: streams read in turn keep theirs). */
export const STALE_READS = 2 * MAX_BANKS;
/**
 * Entries of room a bank gets past what a read needs when it (re)allocates: a propagation
 * keeps one entry every 5 steps, so a bank regrows (one copy of what it holds) every ~20.
 */
export const BANK_SLACK_ENTRIES = 4;

class Bank {
  entries: MemoryEntry[] = [];
  lastUse = 0;
  private unsubscribe: (() => void) | null = null;

  constructor(
    readonly keys: Tensor,
    readonly values: Tensor,
    /** Rows the buffers hold. */
    readonly capacity: number,
  ) {}

  /** Calls `release` when `first` (the entry every continuation starts with) is disposed. */
  watch(first: MemoryEntry, release: () => void): void {
    this.unsubscribe = first.onDispose(release);
  }

  dispose(): void {
    this.unsubscribe?.();
    this.keys.dispose();
    this.values.dispose();
  }
}

/** How many leading entries `a` and `b` share (by identity). */
function sharedPrefix(a: readonly MemoryEntry[], b: readonly MemoryEntry[]): number {
  let p = 0;
  while (p < a.length && p < b.length && a[p] === b[p]) p++;
  return p;
}

export class MemoryBanks {
  private banks: Bank[] = [];
  private clock = 0;

  constructor(private readonly rt: Runtime) {}

  /** Banks held now. */
  get count(): number {
    return this.banks.length;
  }

  /** GPU bytes the banks hold. */
  get bytes(): number {
    return this.banks.reduce((n, b) => n + b.keys.byteLength + b.values.byteLength, 0);
  }

  /**
   * Every entry's key rows and value rows, in order: keys [M, Dk] and values [M, Dv], views of a
   * bank's first M rows (they hold these rows for every GPU command queued before the bank's
   * next write), or past MAX_BANKS streams a concatenation in the caller's open scope. Call it
   * inside a scope and never dispose what it returns. The entries must be live, of one frame
   * size (the caller checks).
   */
  rows(entries: readonly MemoryEntry[], label: string): { keys: Tensor; values: Tensor } {
    if (entries.length === 0) throw new RangeError(`${label}: no memory entries`);
    const rt = this.rt;
    const dk = entries[0].key.shape[entries[0].key.shape.length - 1];
    const dv = entries[0].value.shape[entries[0].value.shape.length - 1];
    const needed = entries.reduce((n, e) => n + e.rows, 0);
    const dispatched = rt.dispatchCount;
    this.clock++;
    let bank = this.continued(entries);
    if (!bank && !this.room()) {
      return { keys: concatRows(rt, entries.map((e) => e.key), { label: `${label} keys` }), values: concatRows(rt, entries.map((e) => e.value), { label: `${label} values` }) };
    }
    const kept = bank ? sharedPrefix(bank.entries, entries) : 0;
    // Rows of the entries the bank keeps: where the first new one goes.
    let at = entries.slice(0, kept).reduce((n, e) => n + e.rows, 0);
    if (!bank || needed > bank.capacity) {
      const old = bank;
      const grown = this.allocate(needed, BANK_SLACK_ENTRIES * entries[entries.length - 1].rows, dk, dv, label);
      if (old) {
        copyValuesInto(rt, old.keys, at * dk, grown.keys, 0, `${label} keys`);
        copyValuesInto(rt, old.values, at * dv, grown.values, 0, `${label} values`);
        grown.entries = old.entries.slice(0, kept);
        this.release(old);
      }
      grown.watch(entries[0], () => this.release(grown));
      this.banks.push(grown);
      bank = grown;
    }
    bank.entries.length = kept;
    for (const e of entries.slice(kept)) {
      copyValuesInto(rt, e.key, e.key.size, bank.keys, at * dk, `${label} keys`);
      copyValuesInto(rt, e.value, e.value.size, bank.values, at * dv, `${label} values`);
      bank.entries.push(e);
      at += e.rows;
    }
    bank.lastUse = this.clock;
    const rows = { keys: viewOf(bank.keys, [needed, dk]), values: viewOf(bank.values, [needed, dv]) };
    // Inside Runtime.warmupFrom dispatches are only recorded: the copies did not run, so the bank
    // does not hold what it lists (a real read continuing it would skip them). It goes.
    if (kept < entries.length && rt.dispatchCount === dispatched) this.release(bank);
    return rows;
  }

  /** Releases every bank (the network's dispose). */
  dispose(): void {
    for (const bank of [...this.banks]) this.release(bank);
  }

  /**
   * The bank `entries` continue: it holds them all but at most its own last entry. Of several
   * (streams that share their first entries), the one sharing the most.
   */
  private continued(entries: readonly MemoryEntry[]): Bank | null {
    let best: Bank | null = null;
    let bestShared = 0;
    for (const bank of this.banks) {
      const p = sharedPrefix(bank.entries, entries);
      if (p >= 1 && p >= bank.entries.length - 1 && p > bestShared) [best, bestShared] = [bank, p];
    }
    return best;
  }

  /** Whether a new bank may be made: under MAX_BANKS, or once the least recently read bank has gone stale (it is released). */
  private room(): boolean {
    if (this.banks.length < MAX_BANKS) return true;
    const lru = this.banks.reduce((a, b) => (a.lastUse <= b.lastUse ? a : b));
    if (this.clock - lru.lastUse <= STALE_READS) return false;
    this.release(lru);
    return true;
  }

  /** A bank of `needed` rows and up to `slack` more, within one storage binding. */
  private allocate(needed: number, slack: number, dk: number, dv: number, label: string): Bank {
    const rt = this.rt;
    const fits = Math.floor(rt.device.limits.maxStorageBufferBindingSize / (4 * Math.max(dk, dv)));
    const capacity = Math.max(needed, Math.min(needed + slack, fits));
    const [keys, values] = rt.keep([rt.empty([capacity, dk], 'f32', `${label} keys`), rt.empty([capacity, dv], 'f32', `${label} values`)]);
    return new Bank(keys, values, capacity);
  }

  private release(bank: Bank): void {
    const i = this.banks.indexOf(bank);
    if (i < 0) return;
    this.banks.splice(i, 1);
    bank.dispose();
  }
}
