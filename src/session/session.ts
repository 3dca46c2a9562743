// Round-based interactive 3D segmentation (Mem3D's test loop, eval_SAQ.py):
// annotate a slice with the 2D network (or set a hand-drawn mask), propagate its mask
// slice by slice in both directions with the memory network until the next annotated
// slice or the window's end, score every propagated slice with the quality head,
// recommend the slice to correct next, repeat.
//
// Memory rule of the original (STM_inference): for slice t the memory holds the
// annotated slice, every `memoryEvery`-th propagated slice, and always the slice
// just before t with its predicted mask (`keys + [key]`).
// Quality rule: the QAMN score counts only when more than `qualityMinPixels`
// pixels exceed `qualityConfidence` probability; otherwise the slice scores 1.0. The
// original's 100 pixels are at 512x512; the default scales with the frame area
// (100 * H * W / 512^2: 6.25 at 128x128), so a small frame's object can be trusted.
//
// State (masks, per-slice states, slices annotated since the last propagation) is
// plain data: snapshot() / restore() give undo and make a cancelled step leave the
// session exactly as it was.
//
// Device loss: a propagation that fails for any reason but a cancel (DeviceLostError
// above all) keeps the masks of the slices it finished and leaves its annotated slices
// pending. rebind() moves the session onto networks on a new device; the next
// propagate() skips the runs (one annotated slice, one direction) that had finished and
// re-runs the interrupted one from its annotated slice, so every slice it recomputes
// gets the mask an uninterrupted propagation gives (the memory of the interrupted run
// was on the lost device and is rebuilt, not resumed mid-run).
import type { MemoryNetwork } from '../networks/mem3d/memory-network.ts';
import { dice } from '../eval/metrics.ts';
import { seededRandom } from '../util/seeded-random.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { ENGINE_SLICE_LAYOUT, transposeImage, type SliceLayout } from '../volume/layout.ts';
import { asSliceMemory, type MemorySlot, type SliceMemoryNetwork } from './memory.ts';
import type { Interaction, SliceImage, SliceSegmenter } from './slice-segmenter.ts';

/** A stack of 8-bit slices, all width x height. */
export interface SliceStack {
  width: number;
  height: number;
  depth: number;
  slice(z: number): Uint8Array;
}

export interface SessionOptions {
  /** Every n-th propagated slice joins the memory (the original's save_freq). Default 5. */
  memoryEvery?: number;
  /** Default 0.95 and 100 * H * W / 512^2: the original's rule for trusting the quality score, scaled to the frame. */
  qualityConfidence?: number;
  qualityMinPixels?: number;
  /** Probability above which a propagated pixel is object. Default 0.5 (argmax of two classes). */
  threshold?: number;
  /** The memory network's slice layout; default its own `sliceLayout`, else the engine's. */
  memoryLayout?: SliceLayout;
}

export interface SessionNetworks {
  segmenter: SliceSegmenter;
  memory: SliceMemoryNetwork | MemoryNetwork;
}

export type Strategy = 'quality' | 'uncertainty' | 'oracle' | 'random';

export interface PropagationProgress {
  done: number;
  total: number;
  slice: number;
}

export interface SliceState {
  /** 'annotated' (2D network or a mask set by hand), 'propagated', or 'empty' (not reached yet). */
  source: 'annotated' | 'propagated' | 'empty';
  /** Quality in [0, 1] (1 for annotated slices and where the rule says so); null before propagation. */
  quality: number | null;
  /** Mean confidence max(p, 1 - p) over the slice's object-ish pixels (p > 0.05); null if none. */
  certainty: number | null;
  /** The quality head's own score of a propagated slice, before the rule; null otherwise. */
  qualityScore?: number | null;
}

/** Everything the session's results depend on, as copies: restore() brings it back bit for bit. */
export interface SessionSnapshot {
  readonly masks: Uint8Array;
  readonly states: readonly SliceState[];
  readonly dirty: readonly number[];
  readonly window: readonly [number, number];
}

const QUALITY_PIXELS_AT_512 = 100;

export class Interactive3DSession {
  private masks: Uint8Array;
  private states: SliceState[];
  private dirty = new Set<number>();
  private window: [number, number];
  private readonly opts: Required<Omit<SessionOptions, 'memoryLayout'>>;
  private memory!: SliceMemoryNetwork;
  private transposeMemory = false;
  /** Runs that finished in a propagation that then failed: the next propagate() skips them (keys of run()). */
  private finishedRuns = new Set<string>();
  private propagating = false;

  constructor(
    rt: Runtime | null,
    readonly stack: SliceStack,
    private networks: SessionNetworks,
    options: SessionOptions = {},
  ) {
    const { width, height, depth } = stack;
    if (!(width > 0 && height > 0 && depth > 0)) throw new RangeError(`session: empty volume ${width}x${height}x${depth}`);
    const { memoryLayout, ...rest } = options;
    this.opts = { memoryEvery: 5, qualityConfidence: 0.95, qualityMinPixels: (QUALITY_PIXELS_AT_512 * width * height) / 512 ** 2, threshold: 0.5, ...rest };
    if (!(Number.isInteger(this.opts.memoryEvery) && this.opts.memoryEvery >= 1)) throw new RangeError(`session: memoryEvery must be a positive integer, got ${this.opts.memoryEvery}`);
    this.bindMemory(rt, networks, memoryLayout);
    this.masks = new Uint8Array(width * height * depth);
    this.states = Array.from({ length: depth }, () => ({ source: 'empty', quality: null, certainty: null }));
    this.window = [0, depth - 1];
  }

  /**
   * Moves the session onto other networks (after a DeviceLostError: networks loaded on a
   * new Runtime). Masks, states, annotations and pending slices stay; the next
   * propagate() resumes (see the top of this file). The old networks are the caller's.
   */
  rebind(rt: Runtime | null, networks: SessionNetworks, options: { memoryLayout?: SliceLayout } = {}): void {
    if (this.propagating) throw new Error('rebind: a propagation is running; cancel it or let it fail first');
    this.bindMemory(rt, networks, options.memoryLayout);
    this.networks = networks;
  }

  /** How many slices the next propagate() computes (after a failure: only what is left). */
  get pendingSlices(): number {
    return this.pendingRuns().reduce((n, r) => n + r.slices.length, 0);
  }

  private bindMemory(rt: Runtime | null, networks: SessionNetworks, memoryLayout: SliceLayout | undefined): void {
    const memory = asSliceMemory(rt, networks.memory);
    this.transposeMemory = (memoryLayout ?? memory.sliceLayout ?? ENGINE_SLICE_LAYOUT) !== ENGINE_SLICE_LAYOUT;
    this.memory = memory;
  }

  /** The smallest object (pixels above the confidence) whose quality score is trusted. */
  get qualityMinPixels(): number {
    return this.opts.qualityMinPixels;
  }

  get annotatedSlices(): number[] {
    return this.states.flatMap((s, z) => (s.source === 'annotated' ? [z] : []));
  }

  /** The slices taking part: first..last, inclusive. */
  get sliceWindow(): [number, number] {
    return [...this.window];
  }

  /**
   * Only slices first..last take part from now on: propagation stops at the window's
   * ends and ranking skips the slices outside it. Results outside are kept.
   */
  setSliceWindow(first: number, last: number): void {
    if (!(Number.isInteger(first) && Number.isInteger(last) && first >= 0 && first <= last && last < this.stack.depth)) throw new RangeError(`setSliceWindow: slices ${first}..${last} are not within 0..${this.stack.depth - 1}`);
    this.window = [first, last];
  }

  state(z: number): SliceState {
    this.checkSlice('state', z);
    return { ...this.states[z] };
  }

  snapshot(): SessionSnapshot {
    return { masks: this.masks.slice(), states: this.states.map((s) => ({ ...s })), dirty: [...this.dirty], window: [...this.window] };
  }

  restore(s: SessionSnapshot): void {
    if (s.masks.length !== this.masks.length || s.states.length !== this.states.length) throw new RangeError('restore: the snapshot is of another volume');
    this.masks = s.masks.slice();
    this.states = s.states.map((x) => ({ ...x }));
    this.dirty = new Set(s.dirty);
    this.window = [s.window[0], s.window[1]];
    this.finishedRuns.clear();
  }

  /** Runs the 2D network on slice z; the slice keeps that mask and propagation restarts from it. */
  async annotate(z: number, interaction: Interaction, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    this.checkWindowSlice('annotate', z);
    throwIfAborted(options.signal);
    const image: SliceImage = { width: this.stack.width, height: this.stack.height, data: this.stack.slice(z) };
    const mask = await this.networks.segmenter.segment(image, interaction);
    // The 2D step cannot be interrupted on the GPU; a cancel during it drops its result.
    throwIfAborted(options.signal);
    this.setAnnotation(z, mask);
    return mask;
  }

  /** A mask drawn elsewhere (0 / non-zero, width * height, row-major) becomes slice z's annotation, memorized like a 2D result. */
  setSliceMask(z: number, mask: ArrayLike<number>): void {
    this.checkWindowSlice('setSliceMask', z);
    const n = this.stack.width * this.stack.height;
    if (mask.length !== n) throw new RangeError(`setSliceMask: mask has ${mask.length} pixels, the slice ${this.stack.width}x${this.stack.height} = ${n}`);
    this.setAnnotation(z, Uint8Array.from(mask, (v) => (v ? 1 : 0)));
  }

  /**
   * Propagates from every slice annotated since the last propagation, in both
   * directions, up to the neighbouring annotated slices or the window's ends. Cancel
   * with `signal`: the session is restored to how it was before the call. Any other
   * failure (a lost device) keeps the slices finished so far; a later call resumes.
   */
  async propagate(options: { onProgress?: (p: PropagationProgress) => void; signal?: AbortSignal } = {}): Promise<void> {
    throwIfAborted(options.signal);
    if (this.propagating) throw new Error('propagate: a propagation is already running');
    const before = this.snapshot();
    const finishedBefore = new Set(this.finishedRuns);
    const runs = this.pendingRuns();
    const total = runs.reduce((n, r) => n + r.slices.length, 0);
    let done = 0;
    this.propagating = true;
    try {
      for (const run of runs) {
        await this.propagateRun(run.from, run.slices, (slice) => options.onProgress?.({ done: ++done, total, slice }), options.signal);
        this.finishedRuns.add(run.key);
      }
    } catch (e) {
      if (options.signal?.aborted) {
        this.restore(before);
        this.finishedRuns = finishedBefore;
      }
      throw e;
    } finally {
      this.propagating = false;
    }
    for (const z of [...this.dirty]) if (z >= this.window[0] && z <= this.window[1]) this.dirty.delete(z);
    this.finishedRuns.clear();
  }

  /** The slice to correct next (see rankSlices); null when every slice in the window is annotated. */
  recommendSlice(strategy: Strategy, options: { groundTruth?: Uint8Array; seed?: number } = {}): number | null {
    return this.rankSlices(strategy, options)[0] ?? null;
  }

  /**
   * Every slice of the window not annotated yet, most in need of correction first:
   * lowest quality, lowest certainty, lowest Dice against `groundTruth` ('oracle'), or
   * a seeded shuffle ('random'). Ties keep slice order.
   */
  rankSlices(strategy: Strategy, options: { groundTruth?: Uint8Array; seed?: number } = {}): number[] {
    const candidates: number[] = [];
    for (let z = this.window[0]; z <= this.window[1]; z++) if (this.states[z].source !== 'annotated') candidates.push(z);
    const by = (score: (z: number) => number) => {
      const scores = new Map(candidates.map((z) => [z, score(z)]));
      return candidates.sort((a, b) => scores.get(a)! - scores.get(b)! || a - b);
    };
    switch (strategy) {
      case 'quality':
        return by((z) => this.states[z].quality ?? 1);
      case 'uncertainty':
        return by((z) => this.states[z].certainty ?? 1);
      case 'oracle': {
        const gt = options.groundTruth;
        if (!gt || gt.length !== this.masks.length) throw new RangeError(`recommendSlice('oracle') needs the ground truth (${this.masks.length} voxels)`);
        return by((z) => this.sliceDice(z, gt));
      }
      case 'random': {
        const rand = seededRandom(options.seed ?? 0);
        return by(() => rand());
      }
      default:
        throw new RangeError(`unknown strategy '${strategy as string}' (quality, uncertainty, oracle or random)`);
    }
  }

  /** The whole volume's mask (0 / 1, slice-major), readable at any time. */
  volumeMask(): Uint8Array {
    return this.masks.slice();
  }

  sliceMask(z: number): Uint8Array {
    this.checkSlice('sliceMask', z);
    const n = this.stack.width * this.stack.height;
    return this.masks.slice(z * n, (z + 1) * n);
  }

  private setAnnotation(z: number, mask: Uint8Array): void {
    // A new annotation changes runs' sources or ends: nothing finished earlier is skipped.
    this.finishedRuns.clear();
    this.masks.set(mask, z * mask.length);
    this.states[z] = { source: 'annotated', quality: 1, certainty: 1 };
    this.dirty.add(z);
  }

  /**
   * The original scores slices with fewer than 100 ground-truth pixels (at 512x512) as
   * perfect when choosing the worst (select_poorest_mask): tiny objects are not worth a round.
   */
  private sliceDice(z: number, gt: Uint8Array): number {
    const n = this.stack.width * this.stack.height;
    const g = gt.subarray(z * n, (z + 1) * n);
    let count = 0;
    for (const v of g) count += v ? 1 : 0;
    if (count < this.opts.qualityMinPixels) return 1;
    return dice(this.masks.subarray(z * n, (z + 1) * n), g);
  }

  /** The runs the next propagate() makes: from each pending annotated slice, both ways, less those finished before a failure. */
  private pendingRuns(): { from: number; slices: number[]; key: string }[] {
    return [...this.dirty]
      .filter((z) => z >= this.window[0] && z <= this.window[1])
      .sort((a, b) => a - b)
      .flatMap((z) => [this.run(z, -1), this.run(z, +1)])
      .filter((r) => r.slices.length > 0 && !this.finishedRuns.has(r.key));
  }

  /**
   * Slices from annotated slice `from` in direction `dir` up to the next annotated
   * slice or the window's end. When that neighbour is being re-propagated too, the gap
   * is split at its middle so each slice takes its mask from the nearer annotation.
   */
  private run(from: number, dir: number): { from: number; slices: number[]; key: string } {
    const [first, last] = this.window;
    let end = from + dir;
    while (end >= first && end <= last && this.states[end].source !== 'annotated') end += dir;
    if (this.dirty.has(end) && end >= first && end <= last) end = dir > 0 ? Math.floor((from + end) / 2) + 1 : Math.floor((from + end) / 2);
    const slices: number[] = [];
    for (let z = from + dir; z !== end; z += dir) slices.push(z);
    // The same source and slices give the same masks: the key of a run finished earlier.
    return { from, slices, key: `${from}:${slices.join(',')}` };
  }

  private async propagateRun(from: number, slices: number[], tick: (z: number) => void, signal?: AbortSignal): Promise<void> {
    const kept: MemorySlot[] = [];
    let prev: { z: number; mask: Float32Array } = { z: from, mask: Float32Array.from(this.sliceMask(from)) };
    try {
      for (const [k, z] of slices.entries()) {
        throwIfAborted(signal);
        const entry = this.memory.memorize(this.networkFrame(prev.z), this.toNetwork(prev.mask));
        const memory = [...kept, entry];
        // The original keeps frame t-1 when (t-1) % save_freq == 0: the annotated slice first.
        if (k % this.opts.memoryEvery === 0) kept.push(entry);
        let result;
        try {
          result = await this.memory.segment(this.networkFrame(z), memory);
        } finally {
          if (!kept.includes(entry)) entry.dispose();
        }
        const foreground = this.fromNetwork(result.foreground);
        this.store(z, foreground, result.quality);
        prev = { z, mask: foreground };
        tick(z);
      }
    } finally {
      for (const e of kept) e.dispose();
    }
  }

  /** Stores the mask, the quality (by the original's rule) and the certainty of slice z. */
  private store(z: number, foreground: Float32Array, quality: number | null): void {
    const base = z * foreground.length;
    let confident = 0;
    let sure = 0;
    let objectish = 0;
    for (let i = 0; i < foreground.length; i++) {
      const p = foreground[i];
      this.masks[base + i] = p > this.opts.threshold ? 1 : 0;
      if (p > this.opts.qualityConfidence) confident++;
      if (p > 0.05) {
        objectish++;
        sure += Math.max(p, 1 - p);
      }
    }
    this.states[z] = {
      source: 'propagated',
      quality: quality === null || confident <= this.opts.qualityMinPixels ? 1 : quality,
      certainty: objectish ? sure / objectish : null,
      qualityScore: quality,
    };
  }

  /** Slice z as the memory network takes it (its layout). */
  private networkFrame(z: number): SliceImage {
    const { width, height } = this.stack;
    const data = this.stack.slice(z);
    return this.transposeMemory ? { width: height, height: width, data: transposeImage(data, width, height) } : { width, height, data };
  }

  private toNetwork(mask: Float32Array): Float32Array {
    return this.transposeMemory ? transposeImage(mask, this.stack.width, this.stack.height) : mask;
  }

  /** A network-layout probability map back in the engine's layout. */
  private fromNetwork(mask: Float32Array): Float32Array {
    const { width, height } = this.stack;
    if (mask.length !== width * height) throw new RangeError(`memory network returned ${mask.length} values for a ${width}x${height} slice`);
    return this.transposeMemory ? transposeImage(mask, height, width) : mask;
  }

  private checkSlice(op: string, z: number): void {
    if (!Number.isInteger(z) || z < 0 || z >= this.stack.depth) throw new RangeError(`${op}: slice ${z} is outside the volume (0..${this.stack.depth - 1})`);
  }

  private checkWindowSlice(op: string, z: number): void {
    this.checkSlice(op, z);
    if (z < this.window[0] || z > this.window[1]) throw new RangeError(`${op}: slice ${z} is outside the session's slices ${this.window[0]}..${this.window[1]}`);
  }
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason ?? new DOMException('cancelled', 'AbortError');
}
