// Per-pixel channel ops on NHWC tensors (kernels/channels.wgsl): concatenation,
// softmax, argmax and max over C.
import { grid1d, type Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { WGSL_CONSTANTS } from '../runtime/wgsl.generated.ts';

const WORKGROUP_SIZE = 256;
const { OP_SOFTMAX, OP_ARGMAX, OP_MAX } = WGSL_CONSTANTS.channels;
type Op = typeof OP_SOFTMAX | typeof OP_ARGMAX | typeof OP_MAX;

const fmt = (t: Tensor) => `[${t.shape.join(', ')}]`;

function checkNhwc(op: string, t: Tensor): void {
  t.assertLive(op);
  if (t.dtype !== 'f32') throw new TypeError(`${op}: expects f32, got ${t.dtype} for '${t.label}'`);
  if (t.shape.length !== 4) throw new RangeError(`${op}: expects an NHWC tensor [N, H, W, C], got ${fmt(t)}`);
}

function sameSpatial(op: string, a: Tensor, b: Tensor): void {
  if (a.shape[0] !== b.shape[0] || a.shape[1] !== b.shape[1] || a.shape[2] !== b.shape[2]) {
    throw new RangeError(`${op}: N, H, W differ: ${fmt(a)} and ${fmt(b)}`);
  }
}

function copy(rt: Runtime, src: Tensor, dst: Tensor, offset: number): void {
  if (src.size === 0) return;
  rt.dispatch({
    kernel: 'channels',
    entryPoint: 'copy',
    label: 'copyIntoChannels',
    constants: { WORKGROUP_SIZE },
    bindings: [src, dst],
    uniforms: { count: src.size, srcC: src.shape[3], dstC: dst.shape[3], offset },
    workgroups: grid1d(Math.ceil(src.size / WORKGROUP_SIZE)),
  });
}

/**
 * Writes src [N, H, W, c] into channels [channelOffset, channelOffset + c) of dst [N, H, W, C],
 * leaving dst's other channels alone, so producers can fill a concatenation buffer piecewise.
 */
export function copyIntoChannels(rt: Runtime, src: Tensor, dst: Tensor, channelOffset: number): void {
  const op = 'copyIntoChannels';
  checkNhwc(op, src);
  checkNhwc(op, dst);
  sameSpatial(op, src, dst);
  if (src.buffer === dst.buffer) throw new RangeError(`${op}: src and dst are the same buffer ('${src.label}')`);
  if (!Number.isInteger(channelOffset) || channelOffset < 0 || channelOffset + src.shape[3] > dst.shape[3]) {
    throw new RangeError(`${op}: channels [${channelOffset}, ${channelOffset + src.shape[3]}) of src ${fmt(src)} do not fit dst ${fmt(dst)}`);
  }
  copy(rt, src, dst, channelOffset);
}

/** torch.cat(dim=1) in NHWC: [N, H, W, C0 + C1 + ...]. */
export function concatChannels(rt: Runtime, parts: readonly Tensor[]): Tensor {
  const op = 'concatChannels';
  if (parts.length === 0) throw new RangeError(`${op}: needs at least one tensor`);
  for (const t of parts) {
    checkNhwc(op, t);
    sameSpatial(op, parts[0], t);
  }
  const [n, h, w] = parts[0].shape;
  const out = rt.empty([n, h, w, parts.reduce((s, t) => s + t.shape[3], 0)], 'f32', op);
  let offset = 0;
  for (const t of parts) {
    copy(rt, t, out, offset);
    offset += t.shape[3];
  }
  return out;
}

function reduce(rt: Runtime, op: Op, name: string, x: Tensor): Tensor {
  checkNhwc(name, x);
  const [n, h, w, c] = x.shape;
  if (c < 1) throw new RangeError(`${name}: needs at least one channel, got ${fmt(x)}`);
  const out = op === OP_SOFTMAX ? rt.empty(x.shape, 'f32', name) : rt.empty([n, h, w, 1], op === OP_ARGMAX ? 'i32' : 'f32', name);
  const pixels = n * h * w;
  if (pixels > 0) {
    rt.dispatch({
      kernel: 'channels',
      label: name,
      constants: { OP: op, WORKGROUP_SIZE },
      bindings: [x, out],
      uniforms: { count: pixels, srcC: c, dstC: c, offset: 0 },
      workgroups: grid1d(Math.ceil(pixels / WORKGROUP_SIZE)),
    });
  }
  return out;
}

/** Softmax over C at every pixel (torch.softmax(dim=1) in NCHW terms). */
export const softmaxChannels = (rt: Runtime, x: Tensor): Tensor<'f32'> => reduce(rt, OP_SOFTMAX, 'softmaxChannels', x) as Tensor<'f32'>;

/**
 * Index of the largest channel at every pixel, i32 [N, H, W, 1]. Ties go to the lowest index, as
 * torch.argmax does on CPU (CUDA does not promise which). NaN inputs are not handled: WGSL lets
 * implementations assume there are none, where torch.argmax would pick the NaN.
 */
export const argmaxChannels = (rt: Runtime, x: Tensor): Tensor<'i32'> => reduce(rt, OP_ARGMAX, 'argmaxChannels', x) as Tensor<'i32'>;

/** Largest channel value at every pixel, f32 [N, H, W, 1] (e.g. the max-probability map after softmax). */
export const maxChannels = (rt: Runtime, x: Tensor): Tensor<'f32'> => reduce(rt, OP_MAX, 'maxChannels', x) as Tensor<'f32'>;
