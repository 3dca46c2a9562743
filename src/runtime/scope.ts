// Tensor lifetimes by scope (the idea of TensorFlow.js's `tidy`): every tensor
// created while a scope is open belongs to it, and when the scope's function
// returns, every tensor it owns is released except those in its result, which
// move to the enclosing scope (or to the caller, outside any scope). `keep`
// takes tensors out of scope tracking altogether: weights, memory entries and
// anything else whose owner releases it explicitly.
//
// Scopes nest. An async scope stays open until its promise settles; while it is
// open, tensors created by any code outside a scope of its own belong to it, so
// two async scopes on one runtime must not overlap in time (sync scopes opened
// inside are fine: they close before anything else runs).
import { Tensor } from './tensor.ts';

type Frame = Set<Tensor>;

export class ScopeStack {
  private readonly frames: Frame[] = [];

  /** Records a new tensor in the innermost open scope, if any. */
  track(t: Tensor): void {
    this.frames.at(-1)?.add(t);
  }

  run<T>(fn: () => T): T {
    const frame: Frame = new Set();
    this.frames.push(frame);
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.close(frame, undefined);
      throw e;
    }
    if (isThenable(result)) {
      return result.then(
        (value) => {
          this.close(frame, value);
          return value;
        },
        (e: unknown) => {
          this.close(frame, undefined);
          throw e;
        },
      ) as T;
    }
    this.close(frame, result);
    return result;
  }

  /** Removes every tensor in `value` (a tensor, or arrays / objects holding tensors) from scope tracking. */
  keep<T>(value: T): T {
    for (const t of tensorsIn(value)) for (const f of this.frames) f.delete(t);
    return value;
  }

  /** A disposed tensor leaves its scope at once (a long async scope does not hold on to it). */
  forget(t: Tensor): void {
    for (const f of this.frames) f.delete(t);
  }

  /** How many scopes are open (for tests). */
  get depth(): number {
    return this.frames.length;
  }

  private close(frame: Frame, result: unknown): void {
    const at = this.frames.lastIndexOf(frame);
    this.frames.splice(at, 1);
    const parent = this.frames[at - 1] ?? null;
    const kept = tensorsIn(result);
    for (const t of frame) {
      if (kept.has(t)) parent?.add(t);
      else t.dispose();
    }
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/** Tensors reachable from `value` through arrays and objects' own enumerable properties. */
export function tensorsIn(value: unknown): Set<Tensor> {
  const found = new Set<Tensor>();
  const seen = new Set<object>();
  const visit = (v: unknown): void => {
    if (v instanceof Tensor) {
      found.add(v);
      return;
    }
    if (typeof v !== 'object' || v === null || seen.has(v) || ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return;
    seen.add(v);
    for (const item of Array.isArray(v) ? v : Object.values(v)) visit(item);
  };
  visit(value);
  return found;
}
