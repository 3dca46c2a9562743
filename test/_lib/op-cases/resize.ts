// Bilinear resize cases: up and down, one input or output pixel, wide channels, both
// align_corners modes, and PyTorch's scale_factor mapping where in * scale is not an
// integer (it steps by 1 / scale, not in / out).
import { resizeBilinear } from '../../../src/ops/resize.ts';
import { resizeBilinearRef, type Shape4 } from '../../cpu/resize.ts';
import { uniform } from '../random.ts';
import { count, inputs, type OpCase, type Tier } from './case.ts';

/** [input, output, scale_factor as the PyTorch code would pass it (or none)] */
export type ResizeSpec = [Shape4, [number, number], [number, number]?];

export const RESIZE_SPECS: ResizeSpec[] = [
  [[1, 32, 32, 2], [512, 512], [16, 16]], // x16 to the output resolution
  [[1, 16, 16, 3], [32, 32], [2, 2]], // Refine-style 2x
  [[1, 17, 9, 5], [34, 18], [2, 2]],
  [[1, 40, 40, 3], [7, 7]], // 512 -> 32-like downsampling
  [[1, 40, 33, 2], [7, 5]],
  [[2, 7, 5, 3], [11, 13]],
  [[1, 1, 1, 3], [5, 4]], // one input pixel
  [[1, 9, 6, 2], [1, 1]], // one output pixel
  [[1, 1, 8, 1], [3, 1]],
  [[1, 6, 7, 1001], [4, 9]],
  // Channels in fours: four to a thread (the kernel's main4, vec4 loads).
  [[1, 16, 16, 8], [32, 32], [2, 2]],
  [[2, 7, 5, 4], [11, 13]],
  [[1, 6, 7, 1004], [4, 9]],
  [[1, 1, 1, 4], [5, 4]],
  [[1, 40, 33, 12], [7, 5]],
  [[1, 33, 17, 4], [49, 51], [1.5, 3]],
  // in * scale not an integer.
  [[1, 33, 17, 3], [16, 8], [0.5, 0.5]],
  [[1, 33, 17, 3], [49, 51], [1.5, 3]],
  [[1, 11, 17, 2], [3, 5], [1 / 3, 0.3]],
];

function resizeCase([shape, out, scale]: ResizeSpec, alignCorners: boolean, tier: Tier): OpCase {
  return {
    op: 'resize',
    name: `resizeBilinear [${shape}] -> ${out[0]}x${out[1]}${scale ? ` scale [${scale}]` : ''} alignCorners=${alignCorners}`,
    tier,
    prepare(rt) {
      const x = uniform(count(shape), count(shape), -2, 2);
      const io = inputs(rt);
      const tx = io.upload(shape, x);
      return {
        run: () => resizeBilinear(rt, tx, out, { alignCorners, scale }),
        expected: () => ({ shape: [shape[0], out[0], out[1], shape[3]], data: resizeBilinearRef(x, shape, out, alignCorners, scale), opts: {} }),
        dispose: () => io.dispose(),
      };
    },
  };
}

export const RESIZE_CASES: OpCase[] = [
  resizeCase([[1, 13, 11, 5], [29, 7]], false, 'smoke'),
  resizeCase([[1, 13, 11, 5], [29, 7]], true, 'smoke'),
  ...RESIZE_SPECS.flatMap((s) => [resizeCase(s, false, 'unit'), resizeCase(s, true, 'unit')]),
  // The decoder's last upsampling: 1/4 resolution logits to the 512x512 frame.
  resizeCase([[1, 128, 128, 2], [512, 512], [4, 4]], false, 'perf'),
];
