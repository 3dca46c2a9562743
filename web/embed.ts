// The package's browser entry: interactive 3D segmentation behind a few calls, for a
// viewer that draws its own canvas (this repo's web/ page, or one built on NiiVue).
// Slice indices are along the volume's axial axis; points are slice pixels (x right,
// y down, as getSlice lays the slice out).
import type { Point } from '../src/interaction/crop.ts';
import { Runtime } from '../src/runtime/runtime.ts';
import { Interactive3DSession, type PropagationProgress, type SliceStack, type SliceState } from '../src/session/session.ts';
import { IOGSliceSegmenter, type Interaction, type SliceImage, type SliceSegmenter } from '../src/session/slice-segmenter.ts';
import { unstackMask, volumeStack } from '../src/session/volume-stack.ts';
import { parseNifti, serializeNifti, sliceShape, type AxisIndex, type IntensityMapping, type Volume } from '../src/volume/index.ts';
import { loadIOGWeb, loadSynthQAMNWeb, type DownloadProgress } from '../src/pretrained/web.ts';
import type { MemoryNetwork } from '../src/networks/mem3d/memory-network.ts';

export type { Point, PropagationProgress, SliceState, DownloadProgress, Volume };
export { getSlice, parseNifti, serializeNifti } from '../src/volume/index.ts';

export interface SegmenterOptions {
  /** URL serving the package's weights/ folder. */
  weightsBaseUrl: string;
  onProgress?: (p: DownloadProgress & { stage: 'memory network' | '2D network' }) => void;
  /**
   * Side of the 2D network's input crop, a multiple of 16 (default 512, the original's).
   * Smaller is faster and coarser: software WebGPU adapters need 128 or so.
   */
  cropSize?: number;
  /** Cache Storage name for the weights; null disables caching. */
  cacheName?: string | null;
  runtime?: Runtime;
}

export interface LoadVolumeOptions {
  name?: string;
  /** Only slices first..last (inclusive) take part: a quicker session on slow adapters. */
  slices?: [number, number];
  /** How voxel values become the networks' 8-bit slices: the seed's per-slice min-max (default) or a CT window. */
  intensity?: IntensityMapping;
}

export interface VolumeInfo {
  volume: Volume;
  axis: AxisIndex;
  width: number;
  height: number;
  depth: number;
  /** The slices in the session (all unless LoadVolumeOptions.slices). */
  first: number;
  last: number;
  intensity?: IntensityMapping;
}

/** The 2D step at a chosen crop size: the network upsamples any input to 512x512 logits. */
/** Answers the interactions it has seen with their stored masks: rebuilds a session after undo without the network. */
class ReplaySegmenter implements SliceSegmenter {
  readonly masks = new Map<Interaction, Uint8Array>();
  constructor(private readonly live: SliceSegmenter) {}

  async segment(image: SliceImage, interaction: Interaction): Promise<Uint8Array> {
    const known = this.masks.get(interaction);
    if (known) return known.slice();
    const mask = await this.live.segment(image, interaction);
    this.masks.set(interaction, mask.slice());
    return mask;
  }
}

interface Snapshot {
  annotations: Map<number, Interaction>;
  mask: Uint8Array;
  states: SliceState[];
}

const EMPTY: SliceState = { source: 'empty', quality: null, certainty: null };

export type Segmenter = Awaited<ReturnType<typeof createSegmenter>>;

/** Loads the shipped weights (2D network: trained on phantoms; memory network: synthetic, untrained). */
export async function createSegmenter(options: SegmenterOptions) {
  const cropSize = options.cropSize ?? 512;
  if (!(Number.isInteger(cropSize) && cropSize >= 32 && cropSize % 16 === 0)) throw new RangeError(`createSegmenter: cropSize ${cropSize} must be a multiple of 16, at least 32`);
  const rt = options.runtime ?? (await Runtime.create());
  const load = { cacheName: options.cacheName };
  const memory: MemoryNetwork = await loadSynthQAMNWeb(rt, options.weightsBaseUrl, { ...load, onProgress: (p) => options.onProgress?.({ ...p, stage: 'memory network' }) });
  const iog = await loadIOGWeb(rt, options.weightsBaseUrl, { ...load, onProgress: (p) => options.onProgress?.({ ...p, stage: '2D network' }) });
  const segmenter = new ReplaySegmenter(new IOGSliceSegmenter(rt, iog, cropSize));

  let info: VolumeInfo | null = null;
  let session: Interactive3DSession | null = null;
  // What the viewer shows: the session's results, or a snapshot restored by undo
  // (the rebuilt session only knows the annotated slices until it propagates again).
  let view: Snapshot = { annotations: new Map(), mask: new Uint8Array(0), states: [] };
  const history: Snapshot[] = [];

  const need = (op: string) => {
    if (!info || !session) throw new Error(`${op}: load a volume first`);
    return { info, session };
  };
  const local = (op: string, z: number) => {
    const { info: v } = need(op);
    if (!Number.isInteger(z) || z < v.first || z > v.last) throw new RangeError(`${op}: slice ${z} is outside the session's slices ${v.first}..${v.last}`);
    return z - v.first;
  };
  const sliceSize = () => info!.width * info!.height;
  const copy = (s: Snapshot): Snapshot => ({ annotations: new Map(s.annotations), mask: s.mask.slice(), states: s.states.map((x) => ({ ...x })) });

  function newSession(v: VolumeInfo): Interactive3DSession {
    const full = volumeStack(v.volume, v.axis, v.intensity);
    const stack: SliceStack = { width: full.width, height: full.height, depth: v.last - v.first + 1, slice: (z) => full.slice(v.first + z) };
    return new Interactive3DSession(rt, stack, { segmenter, memory });
  }

  return {
    adapter: rt.describe(),
    /** The memory network's weights are synthetic (untrained): propagated masks are not meaningful. */
    memoryWeightsSynthetic: true,
    cropSize,

    /** NIfTI bytes, or a volume already parsed (parseNifti, createVolume). */
    loadVolume(source: Uint8Array | ArrayBuffer | Volume, opts: LoadVolumeOptions = {}): VolumeInfo {
      const volume = source instanceof Uint8Array || source instanceof ArrayBuffer ? parseNifti(source, opts.name ?? '<volume>') : source;
      const { axis, width, height, count: depth } = sliceShape(volume, 'axial');
      const [first, last] = opts.slices ?? [0, depth - 1];
      if (!(Number.isInteger(first) && Number.isInteger(last) && 0 <= first && first <= last && last < depth)) throw new RangeError(`loadVolume: slices ${first}..${last} are not within 0..${depth - 1}`);
      info = { volume, axis, width, height, depth, first, last, intensity: opts.intensity };
      session = newSession(info);
      view = { annotations: new Map(), mask: new Uint8Array(width * height * depth), states: Array.from({ length: depth }, () => ({ ...EMPTY })) };
      history.length = 0;
      return info;
    },

    /** The 2D network on slice z from four extreme points; returns that slice's mask. */
    async annotate(z: number, points: Point[]): Promise<Uint8Array> {
      const { session: s } = need('annotate');
      const interaction: Interaction = { kind: 'extreme-points', points: points.map((p) => ({ x: p.x, y: p.y })) };
      const before = copy(view);
      const mask = await s.annotate(local('annotate', z), interaction);
      history.push(before);
      view.annotations.set(z, interaction);
      view.mask.set(mask, z * sliceSize());
      view.states[z] = s.state(z - info!.first);
      return mask;
    },

    /** Propagates from the slices annotated since the last call, in both directions. */
    async propagate(opts: { onProgress?: (p: PropagationProgress) => void; signal?: AbortSignal } = {}): Promise<void> {
      const { info: v, session: s } = need('propagate');
      await s.propagate({
        signal: opts.signal,
        onProgress: (p) => {
          view.mask.set(s.sliceMask(p.slice), (p.slice + v.first) * sliceSize());
          view.states[p.slice + v.first] = s.state(p.slice);
          opts.onProgress?.({ ...p, slice: p.slice + v.first });
        },
      });
    },

    /** Per-slice state over the whole volume (empty outside the session's slices). */
    states(): SliceState[] {
      return view.states.map((x) => ({ ...x }));
    },

    /** The slice to correct next: lowest quality among those not annotated (the session's rule). */
    recommend(): number | null {
      const { info: v } = need('recommend');
      let best: number | null = null;
      for (let z = v.first; z <= v.last; z++) {
        const st = view.states[z];
        if (st.source !== 'annotated' && (best === null || (st.quality ?? 1) < (view.states[best].quality ?? 1))) best = z;
      }
      return best;
    },

    /** The whole volume's mask, slice-major along the axial axis (0 / 1). */
    mask(): Uint8Array {
      return view.mask.slice();
    },

    sliceMask(z: number): Uint8Array {
      need('sliceMask');
      return view.mask.slice(z * sliceSize(), (z + 1) * sliceSize());
    },

    canUndo(): boolean {
      return history.length > 0;
    },

    /** Restores the mask and annotations before the last annotate; the next propagate re-runs from every annotated slice. */
    async undo(): Promise<boolean> {
      const { info: v } = need('undo');
      const previous = history.pop();
      if (!previous) return false;
      const rebuilt = newSession(v);
      for (const [z, interaction] of [...previous.annotations].sort((a, b) => a[0] - b[0])) await rebuilt.annotate(z - v.first, interaction);
      session = rebuilt;
      view = previous;
      return true;
    },

    /** The mask as a gzipped NIfTI with the loaded volume's geometry. */
    exportNifti(): Uint8Array {
      const { info: v } = need('exportNifti');
      return serializeNifti(unstackMask(view.mask, v.volume, v.axis), { gzip: true });
    },

    /** The live session (slice indices relative to `first`), for checks against the engine's own numbers. */
    get session(): Interactive3DSession | null {
      return session;
    },

    dispose(): void {
      iog.dispose();
      if (!options.runtime) rt.destroy();
    },
  };
}
