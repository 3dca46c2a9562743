// Per-pixel channel ops on NHWC tensors (kernels/channels.wgsl): concatenation, copies
// into a channel window, and batches built from items and taken apart.
import { grid1d, type Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';

const WORKGROUP_SIZE = 256;

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

/** Copies `pixels` pixels of src from pixel srcPixel on into channels [offset, ...) of dst from pixel dstPixel on. */
function copy(rt: Runtime, src: Tensor, dst: Tensor, offset: number, label = 'copyIntoChannels', pixels = src.size / (src.shape[3] || 1), srcPixel = 0, dstPixel = 0): void {
  const [srcC, dstC] = [src.shape[3], dst.shape[3]];
  // Whole vec4s where the channel counts and the window's offset allow (entry copy4; its uniforms count vec4s).
  const lanes = srcC % 4 === 0 && dstC % 4 === 0 && offset % 4 === 0 ? 4 : 1;
  const count = (pixels * srcC) / lanes;
  if (count === 0) return;
  rt.dispatch({
    kernel: 'channels',
    entryPoint: lanes === 4 ? 'copy4' : 'copy',
    label,
    constants: { WORKGROUP_SIZE },
    bindings: [src, dst],
    uniforms: { count, srcC: srcC / lanes, dstC: dstC / lanes, offset: offset / lanes, srcPixel, dstPixel },
    workgroups: grid1d(Math.ceil(count / WORKGROUP_SIZE)),
  });
}

function checkItem(op: string, t: Tensor, item: number, what: string): void {
  if (!Number.isInteger(item) || item < 0 || item >= t.shape[0]) throw new RangeError(`${op}: ${what} item ${item} is not in ${fmt(t)}`);
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

/**
 * Item `srcItem` of src [N, H, W, c] into channels [channelOffset, channelOffset + c) of
 * item `dstItem` of dst [N', H, W, C]; dst's other items and channels stay as they were.
 */
export function copyItemIntoChannels(rt: Runtime, src: Tensor, srcItem: number, dst: Tensor, dstItem: number, channelOffset: number): void {
  const op = 'copyItemIntoChannels';
  checkNhwc(op, src);
  checkNhwc(op, dst);
  if (src.shape[1] !== dst.shape[1] || src.shape[2] !== dst.shape[2]) throw new RangeError(`${op}: H, W differ: ${fmt(src)} and ${fmt(dst)}`);
  checkItem(op, src, srcItem, 'source');
  checkItem(op, dst, dstItem, 'destination');
  if (src.buffer === dst.buffer) throw new RangeError(`${op}: src and dst are the same buffer ('${src.label}')`);
  if (!Number.isInteger(channelOffset) || channelOffset < 0 || channelOffset + src.shape[3] > dst.shape[3]) {
    throw new RangeError(`${op}: channels [${channelOffset}, ${channelOffset + src.shape[3]}) of src ${fmt(src)} do not fit dst ${fmt(dst)}`);
  }
  const pixels = src.shape[1] * src.shape[2];
  copy(rt, src, dst, channelOffset, op, pixels, srcItem * pixels, dstItem * pixels);
}

/** Items [1, H, W, C] (all one shape) stacked into a batch [N, H, W, C]. */
export function stackItems(rt: Runtime, items: readonly Tensor[], label = 'stackItems'): Tensor {
  const op = 'stackItems';
  if (items.length === 0) throw new RangeError(`${op}: needs at least one tensor`);
  for (const t of items) {
    checkNhwc(op, t);
    if (t.shape[0] !== 1 || t.shape.some((d, i) => d !== items[0].shape[i])) throw new RangeError(`${op}: items must all be one [1, H, W, C] shape, got ${items.map(fmt).join(', ')}`);
  }
  const [, h, w, c] = items[0].shape;
  const out = rt.empty([items.length, h, w, c], 'f32', label);
  items.forEach((t, b) => copy(rt, t, out, 0, op, h * w, 0, b * h * w));
  return out;
}

/** Item `item` of x [N, H, W, C], as a new [1, H, W, C] tensor. */
export function takeItem(rt: Runtime, x: Tensor, item: number, label = `${x.label} item ${item}`): Tensor {
  const op = 'takeItem';
  checkNhwc(op, x);
  checkItem(op, x, item, 'the');
  const [, h, w, c] = x.shape;
  const out = rt.empty([1, h, w, c], 'f32', label);
  copy(rt, x, out, 0, op, h * w, item * h * w, 0);
  return out;
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
