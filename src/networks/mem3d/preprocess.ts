// Frame and mask preparation as the original `TestTransform` does it: gray -> RGB
// by replication -> float32 -> x / 255 -> (x - mean) / std, each step rounded to f32.

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/**
 * The original's value for each grey level: frameTable()[3 * g + c] is channel c of
 * level g, computed with the f32 rounding of every step. preprocessFrame and the GPU
 * frame (src/ops/frame.ts) both read it, so they agree bit for bit.
 */
export function frameTable(): Float32Array {
  const mean = IMAGENET_MEAN.map(Math.fround);
  const std = IMAGENET_STD.map(Math.fround);
  const table = new Float32Array(256 * 3);
  for (let g = 0; g < 256; g++) {
    const x = Math.fround(g / 255);
    for (let c = 0; c < 3; c++) table[3 * g + c] = Math.fround(Math.fround(x - mean[c]) / std[c]);
  }
  return table;
}

const TABLE = frameTable();

/** 8-bit gray pixels (row-major H x W) to a channels-last [H, W, 3] float32 frame. */
export function preprocessFrame(gray: Uint8Array | Uint8ClampedArray, height: number, width: number): Float32Array {
  if (gray.length !== height * width) throw new RangeError(`preprocessFrame: ${gray.length} pixels for a ${height}x${width} frame`);
  const out = new Float32Array(height * width * 3);
  for (let i = 0; i < gray.length; i++) {
    const t = 3 * gray[i];
    out[3 * i] = TABLE[t];
    out[3 * i + 1] = TABLE[t + 1];
    out[3 * i + 2] = TABLE[t + 2];
  }
  return out;
}

/** A 0/255 (or 0/1) mask image to the object probability map m (one-hot channel 1). */
export function maskToProbability(mask: Uint8Array | Uint8ClampedArray): Float32Array {
  const out = new Float32Array(mask.length);
  for (let i = 0; i < mask.length; i++) out[i] = mask[i] > 0 ? 1 : 0;
  return out;
}
