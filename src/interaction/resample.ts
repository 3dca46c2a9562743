// OpenCV's cv2.resize on single-channel float planes, computed in float64:
// INTER_LINEAR (the DEXTR / IOG crop resize) and INTER_CUBIC (crop2fullmask's paste
// back). Both map output pixel d to source coordinate (d + 0.5) * src / dst - 0.5
// (OpenCV computes it in float32, as here) and replicate the border. Linear clamps
// coordinates outside [0, n - 1] to the edge pixel; cubic keeps the fraction and
// clamps each of its four taps (Keys kernel, A = -0.75).

export interface Plane {
  width: number;
  height: number;
  data: ArrayLike<number>;
}

interface Taps {
  index: Int32Array;
  weight: Float64Array;
  n: number;
}

function checkSizes(op: string, src: Plane, width: number, height: number): void {
  if (!(src.width >= 1 && src.height >= 1 && Number.isInteger(src.width) && Number.isInteger(src.height))) throw new RangeError(`${op}: source size ${src.width}x${src.height} must be positive integers`);
  if (src.data.length !== src.width * src.height) throw new RangeError(`${op}: source has ${src.data.length} values, ${src.width}x${src.height} needs ${src.width * src.height}`);
  if (!(width >= 1 && height >= 1 && Number.isInteger(width) && Number.isInteger(height))) throw new RangeError(`${op}: output size ${width}x${height} must be positive integers`);
}

function linearTaps(srcSize: number, dstSize: number): Taps {
  const scale = srcSize / dstSize;
  const index = new Int32Array(2 * dstSize);
  const weight = new Float64Array(2 * dstSize);
  for (let d = 0; d < dstSize; d++) {
    let f = Math.fround((d + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    f = Math.fround(f - s);
    if (s < 0) [s, f] = [0, 0];
    if (s >= srcSize - 1) [s, f] = [srcSize - 1, 0];
    index[2 * d] = s;
    index[2 * d + 1] = Math.min(s + 1, srcSize - 1);
    weight[2 * d] = Math.fround(1 - f);
    weight[2 * d + 1] = f;
  }
  return { index, weight, n: 2 };
}

function cubicTaps(srcSize: number, dstSize: number): Taps {
  const A = -0.75;
  const scale = srcSize / dstSize;
  const index = new Int32Array(4 * dstSize);
  const weight = new Float64Array(4 * dstSize);
  for (let d = 0; d < dstSize; d++) {
    const f = Math.fround((d + 0.5) * scale - 0.5);
    const s = Math.floor(f);
    const x = Math.fround(f - s);
    const w0 = Math.fround(((A * (x + 1) - 5 * A) * (x + 1) + 8 * A) * (x + 1) - 4 * A);
    const w1 = Math.fround(((A + 2) * x - (A + 3)) * x * x + 1);
    const w2 = Math.fround(((A + 2) * (1 - x) - (A + 3)) * (1 - x) * (1 - x) + 1);
    const w = [w0, w1, w2, Math.fround(1 - w0 - w1 - w2)];
    for (let k = 0; k < 4; k++) {
      index[4 * d + k] = Math.min(Math.max(s - 1 + k, 0), srcSize - 1);
      weight[4 * d + k] = w[k];
    }
  }
  return { index, weight, n: 4 };
}

function separable(src: Plane, width: number, height: number, tx: Taps, ty: Taps): Float64Array {
  const rows = new Float64Array(src.height * width);
  for (let y = 0; y < src.height; y++) {
    const row = y * src.width;
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let k = 0; k < tx.n; k++) acc += tx.weight[x * tx.n + k] * src.data[row + tx.index[x * tx.n + k]];
      rows[y * width + x] = acc;
    }
  }
  const out = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let k = 0; k < ty.n; k++) {
      const wgt = ty.weight[y * ty.n + k];
      const row = ty.index[y * ty.n + k] * width;
      for (let x = 0; x < width; x++) out[y * width + x] += wgt * rows[row + x];
    }
  }
  return out;
}

/** cv2.resize(src, (width, height), interpolation=cv2.INTER_LINEAR) on a float plane. */
export function resizeLinearCV(src: Plane, width: number, height: number): Float64Array {
  checkSizes('resizeLinearCV', src, width, height);
  return separable(src, width, height, linearTaps(src.width, width), linearTaps(src.height, height));
}

/** cv2.resize(src, (width, height), interpolation=cv2.INTER_CUBIC) on a float plane. */
export function resizeCubicCV(src: Plane, width: number, height: number): Float64Array {
  checkSizes('resizeCubicCV', src, width, height);
  return separable(src, width, height, cubicTaps(src.width, width), cubicTaps(src.height, height));
}
