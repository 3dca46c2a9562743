/** The arrays one after the other, in a new array of `Type`. */
export function concatArrays<T extends Uint8Array | Float32Array>(Type: new (length: number) => T, parts: readonly T[]): T {
  const out = new Type(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
