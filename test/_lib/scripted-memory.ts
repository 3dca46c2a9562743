// Scripted CPU memory networks for the session's tests (session-ahead, session-lanes):
// each answer mixes the slice's pixels with every mask it memorized, so a wrong or
// missing mask shows; every call is logged, and results come after a timer, as a
// readback does.
import * as assert from 'uvu/assert';
import type { HeldMask, MemorySlot, ObjectOutput, SliceMemoryNetwork, StepOutput } from '../../src/session/memory.ts';
import type { Interactive3DSession, SliceStack } from '../../src/session/session.ts';
import type { SliceImage } from '../../src/session/slice-segmenter.ts';
import type { SliceLayout } from '../../src/volume/layout.ts';

export const [W, H, D] = [5, 3, 13];
export const N = W * H;

/** Pixel (0, 0) of slice z holds z (it stays put under a transpose); the rest is a pattern. */
export const stack: SliceStack = { width: W, height: H, depth: D, slice: (z) => Uint8Array.from({ length: N }, (_, i) => (i === 0 ? z : 100 + ((i * 7) % 13))) };

export interface Slot extends MemorySlot {
  slice: number;
  mask: Float32Array;
  disposed: boolean;
}

export class Held implements HeldMask {
  disposed = false;
  constructor(readonly mask: Float32Array) {}
  dispose(): void {
    this.disposed = true;
  }
}

/** Its answer for a slice mixes the slice's pixels with every memorized mask, so a wrong or missing mask shows. */
export function answer(frame: SliceImage, memory: readonly Slot[]): StepOutput {
  const z = frame.data[0];
  const foreground = Float32Array.from({ length: frame.data.length }, (_, i) => {
    let s = (frame.data[i] * 0.013 + z * 0.07) % 1;
    for (const m of memory) s = (s + 0.61 * m.mask[i] + 0.01 * m.slice) % 1;
    return s;
  });
  return { foreground, quality: 0.3 + z / 100 };
}

export class ScriptedMemory implements SliceMemoryNetwork<Slot> {
  readonly memorized: Slot[] = [];
  readonly held: Held[] = [];
  readonly log: string[] = [];
  /** Called as each step is queued (segment or segmentAhead), with its slice. */
  onQueue: (z: number) => void = () => {};
  /** Makes slice z's result fail. */
  failAt: number | null = null;
  constructor(readonly sliceLayout?: SliceLayout) {}

  memorize(frame: SliceImage, mask: Float32Array): Slot {
    const slot: Slot = { slice: frame.data[0], mask: Float32Array.from(mask), disposed: false, dispose: () => void (slot.disposed = true) };
    this.memorized.push(slot);
    this.log.push(`memorize ${slot.slice}`);
    return slot;
  }

  segment(frame: SliceImage, memory: readonly Slot[]): Promise<StepOutput> {
    return this.queue(frame, memory).result;
  }

  segmentAhead(frame: SliceImage, memory: readonly Slot[]): { result: Promise<StepOutput>; held: Held } {
    const { result, out } = this.queue(frame, memory);
    const held = new Held(out.foreground);
    this.held.push(held);
    return { result, held };
  }

  private queue(frame: SliceImage, memory: readonly Slot[]) {
    assert.ok(memory.every((m) => !m.disposed), 'a step got a disposed memory slot');
    const z = frame.data[0];
    this.log.push(`segment ${z} [${memory.map((m) => m.slice)}]`);
    this.onQueue(z);
    const out = answer(frame, memory);
    // A real network answers later: resolve after a timer, as a readback does.
    const result = new Promise<StepOutput>((resolve, reject) => setTimeout(() => (z === this.failAt ? reject(new Error(`step ${z} failed`)) : resolve(out)), 1));
    return { result, out };
  }

  memorizeHeld(frame: SliceImage, held: HeldMask): Slot {
    assert.ok(held instanceof Held && !held.disposed, 'memorizeHeld got a disposed or foreign mask');
    return this.memorize(frame, (held as Held).mask);
  }
}

/** With a joint step: each object's answer from its own memory, scaled by its rank (an aggregation stand-in), ahead or not. */
export class JointScriptedMemory extends ScriptedMemory {
  segmentObjects(frame: SliceImage, memories: readonly (readonly Slot[])[]): Promise<{ objects: ObjectOutput[] }> {
    return this.queueObjects(frame, memories).result;
  }

  segmentObjectsAhead(frame: SliceImage, memories: readonly (readonly Slot[])[]): { result: Promise<{ objects: ObjectOutput[] }>; held: Held[] } {
    const { result, objects } = this.queueObjects(frame, memories);
    const held = objects.map((o) => new Held(o.foreground));
    this.held.push(...held);
    return { result, held };
  }

  private queueObjects(frame: SliceImage, memories: readonly (readonly Slot[])[]) {
    this.log.push(`segmentObjects ${frame.data[0]} [${memories.map((m) => `[${m.map((s) => s.slice)}]`)}]`);
    const objects = memories.map((memory, k) => {
      assert.ok(memory.every((m) => !m.disposed), 'a joint step got a disposed memory slot');
      const { foreground: probability, quality } = answer(frame, memory);
      return { probability, foreground: probability.map((v) => v / (k + 2)), quality };
    });
    const result = new Promise<{ objects: ObjectOutput[] }>((resolve) => setTimeout(() => resolve({ objects }), 1));
    return { result, objects };
  }
}

/** The same network behind memorize / segment only: the session reads every step back before the next. */
export function stepByStep(net: ScriptedMemory): SliceMemoryNetwork<Slot> {
  return { sliceLayout: net.sliceLayout, memorize: (f, m) => net.memorize(f, m), segment: (f, m) => net.segment(f, m) };
}

/**
 * Cancels `s`'s propagation once `doneAt` slices are done and checks the cancel: an
 * AbortError, the session as before it (only slice `annotated` annotated, the rest empty)
 * and every memory slot and held mask of `net` released.
 */
export async function assertCancelRestores(s: Interactive3DSession, net: ScriptedMemory, annotated: number, doneAt: number): Promise<void> {
  const controller = new AbortController();
  let error: unknown = null;
  await s.propagate({ signal: controller.signal, onProgress: (p) => p.done === doneAt && controller.abort() }).catch((e) => (error = e));
  assert.is((error as Error)?.name, 'AbortError');
  for (let z = 0; z < D; z++) assert.is(s.state(z).source, z === annotated ? 'annotated' : 'empty', `slice ${z}`);
  assert.ok(net.memorized.every((m) => m.disposed), 'memory slots released');
  assert.ok(net.held.every((h) => h.disposed), 'held masks released');
}
