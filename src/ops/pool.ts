// 2-D pooling on NHWC tensors with PyTorch semantics (kernels/pool.wgsl):
// MaxPool2d, AvgPool2d (count_include_pad=True) and AdaptiveAvgPool2d, all ceil_mode=False.
import { grid1d, type Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { WGSL_CONSTANTS } from '../runtime/wgsl.generated.ts';

const WORKGROUP_SIZE = 256;
const { OP_MAX, OP_AVG, OP_ADAPTIVE_AVG } = WGSL_CONSTANTS.pool;
type Op = typeof OP_MAX | typeof OP_AVG | typeof OP_ADAPTIVE_AVG;

/** A size given once for both axes or as [h, w], like PyTorch's int-or-tuple arguments. */
export type Pair = number | readonly [number, number];

export interface PoolOptions {
  kernel: Pair;
  /** Defaults to `kernel`, as in PyTorch. */
  stride?: Pair;
  /** Implicit padding on both sides of each axis; at most kernel / 2. Defaults to 0. */
  padding?: Pair;
}

function pair(op: string, what: string, v: Pair, min: number): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!p.every((d) => Number.isInteger(d) && d >= min)) throw new RangeError(`${op}: ${what} must be integers >= ${min}, got ${JSON.stringify(v)}`);
  return p;
}

function checkInput(op: string, x: Tensor): void {
  x.assertLive(op);
  if (x.dtype !== 'f32') throw new TypeError(`${op}: expects f32, got ${x.dtype}`);
  if (x.shape.length !== 4 || x.shape[1] < 1 || x.shape[2] < 1) {
    throw new RangeError(`${op}: expects an NHWC tensor [N, H, W, C] with H, W >= 1, got [${x.shape.join(', ')}]`);
  }
}

function run(rt: Runtime, op: Op, name: string, x: Tensor, out: [number, number], k = [0, 0], s = [0, 0], p = [0, 0]): Tensor {
  const [n, h, w, c] = x.shape;
  const result = rt.empty([n, out[0], out[1], c], 'f32', name);
  if (result.size === 0) return result;
  rt.dispatch({
    kernel: 'pool',
    label: name,
    constants: { OP: op, WORKGROUP_SIZE },
    bindings: [x, result],
    uniforms: { count: result.size, C: c, H: h, W: w, OH: out[0], OW: out[1], kh: k[0], kw: k[1], sh: s[0], sw: s[1], ph: p[0], pw: p[1] },
    workgroups: grid1d(Math.ceil(result.size / WORKGROUP_SIZE)),
  });
  return result;
}

function windowed(rt: Runtime, op: Op, name: string, x: Tensor, opts: PoolOptions): Tensor {
  checkInput(name, x);
  const k = pair(name, 'kernel', opts.kernel, 1);
  const s = opts.stride === undefined ? k : pair(name, 'stride', opts.stride, 1);
  const p = pair(name, 'padding', opts.padding ?? 0, 0);
  if (p[0] > k[0] / 2 || p[1] > k[1] / 2) throw new RangeError(`${name}: padding [${p}] must be at most half the kernel [${k}]`);
  const [, h, w] = x.shape;
  const out: [number, number] = [Math.floor((h + 2 * p[0] - k[0]) / s[0]) + 1, Math.floor((w + 2 * p[1] - k[1]) / s[1]) + 1];
  if (out[0] < 1 || out[1] < 1) {
    throw new RangeError(`${name}: kernel [${k}] with padding [${p}] does not fit input [${x.shape.join(', ')}]`);
  }
  return run(rt, op, name, x, out, k, s, p);
}

/** PyTorch MaxPool2d (dilation 1, ceil_mode=False); e.g. the ResNet stem is { kernel: 3, stride: 2, padding: 1 }. */
export const maxPool2d = (rt: Runtime, x: Tensor, opts: PoolOptions): Tensor => windowed(rt, OP_MAX, 'maxPool2d', x, opts);

/** PyTorch AvgPool2d with its defaults: stride = kernel, count_include_pad=True, ceil_mode=False. */
export const avgPool2d = (rt: Runtime, x: Tensor, opts: PoolOptions): Tensor => windowed(rt, OP_AVG, 'avgPool2d', x, opts);

/** PyTorch AdaptiveAvgPool2d to [outH, outW]; output sizes above the input's are allowed (bins then repeat pixels). */
export function adaptiveAvgPool2d(rt: Runtime, x: Tensor, outSize: readonly [number, number]): Tensor {
  const name = 'adaptiveAvgPool2d';
  checkInput(name, x);
  return run(rt, OP_ADAPTIVE_AVG, name, x, pair(name, 'output size', outSize, 1));
}
