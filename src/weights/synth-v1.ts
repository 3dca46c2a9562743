// The `synth-v1` deterministic weights of ../shared/reference/README.md: every
// tensor of rank >= 2 is a pure function of its name, shape and gain, so the
// reference outputs of the original PyTorch networks can be reproduced without
// shipping their weights.

/** FNV-1a 32-bit hash of the UTF-8 bytes of `text`. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Chris Wellons' lowbias32 integer hash. */
export function lowbias32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** The uniform stream u_i in [-1, 1) of a tensor name (exact in f32). */
export function synthUniform(name: string, count: number): Float32Array {
  const seed = fnv1a32(name);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const x = lowbias32((seed + Math.imul(i, 0x9e3779b1)) >>> 0);
    out[i] = (x >>> 8) * 2 ** -23 - 1;
  }
  return out;
}

/** A synth-v1 weight tensor in PyTorch's row-major order (OIHW for convs). */
export function synthWeight(name: string, shape: readonly number[], gain = 1): Float32Array {
  if (shape.length < 2) throw new Error(`synth-v1: '${name}' has rank ${shape.length}; rank <= 1 tensors come from <model>_small.safetensors`);
  const count = shape.reduce((p, d) => p * d, 1);
  const fanIn = shape.slice(1).reduce((p, d) => p * d, 1);
  const scale = Math.fround(gain * Math.sqrt(6 / fanIn));
  const w = synthUniform(name, count);
  // u has 24 significant bits and scale 24: their product is exact in f64, so one
  // fround gives the correctly rounded f32 product, as PyTorch's f32 multiply does.
  for (let i = 0; i < count; i++) w[i] = Math.fround(w[i] * scale);
  return w;
}
