// Round-based interactive 3D segmentation (Mem3D's test loop, eval_SAQ.py), for one or
// several structures: annotate a slice with the 2D network (or set a hand-drawn mask),
// propagate its mask slice by slice in both directions with the memory network until
// the structure's next annotated or locked slice or the window's end, score every
// propagated slice with the quality head, recommend the slice to correct next, repeat.
//
// Memory rule of the original (STM_inference): for slice t the memory holds the
// annotated slice, every `memoryEvery`-th propagated slice, and always the slice
// just before t with its predicted mask (`keys + [key]`).
// Quality rule: the QAMN score counts only when more than `qualityMinPixels`
// pixels exceed `qualityConfidence` probability; otherwise the slice scores 1.0. The
// original's 100 pixels are at 512x512; the default scales with the frame area
// (100 * H * W / 512^2: 6.25 at 128x128), so a small frame's object can be trusted.
//
// Structures (ids 1..N; structure 1 'object' exists from the start, and every
// `structure` option defaults to 1, so single-structure callers see the session they
// always had). Each structure has its own annotated / locked / propagated slices and
// its own memory. Propagation plans each structure's runs as above and walks them in
// sweeps (propagation-plan.ts): at a slice, all structures whose run covers it are
// segmented together in one joint step of the original's multi-object scheme, each
// object reading its own memory (memory.segmentObjects; `segment` when one object is
// active), and each object memorizes its aggregated foreground next. The label map
// (structures.ts) sets annotated and locked masks first, then gives every other pixel
// the argmax over (background, p_1, ..., p_K) of the propagated probabilities: labels
// never overlap, and propagation never changes a structure's annotated or locked slice.
// One exception, by the user's own hand: a new annotation of structure s on slice z
// takes its pixels from the other structures' annotated or locked masks on z (the
// latest word wins; an annotation that loses pixels is propagated again).
// With one structure the masks, states, memory calls and their order are exactly the
// single-structure session's.
// Sweeps never depend on each other: up to `lanes` of them walk side by side, their steps
// sent to a network that batches as one batch (SessionOptions.lanes; the numbers are each
// sweep's alone, up to the f32 rounding of a batched layer). The walk: propagation.ts.
//
// Undo/redo (history.ts): every user action (annotate, setSliceMask, acceptSlice,
// add/removeStructure, loadLabels, restore, propagate) is one step, restored from a
// snapshot of the state before it, bit for bit. Per-slice arrays are never written once
// made, so snapshots share the slices that did not change; steps and bytes are bounded.
// A cancelled propagation leaves no step and no trace; one that fails partway (a lost
// device) is a step, and resuming it adds to that step.
//
// Device loss: a propagation that fails for any reason but a cancel (DeviceLostError
// above all) keeps the masks of the slices it finished and leaves its annotated slices
// pending. rebind() moves the session onto networks on a new device; the next
// propagate() skips the sweeps that had finished and re-runs the interrupted one from
// its annotated slices, so every slice it recomputes gets the mask an uninterrupted
// propagation gives (the memory of the interrupted sweep was on the lost device and is
// rebuilt, not resumed mid-sweep).
import type { MemoryNetwork } from '../networks/mem3d/memory-network.ts';
import { dice } from '../eval/metrics.ts';
import { seededRandom } from '../util/seeded-random.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { ENGINE_SLICE_LAYOUT, parseSliceLayout, transposeImage, type SliceLayout } from '../volume/layout.ts';
import { History, type HistoryLimits, type SnapshotContents } from './history.ts';
import { asSliceMemory, type SliceMemoryNetwork } from './memory.ts';
import { SweepWalk, throwIfAborted, type StepResult } from './propagation.ts';
import { planSweeps, type Sweep } from './propagation-plan.ts';
import type { Interaction, SliceImage, SliceSegmenter } from './slice-segmenter.ts';
import {
  checkColor,
  checkName,
  computeSliceLabels,
  defaultColor,
  isFixed,
  labelArray,
  MAX_STRUCTURE_ID,
  type Labels,
  type Rgb,
  type SliceRecord,
  type Structure,
} from './structures.ts';

export type { Structure, Labels, Rgb } from './structures.ts';
export type { HistoryLimits } from './history.ts';

/** A stack of 8-bit slices, all width x height. */
export interface SliceStack {
  width: number;
  height: number;
  depth: number;
  slice(z: number): Uint8Array;
  /** Optional: slice(z) transposed (height x width), for a network in the other layout; the session transposes slice(z) without it. */
  sliceTransposed?(z: number): Uint8Array;
}

export interface SessionOptions {
  /** Every n-th propagated slice joins the memory (the original's save_freq). Default 5. */
  memoryEvery?: number;
  /** Default 0.95 and 100 * H * W / 512^2: the original's rule for trusting the quality score, scaled to the frame. */
  qualityConfidence?: number;
  qualityMinPixels?: number;
  /** Probability above which a propagated pixel is object. Default 0.5 (argmax of two classes); with several structures it weighs the background (structures.ts). */
  threshold?: number;
  /** The memory network's slice layout; default its own `sliceLayout`, else the engine's. */
  memoryLayout?: SliceLayout;
  /** Bounds of the undo history (default 50 steps, 256 MiB beyond the current state). */
  history?: HistoryLimits;
  /**
   * Sweeps propagated side by side, their steps batched, where the memory network batches
   * (memorizeHeldBatch and segmentBatchAhead; 1 elsewhere): default the network's
   * `preferredLanes` (the WebGPU network's: 2), else 1. Each lane holds a frame's activations.
   */
  lanes?: number;
}

export interface SessionNetworks {
  segmenter: SliceSegmenter;
  memory: SliceMemoryNetwork | MemoryNetwork;
}

export type Strategy = 'quality' | 'uncertainty' | 'oracle' | 'random';

export interface PropagationProgress {
  /** Joint steps done and in all (one step segments every structure active on a slice). */
  done: number;
  total: number;
  slice: number;
  /** The structures segmented at this step. */
  structures: number[];
}

export interface SliceState {
  /**
   * 'annotated' (2D network or a mask set by hand), 'locked' (accepted, or read from a
   * label map), 'propagated', or 'empty' (not reached yet).
   */
  source: 'annotated' | 'locked' | 'propagated' | 'empty';
  /** Quality in [0, 1] (1 for annotated and locked slices and where the rule says so); null before propagation. */
  quality: number | null;
  /** Mean confidence max(p, 1 - p) over the slice's object-ish pixels (p > 0.05); null if none. */
  certainty: number | null;
  /** The quality head's own score of a propagated slice, before the rule; null otherwise. */
  qualityScore?: number | null;
}

export interface StructureOption {
  /** The structure's id; default 1. */
  structure?: number;
}

export interface RankOptions {
  /** Rank for this structure only; default: every structure, a slice scoring its lowest over the structures not fixed on it. */
  structure?: number;
  /** 'oracle': the true label map (structure ids; with a single structure any non-zero voxel is it), slice-major. */
  groundTruth?: ArrayLike<number>;
  seed?: number;
}

/** A structure of an imported label map: its id (the voxel value), name and colour. */
export interface LabelDefinition {
  id: number;
  name: string;
  color?: Rgb;
}

interface StructureSlot {
  info: Structure;
  slices: (SliceRecord | undefined)[];
  /** Fixed slices to propagate from at the next propagate(). */
  pending: Set<number>;
}

/** The whole state results depend on; shares its per-slice arrays with the live state and other snapshots. */
interface SessionState {
  readonly structures: readonly { readonly info: Structure; readonly slices: readonly (SliceRecord | undefined)[]; readonly pending: readonly number[] }[];
  readonly labels: readonly Labels[];
  /** Propagation stops at its ends and annotations outside it wait: results depend on it. */
  readonly window: readonly [number, number];
}

/** The session as it was: restore() brings it back bit for bit. */
export interface SessionSnapshot {
  /** Every structure's voxels as 1 (0 / 1, slice-major): with one structure, its mask. */
  readonly masks: Uint8Array;
  readonly window: readonly [number, number];
  /** Opaque: the structures, their slices and pending annotations. */
  readonly state: unknown;
}

const QUALITY_PIXELS_AT_512 = 100;

export class Interactive3DSession {
  private structs: StructureSlot[] = [];
  private labels: Labels[];
  private window: [number, number];
  private readonly opts: Required<Omit<SessionOptions, 'memoryLayout' | 'history' | 'lanes'>>;
  private readonly lanesOption: number | undefined;
  private readonly history: History<SessionState>;
  private memory!: SliceMemoryNetwork;
  /** The states snapshot() handed out: restore() takes these only. */
  private readonly snapshots = new WeakSet<SessionState>();
  /** The memory network's runtime (null for scripted networks): warmup() records on it. */
  private rt: Runtime | null = null;
  private transposeMemory = false;
  /** Sweeps that finished in a propagation that then failed: the next propagate() skips them (Sweep.key). */
  private finishedSweeps = new Set<string>();
  private propagating = false;
  /** A propagation failed partway and recorded its undo step: resuming it adds to that step, not a new one. */
  private resumeInStep = false;

  constructor(
    rt: Runtime | null,
    readonly stack: SliceStack,
    private networks: SessionNetworks,
    options: SessionOptions = {},
  ) {
    const { width, height, depth } = stack;
    if (![width, height, depth].every((n) => Number.isInteger(n) && n > 0)) throw new RangeError(`session: a volume of ${width}x${height}x${depth} slices; sides are positive integers`);
    const { memoryLayout, history, lanes, ...rest } = options;
    if (lanes !== undefined && !(Number.isInteger(lanes) && lanes >= 1)) throw new RangeError(`session: lanes must be a positive integer, got ${lanes}`);
    this.lanesOption = lanes;
    this.opts = { memoryEvery: 5, qualityConfidence: 0.95, qualityMinPixels: (QUALITY_PIXELS_AT_512 * width * height) / 512 ** 2, threshold: 0.5, ...rest };
    const { memoryEvery, threshold, qualityConfidence, qualityMinPixels } = this.opts;
    if (!(Number.isInteger(memoryEvery) && memoryEvery >= 1)) throw new RangeError(`session: memoryEvery must be a positive integer, got ${memoryEvery}`);
    // Probabilities: NaN would compare false everywhere and make every propagated slice empty.
    if (!(threshold >= 0 && threshold < 1)) throw new RangeError(`session: threshold is a probability in [0, 1), got ${threshold}`);
    if (!(qualityConfidence >= 0 && qualityConfidence < 1)) throw new RangeError(`session: qualityConfidence is a probability in [0, 1), got ${qualityConfidence}`);
    if (!(qualityMinPixels >= 0 && Number.isFinite(qualityMinPixels))) throw new RangeError(`session: qualityMinPixels must be a finite count >= 0, got ${qualityMinPixels}`);
    this.history = new History((s) => stateContents(s), history);
    this.bindMemory(rt, networks, memoryLayout);
    this.structs = [this.newSlot({ id: 1, name: 'object', color: defaultColor(1) })];
    this.labels = Array.from({ length: depth }, () => labelArray(1, width * height));
    this.window = [0, depth - 1];
  }

  /**
   * Moves the session onto other networks (after a DeviceLostError: networks loaded on a
   * new Runtime). Structures, masks, states, annotations, pending slices and the undo
   * history stay; the next propagate() resumes (see the top of this file). The old
   * networks are the caller's.
   */
  rebind(rt: Runtime | null, networks: SessionNetworks, options: { memoryLayout?: SliceLayout } = {}): void {
    if (this.propagating) throw new Error('rebind: a propagation is running; cancel it or let it fail first');
    this.bindMemory(rt, networks, options.memoryLayout);
    this.networks = networks;
  }

  /** How many joint steps the next propagate() computes (after a failure: only what is left). */
  get pendingSlices(): number {
    return this.pendingSweeps().reduce((n, s) => n + s.slices.length, 0);
  }

  private bindMemory(rt: Runtime | null, networks: SessionNetworks, memoryLayout: SliceLayout | undefined): void {
    // Any other string would read as "transposed" below.
    if (memoryLayout !== undefined) parseSliceLayout(memoryLayout, 'session: memoryLayout');
    const memory = asSliceMemory(rt, networks.memory);
    this.transposeMemory = (memoryLayout ?? memory.sliceLayout ?? ENGINE_SLICE_LAYOUT) !== ENGINE_SLICE_LAYOUT;
    this.memory = memory;
    this.rt = rt;
  }

  /**
   * Readies, before the first annotation, the pipelines an annotation and a propagation
   * through this volume will use (Runtime.warmupFrom: compiled in parallel, primed on
   * drivers that compile at first dispatch) and waits for the networks' weights to reach
   * the GPU, so round 1 runs at the speed of later rounds (joint steps for the structures
   * there are now: call it after adding them). Optional: without it the first
   * use of each pipeline compiles it. Returns how many pipelines a round uses; 0 when the
   * networks have no GPU work to record (scripted ones).
   */
  async warmup(): Promise<number> {
    const { segmenter } = this.networks;
    const memory = this.memory;
    if (!this.rt || (!segmenter.recordStep && !memory.recordSteps)) return 0;
    const { width, height, depth } = this.stack;
    const [w, h] = this.transposeMemory ? [height, width] : [width, height];
    // The annotated slice, every memoryEvery-th slice of the longest sweep, and the previous slice.
    const memoryFrames = 2 + Math.ceil((depth - 1) / this.opts.memoryEvery);
    return this.rt.warmupFrom(() => {
      segmenter.recordStep?.();
      memory.recordSteps?.(w, h, { lanes: this.lanes(), memoryFrames, objects: this.structs.length });
    });
  }

  /** Sweeps the next propagation walks side by side (SessionOptions.lanes). */
  private lanes(): number {
    const m = this.memory;
    if (!(m.memorizeHeldBatch && m.segmentBatchAhead && m.segmentAhead && m.memorizeHeld)) return 1;
    return this.lanesOption ?? m.preferredLanes ?? 1;
  }

  /** The smallest object (pixels above the confidence) whose quality score is trusted. */
  get qualityMinPixels(): number {
    return this.opts.qualityMinPixels;
  }

  // ---- structures ----

  /** The structures, in id order (copies). */
  get structures(): Structure[] {
    return this.structs.map((s) => ({ ...s.info, color: [...s.info.color] as unknown as Rgb }));
  }

  /** A new, empty structure with the lowest free id; one undoable step. */
  addStructure(name: string, options: { color?: readonly number[] } = {}): Structure {
    this.checkIdle('addStructure');
    checkName('addStructure', name);
    const color = options.color === undefined ? undefined : checkColor('addStructure', options.color);
    let id = 1;
    for (const s of this.structs) if (s.info.id === id) id++;
    if (id > MAX_STRUCTURE_ID) throw new RangeError(`addStructure: a session holds at most ${MAX_STRUCTURE_ID} structures`);
    const info: Structure = { id, name, color: color ?? defaultColor(id) };
    this.step(() => {
      this.structs = [...this.structs, this.newSlot(info)].sort((a, b) => a.info.id - b.info.id);
      this.fitLabelType();
    });
    return { ...info, color: [...info.color] as unknown as Rgb };
  }

  /** Drops structure `id` and everything it holds; the others keep their slices. One undoable step. */
  removeStructure(id: number): void {
    this.checkIdle('removeStructure');
    const slot = this.slot('removeStructure', id);
    const touched = slot.slices.flatMap((r, z) => (r ? [z] : []));
    this.step(() => {
      this.structs = this.structs.filter((s) => s !== slot);
      this.relabel(touched);
      this.fitLabelType();
    });
  }

  /** Slices annotated (not locked) by any structure, ascending. */
  get annotatedSlices(): number[] {
    return this.allSlices().filter((z) => this.structs.some((s) => s.slices[z]?.source === 'annotated'));
  }

  /** The slices taking part: first..last, inclusive. */
  get sliceWindow(): [number, number] {
    return [...this.window];
  }

  /**
   * Only slices first..last take part from now on: propagation stops at the window's
   * ends and ranking skips the slices outside it. Results outside are kept. Not a step of
   * its own: the window is part of the state undo brings back (as it was before the step).
   * Refused while a propagation runs.
   */
  setSliceWindow(first: number, last: number): void {
    // A propagation clears the pending annotations inside the window when it ends: moved meanwhile, it would clear others.
    this.checkIdle('setSliceWindow');
    this.checkWindow('setSliceWindow', [first, last]);
    this.window = [first, last];
  }

  private checkWindow(op: string, [first, last]: readonly [number, number]): void {
    if (!(Number.isInteger(first) && Number.isInteger(last) && first >= 0 && first <= last && last < this.stack.depth)) throw new RangeError(`${op}: slices ${first}..${last} are not within 0..${this.stack.depth - 1}`);
  }

  state(z: number, structure = 1): SliceState {
    this.checkSlice('state', z);
    const record = this.slot('state', structure).slices[z];
    if (!record) return { source: 'empty', quality: null, certainty: null };
    if (record.source !== 'propagated') return { source: record.source, quality: 1, certainty: 1 };
    return { source: 'propagated', quality: record.quality, certainty: record.certainty, qualityScore: record.qualityScore };
  }

  // ---- snapshots and history ----

  snapshot(): SessionSnapshot {
    const masks = new Uint8Array(this.voxels);
    const n = this.pixels;
    this.labels.forEach((l, z) => {
      for (let i = 0; i < n; i++) masks[z * n + i] = l[i] ? 1 : 0;
    });
    const state = this.capture();
    this.snapshots.add(state);
    return { masks, window: [...this.window], state };
  }

  /** Back to a snapshot of this session, bit for bit (the window too); one undoable step. */
  restore(s: SessionSnapshot): void {
    this.checkIdle('restore');
    const state = s?.state as SessionState;
    // Another session's state may fit in size and still be of another slice shape or other structures.
    if (!this.snapshots.has(state)) throw new RangeError('restore: the snapshot is not of this session (take it with this session\'s snapshot())');
    this.checkWindow('restore: the snapshot\'s window', s.window);
    this.step(() => this.apply({ ...state, window: [s.window[0], s.window[1]] }));
  }

  get canUndo(): boolean {
    return this.history.canUndo;
  }

  get canRedo(): boolean {
    return this.history.canRedo;
  }

  /** Bytes the undo/redo history holds beyond the current state (arrays only it references, 8 bytes per reference). */
  get historyBytes(): number {
    return this.history.bytes(this.capture());
  }

  /** Back to before the last step, bit for bit; false when there is none. */
  undo(): boolean {
    this.checkIdle('undo');
    const state = this.history.undo(this.capture());
    if (!state) return false;
    this.resumeInStep = false;
    this.apply(state);
    return true;
  }

  /** The step undo() took back, again; false when there is none. */
  redo(): boolean {
    this.checkIdle('redo');
    const state = this.history.redo(this.capture());
    if (!state) return false;
    this.resumeInStep = false;
    this.apply(state);
    return true;
  }

  // ---- user actions ----

  /** Runs the 2D network on slice z; the slice keeps that mask for the structure and propagation restarts from it. */
  async annotate(z: number, interaction: Interaction, options: StructureOption & { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    this.checkWindowSlice('annotate', z);
    this.checkIdle('annotate');
    if (typeof interaction?.kind !== 'string') throw new TypeError(`annotate: the interaction must be an object with a kind (extreme-points, scribble, inside-outside, two-points), got ${interaction === null ? 'null' : typeof interaction}`);
    const structure = options.structure ?? 1;
    this.slot('annotate', structure);
    throwIfAborted(options.signal);
    const image: SliceImage = { width: this.stack.width, height: this.stack.height, data: this.stack.slice(z) };
    const result = await this.networks.segmenter.segment(image, interaction);
    // The 2D step cannot be interrupted on the GPU; a cancel during it drops its result.
    throwIfAborted(options.signal);
    if (result?.length !== this.pixels) throw new RangeError(`annotate: the 2D network returned ${result?.length} values for a ${this.stack.width}x${this.stack.height} slice`);
    // The window may have moved while the network ran.
    this.checkWindowSlice('annotate', z);
    const mask = Uint8Array.from(result, (v) => (v ? 1 : 0));
    this.setAnnotation('annotate', z, structure, mask);
    return mask;
  }

  /**
   * A mask drawn by hand or elsewhere (0 / non-zero, width * height, row-major) becomes
   * the structure's annotation of slice z, memorized like a 2D result. One undoable step.
   */
  setSliceMask(z: number, mask: ArrayLike<number>, options: StructureOption = {}): void {
    this.checkWindowSlice('setSliceMask', z);
    const n = this.pixels;
    const binary = binaryMask('setSliceMask', mask, n, 'pixel', `the slice ${this.stack.width}x${this.stack.height} = ${n}`);
    this.setAnnotation('setSliceMask', z, options.structure ?? 1, binary);
  }

  /** The structure's propagated slice z, as the label map shows it now, becomes locked: propagation never changes it. One undoable step. */
  acceptSlice(z: number, options: StructureOption = {}): void {
    this.checkIdle('acceptSlice');
    this.checkSlice('acceptSlice', z);
    const structure = options.structure ?? 1;
    const slot = this.slot('acceptSlice', structure);
    const record = slot.slices[z];
    if (record?.source !== 'propagated') throw new RangeError(`acceptSlice: slice ${z} of structure ${structure} is ${record?.source ?? 'empty'}, not propagated`);
    const mask = Uint8Array.from(this.labels[z], (l) => (l === structure ? 1 : 0));
    this.step(() => {
      slot.slices[z] = { source: 'locked', mask, probability: record.probability };
      this.relabel([z]);
    });
  }

  /**
   * Replaces every structure with those of a label map (structure ids per voxel,
   * slice-major in the engine's slice layout, 0 = background): each slice where a
   * structure has voxels becomes locked for it with exactly those voxels. With
   * `pending`, the next propagate() propagates each structure from its loaded slices
   * (a sparse map to complete); by default nothing is propagated from them (a map to
   * refine). One undoable step.
   */
  loadLabels(labels: ArrayLike<number>, structures: readonly LabelDefinition[], options: { pending?: boolean } = {}): void {
    this.checkIdle('loadLabels');
    if (typeof labels?.length !== 'number') throw new TypeError(`loadLabels: the label map must be an array of ${this.voxels} structure ids, got ${labels === null ? 'null' : typeof labels}`);
    if (!Array.isArray(structures)) throw new TypeError(`loadLabels: the structures must be an array of { id, name, color? }, got ${structures === null ? 'null' : typeof structures}`);
    if (labels.length !== this.voxels) throw new RangeError(`loadLabels: the label map has ${labels.length} voxels, the volume ${this.stack.width}x${this.stack.height}x${this.stack.depth} = ${this.voxels}`);
    const ids = new Set<number>();
    const infos = structures.map((d) => {
      if (!(Number.isInteger(d.id) && d.id >= 1 && d.id <= MAX_STRUCTURE_ID)) throw new RangeError(`loadLabels: structure id ${d.id} is not an integer in 1..${MAX_STRUCTURE_ID}`);
      if (ids.has(d.id)) throw new RangeError(`loadLabels: structure id ${d.id} is defined twice`);
      ids.add(d.id);
      return { id: d.id, name: checkName('loadLabels', d.name), color: d.color === undefined ? defaultColor(d.id) : checkColor('loadLabels', d.color) };
    });
    for (let i = 0; i < labels.length; i++) {
      const v = labels[i];
      if (v !== 0 && !ids.has(v)) throw new RangeError(`loadLabels: voxel ${i} has label ${v}, which is not among the structures (${[...ids].join(', ') || 'none'})`);
    }
    const n = this.pixels;
    const slots = infos.sort((a, b) => a.id - b.id).map((info) => this.newSlot(info));
    const byId = new Map(slots.map((s) => [s.info.id, s]));
    for (let z = 0; z < this.stack.depth; z++) {
      const masks = new Map<number, Uint8Array>();
      for (let i = 0; i < n; i++) {
        const v = labels[z * n + i];
        if (v === 0) continue;
        let m = masks.get(v);
        if (!m) masks.set(v, (m = new Uint8Array(n)));
        m[i] = 1;
      }
      for (const [id, mask] of masks) {
        const slot = byId.get(id)!;
        slot.slices[z] = { source: 'locked', mask };
        if (options.pending) slot.pending.add(z);
      }
    }
    this.step(() => {
      this.structs = slots;
      this.relabel(this.allSlices());
    });
  }

  /**
   * Propagates every structure from its slices annotated since the last propagation, in
   * both directions, up to its neighbouring annotated or locked slices or the window's
   * ends, structures sharing a slice jointly (top of this file). Cancel with `signal`, any
   * time before the returned promise settles: the session is exactly as before the call,
   * with no undo step. Any other failure (a lost device) keeps the slices finished so far
   * (one undo step); a later call resumes.
   */
  async propagate(options: { onProgress?: (p: PropagationProgress) => void; signal?: AbortSignal } = {}): Promise<void> {
    throwIfAborted(options.signal);
    if (this.propagating) throw new Error('propagate: a propagation is already running');
    const before = this.capture();
    const finishedBefore = new Set(this.finishedSweeps);
    const sweeps = this.pendingSweeps();
    const total = sweeps.reduce((n, s) => n + s.slices.length, 0);
    let done = 0;
    this.propagating = true;
    try {
      const walk = new SweepWalk({
        memory: this.memory,
        memoryEvery: this.opts.memoryEvery,
        networkFrame: (z) => this.networkFrame(z),
        fixedMask: (structure, z) => this.fixedMask(structure, z),
        toNetwork: (mask) => this.toNetwork(mask),
        fromNetwork: (mask) => this.fromNetwork(mask),
        store: (structure, z, result) => this.store(structure, z, result),
        stepDone: (slice, structures) => {
          this.relabel([slice]);
          done++;
          options.onProgress?.({ done, total, slice, structures });
        },
      });
      await walk.run(sweeps, this.lanes(), options.signal, (sweep) => this.finishedSweeps.add(sweep.key));
      // A cancel that came while the last steps were read back still cancels (the caller was told it would).
      throwIfAborted(options.signal);
    } catch (e) {
      if (options.signal?.aborted) {
        this.apply(before);
        this.finishedSweeps = finishedBefore;
      } else if (done > 0 && !this.resumeInStep) {
        this.history.record(before, this.capture());
        this.resumeInStep = true;
      }
      throw e;
    } finally {
      this.propagating = false;
    }
    for (const s of this.structs) for (const z of [...s.pending]) if (z >= this.window[0] && z <= this.window[1]) s.pending.delete(z);
    this.finishedSweeps.clear();
    // An interrupted propagation and its resumption are one step: the one recorded at the failure.
    if (total > 0 && !this.resumeInStep) this.history.record(before, this.capture());
    this.resumeInStep = false;
  }

  // ---- reading results ----

  /** The slice to correct next (see rankSlices); null when every slice in the window is fixed. */
  recommendSlice(strategy: Strategy, options: RankOptions = {}): number | null {
    return this.rankSlices(strategy, options)[0] ?? null;
  }

  /**
   * Every slice of the window not annotated or locked yet (for the structure, or for some
   * structure), most in need of correction first: lowest quality, lowest certainty,
   * lowest Dice against `groundTruth` ('oracle'), or a seeded shuffle ('random'). Without
   * `structure` a slice scores the lowest of the structures not fixed on it. Ties keep
   * slice order.
   */
  rankSlices(strategy: Strategy, options: RankOptions = {}): number[] {
    const slots = options.structure === undefined ? this.structs : [this.slot('rankSlices', options.structure)];
    const open = (z: number) => slots.filter((s) => !isFixed(s.slices[z]));
    const candidates: number[] = [];
    for (let z = this.window[0]; z <= this.window[1]; z++) if (open(z).length > 0) candidates.push(z);
    const by = (score: (z: number, s: StructureSlot) => number) => {
      const scores = new Map(candidates.map((z) => [z, Math.min(...open(z).map((s) => score(z, s)))]));
      return candidates.sort((a, b) => scores.get(a)! - scores.get(b)! || a - b);
    };
    switch (strategy) {
      case 'quality': {
        // Without a quality head (STM weights) every propagated slice would score 1 and the
        // ranking would be slice order: a silent wrong answer, so it is refused.
        const unscored = candidates.find((z) => open(z).some((s) => {
          const r = s.slices[z];
          return r?.source === 'propagated' && r.qualityScore === null;
        }));
        if (unscored !== undefined) throw new RangeError(`rankSlices('quality'): slice ${unscored} has no quality score: the memory network has no quality head (STM weights); rank by 'uncertainty', 'oracle' or 'random'`);
        return by((z, s) => this.state(z, s.info.id).quality ?? 1);
      }
      case 'uncertainty':
        return by((z, s) => this.state(z, s.info.id).certainty ?? 1);
      case 'oracle': {
        const gt = options.groundTruth;
        if (!gt || gt.length !== this.voxels) throw new RangeError(`recommendSlice('oracle') needs the ground truth (${this.voxels} voxels)`);
        for (let i = 0; i < gt.length; i++) if (typeof gt[i] !== 'number' || gt[i] !== gt[i]) throw new TypeError(`recommendSlice('oracle'): ground-truth voxel ${i} is ${typeof gt[i] === 'number' ? 'NaN' : typeof gt[i]}; labels are numbers`);
        return by((z, s) => this.sliceDice(z, s.info.id, gt));
      }
      case 'random': {
        // The stream takes the seed's 32 bits: 1.7 and NaN would quietly be 1 and 0.
        const seed = options.seed ?? 0;
        if (!Number.isSafeInteger(seed)) throw new RangeError(`rankSlices('random'): seed must be an integer, got ${seed}`);
        const rand = seededRandom(seed);
        return by(() => rand());
      }
      default:
        throw new RangeError(`unknown strategy '${strategy as string}' (quality, uncertainty, oracle or random)`);
    }
  }

  /** The label map: structure id per voxel, 0 = background (slice-major, engine slice layout); uint8 up to id 255, uint16 above. */
  labelMap(): Labels {
    const n = this.pixels;
    const out = labelArray(this.maxId, this.voxels);
    this.labels.forEach((l, z) => out.set(l, z * n));
    return out;
  }

  sliceLabels(z: number): Labels {
    this.checkSlice('sliceLabels', z);
    return this.labels[z].slice();
  }

  /** The structure's mask of the whole volume (0 / 1, slice-major), readable at any time. */
  volumeMask(structure = 1): Uint8Array {
    this.slot('volumeMask', structure);
    const n = this.pixels;
    const out = new Uint8Array(this.voxels);
    this.labels.forEach((l, z) => {
      for (let i = 0; i < n; i++) if (l[i] === structure) out[z * n + i] = 1;
    });
    return out;
  }

  sliceMask(z: number, structure = 1): Uint8Array {
    this.checkSlice('sliceMask', z);
    this.slot('sliceMask', structure);
    return Uint8Array.from(this.labels[z], (l) => (l === structure ? 1 : 0));
  }

  // ---- internals ----

  private get pixels(): number {
    return this.stack.width * this.stack.height;
  }

  private get voxels(): number {
    return this.pixels * this.stack.depth;
  }

  private get maxId(): number {
    return this.structs.reduce((m, s) => Math.max(m, s.info.id), 0);
  }

  private allSlices(): number[] {
    return Array.from({ length: this.stack.depth }, (_, z) => z);
  }

  private newSlot(info: Structure): StructureSlot {
    return { info, slices: new Array(this.stack.depth).fill(undefined), pending: new Set() };
  }

  private slot(op: string, id: number): StructureSlot {
    const s = this.structs.find((x) => x.info.id === id);
    if (!s) throw new RangeError(`${op}: there is no structure ${id} (structures: ${this.structs.map((x) => x.info.id).join(', ') || 'none'})`);
    return s;
  }

  private checkIdle(op: string): void {
    if (this.propagating) throw new Error(`${op}: a propagation is running; cancel it or wait for it`);
  }

  /** Runs a change as one undoable step. */
  private step(change: () => void): void {
    const before = this.capture();
    change();
    // Whatever ran before is no longer what the next propagation would compute.
    this.finishedSweeps.clear();
    this.resumeInStep = false;
    this.history.record(before, this.capture());
  }

  private capture(): SessionState {
    return {
      structures: this.structs.map((s) => ({ info: s.info, slices: s.slices.slice(), pending: [...s.pending] })),
      labels: this.labels.slice(),
      window: [...this.window],
    };
  }

  private apply(state: SessionState): void {
    this.structs = state.structures.map((s) => ({ info: s.info, slices: s.slices.slice(), pending: new Set(s.pending) }));
    this.labels = state.labels.slice();
    this.window = [state.window[0], state.window[1]];
    this.finishedSweeps.clear();
  }

  /** Label slices are uint8 while every id fits, uint16 otherwise: recomputed when that changes. */
  private fitLabelType(): void {
    const wide = this.maxId > 255;
    if (wide !== (this.labels[0] instanceof Uint16Array)) this.relabel(this.allSlices());
  }

  /** Recomputes the label map on slices `zs` from the structures' records. */
  private relabel(zs: readonly number[]): void {
    const maxId = this.maxId;
    for (const z of zs) this.labels[z] = computeSliceLabels(this.structs.map((s) => ({ id: s.info.id, record: s.slices[z] })), this.pixels, this.opts.threshold, maxId);
  }

  private setAnnotation(op: string, z: number, structure: number, mask: Uint8Array): void {
    this.checkIdle(op);
    const slot = this.slot(op, structure);
    this.step(() => {
      // The latest word wins: the other structures' fixed masks on z give up these pixels.
      for (const other of this.structs) {
        const r = other.slices[z];
        if (other === slot || !isFixed(r) || !r.mask.some((v, i) => v && mask[i])) continue;
        const carved = Uint8Array.from(r.mask, (v, i) => (v && !mask[i] ? 1 : 0));
        other.slices[z] = r.source === 'annotated' ? { source: 'annotated', mask: carved } : { ...r, mask: carved };
        if (r.source === 'annotated') other.pending.add(z);
      }
      slot.slices[z] = { source: 'annotated', mask };
      slot.pending.add(z);
      this.relabel([z]);
    });
  }

  /**
   * The original scores slices with fewer than 100 ground-truth pixels (at 512x512) as
   * perfect when choosing the worst (select_poorest_mask): tiny objects are not worth a round.
   */
  private sliceDice(z: number, structure: number, gt: ArrayLike<number>): number {
    const n = this.pixels;
    const single = this.structs.length === 1;
    const truth = new Uint8Array(n);
    let count = 0;
    for (let i = 0; i < n; i++) {
      const v = gt[z * n + i];
      truth[i] = (single ? v !== 0 : v === structure) ? 1 : 0;
      count += truth[i];
    }
    if (count < this.opts.qualityMinPixels) return 1;
    return dice(this.sliceMask(z, structure), truth);
  }

  /** The sweeps the next propagate() makes, less those finished before a failure. */
  private pendingSweeps(): Sweep[] {
    const plan = planSweeps(
      this.structs.map((s) => ({ id: s.info.id, fixed: (z: number) => isFixed(s.slices[z]), pending: s.pending })),
      this.window,
    );
    return plan.filter((s) => !this.finishedSweeps.has(s.key));
  }

  private fixedMask(structure: number, z: number): Uint8Array {
    const r = this.slot('propagate', structure).slices[z];
    if (!isFixed(r)) throw new Error(`propagate: slice ${z} of structure ${structure} is not annotated`);
    return r.mask;
  }

  /** Stores the structure's probability, the quality (by the original's rule) and the certainty of slice z. */
  private store(structure: number, z: number, result: StepResult): void {
    const { foreground, quality } = result;
    let confident = 0;
    let sure = 0;
    let objectish = 0;
    for (let i = 0; i < foreground.length; i++) {
      const p = foreground[i];
      if (p > this.opts.qualityConfidence) confident++;
      if (p > 0.05) {
        objectish++;
        sure += Math.max(p, 1 - p);
      }
    }
    this.slot('propagate', structure).slices[z] = {
      source: 'propagated',
      // A copy: the record is shared by snapshots and must never change under them.
      probability: result.probability.slice(),
      quality: quality === null || confident <= this.opts.qualityMinPixels ? 1 : quality,
      certainty: objectish ? sure / objectish : null,
      qualityScore: quality,
    };
  }

  /** Slice z as the memory network takes it (its layout). */
  private networkFrame(z: number): SliceImage {
    const { width, height } = this.stack;
    if (!this.transposeMemory) return { width, height, data: this.stack.slice(z) };
    const data = this.stack.sliceTransposed?.(z) ?? transposeImage(this.stack.slice(z), width, height);
    if (data.length !== width * height) throw new RangeError(`slice stack: sliceTransposed(${z}) has ${data.length} values for a ${width}x${height} slice`);
    return { width: height, height: width, data };
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

/** The arrays a state references (each shared one once) and how many references it holds. */
/**
 * A mask given as n numbers, 0 / non-zero, as 0 / 1 bytes; `unit` names its elements
 * (pixels of a slice image, voxels of a slice in voxel order), `expected` the size it must
 * have. NaN, a string or a hole would otherwise be read as 0 or 1 without a word.
 */
export function binaryMask(op: string, mask: ArrayLike<number>, n: number, unit: 'pixel' | 'voxel', expected: string): Uint8Array {
  if (typeof mask?.length !== 'number') throw new TypeError(`${op}: the mask must be an array of ${n} numbers (0 / non-zero), got ${mask === null ? 'null' : typeof mask}`);
  if (mask.length !== n) throw new RangeError(`${op}: mask has ${mask.length} ${unit}s, ${expected}`);
  for (let i = 0; i < n; i++) {
    const v = mask[i];
    if (typeof v !== 'number' || v !== v) throw new TypeError(`${op}: ${unit} ${i} of the mask is ${typeof v === 'number' ? 'NaN' : typeof v}; a mask holds numbers (0 / non-zero)`);
  }
  return Uint8Array.from(mask, (v) => (v ? 1 : 0));
}

function stateContents(s: SessionState): SnapshotContents {
  const arrays: ArrayBufferView[] = [...s.labels];
  let references = s.labels.length;
  for (const st of s.structures) {
    references += st.slices.length + st.pending.length;
    for (const r of st.slices) {
      if (!r) continue;
      if (r.source !== 'propagated') arrays.push(r.mask);
      if (r.source !== 'annotated' && r.probability) arrays.push(r.probability);
    }
  }
  return { arrays, references };
}
