// The memory network of Mem3D: `models_SAQ.STM` (variant 'qamn', with the quality
// head) and `models.STM` (variant 'stm'), in test phase.
//
//   memorize(frame, mask)                  -> a GPU-resident memory entry (key, value of r4)
//   segment(frame, memory[])               -> probability, soft-aggregated logits, quality
//   memorizeBatch / segmentBatch           -> the same for N independent frames in one batch
//   segmentObjects(frame, memories[][])    -> the same for K objects at once
//   encodeQuery(frame)                     -> the query encoder's features, which both also take
//
// Several objects follow the original STM's multi-object scheme: each object keeps its
// own memory (its keys and values), the query encoder runs once per frame, the memory
// read and the decoder run once per object, and Soft_aggregation over (background,
// object 1..K) makes the objects compete for each pixel. The memory encoder needs no
// change per object: Encoder_M's second mask input, conv1_bg, takes clamp(1 - m_o), and
// with aggregated probabilities 1 - m_o = background + the other objects' union, exactly
// the original's "other objects" mask; `memorize(frame, foreground_k)` feeds it that.
// The QAMN quality head scores each object on its binary view (1 - fg_k, fg_k): with one
// object, the original's own input.
//
// Batches: propagations that do not depend on each other (the two directions from an
// annotated slice) step together, every layer run once over [N, ...] tensors (each
// dispatch has N times the work: a GPU that one 512x512 frame's 32x32 layers cannot fill
// gets fuller, and the host encodes each layer once for N frames). Only the memory read
// runs per item, each on its own memory. Item b's numbers are the single frame's up to
// f32 rounding (a batched conv may get another tile, so another summation order).
import { conv2d, type Conv2dWeights } from '../../ops/conv2d.ts';
import { memoryRead } from '../../ops/memory-read.ts';
import { copyIntoChannels, copyItemIntoChannels, takeItem } from '../../ops/channels.ts';
import { softAggregation, softAggregationObjects } from '../../ops/soft-aggregation.ts';
import type { Runtime } from '../../runtime/runtime.ts';
import type { Tensor } from '../../runtime/tensor.ts';
import type { SliceLayout } from '../../volume/layout.ts';
import { ParamLoader, weightsSliceLayout, type TensorSpec, type WeightPrecision, type WeightSet, type WeightSpec } from '../../weights/loader.ts';
import type { WeightSource } from '../../weights/source.ts';
import { Decoder, type Variant } from './decoder.ts';
import { MemoryBanks } from './memory-bank.ts';
import { Encoder_M, Encoder_Q, KeyValue } from './encoders.ts';
import { QualityHead } from './quality.ts';

export type { Variant } from './decoder.ts';

export const KEYDIM = 128;
export const VALDIM = 512;

/** Buffers the original registers and never reads: the ImageNet mean and std of its encoders. */
const UNUSED_BUFFERS = [/^Encoder_[MQ]\.(mean|std)$/];

/**
 * One memorized slice: its key [1, h, w, 128] and value [1, h, w, 512] at 1/16
 * resolution, from frames of `frameSize` [H, W]. Entries are owned explicitly: no
 * scope releases them; call `dispose()` when the memory no longer needs them. Their
 * tensors are never written after memorize: a memory bank copies each entry once and
 * reads its copy from then on (memory-bank.ts).
 */
export class MemoryEntry {
  readonly frameSize: readonly [number, number];
  /** Called once on dispose: a memory bank that starts with this entry releases itself (memory-bank.ts). */
  private readonly disposeListeners = new Set<() => void>();

  constructor(readonly key: Tensor, readonly value: Tensor, frameSize?: readonly [number, number]) {
    this.frameSize = frameSize ?? [key.shape[1] * 16, key.shape[2] * 16];
  }

  /** Rows (memory positions) of the key and the value. */
  get rows(): number {
    return this.key.size / this.key.shape[this.key.shape.length - 1];
  }

  /** `listener` runs once when this entry is disposed; the returned function unsubscribes it. */
  onDispose(listener: () => void): () => void {
    this.disposeListeners.add(listener);
    return () => this.disposeListeners.delete(listener);
  }

  get bytes(): number {
    return this.key.byteLength + this.value.byteLength;
  }

  get disposed(): boolean {
    return this.key.disposed;
  }

  dispose(): void {
    this.key.dispose();
    this.value.dispose();
    const listeners = [...this.disposeListeners];
    this.disposeListeners.clear();
    for (const listener of listeners) listener();
  }
}

/**
 * The query encoder's features of one frame: Encoder_Q's r4, r3, r2 and KV_Q_r4's key
 * and value, from `encodeQuery`. `segment` takes them in place of the frame; any
 * memory network whose Encoder_Q and KV_Q_r4 weights are the same may (the
 * conformance test runs STM's decoder on QAMN's features). Owned by the caller.
 */
export class QueryEncoding {
  constructor(
    readonly r4: Tensor,
    readonly r3: Tensor,
    readonly r2: Tensor,
    readonly key: Tensor,
    readonly value: Tensor,
    readonly frameSize: readonly [number, number],
  ) {}

  get disposed(): boolean {
    return this.r4.disposed;
  }

  dispose(): void {
    for (const t of [this.r4, this.r3, this.r2, this.key, this.value]) t.dispose();
  }
}

/** What `segment` (N = 1) and `segmentBatch` (N frames) return. */
export interface SegmentResult {
  /** ps = softmax(decoder logits)[1]: [N, H, W, 1] */
  probability: Tensor;
  /** Soft-aggregated log-odds [N, H, W, 2] (ill-conditioned where the probability saturates). */
  logits: Tensor;
  /** softmax(logits)[1] [N, H, W, 1]: the mask the original memorizes for this slice. */
  foreground: Tensor;
  /** Quality score in [0, 1] ([N, 1]); null for the STM variant. */
  quality: Tensor | null;
  /** Present with `{ intermediates: true }` (segment only): the query key, the memory read and the decoder logits. */
  intermediates?: { queryKey: Tensor; memoryRead: Tensor; decoderLogits: Tensor };
  dispose(): void;
}

/** One object of `segmentObjects`; tensors [1, H, W, 1] unless stated. */
export interface ObjectSegment {
  /** ps_k = softmax(the object's decoder logits)[1], from its own memory alone. */
  probability: Tensor;
  /** softmax(logits)[k + 1]: the object's share after aggregation, what it memorizes next. */
  foreground: Tensor;
  /** The quality head's score [1, 1] on the object's binary view; null for the STM variant. */
  quality: Tensor | null;
}

export interface ObjectsSegmentResult {
  objects: ObjectSegment[];
  /** Soft_aggregation log-odds over (background, object 1, ..., object K): [1, H, W, K + 1]. */
  logits: Tensor;
  dispose(): void;
}

export interface MemoryNetworkOptions {
  variant: Variant;
  /** The slice layout the weights were trained with; overrides the weights' `slice_layout` metadata. */
  sliceLayout?: SliceLayout;
  /** Conv weight storage on the GPU, 'f32' (default) or 'f16' (needs shader-f16; src/weights/loader.ts). */
  weightPrecision?: WeightPrecision;
}

type Modules = ReturnType<typeof modules>;

function modules(p: ParamLoader, variant: Variant) {
  return {
    Encoder_M: new Encoder_M(p),
    Encoder_Q: new Encoder_Q(p),
    KV_M_r4: new KeyValue(p, 'KV_M_r4', 1024, KEYDIM, VALDIM),
    KV_Q_r4: new KeyValue(p, 'KV_Q_r4', 1024, KEYDIM, VALDIM),
    Decoder: new Decoder(p, variant, 2 * VALDIM, 256),
    quality: variant === 'qamn' ? new QualityHead(p) : null,
    /** A 1x1 conv with weights (0, 1): picks the object channel of a one-hot pair exactly. */
    objectChannel: p.constantConv({ weight: new Float32Array([0, 1]), shape: [1, 2, 1, 1], label: 'one-hot object channel' }),
  };
}

function checkVariant(variant: Variant): void {
  if (variant !== 'qamn' && variant !== 'stm') throw new Error(`unknown memory network variant '${variant}' (expected 'qamn' or 'stm')`);
}

export class MemoryNetwork {
  private readonly Encoder_M: Encoder_M;
  private readonly Encoder_Q: Encoder_Q;
  private readonly KV_M_r4: KeyValue;
  private readonly KV_Q_r4: KeyValue;
  private readonly Decoder: Decoder;
  private readonly quality: QualityHead | null;
  private readonly objectChannel: Conv2dWeights;
  /** Each propagation's memory concatenated from one read to the next (memory-bank.ts). */
  private readonly banks: MemoryBanks;

  private constructor(
    private readonly rt: Runtime,
    readonly variant: Variant,
    m: Modules,
    /** Every GPU weight of this network; `dispose()` releases them. */
    readonly weights: WeightSet,
    /** The slice layout its weights were trained with; undefined when neither the weights nor the caller state it. */
    readonly sliceLayout: SliceLayout | undefined,
  ) {
    this.Encoder_M = m.Encoder_M;
    this.Encoder_Q = m.Encoder_Q;
    this.KV_M_r4 = m.KV_M_r4;
    this.KV_Q_r4 = m.KV_Q_r4;
    this.Decoder = m.Decoder;
    this.quality = m.quality;
    this.objectChannel = m.objectChannel;
    this.banks = new MemoryBanks(rt);
  }

  /**
   * Checks the weights against the network (a WeightMismatchError names every missing,
   * mis-shaped or unexpected tensor, before anything is uploaded), then uploads them once.
   */
  static load(rt: Runtime, source: WeightSource, options: MemoryNetworkOptions): MemoryNetwork {
    const variant = options.variant;
    checkVariant(variant);
    const sliceLayout = weightsSliceLayout(source, options.sliceLayout);
    const loaded = ParamLoader.load(rt, source, (p) => modules(p, variant), UNUSED_BUFFERS, { weightPrecision: options.weightPrecision });
    return new MemoryNetwork(rt, variant, loaded.modules, loaded.weights, sliceLayout);
  }

  /** What a variant's weights must hold: the dry run's tensors and the buffers accepted unread (also `mem3d convert`'s check). */
  static weightSpec(variant: Variant): WeightSpec {
    checkVariant(variant);
    return { tensors: ParamLoader.expectedTensors((p) => modules(p, variant)), unused: UNUSED_BUFFERS };
  }

  /** The state_dict tensors (names, PyTorch shapes) a variant expects. */
  static expectedTensors(variant: Variant): TensorSpec[] {
    return [...MemoryNetwork.weightSpec(variant).tensors];
  }

  /** GPU bytes of the weights. */
  get weightBytes(): number {
    return this.weights.bytes;
  }

  /**
   * frame [1, H, W, 3] (preprocessed); mask [1, H, W, 1], the object's probability,
   * or [1, H, W, 2], a one-hot / softmax pair (background, object) of which the
   * original reads the object channel only. The entry is owned by the caller (see MemoryEntry).
   */
  memorize(frame: Tensor, mask: Tensor): MemoryEntry {
    this.checkFrame(frame, 'memorize', 1);
    return this.memorizeFrames('memorize', frame, mask)[0];
  }

  /**
   * N frames [N, H, W, 3] with their masks [N, H, W, 1 | 2] memorized in one batch:
   * entry b is memorize(frame b, mask b)'s (see the top of this file). Owned by the caller.
   */
  memorizeBatch(frames: Tensor, masks: Tensor): MemoryEntry[] {
    return this.memorizeFrames('memorizeBatch', frames, masks);
  }

  private memorizeFrames(op: string, frames: Tensor, masks: Tensor): MemoryEntry[] {
    const rt = this.rt;
    const [N, H, W] = this.checkFrame(frames, op);
    masks.assertLive(op);
    if (masks.shape.length !== 4 || masks.shape[0] !== N || masks.shape[1] !== H || masks.shape[2] !== W || (masks.shape[3] !== 1 && masks.shape[3] !== 2)) {
      throw new RangeError(`${op}: mask must be [${N}, ${H}, ${W}, 1] (object probability) or [${N}, ${H}, ${W}, 2] (background, object), got [${masks.shape.join(', ')}]`);
    }
    checkFinite(masks, op, 'mask');
    const entries = rt.scope(() => {
      const object = masks.shape[3] === 2 ? conv2d(rt, masks, this.objectChannel) : masks;
      const r4 = this.Encoder_M.forward(rt, frames, object);
      const key = this.KV_M_r4.key(rt, r4);
      const value = this.KV_M_r4.value(rt, r4);
      if (N === 1) return [new MemoryEntry(key, value, [H, W])];
      return Array.from({ length: N }, (_, b) => new MemoryEntry(takeItem(rt, key, b, 'memory key'), takeItem(rt, value, b, 'memory value'), [H, W]));
    });
    return rt.keep(entries);
  }

  /** Runs the query encoder once; `segment(query, ...)` then skips it. The result is owned by the caller. */
  encodeQuery(frame: Tensor): QueryEncoding {
    const rt = this.rt;
    const [, H, W] = this.checkFrame(frame, 'encodeQuery', 1);
    const query = rt.scope(() => {
      const { r4, r3, r2 } = this.Encoder_Q.forward(rt, frame);
      return new QueryEncoding(r4, r3, r2, this.KV_Q_r4.key(rt, r4), this.KV_Q_r4.value(rt, r4), [H, W]);
    });
    return rt.keep(query);
  }

  /** `frame`: a preprocessed [1, H, W, 3] frame, or its query features from `encodeQuery` (left to the caller). */
  segment(frame: Tensor | QueryEncoding, memory: readonly MemoryEntry[], options: { intermediates?: boolean } = {}): SegmentResult {
    return this.segmentFrames('segment', frame, [memory], options);
  }

  /**
   * N frames [N, H, W, 3], frame b read from its own memory `memories[b]`, in one batch:
   * the result's tensors have N items (quality [N, 1]), item b segment(frame b, memories[b])'s
   * (see the top of this file). The result is owned by the caller.
   */
  segmentBatch(frames: Tensor, memories: readonly (readonly MemoryEntry[])[]): SegmentResult {
    const [N] = this.checkFrame(frames, 'segmentBatch');
    if (memories.length !== N) throw new RangeError(`segmentBatch: ${memories.length} memories for ${N} frames; pass one memory per frame`);
    return this.segmentFrames('segmentBatch', frames, memories, {});
  }

  private segmentFrames(op: string, frame: Tensor | QueryEncoding, memories: readonly (readonly MemoryEntry[])[], options: { intermediates?: boolean }): SegmentResult {
    const rt = this.rt;
    const query = frame instanceof QueryEncoding ? frame : null;
    const [H, W] = this.frameSize(frame, op, memories.length);
    memories.forEach((memory, b) => this.checkMemory(op, memory, H, W, memories.length > 1 ? `frame ${b}: ` : ''));
    return rt.scope(() => {
      const { r4, queryKey, memoryRead, decoderLogits } = rt.scope(() => {
        const { r4, r3, r2 } = query ?? this.Encoder_Q.forward(rt, frame as Tensor);
        const N = r4.shape[0];
        // The decoder reads cat([memory read, query value]): the value conv and the read write their windows directly.
        const m4 = rt.empty([N, r4.shape[1], r4.shape[2], 2 * VALDIM], 'f32', 'memory out');
        let queryKey: Tensor;
        if (query) {
          // A copy, so that disposing the result leaves the caller's encoding whole.
          queryKey = rt.empty(query.key.shape, 'f32', 'query key');
          copyIntoChannels(rt, query.key, queryKey, 0);
          copyIntoChannels(rt, query.value, m4, VALDIM);
        } else {
          queryKey = this.KV_Q_r4.key(rt, r4);
          this.KV_Q_r4.value(rt, r4, { tensor: m4, channelOffset: VALDIM });
        }
        let read: Tensor | null = null;
        if (N === 1) {
          read = rt.scope(() => this.read(memories[0], queryKey));
          copyIntoChannels(rt, read, m4, 0);
        } else {
          // Each frame reads its own memory.
          memories.forEach((memory, b) => rt.scope(() => copyItemIntoChannels(rt, this.read(memory, takeItem(rt, queryKey, b, 'query key')), 0, m4, b, 0)));
        }
        return { r4, queryKey, memoryRead: read, decoderLogits: this.Decoder.forward(rt, m4, r3, r2, [H, W]) };
      });
      const head = softAggregation(rt, decoderLogits);
      const quality = this.quality ? this.quality.forward(rt, r4, head.qualityInput) : null;
      const intermediates = options.intermediates && memoryRead ? { queryKey, memoryRead, decoderLogits } : undefined;
      const result: SegmentResult = {
        probability: head.ps,
        logits: head.logits,
        foreground: head.foreground,
        quality,
        intermediates,
        dispose() {
          for (const t of [head.ps, head.logits, head.foreground, quality, intermediates?.queryKey, intermediates?.memoryRead, intermediates?.decoderLogits]) t?.dispose();
        },
      };
      return result;
    });
  }

  /**
   * K objects on one frame: `memories[k]` is object k's own memory. The query encoder
   * runs once, the memory read and the decoder once per object, then Soft_aggregation
   * over all of them (see the top of this file). With one object the numbers are
   * `segment`'s. The result is owned by the caller.
   */
  segmentObjects(frame: Tensor | QueryEncoding, memories: readonly (readonly MemoryEntry[])[]): ObjectsSegmentResult {
    const rt = this.rt;
    const [H, W] = this.frameSize(frame, 'segmentObjects', 1);
    if (memories.length === 0) throw new RangeError('segmentObjects: no objects; pass one memory per object');
    memories.forEach((memory, k) => this.checkMemory('segmentObjects', memory, H, W, `object ${k + 1}: `));
    return rt.scope(() => {
      const query = frame instanceof QueryEncoding ? frame : this.encodeQuery(frame);
      try {
        const { r4, r3, r2 } = query;
        const head = rt.scope(() => {
          const decoderLogits = memories.map((memory) =>
            rt.scope(() => {
              const m4 = rt.empty([1, r4.shape[1], r4.shape[2], 2 * VALDIM], 'f32', 'memory out');
              copyIntoChannels(rt, query.value, m4, VALDIM);
              copyIntoChannels(rt, rt.scope(() => this.read(memory, query.key)), m4, 0);
              return this.Decoder.forward(rt, m4, r3, r2, [H, W]);
            }),
          );
          return softAggregationObjects(rt, decoderLogits);
        });
        const objects = head.objects.map((view): ObjectSegment => {
          const quality = this.quality ? this.quality.forward(rt, r4, view.qualityInput) : null;
          view.qualityInput.dispose();
          return { probability: view.ps, foreground: view.foreground, quality };
        });
        return {
          objects,
          logits: head.logits,
          dispose() {
            for (const o of objects) for (const t of [o.probability, o.foreground, o.quality]) t?.dispose();
            head.logits.dispose();
          },
        };
      } finally {
        if (query !== frame) query.dispose();
      }
    });
  }

  /** Releases every GPU weight and memory bank; the network is unusable afterwards. Memory entries are the caller's to dispose. */
  dispose(): void {
    this.banks.dispose();
    this.weights.dispose();
  }

  /** Attention over every memorized key (the entries' rows concatenated in a memory bank). */
  private read(memory: readonly MemoryEntry[], queryKey: Tensor): Tensor {
    const { keys, values } = memory.length === 1 ? { keys: memory[0].key, values: memory[0].value } : this.banks.rows(memory, 'memory bank');
    return memoryRead(this.rt, keys, values, queryKey);
  }

  /** [H, W] of a frame batch of `items` frames or of the frame a query encoding came from. */
  private frameSize(frame: Tensor | QueryEncoding, op: string, items: number): [number, number] {
    if (frame instanceof QueryEncoding) {
      if (this.weights.disposed) throw new Error(`${op}: this MemoryNetwork was disposed`);
      if (frame.disposed) throw new Error(`${op}: the query encoding was disposed`);
      return [frame.frameSize[0], frame.frameSize[1]];
    }
    const [, H, W] = this.checkFrame(frame, op, items);
    return [H, W];
  }

  private checkMemory(op: string, memory: readonly MemoryEntry[], H: number, W: number, what: string): void {
    if (memory.length === 0) throw new RangeError(`${op}: ${what}the memory is empty; memorize at least one annotated slice first`);
    memory.forEach((m, i) => {
      if (m.disposed) throw new Error(`${op}: ${what}memory entry ${i} was disposed`);
      const [h, w] = m.frameSize;
      if (h !== H || w !== W) throw new RangeError(`${op}: ${what}memory entry ${i} was built from ${h}x${w} frames, this frame is ${H}x${W}: every memory entry must come from frames of the segmented frame's size`);
    });
  }

  /** [N, H, W, 3] of a preprocessed frame batch, after checking it (`items`: the N it must have). */
  private checkFrame(frame: Tensor, op: string, items?: number): [number, number, number, number] {
    if (this.weights.disposed) throw new Error(`${op}: this MemoryNetwork was disposed`);
    frame.assertLive(op);
    const [n, h, w, c] = frame.shape;
    if (frame.shape.length !== 4 || !(n >= 1) || (items !== undefined && n !== items) || c !== 3 || frame.dtype !== 'f32') {
      const expected = items === undefined ? 'an f32 [N, H, W, 3] tensor' : `an f32 [${items}, H, W, 3] tensor`;
      throw new RangeError(`${op}: frame must be ${expected} (see preprocessFrame), got ${frame.dtype} [${frame.shape.join(', ')}]`);
    }
    if (h % 16 !== 0 || w % 16 !== 0 || h < 32 || w < 32) {
      throw new RangeError(`${op}: frame size ${h}x${w} is not supported: height and width must be multiples of 16 and at least 32 (the encoders reduce by 16; 512x512 reproduces the original exactly)`);
    }
    checkFinite(frame, op, 'frame');
    return [n, h, w, c];
  }
}

/**
 * Refuses NaN / Inf that came from the CPU: `rt.upload` records the first one it
 * saw. Tensors computed on the GPU are not scanned (that would cost a readback).
 */
function checkFinite(t: Tensor, op: string, what: string): void {
  if (t.firstNonFinite >= 0) throw new RangeError(`${op}: the ${what} '${t.label}' holds a non-finite value (NaN or Inf) at element ${t.firstNonFinite}`);
}
