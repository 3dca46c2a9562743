// Tensors know their owner only through `TensorOwner`, which the runtime
// implements: this file imports nothing from runtime.ts, so the two do not form
// an import loop.

/** 'f16' holds IEEE half-precision bits (Uint16Array on the CPU); only weights use it, on adapters with shader-f16. */
export type DType = 'f32' | 'i32' | 'u32' | 'f16';

export type TypedArrayOf<D extends DType> = D extends 'f32' ? Float32Array : D extends 'i32' ? Int32Array : D extends 'f16' ? Uint16Array : Uint32Array;

export const bytesPerElement = (dtype: DType): number => (dtype === 'f16' ? 2 : 4);

/** What a tensor needs from the runtime that made it. */
export interface TensorOwner {
  read<D extends DType>(t: Tensor<D>): Promise<TypedArrayOf<D>>;
  /** Returns the tensor's buffer to the pool and forgets the tensor in any scope. */
  release(t: Tensor): void;
}

/**
 * A GPU-resident tensor. Activations are 4-D and channels-last: shape [N, H, W, C]
 * (see the README's design section for why). Other tensors (weights, memory keys)
 * are dense row-major in the order their shape gives.
 */
export class Tensor<D extends DType = DType> {
  private released = false;
  /** Index of the first NaN or Inf in the f32 data this tensor was uploaded from; -1 if none or not uploaded. */
  firstNonFinite = -1;

  constructor(
    readonly runtime: TensorOwner,
    readonly shape: readonly number[],
    readonly dtype: D,
    readonly buffer: GPUBuffer,
    readonly label: string,
  ) {}

  get size(): number {
    return shapeSize(this.shape);
  }

  get byteLength(): number {
    return this.size * bytesPerElement(this.dtype);
  }

  get disposed(): boolean {
    return this.released;
  }

  /** Copies the tensor back to the CPU (submits pending work first). */
  read(): Promise<TypedArrayOf<D>> {
    return this.runtime.read(this);
  }

  /** Returns the buffer to the runtime's pool; the tensor is unusable afterwards. Scopes call it for you. */
  dispose(): void {
    if (this.released) return;
    this.released = true;
    this.runtime.release(this);
  }

  assertLive(what: string): void {
    if (this.released) throw new Error(`${what}: tensor '${this.label}' was already disposed`);
  }

  toString(): string {
    return `Tensor(${this.label}, [${this.shape.join(', ')}], ${this.dtype})`;
  }
}

/**
 * `t`'s buffer under another shape of at most its size (its first values): a view for one op's
 * operands. Never dispose it; the buffer stays `t`'s, and the view is valid while `t` is.
 */
export function viewOf<D extends DType>(t: Tensor<D>, shape: readonly number[]): Tensor<D> {
  if (shapeSize(shape) > t.size) throw new RangeError(`view of '${t.label}': [${shape.join(', ')}] is larger than [${t.shape.join(', ')}]`);
  return new Tensor(t.runtime, shape, t.dtype, t.buffer, t.label);
}

export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`invalid tensor dimension ${d} in shape [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}
