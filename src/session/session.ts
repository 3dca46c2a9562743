// Round-based interactive 3D segmentation (Mem3D's test loop, eval_SAQ.py):
// annotate a slice with the 2D network, propagate its mask slice by slice in both
// directions with the memory network until the next annotated slice or the volume's
// end, score every propagated slice with the quality head, recommend the slice to
// correct next, repeat.
//
// Memory rule of the original (STM_inference): for slice t the memory holds the
// annotated slice, every `memoryEvery`-th propagated slice, and always the slice
// just before t with its predicted mask (`keys + [key]`).
// Quality rule: the QAMN score counts only when more than `qualityMinPixels`
// pixels exceed `qualityConfidence` probability; otherwise the slice scores 1.0.
import type { MemoryEntry, MemoryNetwork } from '../networks/mem3d/memory-network.ts';
import { preprocessFrame } from '../networks/mem3d/preprocess.ts';
import { dice } from '../eval/metrics.ts';
import { seededRandom } from '../util/seeded-random.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';
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
  /** Default 0.95 and 100: the original's rule for trusting the quality score. */
  qualityConfidence?: number;
  qualityMinPixels?: number;
  /** Probability above which a propagated pixel is object. Default 0.5 (argmax of two classes). */
  threshold?: number;
}

export type Strategy = 'quality' | 'uncertainty' | 'oracle' | 'random';

export interface PropagationProgress {
  done: number;
  total: number;
  slice: number;
}

export interface SliceState {
  /** 'annotated' by the 2D network, 'propagated', or 'empty' (not reached yet). */
  source: 'annotated' | 'propagated' | 'empty';
  /** Quality in [0, 1] (1 for annotated slices and where the rule says so); null before propagation. */
  quality: number | null;
  /** Mean confidence max(p, 1 - p) over the slice's object-ish pixels (p > 0.05); null if none. */
  certainty: number | null;
}

export class Interactive3DSession {
  private readonly masks: Uint8Array;
  private readonly states: SliceState[];
  private readonly dirty = new Set<number>();
  private readonly opts: Required<SessionOptions>;
  private readonly paddedH: number;
  private readonly paddedW: number;

  constructor(
    private readonly rt: Runtime,
    readonly stack: SliceStack,
    private readonly networks: { segmenter: SliceSegmenter; memory: MemoryNetwork },
    options: SessionOptions = {},
  ) {
    const { width, height, depth } = stack;
    if (!(width > 0 && height > 0 && depth > 0)) throw new RangeError(`session: empty volume ${width}x${height}x${depth}`);
    this.opts = { memoryEvery: 5, qualityConfidence: 0.95, qualityMinPixels: 100, threshold: 0.5, ...options };
    if (!(Number.isInteger(this.opts.memoryEvery) && this.opts.memoryEvery >= 1)) throw new RangeError(`session: memoryEvery must be a positive integer, got ${this.opts.memoryEvery}`);
    this.masks = new Uint8Array(width * height * depth);
    this.states = Array.from({ length: depth }, () => ({ source: 'empty', quality: null, certainty: null }));
    // The memory network needs multiples of 16: slices are zero-padded at the bottom and right.
    this.paddedH = Math.max(32, Math.ceil(height / 16) * 16);
    this.paddedW = Math.max(32, Math.ceil(width / 16) * 16);
  }

  get annotatedSlices(): number[] {
    return this.states.flatMap((s, z) => (s.source === 'annotated' ? [z] : []));
  }

  state(z: number): SliceState {
    this.checkSlice('state', z);
    return { ...this.states[z] };
  }

  /** Runs the 2D network on slice z; the slice keeps that mask and propagation restarts from it. */
  async annotate(z: number, interaction: Interaction): Promise<Uint8Array> {
    this.checkSlice('annotate', z);
    const image: SliceImage = { width: this.stack.width, height: this.stack.height, data: this.stack.slice(z) };
    const mask = await this.networks.segmenter.segment(image, interaction);
    this.masks.set(mask, z * mask.length);
    this.states[z] = { source: 'annotated', quality: 1, certainty: 1 };
    this.dirty.add(z);
    return mask;
  }

  /**
   * Propagates from every slice annotated since the last propagation, in both
   * directions, up to the neighbouring annotated slices. Cancel with `signal`: the
   * slices done so far keep their new masks.
   */
  async propagate(options: { onProgress?: (p: PropagationProgress) => void; signal?: AbortSignal } = {}): Promise<void> {
    const runs = [...this.dirty].sort((a, b) => a - b).flatMap((z) => [this.run(z, -1), this.run(z, +1)]).filter((r) => r.slices.length > 0);
    const total = runs.reduce((n, r) => n + r.slices.length, 0);
    let done = 0;
    for (const run of runs) {
      await this.propagateRun(run.from, run.slices, (slice) => options.onProgress?.({ done: ++done, total, slice }), options.signal);
    }
    this.dirty.clear();
  }

  /** The slice to correct next (see rankSlices); null when every slice is annotated. */
  recommendSlice(strategy: Strategy, options: { groundTruth?: Uint8Array; seed?: number } = {}): number | null {
    return this.rankSlices(strategy, options)[0] ?? null;
  }

  /**
   * Every slice not annotated yet, most in need of correction first: lowest quality,
   * lowest certainty, lowest Dice against `groundTruth` ('oracle'), or a seeded
   * shuffle ('random'). Ties keep slice order.
   */
  rankSlices(strategy: Strategy, options: { groundTruth?: Uint8Array; seed?: number } = {}): number[] {
    const candidates = this.states.flatMap((s, z) => (s.source !== 'annotated' ? [z] : []));
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

  /**
   * The original scores slices with fewer than 100 ground-truth pixels as perfect
   * when choosing the worst (select_poorest_mask): tiny objects are not worth a round.
   */
  private sliceDice(z: number, gt: Uint8Array): number {
    const n = this.stack.width * this.stack.height;
    const g = gt.subarray(z * n, (z + 1) * n);
    let count = 0;
    for (const v of g) count += v ? 1 : 0;
    if (count < this.opts.qualityMinPixels) return 1;
    return dice(this.masks.subarray(z * n, (z + 1) * n), g);
  }

  /**
   * Slices from annotated slice `from` in direction `dir` up to the next annotated
   * slice or the end. When that neighbour is being re-propagated too, the gap is
   * split at its middle so each slice takes its mask from the nearer annotation.
   */
  private run(from: number, dir: number): { from: number; slices: number[] } {
    let end = from + dir;
    while (end >= 0 && end < this.stack.depth && this.states[end].source !== 'annotated') end += dir;
    if (this.dirty.has(end)) end = dir > 0 ? Math.floor((from + end) / 2) + 1 : Math.floor((from + end) / 2);
    const slices: number[] = [];
    for (let z = from + dir; z !== end; z += dir) slices.push(z);
    return { from, slices };
  }

  private async propagateRun(from: number, slices: number[], tick: (z: number) => void, signal?: AbortSignal): Promise<void> {
    const { memory: net } = this.networks;
    const kept: MemoryEntry[] = [];
    let prevFrame = this.frame(from);
    let prevMask = this.maskTensor(from);
    try {
      for (const [k, z] of slices.entries()) {
        if (signal?.aborted) throw signal.reason ?? new DOMException('propagation cancelled', 'AbortError');
        const entry = net.memorize(prevFrame, prevMask);
        prevFrame.dispose();
        prevMask.dispose();
        const frame = this.frame(z);
        const result = net.segment(frame, [...kept, entry]);
        // The original keeps frame t-1 when (t-1) % save_freq == 0: the annotated slice first.
        if (k % this.opts.memoryEvery === 0) kept.push(entry);
        else entry.dispose();
        const fg = (await result.foreground.read()) as Float32Array;
        const quality = result.quality ? (await result.quality.read())[0] : null;
        this.store(z, fg, quality);
        prevFrame = frame;
        prevMask = result.foreground;
        for (const t of [result.probability, result.logits, result.quality]) t?.dispose();
        tick(z);
      }
    } finally {
      prevFrame.dispose();
      prevMask.dispose();
      for (const e of kept) e.dispose();
    }
  }

  /** Stores the cropped mask, the quality (by the original's rule) and the certainty of slice z. */
  private store(z: number, foreground: Float32Array, quality: number | null): void {
    const { width, height } = this.stack;
    const base = z * width * height;
    let confident = 0;
    let sure = 0;
    let objectish = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const p = foreground[y * this.paddedW + x];
        this.masks[base + y * width + x] = p > this.opts.threshold ? 1 : 0;
        if (p > this.opts.qualityConfidence) confident++;
        if (p > 0.05) {
          objectish++;
          sure += Math.max(p, 1 - p);
        }
      }
    }
    this.states[z] = {
      source: 'propagated',
      quality: quality === null || confident <= this.opts.qualityMinPixels ? 1 : quality,
      certainty: objectish ? sure / objectish : null,
    };
  }

  private frame(z: number): Tensor {
    const { width, height } = this.stack;
    const padded = new Uint8Array(this.paddedW * this.paddedH);
    const src = this.stack.slice(z);
    for (let y = 0; y < height; y++) padded.set(src.subarray(y * width, (y + 1) * width), y * this.paddedW);
    return this.rt.upload([1, this.paddedH, this.paddedW, 3], preprocessFrame(padded, this.paddedH, this.paddedW), 'f32', `slice ${z}`);
  }

  private maskTensor(z: number): Tensor {
    const { width, height } = this.stack;
    const m = new Float32Array(this.paddedW * this.paddedH);
    const base = z * width * height;
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) m[y * this.paddedW + x] = this.masks[base + y * width + x];
    return this.rt.upload([1, this.paddedH, this.paddedW, 1], m, 'f32', `mask ${z}`);
  }

  private checkSlice(op: string, z: number): void {
    if (!Number.isInteger(z) || z < 0 || z >= this.stack.depth) throw new RangeError(`${op}: slice ${z} is outside the volume (0..${this.stack.depth - 1})`);
  }
}
