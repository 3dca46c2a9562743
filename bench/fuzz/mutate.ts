// Seeded mutations of byte strings: bit flips, interesting values, truncation,
// insertion, deletion, duplication, and overwritten integers. Deterministic from the
// seed (the project's one stream, src/util/seeded-random.ts), so any input is reproduced from (parser, seed, index).

import { concatArrays } from '../../src/util/concat-arrays.ts';

export type Rng = () => number;

export const int = (r: Rng, n: number): number => Math.floor(r() * n);
export const pick = <T>(r: Rng, xs: readonly T[]): T => xs[int(r, xs.length)];

const INTERESTING_8 = [0, 1, 0x7f, 0x80, 0xff, 0x22, 0x5b, 0x7b, 0x28, 0x65, 0x0a];
const INTERESTING_32 = [0, 1, -1, 0x7fffffff, -0x80000000, 0x10000, 0xffff, 348, 352, 1 << 24, 1 << 30, 65536 * 65536 - 1];

/** One random edit of `b` (a new array; `b` is not changed). */
export function mutateOnce(b: Uint8Array, r: Rng): Uint8Array {
  const n = b.length;
  const at = n ? int(r, n) : 0;
  switch (int(r, 9)) {
    case 0: { // bit flips
      const out = b.slice();
      for (let k = 1 + int(r, 8); k > 0 && n; k--) out[int(r, n)] ^= 1 << int(r, 8);
      return out;
    }
    case 1: { // an interesting byte
      const out = b.slice();
      if (n) out[at] = pick(r, INTERESTING_8);
      return out;
    }
    case 2: // truncation
      return b.slice(0, int(r, n + 1));
    case 3: { // insert random bytes
      const ins = Uint8Array.from({ length: 1 + int(r, 64) }, () => int(r, 256));
      return concatArrays(Uint8Array, [b.subarray(0, at), ins, b.subarray(at)]);
    }
    case 4: { // delete a range
      const len = 1 + int(r, Math.max(1, Math.min(256, n - at)));
      return concatArrays(Uint8Array, [b.subarray(0, at), b.subarray(at + len)]);
    }
    case 5: { // duplicate a range somewhere (repeats structure: chunks, opcodes, JSON)
      const from = int(r, n + 1);
      const len = int(r, Math.min(512, n - from) + 1);
      const to = int(r, n + 1);
      return concatArrays(Uint8Array, [b.subarray(0, to), b.subarray(from, from + len), b.subarray(to)]);
    }
    case 6: { // an interesting 32-bit integer, either byte order
      const out = b.slice();
      if (n >= 4) {
        const p = int(r, n - 3);
        new DataView(out.buffer).setInt32(p, pick(r, INTERESTING_32) | 0, r() < 0.5);
      }
      return out;
    }
    case 7: { // a 16-bit or 64-bit field
      const out = b.slice();
      if (n >= 8) {
        const p = int(r, n - 7);
        const v = new DataView(out.buffer);
        if (r() < 0.5) v.setInt16(p, pick(r, [0, -1, 32767, -32768, 1, 2, 7, 64, 256, 512]), r() < 0.5);
        else v.setBigUint64(p, pick(r, [0n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 53n, 200_000_000n, BigInt(int(r, 1 << 30))]), true);
      }
      return out;
    }
    default: { // overwrite a range with one byte repeated
      const out = b.slice();
      out.fill(int(r, 256), at, at + int(r, 32));
      return out;
    }
  }
}

/** 1 to 4 stacked edits. */
export function mutate(b: Uint8Array, r: Rng): Uint8Array {
  let out = b;
  for (let k = 1 + int(r, 4); k > 0; k--) out = mutateOnce(out, r);
  return out;
}
