// Network inputs made on the GPU. greyFrame: 8-bit grey slices to a network's
// channels-last float input (kernels/frame.wgsl), a lookup table per grey level and
// zero-level padding to the network's frame size: the upload is the slice's bytes, a
// twelfth of the f32 frame the CPU path sends, and needs no NaN scan (every value comes
// from the table). zeroOutside: a padded network output made a padded input again
// (kernels/window.wgsl), so a mask can go from one step to the next without a readback.
import { grid1d, type Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { concatArrays } from '../util/concat-arrays.ts';

const WORKGROUP_SIZE = 256;

export interface GreyFrameSize {
  width: number;
  height: number;
}

/**
 * grey: width * height bytes, row-major. table: 256 * C values, entries [C g, C g + C)
 * grey level g's channels (3 KB for C = 3: uploaded with each frame rather than cached,
 * so nothing outlives the call). Returns [1, out.height, out.width, C]; pixels past the
 * slice (right and bottom padding) take level 0.
 */
export function greyFrame(rt: Runtime, grey: Uint8Array, size: GreyFrameSize, out: GreyFrameSize, table: Float32Array): Tensor {
  return greyFrames(rt, [grey], size, out, table);
}

/** greyFrame of N slices of one size in one upload and one dispatch: [N, out.height, out.width, C]. */
export function greyFrames(rt: Runtime, greys: readonly Uint8Array[], size: GreyFrameSize, out: GreyFrameSize, table: Float32Array): Tensor {
  const { width, height } = size;
  if (![width, height, out.width, out.height].every((v) => Number.isInteger(v) && v > 0)) {
    throw new RangeError(`greyFrame: sizes must be positive integers, got ${width}x${height} -> ${out.width}x${out.height}`);
  }
  if (greys.length === 0) throw new RangeError('greyFrame: no slices');
  const wrong = greys.findIndex((g) => g.length !== width * height);
  if (wrong >= 0) throw new RangeError(`greyFrame: ${greys[wrong].length} bytes for a ${width}x${height} slice${greys.length > 1 ? ` (slice ${wrong} of ${greys.length})` : ''}`);
  if (out.width < width || out.height < height) throw new RangeError(`greyFrame: output ${out.width}x${out.height} is smaller than the slice ${width}x${height}`);
  if (table.length === 0 || table.length % 256 !== 0) throw new RangeError(`greyFrame: the table must hold 256 * C values, got ${table.length}`);
  const bad = table.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new RangeError(`greyFrame: table entry ${bad} is not finite`);
  const channels = table.length / 256;
  const items = greys.length;
  const bytes = items === 1 ? greys[0] : concatArrays(Uint8Array, greys);
  return rt.scope(() => {
    const levels = rt.upload([256, channels], table, 'f32', 'grey level table');
    const words = rt.upload([Math.ceil(bytes.length / 4)], packBytes(bytes), 'u32', items === 1 ? 'grey slice' : 'grey slices');
    const frame = rt.empty([items, out.height, out.width, channels], 'f32', items === 1 ? 'grey frame' : 'grey frames');
    rt.dispatch({
      kernel: 'frame',
      label: 'greyFrame',
      constants: { CHANNELS: channels, WORKGROUP_SIZE },
      bindings: [words, levels, frame],
      uniforms: { width, height, outWidth: out.width, outHeight: out.height, items },
      workgroups: grid1d(Math.ceil((items * out.width * out.height) / WORKGROUP_SIZE)),
    });
    return frame;
  });
}

/** The bytes as little-endian u32 words, the last one zero-filled; a view when already aligned. */
function packBytes(bytes: Uint8Array): Uint32Array {
  if (bytes.byteOffset % 4 === 0 && bytes.length % 4 === 0) return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const copy = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
  copy.set(bytes);
  return new Uint32Array(copy.buffer);
}

/**
 * x [N, H, W, C] with every value outside rows [0, height) and columns [0, width) set
 * to 0 (kernels/window.wgsl): a network output at a padded size made a padded input again.
 */
export function zeroOutside(rt: Runtime, x: Tensor, size: GreyFrameSize): Tensor {
  x.assertLive('zeroOutside');
  if (x.dtype !== 'f32' || x.shape.length !== 4) throw new RangeError(`zeroOutside: expects an f32 NHWC tensor, got ${x.dtype} [${x.shape.join(', ')}]`);
  const [, outHeight, outWidth, channels] = x.shape;
  const { width, height } = size;
  if (![width, height].every((v) => Number.isInteger(v) && v >= 0) || width > outWidth || height > outHeight) {
    throw new RangeError(`zeroOutside: window ${width}x${height} must lie within the ${outWidth}x${outHeight} image`);
  }
  const out = rt.empty(x.shape, 'f32', 'zeroOutside');
  if (x.size === 0) return out;
  rt.dispatch({
    kernel: 'window',
    label: 'zeroOutside',
    constants: { WORKGROUP_SIZE },
    bindings: [x, out],
    uniforms: { count: x.size, channels, width, height, outWidth, outHeight },
    workgroups: grid1d(Math.ceil(x.size / WORKGROUP_SIZE)),
  });
  return out;
}
