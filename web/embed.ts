// The package's browser entry: interactive 3D segmentation behind a few calls, for a
// viewer that draws its own canvas (this repo's web/ page, or one built on NiiVue).
// A thin adapter over Interactive3DSession: it keeps no masks, states or history of
// its own (undo and redo are the session's) and only converts coordinates and layouts.
//
// Structures: a session holds named structures with ids 1..N (structure 1 'object'
// from the start). Every call that reads or changes one structure takes
// `{ structure }`, default 1, so single-structure code keeps working unchanged.
// Label maps (labelMap, sliceLabels) hold the structure id per voxel, 0 = background.
//
// Coordinates are voxel indices of the volume as stored (src/volume/layout.ts): slices
// along the voxel axis nearest the world's z (VolumeInfo.axis; k for the usual storage),
// points the other two voxel axes in file order ((i, j) on slice k). NiiVue's own `vox`
// is in its RAS-reoriented grid: pass NiiVue clicks as `mm` through pointFromWorld. Masks
// and label maps (sliceMask, mask, setSliceMask, labelMap, sliceLabels) are in NIfTI
// voxel order, the layout NiiVue overlays take: for a slice index i + j * nx, for the
// volume i + nx * (j + ny * k). getSlice stays the seed's layout for drawing (row i,
// column j).
import { DeviceLostError, Runtime } from '../src/runtime/runtime.ts';
import { IOGNetwork } from '../src/networks/iog/network.ts';
import { MemoryNetwork } from '../src/networks/mem3d/memory-network.ts';
import { binaryMask, Interactive3DSession, type PropagationProgress, type SliceState, type Structure } from '../src/session/session.ts';
import { IOGSliceSegmenter } from '../src/session/slice-segmenter.ts';
import { unstackMask, volumeStack } from '../src/session/volume-stack.ts';
import { checkIntensityMapping, parseNifti, serializeNifti, sliceShape, SEED_MAPPING, type AxisIndex, type IntensityMapping, type Volume } from '../src/volume/index.ts';
import { pixelFromVoxel, type SliceLayout, type VoxelPoint } from '../src/volume/layout.ts';
import { decodeLabelMap, encodeLabelMap, stackLabels, unstackLabels, type LabelArray, type Rgb } from '../src/volume/label-map.ts';
import { SHIPPED_MEMORY_WEIGHTS, loadIOGWeb, loadQAMNPhantomWeb, loadSynthQAMNWeb, type DownloadProgress } from '../src/pretrained/web.ts';
import { IOG_PHANTOM_SLICE_LAYOUT } from '../src/pretrained/shipped.ts';
import { checkWeightPrecision, type WeightPrecision } from '../src/ops/conv2d-f16.ts';
import { isCpuAdapter } from '../src/ops/conv2d-variants.ts';

export type { PropagationProgress, SliceState, Structure, DownloadProgress, Volume, VoxelPoint, IntensityMapping, Rgb, WeightPrecision };
/** What every call throws once the GPU device is gone; `recover()` moves the work onto a new one. */
export { DeviceLostError };
export { createVolume, getSlice, parseNifti, serializeNifti } from '../src/volume/index.ts';
/**
 * For the `runtime` and `loadNetworks` options (your own device, your own converted
 * weights): the runtime, both networks' loaders and safetensors reading, from this
 * bundle (the session checks the networks' classes, so they must be these).
 */
export { IOGNetwork, MemoryNetwork, Runtime };
export { fetchShardedSafetensors, parseSafetensors } from '../src/io/safetensors.ts';
export { safetensorsWeightSource } from '../src/weights/safetensors-source.ts';

type Vec3 = [number, number, number];
/** Structure ids per voxel, 0 = background: uint8 up to 255 structures, uint16 above. */
export type Labels = LabelArray;
/** Which structure a call reads or changes: its id, default 1. */
export interface StructureOption {
  structure?: number;
}

/** A height x width row-major image as its width x height transpose, keeping the array type. */
function transposeLabels<T extends Labels>(data: T, width: number, height: number): T {
  if (data.length !== width * height) throw new RangeError(`transpose: ${data.length} values for ${width}x${height}`);
  const out = new (data.constructor as new (n: number) => T)(data.length);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[x * height + y] = data[y * width + x];
  return out;
}

/** The session's structures as copies the caller may keep or change. */
function copyStructures(session: Interactive3DSession): Structure[] {
  return session.structures.map((s) => ({ ...s, color: [...s.color] as Rgb }));
}

/** Voxel coordinates (fractional) of a world position under the affine: the inverse of its 3x3 part. */
function voxelFromWorld(affine: Volume['affine'], mm: readonly number[]): Vec3 {
  const [[a, b, c], [d, e, f], [g, h, k]] = affine;
  const [x, y, z] = [mm[0] - affine[0][3], mm[1] - affine[1][3], mm[2] - affine[2][3]];
  const det = a * (e * k - f * h) - b * (d * k - f * g) + c * (d * h - e * g);
  if (!(Math.abs(det) > 0)) throw new RangeError('pointFromWorld: the volume\'s affine is singular');
  return [
    ((e * k - f * h) * x - (b * k - c * h) * y + (b * f - c * e) * z) / det,
    (-(d * k - f * g) * x + (a * k - c * g) * y - (a * f - c * d) * z) / det,
    ((d * h - e * g) * x - (a * h - b * g) * y + (a * e - b * d) * z) / det,
  ];
}

/** The two networks a segmenter runs, with the slice layouts their weights were trained with. */
export interface SegmenterNetworks {
  iog: IOGNetwork;
  memory: MemoryNetwork;
  iogLayout: SliceLayout;
  memoryLayout: SliceLayout;
}

export interface SegmenterOptions {
  /** URL serving the package's weights/ folder. */
  weightsBaseUrl?: string;
  onProgress?: (p: DownloadProgress & { stage: 'memory network' | '2D network' }) => void;
  /**
   * Side of the 2D network's input crop, a multiple of 16 (default 512, the original's).
   * Smaller is faster and coarser: software WebGPU adapters need 128 or so.
   */
  cropSize?: number;
  /** Cache Storage name for the weights; null disables caching. */
  cacheName?: string | null;
  /** The runtime to run on; the segmenter then leaves it alive on dispose (its own networks are still released). */
  runtime?: Runtime;
  /** Shipped memory-network weights: 'qamn-phantom' (trained on phantoms, default) or 'synth-v1' (untrained). */
  memoryWeights?: 'qamn-phantom' | 'synth-v1';
  /** Loads the networks instead of the shipped weights (other weights, tests); the segmenter owns and disposes them. */
  loadNetworks?: (rt: Runtime) => Promise<SegmenterNetworks>;
  /**
   * The shipped networks' conv weights on the GPU: 'f32' (default) or 'f16', half the
   * weight memory (QAMN 347 -> 178 MiB, IOG 227 -> 114 MiB) with f32 arithmetic, on
   * adapters with 'shader-f16' (refused before any download elsewhere). With
   * loadNetworks, pass it to MemoryNetwork.load / IOGNetwork.load there instead.
   */
  weightPrecision?: WeightPrecision;
}

export interface LoadVolumeOptions {
  name?: string;
  /** Only slices first..last (inclusive) take part: a quicker session on slow adapters. */
  slices?: [number, number];
  /**
   * How voxel values become the networks' 8-bit slices: the seed's per-slice min-max, a CT
   * window, or 'raw' (8-bit voxels as stored). Default: 'raw' for an unscaled 8-bit volume
   * under the shipped phantom weights (they were trained on the generator's raw grey
   * levels; min-max stretching made the slices next to the annotated one the worst,
   * issue 10), else min-max.
   */
  intensity?: IntensityMapping | 'raw';
}

export interface VolumeInfo {
  volume: Volume;
  axis: AxisIndex;
  /** Slice image size: width along the second in-plane voxel axis (j), height along the first (i). */
  width: number;
  height: number;
  depth: number;
  /** The slices in the session (all unless LoadVolumeOptions.slices). */
  first: number;
  last: number;
  intensity: IntensityMapping | 'raw';
}

export type Segmenter = Awaited<ReturnType<typeof createSegmenter>>;

async function shippedNetworks(rt: Runtime, options: SegmenterOptions): Promise<SegmenterNetworks> {
  if (!options.weightsBaseUrl) throw new Error('createSegmenter: weightsBaseUrl (the URL serving weights/) or loadNetworks is needed');
  const load = { cacheName: options.cacheName, weightPrecision: options.weightPrecision };
  const weights = options.memoryWeights ?? 'qamn-phantom';
  const loadMemory = weights === 'synth-v1' ? loadSynthQAMNWeb : loadQAMNPhantomWeb;
  const memory = await loadMemory(rt, options.weightsBaseUrl, { ...load, onProgress: (p) => options.onProgress?.({ ...p, stage: 'memory network' }) });
  try {
    const iog = await loadIOGWeb(rt, options.weightsBaseUrl, { ...load, onProgress: (p) => options.onProgress?.({ ...p, stage: '2D network' }) });
    return { iog, memory, iogLayout: IOG_PHANTOM_SLICE_LAYOUT, memoryLayout: SHIPPED_MEMORY_WEIGHTS[weights].sliceLayout };
  } catch (e) {
    memory.dispose();
    throw e;
  }
}

/** Loads the networks (by default the shipped weights: both trained on phantoms) and returns the segmenter. */
export async function createSegmenter(options: SegmenterOptions) {
  const cropSize = options.cropSize ?? 512;
  if (!(Number.isInteger(cropSize) && cropSize >= 32 && cropSize % 16 === 0)) throw new RangeError(`createSegmenter: cropSize ${cropSize} must be a multiple of 16, at least 32`);
  const memoryWeights = options.loadNetworks ? null : (options.memoryWeights ?? 'qamn-phantom');
  if (memoryWeights && !(memoryWeights in SHIPPED_MEMORY_WEIGHTS)) throw new RangeError(`createSegmenter: memoryWeights '${memoryWeights}' is not one of ${Object.keys(SHIPPED_MEMORY_WEIGHTS).join(', ')}`);
  if (options.weightPrecision !== undefined) {
    checkWeightPrecision('createSegmenter', options.weightPrecision);
    if (options.loadNetworks) throw new RangeError('createSegmenter: weightPrecision applies to the shipped weights; with loadNetworks, pass it to the networks\' load() there');
  }
  const loadNetworks = options.loadNetworks ?? ((r: Runtime) => shippedNetworks(r, options));
  /** Networks on `rt`; a runtime made here is destroyed if they fail to load. */
  const loadOn = async (rt: Runtime, ownsRuntime: boolean): Promise<SegmenterNetworks> => {
    try {
      return await loadNetworks(rt);
    } catch (e) {
      if (ownsRuntime) rt.destroy();
      throw e;
    }
  };
  // Replaced together by recover() after a lost device.
  let ownsRuntime = !options.runtime;
  let rt = options.runtime ?? (await Runtime.create());
  let networks = await loadOn(rt, ownsRuntime);
  let segmenter = new IOGSliceSegmenter(rt, networks.iog, cropSize, networks.iogLayout);

  let loaded: { info: VolumeInfo; session: Interactive3DSession } | null = null;
  let disposed = false;
  /** annotate, propagate and warmup calls not yet settled: loadVolume would drop their session under them. */
  let inFlight = 0;
  const tracked = async <T>(work: Promise<T>): Promise<T> => {
    inFlight++;
    try {
      return await work;
    } finally {
      inFlight--;
    }
  };

  /** Everything but dispose() refuses on a disposed segmenter: an answer then would describe released networks. */
  const live = (op: string) => {
    if (disposed) throw new Error(`${op}: the segmenter was disposed`);
  };
  const need = (op: string) => {
    live(op);
    if (!loaded) throw new Error(`${op}: load a volume first`);
    return loaded;
  };
  const checkSlice = (op: string, z: number) => {
    const { info } = need(op);
    if (!Number.isInteger(z) || z < 0 || z >= info.depth) throw new RangeError(`${op}: slice ${z} is outside the volume (0..${info.depth - 1})`);
  };
  /** Slice image (row i, column j) <-> NIfTI voxel order (i fastest). */
  const toVoxelOrder = <T extends Labels>(image: T, info: VolumeInfo) => transposeLabels(image, info.width, info.height);
  const fromVoxelOrder = (mask: Uint8Array, info: VolumeInfo) => transposeLabels(mask, info.height, info.width);
  const structureOf = (opts: StructureOption) => opts.structure ?? 1;

  return {
    /** The WebGPU adapter in use, in words (vendor, architecture, driver, features, limits). */
    get adapter(): string {
      live('adapter');
      return rt.describe();
    },
    /**
     * True on a CPU WebGPU adapter (Chrome's SwiftShader fallback, lavapipe): every step
     * takes seconds to minutes there, and a 512-px 2D crop may not finish at all.
     */
    get softwareAdapter(): boolean {
      live('softwareAdapter');
      return isCpuAdapter(rt);
    },
    /** The shipped memory weights in use (null with loadNetworks); 'synth-v1' is untrained: its masks mean nothing. */
    memoryWeights,
    memoryWeightsSynthetic: memoryWeights === 'synth-v1',
    /** The 2D network's input crop in pixels (the option's value; 512 as trained). */
    cropSize,

    /** NIfTI bytes, or a volume already parsed (parseNifti, createVolume: typed array + dims + affine). */
    /**
     * Starts a new session on a volume, replacing the loaded one with its masks, structures
     * and history (export first to keep them); refused while a step runs on the loaded one.
     */
    loadVolume(source: Uint8Array | ArrayBuffer | Volume, opts: LoadVolumeOptions = {}): VolumeInfo {
      live('loadVolume');
      if (inFlight > 0) throw new Error('loadVolume: a step (annotate, propagate or warmup) is running on the loaded volume; cancel it or wait for it first');
      const volume = source instanceof Uint8Array || source instanceof ArrayBuffer ? parseNifti(source, opts.name ?? '<volume>') : source;
      const { axis, width, height, count: depth } = sliceShape(volume, 'axial');
      const [first, last] = opts.slices ?? [0, depth - 1];
      if (!(Number.isInteger(first) && Number.isInteger(last) && 0 <= first && first <= last && last < depth)) throw new RangeError(`loadVolume: slices ${first}..${last} are not within 0..${depth - 1}`);
      const eightBit = volume.data instanceof Uint8Array && volume.slope === 1 && volume.inter === 0;
      const intensity = opts.intensity ?? (memoryWeights === 'qamn-phantom' && eightBit ? 'raw' : SEED_MAPPING);
      if (intensity === 'raw' && !eightBit) throw new RangeError(`loadVolume: intensity 'raw' needs unscaled 8-bit voxels; this volume has ${volume.data.constructor.name} (use min-max or a window)`);
      // Checked now, not at the first slice the networks read.
      if (intensity !== 'raw') checkIntensityMapping(intensity, 'loadVolume: intensity');
      const info: VolumeInfo = { volume, axis, width, height, depth, first, last, intensity };
      const session = new Interactive3DSession(rt, volumeStack(volume, axis, intensity), { segmenter, memory: networks.memory }, { memoryLayout: networks.memoryLayout });
      session.setSliceWindow(first, last);
      loaded = { info, session };
      return info;
    },

    /**
     * Optional, after loadVolume (e.g. while the user places points): compiles the pipelines
     * a round on this volume runs and waits for the weights' upload, so the first annotation
     * and propagation run as fast as later ones (Interactive3DSession.warmup). Resolves with
     * how many pipelines a round uses.
     */
    warmup(): Promise<number> {
      return tracked(need('warmup').session.warmup());
    },

    /** The session's structures, ids ascending (structure 1 'object' exists from the start). */
    structures(): Structure[] {
      return copyStructures(need('structures').session);
    },

    /** A new, empty structure (the lowest id not in use); one undoable step. */
    addStructure(name: string, opts: { color?: Rgb } = {}): Structure {
      return need('addStructure').session.addStructure(name, opts);
    },

    /** Drops a structure and its voxels (the others keep theirs); one undoable step. */
    removeStructure(id: number): void {
      need('removeStructure').session.removeStructure(id);
    },

    /**
     * The 2D network on slice z from four extreme points (voxel indices (i, j)) for one
     * structure (default 1); returns that structure's slice mask in voxel order. One
     * undoable step. Refused outside LoadVolumeOptions.slices and while a propagation
     * runs (one started meanwhile makes it throw, its result unused).
     */
    async annotate(z: number, points: readonly VoxelPoint[], opts: { signal?: AbortSignal } & StructureOption = {}): Promise<Uint8Array> {
      const { info, session } = need('annotate');
      checkSlice('annotate', z);
      if (!Array.isArray(points)) throw new TypeError(`annotate: points must be an array of four [i, j] voxel indices, got ${points === null ? 'null' : typeof points}`);
      if (points.length !== 4) throw new RangeError(`annotate: extreme points are four (left, right, top, bottom), got ${points.length}`);
      for (const p of points) {
        if (!Array.isArray(p) || p.length !== 2) throw new TypeError(`annotate: a point is [i, j] (two voxel indices), got ${JSON.stringify(p) ?? String(p)}`);
        const [a, b] = p;
        if (!(Number.isInteger(a) && Number.isInteger(b) && a >= 0 && a < info.height && b >= 0 && b < info.width)) throw new RangeError(`annotate: point (${a}, ${b}) is outside the slice (i 0..${info.height - 1}, j 0..${info.width - 1})`);
      }
      const mask = await tracked(session.annotate(z, { kind: 'extreme-points', points: points.map(pixelFromVoxel) }, { signal: opts.signal, structure: structureOf(opts) }));
      return toVoxelOrder(mask, info);
    },

    /**
     * A mask drawn elsewhere (voxel order, 0 / non-zero: a brush, an eraser, another
     * tool) becomes the structure's annotation on slice z, memorized like a 2D result;
     * propagate takes it from there. One undoable step.
     */
    setSliceMask(z: number, mask: ArrayLike<number>, opts: StructureOption = {}): void {
      const { info, session } = need('setSliceMask');
      checkSlice('setSliceMask', z);
      // Checked in voxel order, before the transpose, so a refusal names the voxel the caller gave.
      const binary = binaryMask('setSliceMask', mask, info.width * info.height, 'voxel', `slice ${z} has ${info.width * info.height}`);
      session.setSliceMask(z, fromVoxelOrder(binary, info), { structure: structureOf(opts) });
    },

    /** A propagated slice of the structure, taken as it is: locked, never overwritten by propagation. One undoable step. */
    acceptSlice(z: number, opts: StructureOption = {}): void {
      checkSlice('acceptSlice', z);
      need('acceptSlice').session.acceptSlice(z, { structure: structureOf(opts) });
    },

    /**
     * How many steps the next propagate() computes (a slice of one sweep, its structures
     * jointly: with structures on both sides of a slice it can count twice), from the
     * annotations made since the last propagation (after a failed one, what it left); 0
     * when there is nothing to propagate.
     */
    get pendingSlices(): number {
      return need('pendingSlices').session.pendingSlices;
    },

    /** Propagates every structure from the slices annotated since the last call, in both directions. A cancel leaves everything as it was. */
    async propagate(opts: { onProgress?: (p: PropagationProgress) => void; signal?: AbortSignal } = {}): Promise<void> {
      await tracked(need('propagate').session.propagate(opts));
    },

    /** Per-slice state of one structure over the whole volume (empty outside the session's slices). */
    states(opts: StructureOption = {}): SliceState[] {
      const { info, session } = need('states');
      return Array.from({ length: info.depth }, (_, z) => session.state(z, structureOf(opts)));
    },

    /**
     * The structure's slice to correct next (lowest quality, or with `strategy: 'uncertainty'`
     * lowest certainty: the session's ranking); null before anything of it was propagated.
     * 'quality' needs the QAMN quality head: with STM weights it throws, use 'uncertainty'.
     */
    recommend(opts: StructureOption & { strategy?: 'quality' | 'uncertainty' } = {}): number | null {
      const { info, session } = need('recommend');
      const structure = structureOf(opts);
      const strategy = opts.strategy ?? 'quality';
      if (strategy !== 'quality' && strategy !== 'uncertainty') throw new RangeError(`recommend: strategy must be 'quality' or 'uncertainty', got '${strategy as string}'`);
      const propagated = Array.from({ length: info.depth }, (_, z) => session.state(z, structure).source).includes('propagated');
      return propagated ? session.recommendSlice(strategy, { structure }) : null;
    },

    /** One structure's whole-volume mask in NIfTI voxel order (0 / 1, i fastest): a NiiVue overlay's layout. */
    mask(opts: StructureOption = {}): Uint8Array {
      const { info, session } = need('mask');
      return unstackMask(session.volumeMask(structureOf(opts)), info.volume, info.axis).data;
    },

    /** One structure's mask of slice z in NIfTI voxel order (0 / 1, index i + j * nx). */
    sliceMask(z: number, opts: StructureOption = {}): Uint8Array {
      const { info, session } = need('sliceMask');
      checkSlice('sliceMask', z);
      return toVoxelOrder(session.sliceMask(z, structureOf(opts)), info);
    },

    /** The label map (structure id per voxel, 0 = background) in NIfTI voxel order; uint8 up to 255 structures, else uint16. */
    labelMap(): Labels {
      const { info, session } = need('labelMap');
      return unstackLabels(session.labelMap(), info.volume, info.axis);
    },

    /**
     * The label map as a gzipped NIfTI with the loaded volume's geometry (uint8, or uint16
     * above 255 structures) and its sidecar JSON naming and colouring every structure:
     * save them side by side as NAME.nii.gz and NAME.json.
     */
    exportLabelMap(): { nifti: Uint8Array; sidecar: string } {
      const { info, session } = need('exportLabelMap');
      return encodeLabelMap(unstackLabels(session.labelMap(), info.volume, info.axis), info.volume, session.structures, { gzip: true });
    },

    /**
     * An existing label map (NIfTI bytes, optionally its sidecar JSON's text) to go on
     * refining: it must be on the loaded volume's grid, or it is refused with a message
     * naming what differs. Its structures replace the session's; every slice holding a
     * structure's voxels becomes locked for it. One undoable step. Returns the structures.
     */
    importLabelMap(bytes: Uint8Array | ArrayBuffer, sidecar?: string, opts: { name?: string } = {}): Structure[] {
      const { info, session } = need('importLabelMap');
      const name = opts.name ?? '<label map>';
      const map = decodeLabelMap(parseNifti(bytes, name), sidecar === undefined ? undefined : { text: sidecar, source: `${name} sidecar` }, info.volume);
      session.loadLabels(stackLabels(map.labels, info.volume, info.axis), map.structures);
      return copyStructures(session);
    },

    /** Slice z's labels in NIfTI voxel order (index i + j * nx). */
    sliceLabels(z: number): Labels {
      const { info, session } = need('sliceLabels');
      checkSlice('sliceLabels', z);
      return toVoxelOrder(session.sliceLabels(z), info);
    },

    /** Whether undo() has a step to take back (false before a volume is loaded). */
    canUndo(): boolean {
      live('canUndo');
      return !!loaded?.session.canUndo;
    },

    /** Whether redo() has a step undo took back. */
    canRedo(): boolean {
      live('canRedo');
      return !!loaded?.session.canRedo;
    },

    /**
     * Back to before the last step (annotate, setSliceMask, acceptSlice, add/removeStructure,
     * importLabelMap, propagate), exactly as it was; false when there is none. Refused while a
     * propagation runs.
     */
    async undo(): Promise<boolean> {
      return need('undo').session.undo();
    },

    /** The step undo took back, again. */
    async redo(): Promise<boolean> {
      return need('redo').session.redo();
    },

    /** Bytes the undo/redo history holds. */
    get historyBytes(): number {
      live('historyBytes');
      return loaded?.session.historyBytes ?? 0;
    },

    /** One structure's mask (default 1) as a gzipped NIfTI with the loaded volume's geometry. */
    exportNifti(opts: StructureOption = {}): Uint8Array {
      const { info, session } = need('exportNifti');
      return serializeNifti(unstackMask(session.volumeMask(structureOf(opts)), info.volume, info.axis), { gzip: true });
    },

    /**
     * After a DeviceLostError: a new device, the networks loaded again on it (from the
     * browser's weight cache when there is one), and the session moved onto them. Masks,
     * annotations, slice states and undo history stay; the next propagate() resumes where
     * the lost one stopped. A segmenter made on the caller's runtime needs a new one here.
     */
    async recover(opts: { runtime?: Runtime } = {}): Promise<void> {
      live('recover');
      if (!ownsRuntime && !opts.runtime) throw new Error('recover: the segmenter runs on the runtime you gave it; pass a new one ({ runtime })');
      const owns = !opts.runtime;
      const next = opts.runtime ?? (await Runtime.create());
      const loadedNetworks = await loadOn(next, owns);
      const nextSegmenter = new IOGSliceSegmenter(next, loadedNetworks.iog, cropSize, loadedNetworks.iogLayout);
      try {
        loaded?.session.rebind(next, { segmenter: nextSegmenter, memory: loadedNetworks.memory }, { memoryLayout: loadedNetworks.memoryLayout });
      } catch (e) {
        loadedNetworks.iog.dispose();
        loadedNetworks.memory.dispose();
        if (owns) next.destroy();
        throw e;
      }
      // The old networks and device are gone or going: release what is left, ignoring a dead device's complaints.
      for (const release of [() => networks.iog.dispose(), () => networks.memory.dispose(), () => ownsRuntime && rt.destroy()]) {
        try {
          release();
        } catch {
          // nothing on a lost device is worth an error here
        }
      }
      [rt, networks, ownsRuntime, segmenter] = [next, loadedNetworks, owns, nextSegmenter];
    },

    /** The live session (slice-image layout), for checks against the engine's own numbers. */
    get session(): Interactive3DSession | null {
      live('session');
      return loaded?.session ?? null;
    },

    /**
     * The voxel nearest a world position (mm, the affine's space; NiiVue's onLocationChange
     * `mm`) as a slice index and an in-plane point (i, j) for annotate; null outside the volume.
     */
    pointFromWorld(mm: ArrayLike<number>): { slice: number; point: VoxelPoint } | null {
      const { info } = need('pointFromWorld');
      // x, y, z first: NiiVue's mm is a Float32Array of four (the last a homogeneous 1).
      const xyz = typeof mm?.length === 'number' && mm.length >= 3 ? [mm[0], mm[1], mm[2]] : [];
      if (!(xyz.length === 3 && xyz.every(Number.isFinite))) throw new TypeError(`pointFromWorld: a world position starts with three finite numbers (x, y, z in mm), got ${JSON.stringify(mm) ?? String(mm)}`);
      const v = voxelFromWorld(info.volume.affine, xyz).map(Math.round);
      if (v.some((x, n) => !(x >= 0 && x < info.volume.dims[n]))) return null;
      const [pa, pb] = ([0, 1, 2] as const).filter((n) => n !== info.axis);
      return { slice: v[info.axis], point: [v[pa], v[pb]] };
    },

    /** The world position (mm) of in-plane point (i, j) on slice z: the inverse of pointFromWorld. */
    worldFromPoint(z: number, point: VoxelPoint): Vec3 {
      const { info } = need('worldFromPoint');
      checkSlice('worldFromPoint', z);
      const [pa, pb] = ([0, 1, 2] as const).filter((n) => n !== info.axis);
      // A voxel index, as pointFromWorld gives and annotate takes; NaN or a point off the slice would come back as a position.
      const [a, b] = Array.isArray(point) ? point : [Number.NaN, Number.NaN];
      if (!(Number.isInteger(a) && Number.isInteger(b) && a >= 0 && a < info.height && b >= 0 && b < info.width)) {
        throw new RangeError(`worldFromPoint: point ${JSON.stringify(point) ?? String(point)} is not a voxel index (i, j) of the slice (i 0..${info.height - 1}, j 0..${info.width - 1})`);
      }
      const v = [0, 0, 0];
      [v[info.axis], v[pa], v[pb]] = [z, point[0], point[1]];
      const m = info.volume.affine;
      return [0, 1, 2].map((r) => m[r][0] * v[0] + m[r][1] * v[1] + m[r][2] * v[2] + m[r][3]) as Vec3;
    },

    /** Releases both networks and, unless the caller supplied it, the runtime; everything else refuses afterwards. */
    dispose(): void {
      if (disposed) return;
      disposed = true;
      loaded = null;
      networks.iog.dispose();
      networks.memory.dispose();
      if (ownsRuntime) rt.destroy();
    },
  };
}
