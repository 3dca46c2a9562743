// The two-structure organ phantom (organ and the lesion inside it) at 64x64 that the
// memory network's GPU tests share, and a crop around the organ that the network runs
// padded (44 x 38 pixels, padded to 48 x 48 inside and cropped back).
import { phantomOrganVolume } from '../../src/phantom/organ.ts';

export const SIZE = 64;
const volume = phantomOrganVolume({ seed: 4, width: SIZE, height: SIZE, depth: 6 });
export const plane = SIZE * SIZE;
export const slice = (z: number) => volume.image.subarray(z * plane, (z + 1) * plane);
export const mask = (z: number, id: number) => Float32Array.from(volume.labels.subarray(z * plane, (z + 1) * plane), (v) => (v === id ? 1 : 0));

export const CROP = { width: 44, height: 38, x0: 10, y0: 14 };

/** The crop of a SIZE x SIZE slice or mask. */
export function cropAroundOrgan<T extends Uint8Array | Float32Array>(src: T): T {
  const { width, height, x0, y0 } = CROP;
  const out = new (src.constructor as new (n: number) => T)(width * height);
  for (let y = 0; y < height; y++) out.set(src.subarray((y0 + y) * SIZE + x0, (y0 + y) * SIZE + x0 + width), y * width);
  return out;
}

/** Slice z's crop as the session hands it to a memory network. */
export const croppedImage = (z: number) => ({ width: CROP.width, height: CROP.height, data: cropAroundOrgan(slice(z)) });
