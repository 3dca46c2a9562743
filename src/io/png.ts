// 8-bit gray images from PNG, browser-safe. Every file is first checked here: chunk
// structure, CRCs, IHDR fields and size limits, the critical chunks' order, and the
// image data inflated (by fflate, capped at the size the IHDR implies) with every
// scanline's filter type checked. Only then is a copy holding just the critical
// chunks (IHDR, PLTE, IDAT, IEND) handed to upng-js for unfiltering and colour
// conversion: the ancillary chunks upng-js mis-parses (tEXt/iTXt without a NUL looped
// forever, acTL/fcTL without frames threw) never reach it, and it never sees a size
// or a stream this module has not bounded. Colour PNGs are accepted when their
// channels are equal.
import { Inflate } from 'fflate';
import UPNG from 'upng-js';
import { crc32 } from './crc32.ts';

/** A PNG that cannot be read; the message starts with the file and names the chunk or field and the limit. */
export class PngError extends Error {
  constructor(readonly source: string, message: string, options?: ErrorOptions) {
    super(`${source}: ${message}`, options);
    this.name = 'PngError';
  }
}

/**
 * Largest image accepted: 16 Mpixel (4096 x 4096, sixteen times a CT slice; its RGBA
 * copy is 64 MiB). At 64 Mpixel an 8 KB file took 1.5 s of CPU to decode.
 */
export const MAX_PNG_PIXELS = 2 ** 24;
/** Largest inflated image data (filtered scanlines) accepted. */
export const MAX_PNG_DATA_BYTES = 256 * 2 ** 20;

export interface GrayImage {
  width: number;
  height: number;
  /** row-major, one byte per pixel */
  data: Uint8Array;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Allowed bit depths per colour type (PNG spec, table 11.1). */
const DEPTHS: Readonly<Record<number, readonly number[]>> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
const CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** Adam7 passes: [x0, y0, dx, dy]. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;

export interface PngHeader {
  readonly width: number;
  readonly height: number;
  readonly depth: number;
  readonly colorType: number;
  readonly interlace: number;
}

/** [width, height] of each pass that holds pixels (one pass, the image, when not interlaced). */
function passes(h: PngHeader): [number, number][] {
  if (h.interlace === 0) return [[h.width, h.height]];
  return ADAM7.map(([x0, y0, dx, dy]): [number, number] => [Math.ceil((h.width - x0) / dx), Math.ceil((h.height - y0) / dy)])
    .filter(([w, hh]) => w > 0 && hh > 0);
}

function rowBytes(h: PngHeader, width: number): number {
  return Math.ceil((width * h.depth * CHANNELS[h.colorType]) / 8);
}

/**
 * Checks a PNG's structure and data without trusting it (see the header comment);
 * returns its header and a copy with only the critical chunks. Throws PngError.
 */
export function checkPng(input: Uint8Array, source: string): { header: PngHeader; critical: Uint8Array } {
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const fail = (msg: string): never => {
    throw new PngError(source, `not a readable PNG: ${msg}`);
  };
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) fail('not a PNG file (no PNG signature)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let header: PngHeader | undefined;
  let palette: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  let idatEnded = false;
  let ended = false;
  for (let at = 8, n = 1; !ended; n++) {
    if (at + 12 > bytes.length) fail(`truncated: chunk ${n} at byte ${at} needs 12 bytes, ${bytes.length - at} are left (no IEND)`);
    const length = view.getUint32(at);
    const typeBytes = bytes.subarray(at + 4, at + 8);
    if (!typeBytes.every((c) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122))) fail(`chunk ${n} at byte ${at}: invalid chunk type bytes`);
    const type = String.fromCharCode(...typeBytes);
    if (length > 2 ** 31 - 1) fail(`chunk ${n} (${type}): length ${length} exceeds the PNG limit of 2^31 - 1`);
    if (at + 12 + length > bytes.length) fail(`truncated: chunk ${n} (${type}) declares ${length} bytes, ${bytes.length - at - 12} are left`);
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (crc32(bytes.subarray(at + 4, at + 8 + length)) !== view.getUint32(at + 8 + length)) fail(`chunk ${n} (${type}): CRC mismatch (the file is corrupt)`);
    at += 12 + length;
    if (n === 1 && type !== 'IHDR') fail(`the first chunk is ${type}, not IHDR`);
    if (type !== 'IDAT' && idat.length > 0) idatEnded = true;
    switch (type) {
      case 'IHDR': {
        if (n !== 1) fail('a second IHDR chunk');
        if (length !== 13) fail(`IHDR is ${length} bytes, not 13`);
        header = checkHeader(data, fail);
        break;
      }
      case 'PLTE':
        if (palette) fail('a second PLTE chunk');
        if (idat.length > 0) fail('PLTE after the image data');
        if (length === 0 || length % 3 !== 0 || length > 768) fail(`PLTE is ${length} bytes, not 3 to 768 in steps of 3`);
        palette = data;
        break;
      case 'IDAT':
        if (idatEnded) fail('IDAT chunks are not consecutive');
        idat.push(data);
        break;
      case 'IEND':
        if (length !== 0) fail(`IEND holds ${length} bytes, not 0`);
        ended = true;
        break;
      default:
        // Ancillary chunks (lower-case first letter) may be skipped; an unknown critical one may not.
        if (type.charCodeAt(0) < 97) fail(`unknown critical chunk ${type}`);
    }
  }
  const h = header!;
  if (h.colorType === 3 && !palette) fail('an indexed-colour image without a PLTE chunk');
  if ((h.colorType === 0 || h.colorType === 4) && palette) fail(`a PLTE chunk in a ${h.colorType === 0 ? 'gray' : 'gray+alpha'} image`);
  if (idat.length === 0) fail('no IDAT chunk (no image data)');
  checkImageData(h, idat, fail);
  const chunk = (type: string, data: Uint8Array): Uint8Array[] => {
    const head = new Uint8Array(8);
    new DataView(head.buffer).setUint32(0, data.length);
    for (let i = 0; i < 4; i++) head[4 + i] = type.charCodeAt(i);
    const crc = new Uint8Array(4);
    const body = new Uint8Array(4 + data.length);
    body.set(head.subarray(4), 0);
    body.set(data, 4);
    new DataView(crc.buffer).setUint32(0, crc32(body));
    return [head, data, crc];
  };
  const ihdr = new Uint8Array(13);
  const hv = new DataView(ihdr.buffer);
  hv.setUint32(0, h.width);
  hv.setUint32(4, h.height);
  ihdr.set([h.depth, h.colorType, 0, 0, h.interlace], 8);
  const parts = [new Uint8Array(SIGNATURE), ...chunk('IHDR', ihdr), ...(palette ? chunk('PLTE', palette) : []), ...idat.flatMap((d) => chunk('IDAT', d)), ...chunk('IEND', new Uint8Array(0))];
  const critical = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  parts.reduce((o, p) => (critical.set(p, o), o + p.length), 0);
  return { header: h, critical };
}

function checkHeader(d: Uint8Array, fail: (msg: string) => never): PngHeader {
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const width = v.getUint32(0);
  const height = v.getUint32(4);
  const [depth, colorType, compression, filter, interlace] = d.subarray(8, 13);
  if (width === 0 || height === 0) fail(`IHDR size ${width}x${height}: both must be at least 1`);
  if (width * height > MAX_PNG_PIXELS) fail(`IHDR size ${width}x${height} exceeds the limit of ${MAX_PNG_PIXELS} pixels`);
  if (!DEPTHS[colorType]) fail(`IHDR colour type ${colorType} does not exist (0, 2, 3, 4, 6 do)`);
  if (!DEPTHS[colorType].includes(depth)) fail(`IHDR bit depth ${depth} is not allowed with colour type ${colorType} (${DEPTHS[colorType].join(', ')} are)`);
  if (compression !== 0) fail(`IHDR compression method ${compression} (only 0 exists)`);
  if (filter !== 0) fail(`IHDR filter method ${filter} (only 0 exists)`);
  if (interlace > 1) fail(`IHDR interlace method ${interlace} (0 or 1)`);
  return { width, height, depth, colorType, interlace };
}

/** Inflates the zlib stream of the IDAT chunks, refusing more or less than the IHDR implies, and checks every row's filter type. */
function checkImageData(h: PngHeader, idat: Uint8Array[], fail: (msg: string) => never): void {
  const rows = passes(h).map(([w, hh]) => ({ bytes: rowBytes(h, w) + 1, count: hh }));
  const expected = rows.reduce((s, r) => s + r.bytes * r.count, 0);
  if (expected > MAX_PNG_DATA_BYTES) fail(`IHDR ${h.width}x${h.height} at ${h.depth} bits implies ${expected} bytes of image data, over the limit of ${MAX_PNG_DATA_BYTES}`);
  const total = idat.reduce((s, d) => s + d.length, 0);
  const stream = new Uint8Array(total);
  idat.reduce((o, d) => (stream.set(d, o), o + d.length), 0);
  if (stream.length < 2) fail('IDAT: the zlib stream is truncated');
  const [cmf, flg] = stream;
  if ((cmf & 0x0f) !== 8 || cmf >> 4 > 7 || ((cmf << 8) | flg) % 31 !== 0) fail('IDAT: not a zlib deflate stream (bad zlib header)');
  if (flg & 0x20) fail('IDAT: the zlib stream asks for a preset dictionary');
  const out = new Uint8Array(expected);
  let length = 0;
  const inflate = new Inflate((chunk) => {
    if (length + chunk.length > expected) fail(`IDAT inflates past the ${expected} bytes the IHDR implies`);
    out.set(chunk, length);
    length += chunk.length;
  });
  try {
    const step = 16 * 1024;
    for (let at = 2; at < stream.length; at += step) inflate.push(stream.subarray(at, Math.min(stream.length, at + step)), false);
    inflate.push(new Uint8Array(0), true);
  } catch (e) {
    if (e instanceof PngError) throw e;
    fail(`IDAT: invalid deflate data (${(e as Error).message})`);
  }
  if (length < expected) fail(`IDAT holds ${length} bytes of image data, the IHDR implies ${expected}: the file is truncated`);
  let at = 0;
  for (const r of rows) {
    for (let y = 0; y < r.count; y++, at += r.bytes) if (out[at] > 4) fail(`IDAT: row ${y} has filter type ${out[at]} (0 to 4 exist)`);
  }
}

/** upng-js's decode of a checked PNG (only its critical chunks). Throws PngError. */
export function upngDecode(bytes: ArrayBuffer | Uint8Array, source = '<buffer>'): UPNG.Image {
  const { critical } = checkPng(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes), source);
  try {
    return UPNG.decode(critical.buffer as ArrayBuffer);
  } catch (e) {
    // upng-js throws strings as well as Errors.
    throw new PngError(source, `not a readable PNG (${e instanceof Error ? e.message : String(e).slice(0, 120)})`, { cause: e });
  }
}

export function decodeGrayPng(bytes: ArrayBuffer | Uint8Array, source = '<buffer>'): GrayImage {
  const img = upngDecode(bytes, source);
  let rgba: Uint8Array;
  try {
    rgba = new Uint8Array(UPNG.toRGBA8(img)[0]);
  } catch (e) {
    throw new PngError(source, `not a readable PNG (${e instanceof Error ? e.message : String(e).slice(0, 120)})`, { cause: e });
  }
  const data = new Uint8Array(img.width * img.height);
  for (let i = 0; i < data.length; i++) {
    const r = rgba[4 * i];
    if (rgba[4 * i + 1] !== r || rgba[4 * i + 2] !== r) throw new PngError(source, `pixel ${i} is not gray (R, G, B = ${r}, ${rgba[4 * i + 1]}, ${rgba[4 * i + 2]})`);
    data[i] = r;
  }
  return { width: img.width, height: img.height, data };
}
