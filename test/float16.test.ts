import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  bf16BitsToF32, decodeBF16, decodeF16, encodeBF16, encodeF16, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits,
} from '../src/io/float16.ts';
import { rng } from './_lib/random.ts';

const bitsOf = (x: number): number => new Uint32Array(new Float32Array([x]).buffer)[0];
const fromBits = (b: number): number => new Float32Array(new Uint32Array([b]).buffer)[0];

test('f16 decodes specific values: zeros, subnormals, normals, max, infinities, NaN', () => {
  const cases: [number, number][] = [
    [0x0000, 0], [0x0001, 2 ** -24], [0x03ff, 1023 * 2 ** -24], [0x0400, 2 ** -14], [0x3c00, 1], [0x3555, 0.333251953125],
    [0xc000, -2], [0x7bff, 65504], [0xfbff, -65504], [0x7c00, Infinity], [0xfc00, -Infinity], [0x8001, -(2 ** -24)],
  ];
  for (const [h, v] of cases) assert.is(f16BitsToF32(h), v, `0x${h.toString(16)}`);
  assert.ok(Object.is(f16BitsToF32(0x8000), -0), '-0 keeps its sign');
  for (const h of [0x7c01, 0x7e00, 0xfe00, 0x7fff]) assert.ok(Number.isNaN(f16BitsToF32(h)), `0x${h.toString(16)} is NaN`);
  // The array decoder moves bits: payload and sign of NaNs survive.
  const out = decodeF16(new Uint16Array([0x7d01, 0xfe00, 0x8000, 0x0001]));
  assert.equal(Array.from(new Uint32Array(out.buffer)), [0x7fa02000, 0xffc00000, 0x80000000, bitsOf(2 ** -24)]);
});

test('f16 encodes with round-to-nearest-even, including at the subnormal and overflow edges', () => {
  const cases: [number, number][] = [
    [1 / 3, 0x3555], [65504, 0x7bff], [65519.996, 0x7bff], [65520, 0x7c00], [1e6, 0x7c00], [-1e6, 0xfc00],
    [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [1 + 2 ** -11 + 2 ** -20, 0x3c01],
    [2 ** -24, 0x0001], [2 ** -25, 0x0000], [2 ** -25 * (1 + 2 ** -23), 0x0001], [3 * 2 ** -25, 0x0002],
    [1023.5 * 2 ** -24, 0x0400], [2 ** -14, 0x0400], [1e-10, 0x0000], [-1e-10, 0x8000], [-0, 0x8000],
    [Infinity, 0x7c00], [-Infinity, 0xfc00], [fromBits(0x00000001), 0x0000],
  ];
  for (const [v, h] of cases) assert.is(f32ToF16Bits(v), h, `${v}`);
  // A NaN whose payload sits below the bits f16 keeps must stay NaN, not become inf.
  const nans = encodeF16(new Float32Array(new Uint32Array([0x7f800001, 0xffc00000, 0x7fa02000]).buffer));
  assert.equal(Array.from(nans), [0x7e00, 0xfe00, 0x7f01]);
});

test('f16: every non-NaN half round-trips through f32 bit-exactly', () => {
  for (let h = 0; h < 0x10000; h++) {
    const back = f32ToF16Bits(f16BitsToF32(h));
    if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) assert.ok((back & 0x7c00) === 0x7c00 && (back & 0x3ff) !== 0, `NaN 0x${h.toString(16)}`);
    else if (back !== h) assert.unreachable(`0x${h.toString(16)} came back as 0x${back.toString(16)}`);
  }
});

// Property check against the definition: the chosen code is a nearest one, ties to even.
function checkNearest(name: string, encode: (x: number) => number, decode: (h: number) => number, x: number, maxCode: number): void {
  const h = encode(x);
  const mag = h & 0x7fff;
  const v = decode(h);
  const err = Math.abs(v - x);
  for (const n of [mag - 1, mag + 1]) {
    if (n < 0 || n > maxCode) continue;
    const other = Math.abs(decode((h & 0x8000) | n) - x);
    if (other < err || (other === err && (h & 1) === 1)) assert.unreachable(`${name}(${x}) = 0x${h.toString(16)}, but code ${n.toString(16)} is nearer or even`);
  }
}

test('f16 and bf16 encoders pick the nearest code, ties to even, on random f32 values', () => {
  const r = rng(7);
  for (let i = 0; i < 40000; i++) {
    // f32 exponents spanning f16's subnormals to past its max; bf16 uses the full range.
    const e16 = Math.floor(r() * 46) - 40;
    const x = Math.fround((r() < 0.5 ? -1 : 1) * (1 + r()) * 2 ** e16);
    if (Math.abs(x) < 65504) checkNearest('f16', f32ToF16Bits, f16BitsToF32, x, 0x7bff);
    const y = fromBits(Math.floor(r() * 0x7f000000) | (r() < 0.5 ? 0x80000000 : 0));
    checkNearest('bf16', f32ToBf16Bits, bf16BitsToF32, y, 0x7f7f);
  }
});

test('bf16 decodes and encodes specific values', () => {
  const dec: [number, number][] = [[0x3f80, 1], [0xc040, -3], [0x0001, 2 ** -133], [0x7f7f, 3.3895313892515355e38], [0x7f80, Infinity], [0xff80, -Infinity]];
  for (const [h, v] of dec) assert.is(bf16BitsToF32(h), v, `0x${h.toString(16)}`);
  assert.ok(Object.is(bf16BitsToF32(0x8000), -0));
  assert.ok(Number.isNaN(bf16BitsToF32(0x7fc0)));
  const enc: [number, number][] = [
    [1, 0x3f80], [1 + 2 ** -8, 0x3f80], [1 + 3 * 2 ** -8, 0x3f82], [1 + 2 ** -8 + 2 ** -20, 0x3f81], [-0, 0x8000],
    [3.4028234663852886e38, 0x7f80], [Infinity, 0x7f80], [fromBits(0x00000001), 0x0000], [fromBits(0x00008000), 0x0000], [fromBits(0x00018000), 0x0002],
  ];
  for (const [v, h] of enc) assert.is(f32ToBf16Bits(v), h, `${v}`);
  const nans = encodeBF16(new Float32Array(new Uint32Array([0x7f800001, 0xff800001, 0x7fc00000]).buffer));
  assert.equal(Array.from(nans), [0x7fc0, 0xffc0, 0x7fc0]);
  const out = decodeBF16(new Uint16Array([0x7f81, 0x3f80]));
  assert.equal(Array.from(new Uint32Array(out.buffer)), [0x7f810000, 0x3f800000]);
});

test.run();
