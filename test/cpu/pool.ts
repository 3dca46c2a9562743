// Float64 references for kernels/pool.wgsl, written from PyTorch's definitions
// (aten/src/ATen/native/{DilatedMaxPool2d,AveragePool2d,AdaptiveAveragePooling}.cpp).
export type Shape4 = readonly [number, number, number, number];

export interface WindowSpec {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
}

function outDim(size: number, k: number, s: number, p: number): number {
  return Math.floor((size + 2 * p - k) / s) + 1;
}

/** Both windowed pools: every kernel tap is visited, with `pad` standing in outside the input. */
function windowedRef(x: ArrayLike<number>, [n, h, w, c]: Shape4, spec: WindowSpec, pad: number, reduce: (acc: number, v: number) => number, init: number, finish: (acc: number) => number): { data: Float64Array; shape: Shape4 } {
  const { kernel: [kh, kw], stride: [sh, sw], padding: [ph, pw] } = spec;
  const oh = outDim(h, kh, sh, ph);
  const ow = outDim(w, kw, sw, pw);
  const out = new Float64Array(n * oh * ow * c);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let ch = 0; ch < c; ch++) {
          let acc = init;
          for (let ky = 0; ky < kh; ky++) {
            for (let kx = 0; kx < kw; kx++) {
              const y = oy * sh - ph + ky;
              const xx = ox * sw - pw + kx;
              const inside = y >= 0 && y < h && xx >= 0 && xx < w;
              acc = reduce(acc, inside ? x[((b * h + y) * w + xx) * c + ch] : pad);
            }
          }
          out[((b * oh + oy) * ow + ox) * c + ch] = finish(acc);
        }
      }
    }
  }
  return { data: out, shape: [n, oh, ow, c] };
}

export const maxPoolRef = (x: ArrayLike<number>, shape: Shape4, spec: WindowSpec) =>
  windowedRef(x, shape, spec, -Infinity, Math.max, -Infinity, (a) => a);

/** count_include_pad=True, ceil_mode=False: every window covers kernel_h * kernel_w taps, padding counted as 0. */
export const avgPoolRef = (x: ArrayLike<number>, shape: Shape4, spec: WindowSpec) =>
  windowedRef(x, shape, spec, 0, (a, v) => a + v, 0, (a) => a / (spec.kernel[0] * spec.kernel[1]));

export function adaptiveAvgPoolRef(x: ArrayLike<number>, [n, h, w, c]: Shape4, [oh, ow]: [number, number]): Float64Array {
  const out = new Float64Array(n * oh * ow * c);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      const y0 = Math.floor((oy * h) / oh);
      const y1 = Math.ceil(((oy + 1) * h) / oh);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = Math.floor((ox * w) / ow);
        const x1 = Math.ceil(((ox + 1) * w) / ow);
        for (let ch = 0; ch < c; ch++) {
          let sum = 0;
          for (let y = y0; y < y1; y++) for (let xx = x0; xx < x1; xx++) sum += x[((b * h + y) * w + xx) * c + ch];
          out[((b * oh + oy) * ow + ox) * c + ch] = sum / ((y1 - y0) * (x1 - x0));
        }
      }
    }
  }
  return out;
}
