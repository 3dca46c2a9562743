// Label PNGs in and 8-bit PNGs out, browser-safe.
//
// The seed's masks are palette PNGs whose pixel *indices* are the labels (PIL's
// np.array(Image.open(mask)) gives indices); decodeGrayPng would turn them into
// palette colours, so labels are read here from UPNG's unpacked samples. upng-js
// 2.1 only encodes RGBA input (choosing its own palette order), so the writer is
// our own: 8-bit gray or palette, one IDAT compressed by fflate.

import { zlibSync } from 'fflate';
import UPNG from 'upng-js';
import { crc32 } from '../io/crc32.ts';
import { decodeGrayPng, PngError, upngDecode, type GrayImage } from '../io/png.ts';
import { VolumeError } from './volume.ts';

const GRAY = 0;
const INDEXED = 3;

/**
 * Per-pixel labels of a mask PNG: palette indices for indexed images, sample values
 * for gray ones (1-, 2-, 4- or 8-bit), gray level for colour images whose channels
 * are equal.
 */
export function decodeLabelPng(bytes: ArrayBuffer | Uint8Array, source = '<buffer>'): GrayImage {
  try {
    return decodeLabels(bytes, source);
  } catch (e) {
    if (e instanceof PngError) throw new VolumeError(source, e.message.slice(source.length + 2), { cause: e });
    throw e;
  }
}

function decodeLabels(bytes: ArrayBuffer | Uint8Array, source: string): GrayImage {
  const img: UPNG.Image = upngDecode(bytes, source);
  if (img.ctype !== GRAY && img.ctype !== INDEXED) return decodeGrayPng(bytes, source);
  if (!img.width || !img.height || !img.data) throw new VolumeError(source, 'not a readable PNG (no image data)');
  if (img.depth > 8) throw new VolumeError(source, `a ${img.depth}-bit gray PNG: label images must have 8 bits or fewer`);
  const packed = new Uint8Array(img.data);
  const { width, height, depth } = img;
  const rowBytes = Math.ceil((width * depth) / 8);
  const perByte = 8 / depth;
  const mask = (1 << depth) - 1;
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const byte = packed[y * rowBytes + Math.floor(x / perByte)];
      data[y * width + x] = (byte >> (8 - depth * ((x % perByte) + 1))) & mask;
    }
  }
  return { width, height, data };
}

/** One PNG chunk: length, type, payload, CRC-32 of type and payload. */
export function pngChunk(type: string, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, payload.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(payload, 8);
  view.setUint32(8 + payload.length, crc32(out.subarray(4, 8 + payload.length)));
  return out;
}

function encodePng(img: GrayImage, colorType: number, palette?: Uint8Array): Uint8Array {
  const { width, height, data } = img;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0) || data.length !== width * height) {
    throw new RangeError(`PNG encode: a ${width}x${height} image needs ${width * height} pixels, got ${data.length}`);
  }
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, width);
  new DataView(ihdr.buffer).setUint32(4, height);
  ihdr.set([8, colorType, 0, 0, 0], 8);
  // Filter "up" on every row: slices are smooth from row to row, masks mostly repeat.
  const raw = new Uint8Array(height * (width + 1));
  for (let y = 0; y < height; y++) {
    const o = y * (width + 1);
    raw[o] = 2;
    for (let x = 0; x < width; x++) raw[o + 1 + x] = data[y * width + x] - (y > 0 ? data[(y - 1) * width + x] : 0);
  }
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr),
    ...(palette ? [pngChunk('PLTE', palette)] : []), pngChunk('IDAT', zlibSync(raw, { level: 6 })), pngChunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

/** An 8-bit gray PNG, as cv2.imwrite writes a uint8 slice. */
export function encodeGrayPng(img: GrayImage): Uint8Array {
  return encodePng(img, GRAY);
}

/**
 * A palette PNG whose indices are the labels (0 black, every other label white, as
 * the seed's results palette [0,0,0, 255,255,255]): the seed's loaders read it back
 * as labels, viewers show the mask.
 */
export function encodeMaskPng(img: GrayImage): Uint8Array {
  let max = 1;
  for (let i = 0; i < img.data.length; i++) if (img.data[i] > max) max = img.data[i];
  const palette = new Uint8Array(3 * (max + 1)).fill(255);
  palette.fill(0, 0, 3);
  return encodePng(img, INDEXED, palette);
}
