// The memory network as the session uses it: slices and masks in, a mask and a quality
// score out, on plain arrays. The GPU network sits behind GpuSliceMemory; tests script
// the interface and record every call (test/session-scripted.test.ts).
import { MemoryNetwork, type MemoryEntry, type ObjectsSegmentResult, type SegmentResult } from '../networks/mem3d/memory-network.ts';
import { frameTable } from '../networks/mem3d/preprocess.ts';
import { stackItems, takeItem } from '../ops/channels.ts';
import { greyFrames, zeroOutside } from '../ops/frame.ts';
import type { Tensor } from '../runtime/tensor.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { SliceLayout } from '../volume/layout.ts';
import type { SliceImage } from './slice-segmenter.ts';

/** One memorized slice, held until the session disposes it. */
export interface MemorySlot {
  dispose(): void;
}

/** A step's foreground kept where the network runs, for the next step's memorizeHeld; dispose() may be called more than once. */
export interface HeldMask {
  dispose(): void;
}

export type StepOutput = { foreground: Float32Array; quality: number | null };

/** One object of a joint step (segmentObjects). */
export type ObjectOutput = { probability: Float32Array; foreground: Float32Array; quality: number | null };

export interface SliceMemoryNetwork<Slot extends MemorySlot = MemorySlot> {
  /** The layout the network's weights were trained with; the session transposes at this boundary when it differs. */
  readonly sliceLayout?: SliceLayout;
  /** Memorizes a slice with its object probability (width * height, row-major; 0 / 1 for an annotated slice). */
  memorize(frame: SliceImage, mask: Float32Array): Slot;
  /** The object probability of `frame` read from `memory`, and the quality head's score (null without one). */
  segment(frame: SliceImage, memory: readonly Slot[]): Promise<StepOutput>;
  /**
   * Optional, with memorizeHeld (both or neither): segment() that returns as soon as the
   * step is queued, its result to come, and the foreground held by the network for
   * memorizeHeld(). The session then queues step t + 1 before it reads step t back and
   * stores it, so a GPU never waits for the host between slices. The numbers are those
   * of segment() and memorize() with the foreground read back.
   */
  segmentAhead?(frame: SliceImage, memory: readonly Slot[]): { result: Promise<StepOutput>; held: HeldMask };
  /** memorize() of a mask held by segmentAhead (the held mask stays the caller's to dispose). */
  memorizeHeld?(frame: SliceImage, held: HeldMask): Slot;
  /** How many steps it prefers to batch (the session's default `lanes`); 1 when absent. */
  readonly preferredLanes?: number;
  /**
   * Optional, both or neither, with segmentAhead and memorizeHeld: steps of propagations
   * that do not depend on each other (the two directions from an annotated slice) as one
   * batch. memorizeHeldBatch is memorizeHeld of each item; segmentBatchAhead is segmentAhead
   * of each item (frame b read from its own memory), one result for all. The numbers are
   * each item's alone, up to f32 rounding (a batched layer may sum in another order).
   */
  memorizeHeldBatch?(items: readonly { frame: SliceImage; held: HeldMask }[]): Slot[];
  segmentBatchAhead?(items: readonly { frame: SliceImage; memory: readonly Slot[] }[]): { result: Promise<StepOutput[]>; held: HeldMask[] };
  /**
   * Several objects on one frame at once, the original's multi-object step: memories[k] is object k's
   * own memory (its keys / values only). Per object: `probability`, the decoder's ps_k (width * height);
   * `foreground`, softmax(Soft_aggregation over [background, object 1..K])[k + 1], which object k
   * memorizes next (the aggregation makes the objects compete: their foregrounds sum to at most 1 and at
   * most one exceeds 1/2 at a pixel); `quality`, the quality head's score on the object's binary view.
   * With one object it returns exactly segment()'s numbers. Optional: a session falls back to
   * segment() per object without it.
   */
  segmentObjects?(frame: SliceImage, memories: readonly (readonly Slot[])[]): Promise<{ objects: ObjectOutput[] }>;
  /** Optional, with segmentObjects and memorizeHeld: segmentObjects queued, each object's foreground held (as segmentAhead). */
  segmentObjectsAhead?(frame: SliceImage, memories: readonly (readonly Slot[])[]): { result: Promise<{ objects: ObjectOutput[] }>; held: HeldMask[] };
  /**
   * Optional: queues a propagation's work through frames of this size (`lanes` steps
   * batched, memories of up to `memoryFrames` entries, joint steps of `objects`) on blank
   * input, reading nothing back and releasing all it makes, for Runtime.warmupFrom to
   * record (Interactive3DSession.warmup).
   */
  recordSteps?(width: number, height: number, options: { lanes: number; memoryFrames: number; objects?: number }): void;
}

/** Lanes (steps batched) a session gives the WebGPU memory network unless told otherwise: GpuSliceMemory.preferredLanes. */
export const DEFAULT_LANES = 2;

/**
 * The WebGPU memory network behind the session's interface. It runs on frames padded
 * with zeros at the bottom and right to multiples of 16 (at least 32), and crops its
 * output back: the session never sees the padding. It holds masks for the next step
 * (segmentAhead and the like) and batches steps (segmentBatchAhead, memorizeHeldBatch).
 */
export class GpuSliceMemory implements SliceMemoryNetwork<MemoryEntry> {
  constructor(private readonly rt: Runtime, readonly net: MemoryNetwork) {}

  get sliceLayout(): SliceLayout | undefined {
    return (this.net as { sliceLayout?: SliceLayout }).sliceLayout;
  }

  /**
   * DEFAULT_LANES: the two directions from an annotated slice step together. A GPU gets twice the
   * work in each dispatch of the 32x32 layers one 512x512 frame cannot fill; the host
   * encodes each layer once for both (a third less host time per slice at 256x256 on
   * Dawn's null backend); lavapipe runs a 128x128 slice 8-12% faster (bench/RESULTS.md).
   */
  readonly preferredLanes = DEFAULT_LANES;

  memorize(frame: SliceImage, mask: Float32Array): MemoryEntry {
    // The scope releases the frame and the uploaded mask; the entry is the network's to keep.
    return this.rt.scope(() => {
      const f = this.frame(frame);
      return this.net.memorize(f, this.rt.upload([1, f.shape[1], f.shape[2], 1], pad(mask, frame.width, frame.height, f.shape[2], f.shape[1]), 'f32', 'memory mask'));
    });
  }

  async segment(frame: SliceImage, memory: readonly MemoryEntry[]): Promise<StepOutput> {
    return this.readStep(frame, this.segmentQueued(frame, memory));
  }

  segmentAhead(frame: SliceImage, memory: readonly MemoryEntry[]): { result: Promise<StepOutput>; held: HeldMask } {
    const { result, held } = this.queueAhead(frame, memory);
    return { result: this.readStep(frame, result), held };
  }

  memorizeHeld(frame: SliceImage, held: HeldMask): MemoryEntry {
    return this.rt.scope(() => this.net.memorize(this.frame(frame), heldMask('memorizeHeld', held)));
  }

  memorizeHeldBatch(items: readonly { frame: SliceImage; held: HeldMask }[]): MemoryEntry[] {
    const masks = items.map((item) => heldMask('memorizeHeldBatch', item.held));
    return this.rt.scope(() => this.net.memorizeBatch(this.frames(items.map((item) => item.frame)), stackItems(this.rt, masks, 'memory masks')));
  }

  segmentBatchAhead(items: readonly { frame: SliceImage; memory: readonly MemoryEntry[] }[]): { result: Promise<StepOutput[]>; held: HeldMask[] } {
    const frames = items.map((item) => item.frame);
    const { result, held } = this.queueBatchAhead(frames, items.map((item) => item.memory));
    return { result: this.readBatch(frames, result), held };
  }

  /**
   * A propagation's GPU work through slices of this size, on blank frames, for
   * Runtime.warmupFrom to record (the session's warmup): the annotated slice memorized,
   * then a step alone, `lanes` steps as one batch and, with several `objects`, their joint
   * step, each foreground memorized, reading memories of 1, 2 and `memoryFrames` entries
   * (the memory's size picks the read's kernels and the convs' tiles follow the batch).
   * Releases all it makes; reads nothing back.
   */
  recordSteps(width: number, height: number, { lanes, memoryFrames, objects = 1 }: { lanes: number; memoryFrames: number; objects?: number }): void {
    const blank: SliceImage = { width, height, data: new Uint8Array(width * height) };
    const made: { dispose(): void }[] = [];
    try {
      const annotated = this.memorize(blank, new Float32Array(width * height));
      made.push(annotated);
      for (const frames of new Set([1, 2, Math.max(1, memoryFrames)])) {
        const memory = Array.from({ length: frames }, () => annotated);
        const one = this.queueAhead(blank, memory);
        made.push(one.result, one.held, this.memorizeHeld(blank, one.held));
        if (objects > 1) {
          const joint = this.queueObjectsAhead(blank, Array.from({ length: objects }, () => memory));
          made.push(joint.result, ...joint.held);
        }
        if (lanes < 2) continue;
        const batch = this.queueBatchAhead(Array.from({ length: lanes }, () => blank), Array.from({ length: lanes }, () => memory));
        made.push(batch.result, ...batch.held, ...this.memorizeHeldBatch(batch.held.map((held) => ({ frame: blank, held }))));
      }
    } finally {
      for (const m of made.reverse()) m.dispose();
    }
  }

  /** segmentAhead's GPU work, queued: the step, and its foreground held for the next memorize. */
  private queueAhead(frame: SliceImage, memory: readonly MemoryEntry[]): { result: SegmentResult; held: GpuHeldMask } {
    const result = this.segmentQueued(frame, memory);
    try {
      // The held mask is memorized next: its padding goes back to 0, as a mask padded with zeros (kernels/window.wgsl).
      return { result, held: new GpuHeldMask(this.rt.keep(zeroOutside(this.rt, result.foreground, frame))) };
    } catch (e) {
      result.dispose();
      throw e;
    }
  }

  /** segmentBatchAhead's GPU work, queued: the steps as one batch, and each item's foreground held. */
  private queueBatchAhead(frames: readonly SliceImage[], memories: readonly (readonly MemoryEntry[])[]): { result: SegmentResult; held: GpuHeldMask[] } {
    const result = this.rt.scope(() => this.net.segmentBatch(this.frames(frames), memories));
    const held: GpuHeldMask[] = [];
    try {
      this.rt.scope(() => {
        const zeroed = zeroOutside(this.rt, result.foreground, frames[0]);
        for (let b = 0; b < frames.length; b++) held.push(new GpuHeldMask(this.rt.keep(takeItem(this.rt, zeroed, b, 'held mask'))));
      });
    } catch (e) {
      for (const h of held) h.dispose();
      result.dispose();
      throw e;
    }
    return { result, held };
  }

  /** The step's GPU work, queued. */
  private segmentQueued(frame: SliceImage, memory: readonly MemoryEntry[]) {
    return this.rt.scope(() => this.net.segment(this.frame(frame), memory));
  }

  /** Reads a queued step back (mask and score in one readback; the readback is submitted before this returns) and releases it. */
  private async readStep(frame: SliceImage, result: SegmentResult): Promise<StepOutput> {
    return (await this.readBatch([frame], result))[0];
  }

  /** Reads a queued batch back (masks and scores in one readback) and releases it. */
  private async readBatch(frames: readonly SliceImage[], result: SegmentResult): Promise<StepOutput[]> {
    try {
      const [padded, quality] = await this.rt.readMany(result.quality ? [result.foreground, result.quality] : [result.foreground]);
      const [, ph, pw] = result.foreground.shape;
      return frames.map((frame, b) => ({
        foreground: crop((padded as Float32Array).subarray(b * ph * pw, (b + 1) * ph * pw), pw, frame.width, frame.height),
        quality: quality ? quality[b] : null,
      }));
    } finally {
      result.dispose();
    }
  }

  async segmentObjects(frame: SliceImage, memories: readonly (readonly MemoryEntry[])[]): Promise<{ objects: ObjectOutput[] }> {
    return this.readObjects(frame, this.segmentObjectsQueued(frame, memories));
  }

  segmentObjectsAhead(frame: SliceImage, memories: readonly (readonly MemoryEntry[])[]): { result: Promise<{ objects: ObjectOutput[] }>; held: HeldMask[] } {
    const { result, held } = this.queueObjectsAhead(frame, memories);
    return { result: this.readObjects(frame, result), held };
  }

  /** segmentObjectsAhead's GPU work, queued: the joint step, and each object's foreground held. */
  private queueObjectsAhead(frame: SliceImage, memories: readonly (readonly MemoryEntry[])[]): { result: ObjectsSegmentResult; held: GpuHeldMask[] } {
    const result = this.segmentObjectsQueued(frame, memories);
    const held: GpuHeldMask[] = [];
    try {
      for (const o of result.objects) held.push(new GpuHeldMask(this.rt.keep(zeroOutside(this.rt, o.foreground, frame))));
    } catch (e) {
      for (const h of held) h.dispose();
      result.dispose();
      throw e;
    }
    return { result, held };
  }

  private segmentObjectsQueued(frame: SliceImage, memories: readonly (readonly MemoryEntry[])[]) {
    return this.rt.scope(() => this.net.segmentObjects(this.frame(frame), memories));
  }

  /** Reads a queued joint step back in one readback and releases it. */
  private async readObjects(frame: SliceImage, result: ObjectsSegmentResult): Promise<{ objects: ObjectOutput[] }> {
    try {
      const tensors = result.objects.flatMap((o) => (o.quality ? [o.probability, o.foreground, o.quality] : [o.probability, o.foreground]));
      const values = await this.rt.readMany(tensors);
      let next = 0;
      const objects = result.objects.map((o) => {
        const pw = o.probability.shape[2];
        const probability = crop(values[next++] as Float32Array, pw, frame.width, frame.height);
        const foreground = crop(values[next++] as Float32Array, pw, frame.width, frame.height);
        return { probability, foreground, quality: o.quality ? values[next++][0] : null };
      });
      return { objects };
    } finally {
      result.dispose();
    }
  }

  /** The network's frame, preprocessed and padded on the GPU from the slice's bytes. */
  private frame(image: SliceImage) {
    return this.frames([image]);
  }

  /** Frames of one size as one batch [N, H, W, 3]. */
  private frames(images: readonly SliceImage[]) {
    if (images.length === 0) throw new RangeError('memory network batch: no frames');
    const [{ width, height }] = images;
    if (images.some((image) => image.width !== width || image.height !== height)) {
      throw new RangeError(`memory network batch: frames differ in size (${images.map((image) => `${image.width}x${image.height}`).join(', ')})`);
    }
    return greyFrames(this.rt, images.map((image) => image.data), { width, height }, { width: paddedSide(width), height: paddedSide(height) }, FRAME_TABLE);
  }
}

/** The tensor of a mask this network held (segmentAhead and the like), after checking it is one and live. */
function heldMask(op: string, held: HeldMask): Tensor {
  if (!(held instanceof GpuHeldMask) || held.disposed) throw new TypeError(`${op}: the mask must come from this memory network's segmentAhead, segmentBatchAhead or segmentObjectsAhead and be live`);
  return held.mask;
}

const FRAME_TABLE = frameTable();

class GpuHeldMask implements HeldMask {
  constructor(readonly mask: Tensor) {}

  get disposed(): boolean {
    return this.mask.disposed;
  }

  dispose(): void {
    if (!this.mask.disposed) this.mask.dispose();
  }
}

/** The memory network needs sides that are multiples of 16, at least 32. */
const paddedSide = (n: number) => Math.max(32, Math.ceil(n / 16) * 16);

function pad(src: Float32Array, width: number, height: number, pw: number, ph: number): Float32Array {
  if (pw === width && ph === height) return src;
  const out = new Float32Array(pw * ph);
  for (let y = 0; y < height; y++) out.set(src.subarray(y * width, (y + 1) * width), y * pw);
  return out;
}

function crop(src: Float32Array, pw: number, width: number, height: number): Float32Array {
  if (pw === width && src.length === width * height) return src;
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) out.set(src.subarray(y * pw, y * pw + width), y * width);
  return out;
}

/** The session's view of a memory network: a WebGPU MemoryNetwork gets the GPU adapter. */
export function asSliceMemory(rt: Runtime | null, memory: MemoryNetwork | SliceMemoryNetwork): SliceMemoryNetwork {
  if (!(memory instanceof MemoryNetwork)) return memory;
  if (!rt) throw new TypeError('session: a WebGPU memory network needs the runtime');
  return new GpuSliceMemory(rt, memory);
}
