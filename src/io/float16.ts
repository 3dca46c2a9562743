// IEEE binary16 (F16) and bfloat16 (BF16) <-> binary32 conversions, bit-exact:
// round to nearest even, subnormals, signed zeros, infinities, NaN payloads kept
// where the narrower format can hold them. The scalar encoders take a JS number and
// round it to f32 first, as storing it in a Float32Array would; the array codecs
// move bit patterns, never numbers, so NaN payloads survive them.

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

function f32Bits(x: number): number {
  scratchF32[0] = x;
  return scratchU32[0];
}

export function f32ToF16Bits(x: number): number {
  return f16FromF32Bits(f32Bits(x));
}

function f16FromF32Bits(b: number): number {
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  // NaN keeps its top payload bits and is forced quiet so it cannot become an infinity.
  if (exp === 0xff) return sign | 0x7c00 | (mant === 0 ? 0 : 0x200 | (mant >>> 13));
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Below 2^-25 (half the smallest subnormal) everything rounds to a signed zero.
    if (e < -10) return sign;
    const full = mant | 0x800000;
    const shift = 14 - e;
    let h = full >>> shift;
    const rem = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (h & 1) !== 0)) h++;
    return sign | h; // a carry out of the mantissa lands on the smallest normal, as it should
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) !== 0)) h++; // carry into the exponent gives inf at the top
  return sign | h;
}

export function f16BitsToF32(h: number): number {
  scratchU32[0] = f16Table()[h & 0xffff];
  return scratchF32[0];
}

export function f32ToBf16Bits(x: number): number {
  return bf16FromF32Bits(f32Bits(x));
}

function bf16FromF32Bits(b: number): number {
  if ((b & 0x7fffffff) > 0x7f800000) return (b >>> 16) | 0x40;
  return (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
}

export function bf16BitsToF32(h: number): number {
  scratchU32[0] = (h & 0xffff) << 16;
  return scratchF32[0];
}

let table: Uint32Array | undefined;

// f32 bit patterns of all 65536 halves (256 KiB, built on first use): decoding is then
// one integer lookup per element, and moving bits rather than numbers keeps NaN payloads.
function f16Table(): Uint32Array {
  if (table) return table;
  const bits = new Uint32Array(65536);
  const t = new Float32Array(bits.buffer);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0x1f) bits[h] = sign | 0x7f800000 | (mant << 13);
    else if (exp !== 0) bits[h] = sign | ((exp + 112) << 23) | (mant << 13);
    else t[h] = (sign ? -1 : 1) * mant * 2 ** -24;
  }
  table = bits;
  return bits;
}

export function decodeF16(src: Uint16Array, out = new Float32Array(src.length)): Float32Array {
  const t = f16Table();
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < src.length; i++) bits[i] = t[src[i]];
  return out;
}

export function decodeBF16(src: Uint16Array, out = new Float32Array(src.length)): Float32Array {
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
  return out;
}

export function encodeF16(src: Float32Array, out = new Uint16Array(src.length)): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < src.length; i++) out[i] = f16FromF32Bits(bits[i]);
  return out;
}

export function encodeBF16(src: Float32Array, out = new Uint16Array(src.length)): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < src.length; i++) out[i] = bf16FromF32Bits(bits[i]);
  return out;
}
