// 8-bit gray images from PNG (upng-js: a small, well-kept decoder that runs in
// Node and browsers alike). Colour PNGs are accepted when their channels are equal.
import UPNG from 'upng-js';

export interface GrayImage {
  width: number;
  height: number;
  /** row-major, one byte per pixel */
  data: Uint8Array;
}

/** UPNG.decode on exactly these bytes (Node's Buffer can be a view into a shared pool). */
export function upngDecode(bytes: ArrayBuffer | Uint8Array): UPNG.Image {
  return UPNG.decode(bytes instanceof Uint8Array ? (bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer) : bytes);
}

export function decodeGrayPng(bytes: ArrayBuffer | Uint8Array, source = '<buffer>'): GrayImage {
  let img: UPNG.Image;
  try {
    img = upngDecode(bytes);
  } catch (e) {
    throw new Error(`${source}: not a readable PNG (${(e as Error).message})`);
  }
  if (!img.width || !img.height) throw new Error(`${source}: not a readable PNG`);
  const rgba = new Uint8Array(UPNG.toRGBA8(img)[0]);
  const data = new Uint8Array(img.width * img.height);
  for (let i = 0; i < data.length; i++) {
    const r = rgba[4 * i];
    if (rgba[4 * i + 1] !== r || rgba[4 * i + 2] !== r) throw new Error(`${source}: pixel ${i} is not gray (R, G, B = ${r}, ${rgba[4 * i + 1]}, ${rgba[4 * i + 2]})`);
    data[i] = r;
  }
  return { width: img.width, height: img.height, data };
}
