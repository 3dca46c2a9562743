// Frame and mask preparation as the original `TestTransform` does it: gray -> RGB
// by replication -> float32 -> x / 255 -> (x - mean) / std, each step rounded to f32.

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** 8-bit gray pixels (row-major H x W) to a channels-last [H, W, 3] float32 frame. */
export function preprocessFrame(gray: Uint8Array | Uint8ClampedArray, height: number, width: number): Float32Array {
  if (gray.length !== height * width) throw new RangeError(`preprocessFrame: ${gray.length} pixels for a ${height}x${width} frame`);
  const mean = IMAGENET_MEAN.map(Math.fround);
  const std = IMAGENET_STD.map(Math.fround);
  const out = new Float32Array(height * width * 3);
  for (let i = 0; i < gray.length; i++) {
    const x = Math.fround(gray[i] / 255);
    for (let c = 0; c < 3; c++) out[3 * i + c] = Math.fround(Math.fround(x - mean[c]) / std[c]);
  }
  return out;
}

/** A 0/255 (or 0/1) mask image to the object probability map m (one-hot channel 1). */
export function maskToProbability(mask: Uint8Array | Uint8ClampedArray): Float32Array {
  const out = new Float32Array(mask.length);
  for (let i = 0; i < mask.length; i++) out[i] = mask[i] > 0 ? 1 : 0;
  return out;
}
