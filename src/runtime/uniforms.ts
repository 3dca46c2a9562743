// Packs a kernel's uniform struct. Kernels declare their `Params` struct with only
// u32, i32 and f32 scalars, in the same order the program writes them, so the
// WGSL layout is a plain array of 4-byte words (padded here to 16 bytes).

export class Uniforms {
  private readonly words: number[] = [];
  private readonly kinds: ('u32' | 'i32' | 'f32')[] = [];

  u32(...values: number[]): this {
    for (const v of values) {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`uniform u32 out of range: ${v}`);
      this.push(v, 'u32');
    }
    return this;
  }

  i32(...values: number[]): this {
    for (const v of values) {
      if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new RangeError(`uniform i32 out of range: ${v}`);
      this.push(v, 'i32');
    }
    return this;
  }

  f32(...values: number[]): this {
    for (const v of values) this.push(v, 'f32');
    return this;
  }

  toBytes(): ArrayBuffer {
    const n = Math.max(4, Math.ceil(this.words.length / 4) * 4);
    const buf = new ArrayBuffer(n * 4);
    const u = new Uint32Array(buf);
    const i = new Int32Array(buf);
    const f = new Float32Array(buf);
    this.words.forEach((v, k) => {
      const kind = this.kinds[k];
      if (kind === 'u32') u[k] = v;
      else if (kind === 'i32') i[k] = v;
      else f[k] = v;
    });
    return buf;
  }

  private push(v: number, kind: 'u32' | 'i32' | 'f32'): void {
    this.words.push(v);
    this.kinds.push(kind);
  }
}
