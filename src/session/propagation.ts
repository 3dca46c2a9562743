// Walking a propagation's sweeps (session.ts plans them and keeps what they give): the
// memory network's steps slice by slice, up to `lanes` sweeps side by side, with the
// original's memory rule (the top of session.ts). The session answers through
// PropagationContext: the frames and masks in the network's layout, where results go.
import type { HeldMask, MemorySlot, ObjectOutput, SliceMemoryNetwork, StepOutput } from './memory.ts';
import type { Run, Sweep } from './propagation-plan.ts';
import type { SliceImage } from './slice-segmenter.ts';
import { softAggregate } from './structures.ts';

/** One structure's result of a step. */
export interface StepResult {
  probability: Float32Array;
  foreground: Float32Array;
  quality: number | null;
  /** The foreground in the memory network's layout: what the next step memorizes (no transpose back and forth). */
  memoryMask: Float32Array;
}

/** What a walk needs from the session. Masks are in the engine's layout unless said. */
export interface PropagationContext {
  readonly memory: SliceMemoryNetwork;
  /** The original's save_freq: every memoryEvery-th memorized slice is kept. */
  readonly memoryEvery: number;
  /** Slice z as the memory network takes it (its layout). */
  networkFrame(z: number): SliceImage;
  /** Structure `structure`'s annotated or locked mask of slice z. */
  fixedMask(structure: number, z: number): Uint8Array;
  /** A mask in the engine's layout in the network's, and back. */
  toNetwork(mask: Float32Array): Float32Array;
  fromNetwork(mask: Float32Array): Float32Array;
  /** Keeps a structure's result of slice z. */
  store(structure: number, z: number, result: StepResult): void;
  /** Slice z is stored for every structure its step segmented. */
  stepDone(z: number, structures: number[]): void;
}

/** A run's state while its sweep walks. */
interface Live {
  kept: MemorySlot[];
  /** The slice memorized next and its mask in the network's layout: an array, a held mask, or null while its step's result is still to come. */
  prev: { z: number; mask: Float32Array | HeldMask | null };
  k: number;
}

/** A step queued on the network, to be read back and stored. */
interface Queued {
  z: number;
  active: Run[];
  states: Live[];
  results: Promise<StepResult[]>;
}

export class SweepWalk {
  private readonly memory: SliceMemoryNetwork;

  constructor(private readonly session: PropagationContext) {
    this.memory = session.memory;
  }

  /**
   * Walks the sweeps' slices, up to `lanes` sweeps side by side (a pending sweep takes a
   * lane as soon as one is free; sweeps never depend on each other). Where the network
   * holds a step's masks for the next memorize (segmentAhead, segmentObjectsAhead for a
   * joint step, and memorizeHeld), a lane's step z + 1 is queued before its step z is read
   * back and stored, so the host's work on a slice overlaps the network's on the next;
   * otherwise each step is read back before the next memorizes its mask. The lanes' steps
   * go to a network that batches (memorizeHeldBatch, segmentBatchAhead) as one batch: the
   * two directions from an annotated slice step together. With one lane, the same calls
   * and numbers either way.
   */
  async run(sweeps: readonly Sweep[], lanes: number, signal: AbortSignal | undefined, onSweepDone: (sweep: Sweep) => void): Promise<void> {
    interface Lane {
      sweep: Sweep;
      /** Index of the lane's next slice in sweep.slices. */
      next: number;
      live: Map<Run, Live>;
      pending: Queued | null;
      frameOf: (z: number) => SliceImage;
    }
    interface Step {
      lane: Lane;
      z: number;
      active: Run[];
      states: Live[];
    }
    const waiting = [...sweeps];
    const running: Lane[] = [];
    const release = (st: Live) => {
      if (isHeld(st.prev.mask)) st.prev.mask.dispose();
      for (const e of st.kept) e.dispose();
    };
    const finish = async (lane: Lane, step: Queued) => {
      const results = await step.results;
      step.active.forEach((run, i) => {
        const st = step.states[i];
        this.session.store(run.structure, step.z, results[i]);
        if (st.prev.z === step.z && st.prev.mask === null) st.prev.mask = results[i].memoryMask;
        if (run.slices[run.slices.length - 1] === step.z) {
          release(st);
          lane.live.delete(run);
        }
      });
      this.session.stepDone(step.z, step.active.map((r) => r.structure));
    };
    const nextStep = (lane: Lane): Step => {
      const z = lane.sweep.slices[lane.next++];
      const active = lane.sweep.runs.filter((r) => r.slices.includes(z));
      const states = active.map((run) => {
        let st = lane.live.get(run);
        if (!st) lane.live.set(run, (st = { kept: [], prev: { z: run.from, mask: this.session.toNetwork(Float32Array.from(this.session.fixedMask(run.structure, run.from))) }, k: 0 }));
        return st;
      });
      return { lane, z, active, states };
    };
    try {
      for (;;) {
        while (running.length < lanes && waiting.length > 0) running.push({ sweep: waiting.shift()!, next: 0, live: new Map(), pending: null, frameOf: this.networkFrames() });
        if (running.length === 0) break;
        throwIfAborted(signal);
        const steps = running.map(nextStep);
        for (const { lane, states } of steps) {
          if (lane.pending && states.some((st) => st.prev.mask === null)) {
            const previous = lane.pending;
            lane.pending = null;
            await finish(lane, previous);
            throwIfAborted(signal);
          }
        }
        const queued = this.queueSteps(steps);
        // Every lane takes its new step before any previous one is stored: a failing store leaves no held mask unowned.
        const previous = steps.map(({ lane, z, active, states }, i) => {
          const { results, held } = queued[i];
          states.forEach((st, k) => (st.prev = { z, mask: held[k] }));
          const before = lane.pending;
          lane.pending = { z, active, states, results };
          return before;
        });
        try {
          for (const [i, { lane }] of steps.entries()) if (previous[i]) await finish(lane, previous[i]!);
        } catch (e) {
          // The other lanes' previous steps may still be reading memory the `finally` releases.
          await Promise.all(previous.map((q) => q?.results.catch(() => {})));
          throw e;
        }
        for (const lane of [...running]) {
          if (lane.next < lane.sweep.slices.length) continue;
          const last = lane.pending;
          lane.pending = null;
          if (last) await finish(lane, last);
          running.splice(running.indexOf(lane), 1);
          onSweepDone(lane.sweep);
        }
      }
    } finally {
      for (const lane of running) {
        if (lane.pending) await lane.pending.results.catch(() => {});
        for (const st of lane.live.values()) release(st);
      }
    }
  }

  /**
   * Memorizes each step's previous slices (the memory rule at the top of session.ts) and
   * queues the steps: as one batch where the network batches and every step is one
   * structure's, else one by one (queueStep). A memory entry not kept is released once
   * its step's result is in (the network may read it until then), or at once on a throw.
   */
  private queueSteps(steps: readonly { lane: { frameOf: (z: number) => SliceImage }; z: number; states: Live[] }[]): { results: Promise<StepResult[]>; held: (HeldMask | null)[] }[] {
    const { memorizeHeldBatch, segmentBatchAhead } = this.memory;
    const pairs = steps.flatMap(({ lane, states }, i) => states.map((st) => ({ i, st, frame: lane.frameOf(st.prev.z) })));
    const entries: MemorySlot[] = [];
    const releaseEntries = (step: number | null) => pairs.forEach((p, k) => (step === null || p.i === step) && entries[k] && !p.st.kept.includes(entries[k]) && entries[k].dispose());
    const memories: MemorySlot[][][] = steps.map(() => []);
    try {
      // Batched across lanes only: one lane makes the calls it always made (a joint step's objects one by one).
      if (steps.length > 1 && memorizeHeldBatch && pairs.every((p) => isHeld(p.st.prev.mask))) {
        const slots = memorizeHeldBatch.call(this.memory, pairs.map((p) => ({ frame: p.frame, held: p.st.prev.mask as HeldMask })));
        if (slots.length !== pairs.length) {
          for (const slot of slots) slot.dispose();
          throw new RangeError(`memory network memorized ${slots.length} slices for ${pairs.length}`);
        }
        entries.push(...slots);
      } else {
        for (const { st, frame } of pairs) {
          const mask = st.prev.mask;
          entries.push(isHeld(mask) ? this.memory.memorizeHeld!(frame, mask) : this.memory.memorize(frame, mask!));
        }
      }
      pairs.forEach(({ i, st }, k) => {
        if (isHeld(st.prev.mask)) st.prev.mask.dispose();
        memories[i].push([...st.kept, entries[k]]);
        // The original keeps frame t-1 when (t-1) % save_freq == 0: the annotated slice first.
        if (st.k++ % this.session.memoryEvery === 0) st.kept.push(entries[k]);
      });
    } catch (e) {
      releaseEntries(null);
      throw e;
    }
    const queued: { results: Promise<StepResult[]>; held: (HeldMask | null)[] }[] = [];
    try {
      if (steps.length > 1 && segmentBatchAhead && memories.every((m) => m.length === 1)) {
        const { result, held } = segmentBatchAhead.call(this.memory, steps.map(({ lane, z }, i) => ({ frame: lane.frameOf(z), memory: memories[i][0] })));
        if (held.length !== steps.length) {
          for (const h of held) h.dispose();
          result.catch(() => {});
          throw new RangeError(`memory network held ${held.length} masks for ${steps.length} slices`);
        }
        const outputs = result.then((r) => {
          if (r.length !== steps.length) throw new RangeError(`memory network returned ${r.length} results for ${steps.length} slices`);
          return r;
        });
        steps.forEach((_, i) => queued.push({ results: outputs.then((r) => this.singleResult(r[i])), held: [held[i]] }));
      } else {
        for (const { lane, z } of steps) queued.push(this.queueStep(lane.frameOf(z), memories[queued.length]));
      }
    } catch (e) {
      // Steps queued before the throw keep their entries until their results are in; nobody reads them.
      queued.forEach((q, i) => q.results.then(() => releaseEntries(i), () => releaseEntries(i)));
      for (const q of queued) for (const h of q.held) h?.dispose();
      for (let i = queued.length; i < steps.length; i++) releaseEntries(i);
      throw e;
    }
    // Also marks a failure handled: it is awaited by the caller or drained in its `finally`, never unhandled meanwhile.
    queued.forEach((q, i) => q.results.then(() => releaseEntries(i), () => releaseEntries(i)));
    return queued;
  }

  /**
   * Queues one step. With a network that holds masks (segmentAhead, or segmentObjectsAhead
   * for a joint step), the step's masks stay with the network for the next memorize;
   * otherwise `held` is null and the next memorize waits for the result.
   */
  private queueStep(frame: SliceImage, memories: MemorySlot[][]): { results: Promise<StepResult[]>; held: (HeldMask | null)[] } {
    const { segmentAhead, segmentObjectsAhead, memorizeHeld } = this.memory;
    if (memories.length === 1 && segmentAhead && memorizeHeld) {
      const { result, held } = segmentAhead.call(this.memory, frame, memories[0]);
      return { results: result.then((r) => this.singleResult(r)), held: [held] };
    }
    if (memories.length > 1 && segmentObjectsAhead && memorizeHeld) {
      const { result, held } = segmentObjectsAhead.call(this.memory, frame, memories);
      if (held.length !== memories.length) {
        for (const h of held) h.dispose();
        result.catch(() => {});
        throw new RangeError(`memory network held ${held.length} masks for ${memories.length} objects`);
      }
      return { results: result.then(({ objects }) => this.objectResults(objects, memories.length)), held };
    }
    return { results: this.segmentStep(frame, memories), held: memories.map(() => null) };
  }

  /** One structure's step in the engine's layout, with its memorized mask in the network's. */
  private singleResult(r: StepOutput): StepResult[] {
    const foreground = this.session.fromNetwork(r.foreground);
    return [{ probability: foreground, foreground, quality: r.quality, memoryMask: r.foreground }];
  }

  /** A joint step's objects in the engine's layout, each with its memorized mask in the network's. */
  private objectResults(objects: readonly ObjectOutput[], count: number): StepResult[] {
    if (objects.length !== count) throw new RangeError(`memory network returned ${objects.length} objects for ${count}`);
    return objects.map((o) => ({ probability: this.session.fromNetwork(o.probability), foreground: this.session.fromNetwork(o.foreground), quality: o.quality, memoryMask: o.foreground }));
  }

  /**
   * One slice for the memories of the active structures (engine layout out): `segment`
   * for one; the network's joint step for several, or without one, each object alone
   * and Soft_aggregation on the CPU (the decoder reads each object's memory on its own,
   * so this is the joint step with the query encoder run once per object).
   */
  private async segmentStep(frame: SliceImage, memories: MemorySlot[][]): Promise<StepResult[]> {
    if (memories.length === 1) return this.singleResult(await this.memory.segment(frame, memories[0]));
    if (this.memory.segmentObjects) return this.objectResults((await this.memory.segmentObjects(frame, memories)).objects, memories.length);
    const alone: { probability: Float32Array; quality: number | null }[] = [];
    for (const m of memories) {
      const r = await this.memory.segment(frame, m);
      alone.push({ probability: this.session.fromNetwork(r.foreground), quality: r.quality });
    }
    const foregrounds = softAggregate(alone.map((a) => a.probability));
    return alone.map((a, k) => ({ probability: a.probability, foreground: foregrounds[k], quality: a.quality, memoryMask: this.session.toNetwork(foregrounds[k]) }));
  }

  /** networkFrame with the last slice remembered: slice z's frame serves its own step and, as the previous slice, the next one's memorize. */
  private networkFrames(): (z: number) => SliceImage {
    let last: { z: number; frame: SliceImage } | null = null;
    return (z) => (last?.z === z ? last : (last = { z, frame: this.session.networkFrame(z) })).frame;
  }
}

/** A mask the network holds (segmentAhead) rather than an array, or the null of a result still to come. */
function isHeld(mask: Float32Array | HeldMask | null): mask is HeldMask {
  return mask !== null && !(mask instanceof Float32Array);
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason ?? new DOMException('cancelled', 'AbortError');
}
