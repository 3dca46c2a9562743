// Pooling cases: windows on odd sizes with all-negative inputs (padding read as 0
// would show in max pooling), windows mostly padding, and PSP's adaptive bins
// (overlapping on odd maps, larger than the input).
import { adaptiveAvgPool2d, avgPool2d, maxPool2d } from '../../../src/ops/pool.ts';
import { adaptiveAvgPoolRef, avgPoolRef, maxPoolRef, type Shape4, type WindowSpec } from '../../cpu/pool.ts';
import { uniform } from '../random.ts';
import { count, inputs, type OpCase, type Tier } from './case.ts';

const spec = (k: [number, number], s: [number, number], p: [number, number]): WindowSpec => ({ kernel: k, stride: s, padding: p });

function windowedCase(kind: 'max' | 'avg', shape: Shape4, s: WindowSpec, [lo, hi]: [number, number], tier: Tier): OpCase {
  return {
    op: 'pool',
    name: `${kind}Pool2d k[${s.kernel}] s[${s.stride}] p[${s.padding}] on [${shape}]`,
    tier,
    prepare(rt) {
      const x = uniform(count(shape), count(shape) + 1, lo, hi);
      const io = inputs(rt);
      const tx = io.upload(shape, x);
      const opts = { kernel: s.kernel, stride: s.stride, padding: s.padding };
      return {
        run: () => (kind === 'max' ? maxPool2d(rt, tx, opts) : avgPool2d(rt, tx, opts)),
        expected: () => {
          const ref = kind === 'max' ? maxPoolRef(x, shape, s) : avgPoolRef(x, shape, s);
          return { shape: ref.shape, data: ref.data, opts: kind === 'max' ? { factor: 0 } : { k: s.kernel[0] * s.kernel[1] } };
        },
        dispose: () => io.dispose(),
      };
    },
  };
}

function adaptiveCase(shape: Shape4, out: [number, number], tier: Tier): OpCase {
  return {
    op: 'pool',
    name: `adaptiveAvgPool2d [${shape}] to ${out[0]}x${out[1]}`,
    tier,
    prepare(rt) {
      const x = uniform(count(shape), 7 + shape[1], -2, 3);
      const io = inputs(rt);
      const tx = io.upload(shape, x);
      const maxBin = Math.ceil(shape[1] / out[0] + 1) * Math.ceil(shape[2] / out[1] + 1);
      return {
        run: () => adaptiveAvgPool2d(rt, tx, out),
        expected: () => ({ shape: [shape[0], out[0], out[1], shape[3]], data: adaptiveAvgPoolRef(x, shape, out), opts: { k: maxBin } }),
        dispose: () => io.dispose(),
      };
    },
  };
}

// [input shape, window, value range]
const WINDOWED: [Shape4, WindowSpec, [number, number]][] = [
  [[1, 33, 17, 5], spec([3, 3], [2, 2], [1, 1]), [-5, -1]], // ResNet stem on odd sizes
  [[2, 8, 8, 3], spec([3, 3], [2, 2], [1, 1]), [-1, 1]],
  [[1, 1, 1, 1], spec([3, 3], [2, 2], [1, 1]), [-3, -2]], // one pixel, window mostly padding
  [[1, 7, 9, 2], spec([2, 2], [2, 2], [0, 0]), [-1, 1]], // odd input: last row / column dropped
  [[1, 5, 6, 3], spec([2, 2], [1, 1], [1, 1]), [-4, -1]], // padding = kernel / 2
  [[1, 9, 7, 1], spec([3, 2], [1, 2], [1, 0]), [-1, 1]], // rectangular everything
  [[1, 6, 5, 1001], spec([3, 3], [3, 3], [0, 0]), [-1, 1]],
];

// PSP's pyramid sizes over even and odd maps, and outputs larger than the input.
const ADAPTIVE: [Shape4, [number, number][]][] = [
  [[1, 32, 32, 5], [[1, 1], [2, 2], [3, 3], [6, 6]]],
  [[1, 33, 17, 3], [[1, 1], [2, 2], [3, 3], [6, 6], [5, 4]]],
  [[2, 5, 3, 2], [[7, 4], [5, 3], [1, 6]]],
  [[1, 1, 1, 1001], [[3, 2]]],
];

const X: Shape4 = [1, 13, 11, 5];

export const POOL_CASES: OpCase[] = [
  windowedCase('max', X, spec([3, 3], [2, 2], [1, 1]), [-3, 3], 'smoke'),
  windowedCase('avg', X, spec([2, 2], [2, 2], [0, 0]), [-3, 3], 'smoke'),
  adaptiveCase(X, [6, 6], 'smoke'),
  ...WINDOWED.flatMap(([shape, s, range]) => [windowedCase('max', shape, s, range, 'unit'), windowedCase('avg', shape, s, range, 'unit')]),
  ...ADAPTIVE.flatMap(([shape, outs]) => outs.map((out) => adaptiveCase(shape, out, 'unit'))),
  // PSP's pyramid on ResNet's 1/16 map of a 512 crop.
  adaptiveCase([1, 32, 32, 2048], [6, 6], 'perf'),
  windowedCase('max', [1, 256, 256, 64], spec([3, 3], [2, 2], [1, 1]), [-1, 1], 'perf'),
];
