// PNG decoding of hostile files: the checked path (src/io/png.ts) decodes every
// colour type, depth and interlace as upng-js does on its own, and refuses the
// issue-13 reproducers quickly with a PngError naming the file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deflateSync } from 'node:zlib';
import UPNG from 'upng-js';
import { crc32 } from '../src/io/crc32.ts';
import { decodeGrayPng, PngError } from '../src/io/png.ts';
import { decodeLabelPng, encodeGrayPng } from '../src/volume/png-codec.ts';
import { VolumeError } from '../src/volume/volume.ts';
import { rng } from './_lib/random.ts';

function chunk(type: string, body: Uint8Array | number[]): number[] {
  const b = Uint8Array.from(body);
  const out = new Uint8Array(12 + b.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, b.length);
  out.set([...type].map((c) => c.charCodeAt(0)), 4);
  out.set(b, 8);
  v.setUint32(8 + b.length, crc32(out.subarray(4, 8 + b.length)));
  return [...out];
}

function ihdr(width: number, height: number, depth: number, ctype: number, interlace = 0): number[] {
  const h = new Uint8Array(13);
  new DataView(h.buffer).setUint32(0, width);
  new DataView(h.buffer).setUint32(4, height);
  h.set([depth, ctype, 0, 0, interlace], 8);
  return chunk('IHDR', h);
}

const SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

/** A PNG of random samples (filter type 0..4 per row, chosen at random but stored unfiltered as type 0 when not 0..4-consistent: all rows filter 0). */
function randomPng(seed: number, width: number, height: number, depth: number, ctype: number, interlace: number, extra: number[][] = []): Uint8Array {
  const r = rng(seed);
  const bpp = depth * CHANNELS[ctype];
  const passes = interlace ? ADAM7.map(([x0, y0, dx, dy]) => [Math.ceil((width - x0) / dx), Math.ceil((height - y0) / dy)]).filter(([w, h]) => w > 0 && h > 0) : [[width, height]];
  const raw: number[] = [];
  for (const [w, h] of passes) {
    for (let y = 0; y < h; y++) {
      raw.push(0);
      for (let i = 0; i < Math.ceil((w * bpp) / 8); i++) raw.push(ctype === 3 ? Math.floor(r() * 256) & (depth === 8 ? 3 : 0xff) : Math.floor(r() * 256));
    }
  }
  const plte = ctype === 3 ? chunk('PLTE', Array.from({ length: 3 * (1 << Math.min(depth, 2)) }, (_, i) => (i * 37) & 0xff)) : [];
  return Uint8Array.from([...SIG, ...ihdr(width, height, depth, ctype, interlace), ...extra.flat(), ...plte, ...chunk('IDAT', deflateSync(Uint8Array.from(raw))), ...chunk('IEND', [])]);
}

function refused(fn: () => unknown, file: string, ...parts: string[]): void {
  const started = Date.now();
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PngError || e instanceof VolumeError, `not a typed error: ${(e as Error)?.message ?? e}`);
    const msg = (e as Error).message;
    assert.ok(msg.startsWith(`${file}: `), `'${msg}' does not name ${file}`);
    for (const p of parts) assert.ok(msg.includes(p), `'${msg}' lacks '${p}'`);
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    return;
  }
  assert.unreachable(`no error for ${file}`);
}

test('the checked path decodes every colour type, depth and interlace as upng-js alone does', () => {
  let n = 0;
  for (const [ctype, depths] of [[0, [1, 2, 4, 8, 16]], [2, [8, 16]], [3, [1, 2, 4, 8]], [4, [8, 16]], [6, [8, 16]]] as [number, number[]][]) {
    for (const depth of depths) {
      for (const interlace of [0, 1]) {
        for (const [w, h] of [[1, 1], [3, 2], [9, 7], [17, 5]]) {
          const png = randomPng(++n, w, h, depth, ctype, interlace);
          const alone = UPNG.decode(png.slice().buffer as ArrayBuffer);
          const want = new Uint8Array(UPNG.toRGBA8(alone)[0]);
          let gray = true;
          for (let i = 0; i < w * h; i++) if (want[4 * i + 1] !== want[4 * i] || want[4 * i + 2] !== want[4 * i]) gray = false;
          const label = `ctype ${ctype} depth ${depth} interlace ${interlace} ${w}x${h}`;
          if (gray) {
            const got = decodeGrayPng(png, 'x.png');
            assert.equal([...got.data], Array.from({ length: w * h }, (_, i) => want[4 * i]), label);
          } else {
            assert.throws(() => decodeGrayPng(png, 'x.png'), /not gray/, label);
          }
        }
      }
    }
  }
});

test('ancillary chunks that hung or crashed upng-js are skipped: tEXt/iTXt without NUL, acTL without fcTL', () => {
  const img = { width: 5, height: 3, data: Uint8Array.from({ length: 15 }, (_, i) => i * 17) };
  const plain = encodeGrayPng(img);
  const withChunk = (c: number[]) => Uint8Array.from([...plain.subarray(0, 33), ...c, ...plain.subarray(33)]);
  for (const c of [chunk('tEXt', [65, 66, 67]), chunk('iTXt', [65, 66]), chunk('acTL', [0, 0, 0, 1, 0, 0, 0, 0])]) {
    const started = Date.now();
    assert.equal([...decodeGrayPng(withChunk(c), 'a.png').data], [...img.data]);
    assert.ok(Date.now() - started < 2000);
  }
});

test('issue-13 PNG reproducers are refused quickly, naming the file', () => {
  const idat = chunk('IDAT', deflateSync(new Uint8Array(4)));
  const end = chunk('IEND', []);
  refused(() => decodeGrayPng(Uint8Array.from([...SIG, ...ihdr(1, 2 ** 31 - 1, 8, 0), ...idat, ...end]), 'tall.png'), 'tall.png', 'limit');
  refused(() => decodeGrayPng(Uint8Array.from([...SIG, ...ihdr(65536, 65536, 8, 0), ...idat, ...end]), 'huge.png'), 'huge.png', '65536x65536', 'limit');
  const long = [...ihdr(1, 1, 8, 0), 0x7f, 0xff, 0xff, 0xff, 0x49, 0x44, 0x41, 0x54];
  refused(() => decodeGrayPng(Uint8Array.from([...SIG, ...long]), 'len.png'), 'len.png', 'chunk 2');
  refused(() => decodeGrayPng(Uint8Array.from([...SIG, ...ihdr(2, 1, 8, 0), ...chunk('IDAT', deflateSync(new Uint8Array(3)))]), 'noend.png'), 'noend.png', 'no IEND');
  refused(() => decodeGrayPng(Uint8Array.from([...SIG, ...ihdr(2, 1, 8, 3), ...chunk('IDAT', deflateSync(new Uint8Array(3))), ...end]), 'pal.png'), 'pal.png', 'without a PLTE');
  refused(() => decodeGrayPng(new TextEncoder().encode('GIF89a not a png'), 'gif.png'), 'gif.png', 'not a readable PNG', 'signature');
  refused(() => decodeLabelPng(new Uint8Array([1, 2, 3]), 'junk.png'), 'junk.png', 'not a readable PNG');
  // A bomb: 1x1 declared, IDAT inflating to 64 MiB.
  refused(() => decodeGrayPng(Uint8Array.from([...SIG, ...ihdr(1, 1, 8, 0), ...chunk('IDAT', deflateSync(new Uint8Array(2 ** 26))), ...end]), 'bomb.png'), 'bomb.png', 'inflates past the 2 bytes');
  const crc = encodeGrayPng({ width: 2, height: 2, data: new Uint8Array(4) });
  crc[crc.length - 20] ^= 1;
  refused(() => decodeGrayPng(crc, 'crc.png'), 'crc.png', 'CRC');
});

test('a PNG cut at every byte is refused with a typed error naming the file', () => {
  const png = encodeGrayPng({ width: 9, height: 4, data: Uint8Array.from({ length: 36 }, (_, i) => i * 7) });
  for (let cut = 0; cut < png.length; cut++) {
    refused(() => decodeGrayPng(png.subarray(0, cut), 'cut.png'), 'cut.png');
    refused(() => decodeLabelPng(png.subarray(0, cut), 'cut.png'), 'cut.png');
  }
});

test.run();
