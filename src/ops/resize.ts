// Bilinear resize of NHWC tensors with PyTorch F.interpolate(mode='bilinear') semantics (kernels/resize.wgsl).
import { grid1d, type Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';

const WORKGROUP_SIZE = 256;
const I32_MAX = 0x7fffffff;
// Denominator bound for recovering a scale factor as a fraction; PyTorch models use 2, 4, 0.5, 1/16 ...
const MAX_SCALE_DENOMINATOR = 1 << 12;

export interface ResizeOptions {
  alignCorners: boolean;
  /**
   * The [h, w] scale_factor the PyTorch code passed to F.interpolate (recompute_scale_factor unset).
   * PyTorch then maps coordinates with 1 / scale_factor instead of in / out, which differs when
   * in * scale_factor is not an integer. The output size must be floor(in * scale_factor).
   * Ignored by the coordinate mapping when alignCorners is true, as in PyTorch.
   */
  scale?: readonly [number, number];
}

/** Source coordinate of output index d is max(0, (d * num + off) / den): three exact integers per axis. */
type AxisMap = [num: number, off: number, den: number];

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** The smallest-denominator fraction p / q that equals v in float64, if q stays small. */
function fraction(v: number): [number, number] | null {
  let [h0, h1, k0, k1] = [0, 1, 1, 0];
  let r = v;
  for (let i = 0; i < 64; i++) {
    const a = Math.floor(r);
    [h0, h1] = [h1, a * h1 + h0];
    [k0, k1] = [k1, a * k1 + k0];
    if (k1 > MAX_SCALE_DENOMINATOR) return null;
    if (h1 / k1 === v) return [h1, k1];
    r = 1 / (r - a);
  }
  return null;
}

function axisMap(name: string, inSize: number, outSize: number, alignCorners: boolean, scale: number | undefined): AxisMap {
  if (alignCorners) return outSize === 1 ? [0, 0, 1] : [inSize - 1, 0, outSize - 1];
  // Source step p / q: in / out, or 1 / scale_factor. (d + 0.5) * p / q - 0.5 = (d * 2p + p - q) / 2q.
  let p = inSize;
  let q = outSize;
  if (scale !== undefined) {
    const f = fraction(scale);
    if (!f) throw new RangeError(`${name}: scale factor ${scale} is not a fraction with denominator <= ${MAX_SCALE_DENOMINATOR}`);
    [q, p] = f;
  }
  const g = gcd(p, q);
  return [(2 * p) / g, (p - q) / g, (2 * q) / g];
}

/**
 * Resizes x [N, H, W, C] to [N, outH, outW, C] like F.interpolate(x, size, mode='bilinear', align_corners):
 * align_corners true maps output d to d * (in - 1) / (out - 1) (0 when out is 1); false maps it to
 * max(0, (d + 0.5) * in / out - 0.5), or with 1 / scale_factor in place of in / out when `scale` is given.
 * Neighbours past the last pixel are clamped to it. Coordinates are exact fractions here, where PyTorch rounds
 * them to float32; the two differ by well under one float32 step of the result.
 */
export function resizeBilinear(rt: Runtime, x: Tensor, outSize: readonly [number, number], opts: ResizeOptions): Tensor {
  const name = 'resizeBilinear';
  x.assertLive(name);
  if (x.dtype !== 'f32') throw new TypeError(`${name}: expects f32, got ${x.dtype}`);
  if (x.shape.length !== 4 || x.shape[1] < 1 || x.shape[2] < 1) {
    throw new RangeError(`${name}: expects an NHWC tensor [N, H, W, C] with H, W >= 1, got [${x.shape.join(', ')}]`);
  }
  const [n, h, w, c] = x.shape;
  const [oh, ow] = outSize;
  if (!(Number.isInteger(oh) && Number.isInteger(ow) && oh >= 1 && ow >= 1)) {
    throw new RangeError(`${name}: output size must be positive integers, got [${outSize.join(', ')}] for input [${x.shape.join(', ')}]`);
  }
  const scale = opts.scale;
  if (scale) {
    if (!scale.every((s) => Number.isFinite(s) && s > 0)) throw new RangeError(`${name}: scale must be positive, got [${scale.join(', ')}]`);
    if (oh !== Math.floor(h * scale[0]) || ow !== Math.floor(w * scale[1])) {
      throw new RangeError(`${name}: output [${oh}, ${ow}] is not floor(input [${h}, ${w}] * scale [${scale.join(', ')}])`);
    }
  }
  const my = axisMap(name, h, oh, opts.alignCorners, scale?.[0]);
  const mx = axisMap(name, w, ow, opts.alignCorners, scale?.[1]);
  for (const [[num, off, den], d] of [[my, oh], [mx, ow]] as const) {
    if (num * (d - 1) + Math.abs(off) > I32_MAX || den > I32_MAX) {
      throw new RangeError(`${name}: resize [${h}, ${w}] -> [${oh}, ${ow}] overflows the kernel's 32-bit coordinates`);
    }
  }
  const result = rt.empty([n, oh, ow, c], 'f32', name);
  if (result.size === 0) return result;
  // Channels in fours where they divide (main4: vec4 loads and stores); count and C in the entry point's elements.
  const lanes = c % 4 === 0 ? 4 : 1;
  const count = result.size / lanes;
  rt.dispatch({
    kernel: 'resize',
    entryPoint: lanes === 4 ? 'main4' : 'main',
    label: name,
    constants: { WORKGROUP_SIZE },
    bindings: [x, result],
    uniforms: { count, C: c / lanes, H: h, W: w, OH: oh, OW: ow, numY: my[0], offY: my[1], denY: my[2], numX: mx[0], offX: mx[1], denX: mx[2] },
    workgroups: grid1d(Math.ceil(count / WORKGROUP_SIZE)),
  });
  return result;
}
