// The memory network of Mem3D: `models_SAQ.STM` (variant 'qamn', with the quality
// head) and `models.STM` (variant 'stm'), one object, in test phase.
//
//   memorize(frame, mask)      -> a GPU-resident memory entry (key, value of r4)
//   segment(frame, memory[])   -> probability, soft-aggregated logits, quality
import { conv2d, prepareConv2d, type Conv2dWeights } from '../../ops/conv2d.ts';
import { memoryRead, concatRows } from '../../ops/memory-read.ts';
import { copyIntoChannels } from '../../ops/channels.ts';
import { softAggregation } from '../../ops/soft-aggregation.ts';
import type { Runtime } from '../../runtime/runtime.ts';
import type { Tensor } from '../../runtime/tensor.ts';
import { ParamLoader, type TensorSpec } from '../../weights/loader.ts';
import type { WeightSource } from '../../weights/source.ts';
import { Decoder, type Variant } from './decoder.ts';
import { Encoder_M, Encoder_Q, KeyValue } from './encoders.ts';
import { QualityHead } from './quality.ts';

export type { Variant } from './decoder.ts';

export const KEYDIM = 128;
export const VALDIM = 512;

/** One memorized slice: its key [1, h, w, 128] and value [1, h, w, 512] at 1/16 resolution. */
export class MemoryEntry {
  constructor(readonly key: Tensor, readonly value: Tensor) {}

  get bytes(): number {
    return this.key.byteLength + this.value.byteLength;
  }

  get disposed(): boolean {
    return this.key.disposed;
  }

  dispose(): void {
    this.key.dispose();
    this.value.dispose();
  }
}

export interface SegmentResult {
  /** ps = softmax(decoder logits)[1]: [1, H, W, 1] */
  probability: Tensor;
  /** Soft-aggregated log-odds [1, H, W, 2] (ill-conditioned where the probability saturates). */
  logits: Tensor;
  /** softmax(logits)[1] [1, H, W, 1]: the mask the original memorizes for this slice. */
  foreground: Tensor;
  /** Quality score in [0, 1] ([1, 1]); null for the STM variant. */
  quality: Tensor | null;
  /** Present with `{ intermediates: true }`: the query key, the memory read and the decoder logits. */
  intermediates?: { queryKey: Tensor; memoryRead: Tensor; decoderLogits: Tensor };
  dispose(): void;
}

export class MemoryNetwork {
  private constructor(
    private readonly rt: Runtime,
    readonly variant: Variant,
    private readonly Encoder_M: Encoder_M,
    private readonly Encoder_Q: Encoder_Q,
    private readonly KV_M_r4: KeyValue,
    private readonly KV_Q_r4: KeyValue,
    private readonly Decoder: Decoder,
    private readonly quality: QualityHead | null,
    /** A 1x1 conv with weights (0, 1): picks the object channel of a one-hot pair exactly. */
    private readonly objectChannel: Conv2dWeights,
    readonly weightBytes: number,
  ) {}

  /** Uploads the weights once; throws a WeightMismatchError naming every missing, mis-shaped or unexpected tensor. */
  static load(rt: Runtime, source: WeightSource, options: { variant: Variant }): MemoryNetwork {
    const variant = options.variant;
    if (variant !== 'qamn' && variant !== 'stm') throw new Error(`unknown memory network variant '${variant}' (expected 'qamn' or 'stm')`);
    const before = rt.memoryStats().liveBytes;
    const p = new ParamLoader(rt, source);
    const m = MemoryNetwork.modules(p, variant);
    // Before anything is uploaded outside the loader: a failed load releases all it uploaded.
    p.finish();
    const net = new MemoryNetwork(
      rt,
      variant,
      m.Encoder_M,
      m.Encoder_Q,
      m.KV_M_r4,
      m.KV_Q_r4,
      m.Decoder,
      m.quality,
      prepareConv2d(rt, { weight: new Float32Array([0, 1]), shape: [1, 2, 1, 1], label: 'one-hot object channel' }),
      0,
    );
    (net as { weightBytes: number }).weightBytes = rt.memoryStats().liveBytes - before;
    return net;
  }

  /** The state_dict tensors (names, PyTorch shapes) a variant expects, e.g. to validate a converted checkpoint. */
  static expectedTensors(variant: Variant): TensorSpec[] {
    return ParamLoader.expectedTensors((p) => MemoryNetwork.modules(p, variant));
  }

  private static modules(p: ParamLoader, variant: Variant) {
    return {
      Encoder_M: new Encoder_M(p),
      Encoder_Q: new Encoder_Q(p),
      KV_M_r4: new KeyValue(p, 'KV_M_r4', 1024, KEYDIM, VALDIM),
      KV_Q_r4: new KeyValue(p, 'KV_Q_r4', 1024, KEYDIM, VALDIM),
      Decoder: new Decoder(p, variant, 2 * VALDIM, 256),
      quality: variant === 'qamn' ? new QualityHead(p) : null,
    };
  }

  /**
   * frame [1, H, W, 3] (preprocessed); mask [1, H, W, 1], the object's probability,
   * or [1, H, W, 2], a one-hot / softmax pair (background, object) of which the
   * original reads the object channel only.
   */
  memorize(frame: Tensor, mask: Tensor): MemoryEntry {
    this.checkFrame(frame, 'memorize');
    mask.assertLive('memorize');
    const [, H, W] = frame.shape;
    if (mask.shape.length !== 4 || mask.shape[0] !== 1 || mask.shape[1] !== H || mask.shape[2] !== W || (mask.shape[3] !== 1 && mask.shape[3] !== 2)) {
      throw new RangeError(`memorize: mask must be [1, ${H}, ${W}, 1] (object probability) or [1, ${H}, ${W}, 2] (background, object), got [${mask.shape.join(', ')}]`);
    }
    const object = mask.shape[3] === 2 ? conv2d(this.rt, mask, this.objectChannel) : mask;
    const r4 = this.Encoder_M.forward(this.rt, frame, object);
    if (object !== mask) object.dispose();
    const entry = new MemoryEntry(this.KV_M_r4.key(this.rt, r4), this.KV_M_r4.value(this.rt, r4));
    r4.dispose();
    return entry;
  }

  segment(frame: Tensor, memory: readonly MemoryEntry[], options: { intermediates?: boolean } = {}): SegmentResult {
    const rt = this.rt;
    const [, H, W] = this.checkFrame(frame, 'segment');
    if (memory.length === 0) throw new RangeError('segment: the memory is empty; memorize at least one annotated slice first');
    const stale = memory.findIndex((m) => m.disposed);
    if (stale >= 0) throw new Error(`segment: memory entry ${stale} was disposed`);
    const { r4, r3, r2 } = this.Encoder_Q.forward(rt, frame);
    const queryKey = this.KV_Q_r4.key(rt, r4);
    // The decoder reads cat([memory read, query value]): the value conv writes its window directly.
    const m4 = rt.empty([1, r4.shape[1], r4.shape[2], 2 * VALDIM], 'f32', 'memory out');
    this.KV_Q_r4.value(rt, r4, { tensor: m4, channelOffset: VALDIM });
    const keys = memory.length === 1 ? memory[0].key : concatRows(rt, memory.map((m) => m.key), { label: 'memory keys' });
    const values = memory.length === 1 ? memory[0].value : concatRows(rt, memory.map((m) => m.value), { label: 'memory values' });
    const read = memoryRead(rt, keys, values, queryKey);
    if (memory.length > 1) {
      keys.dispose();
      values.dispose();
    }
    copyIntoChannels(rt, read, m4, 0);
    const decoderLogits = this.Decoder.forward(rt, m4, r3, r2, [H, W]);
    m4.dispose();
    r3.dispose();
    r2.dispose();
    const head = softAggregation(rt, decoderLogits);
    const quality = this.quality ? this.quality.forward(rt, r4, head.qualityInput) : null;
    r4.dispose();
    head.qualityInput.dispose();
    const intermediates = options.intermediates ? { queryKey, memoryRead: read, decoderLogits } : undefined;
    if (!intermediates) {
      queryKey.dispose();
      read.dispose();
      decoderLogits.dispose();
    }
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
  }

  dispose(): void {
    this.Encoder_M.dispose();
    this.Encoder_Q.dispose();
    this.KV_M_r4.dispose();
    this.KV_Q_r4.dispose();
    this.Decoder.dispose();
    this.quality?.dispose();
    this.objectChannel.dispose();
  }

  private checkFrame(frame: Tensor, op: string): [number, number, number, number] {
    frame.assertLive(op);
    const [n, h, w, c] = frame.shape;
    if (frame.shape.length !== 4 || n !== 1 || c !== 3 || frame.dtype !== 'f32') {
      throw new RangeError(`${op}: frame must be an f32 [1, H, W, 3] tensor (see preprocessFrame), got ${frame.dtype} [${frame.shape.join(', ')}]`);
    }
    if (h % 16 !== 0 || w % 16 !== 0 || h < 32 || w < 32) {
      throw new RangeError(`${op}: frame size ${h}x${w} is not supported: height and width must be multiples of 16 and at least 32 (the encoders reduce by 16; 512x512 reproduces the original exactly)`);
    }
    return [n, h, w, c];
  }
}
