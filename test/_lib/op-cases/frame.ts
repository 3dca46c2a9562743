// Grey-frame cases (kernels/frame.wgsl): slice sizes that are not multiples of 4 bytes,
// padding on the right and bottom, a one-channel table, and a slice whose bytes do not
// start on a 4-byte boundary (the op copies them into words), and batches of slices
// whose byte counts are odd (so an item starts mid-word). Window cases
// (kernels/window.wgsl): odd sizes, several channels and images, empty and full windows.
import { frameTable } from '../../../src/networks/mem3d/preprocess.ts';
import { greyFrames, zeroOutside } from '../../../src/ops/frame.ts';
import { greyFrameRef, imagenetLevel, zeroOutsideRef } from '../../cpu/frame.ts';
import { rng, uniform } from '../random.ts';
import { count, inputs, type OpCase, type Tier } from './case.ts';

function randomGrey(n: number, seed: number, offset: number): Uint8Array {
  const r = rng(seed);
  const buffer = new Uint8Array(n + offset);
  for (let i = 0; i < buffer.length; i++) buffer[i] = Math.floor(256 * r());
  return buffer.subarray(offset);
}

function frameCase(width: number, height: number, outWidth: number, outHeight: number, tier: Tier, opts: { channels?: 1 | 3; offset?: number; items?: number } = {}): OpCase {
  const channels = opts.channels ?? 3;
  const offset = opts.offset ?? 0;
  const items = opts.items ?? 1;
  return {
    op: 'frame',
    name: `frame ${items > 1 ? `${items} x ` : ''}${width}x${height} -> ${outWidth}x${outHeight}, ${channels} channel${channels > 1 ? 's' : ''}${offset ? `, bytes at offset ${offset}` : ''}`,
    tier,
    prepare(rt) {
      const greys = Array.from({ length: items }, (_, b) => randomGrey(width * height, width * 131 + height + 1000 * b, offset));
      // One channel: a random table, so a wrong level or channel cannot pass by symmetry.
      const random = rng(7);
      const table = channels === 3 ? frameTable() : Float32Array.from({ length: 256 }, () => 4 * random() - 2);
      const level = channels === 3 ? imagenetLevel : (g: number) => table[g];
      return {
        run: () => greyFrames(rt, greys, { width, height }, { width: outWidth, height: outHeight }, table),
        // Three f32 roundings (g / 255, - mean, / std) against the exact value.
        expected: () => ({
          shape: [items, outHeight, outWidth, channels],
          data: Float64Array.from(greys.flatMap((grey) => Array.from(greyFrameRef(grey, width, height, outWidth, outHeight, level, channels)))),
          opts: { factor: 4 },
        }),
        dispose: () => {},
      };
    },
  };
}

function windowCase(shape: number[], width: number, height: number, tier: Tier): OpCase {
  return {
    op: 'frame',
    name: `zeroOutside [${shape}] window ${width}x${height}`,
    tier,
    prepare(rt) {
      const x = uniform(count(shape), shape.length + width, -3, 3);
      const io = inputs(rt);
      const t = io.upload(shape, x);
      return {
        run: () => zeroOutside(rt, t, { width, height }),
        expected: () => ({ shape, data: zeroOutsideRef(x, shape, width, height), opts: { factor: 0 } }),
        dispose: () => io.dispose(),
      };
    },
  };
}

export const FRAME_CASES: OpCase[] = [
  windowCase([1, 32, 48, 1], 45, 27, 'smoke'),
  windowCase([2, 7, 9, 3], 5, 6, 'unit'),
  windowCase([1, 5, 5, 2], 0, 5, 'unit'),
  windowCase([1, 5, 7, 1], 7, 5, 'unit'),
  frameCase(13, 11, 32, 32, 'smoke'),
  frameCase(1, 1, 1, 1, 'unit'),
  frameCase(37, 23, 48, 32, 'unit'),
  frameCase(64, 48, 64, 48, 'unit'),
  frameCase(29, 31, 29, 33, 'unit', { offset: 3 }),
  frameCase(17, 9, 20, 9, 'unit', { channels: 1 }),
  frameCase(13, 11, 16, 16, 'unit', { items: 3 }),
  frameCase(7, 5, 7, 6, 'unit', { items: 2, channels: 1, offset: 1 }),
  frameCase(512, 512, 512, 512, 'perf'),
];
