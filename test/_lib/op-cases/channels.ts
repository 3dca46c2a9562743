// Channel cases: softmax / argmax / max over 1 to 1001 channels (argmax also on tied
// maxima), softmax past exp's range, and concatenation of odd channel counts.
import { argmaxChannels, concatChannels, maxChannels, softmaxChannels } from '../../../src/ops/channels.ts';
import type { Runtime } from '../../../src/runtime/runtime.ts';
import type { Tensor } from '../../../src/runtime/tensor.ts';
import { argmaxRef, concatRef, maxRef, softmaxRef } from '../../cpu/channels.ts';
import { uniform } from '../random.ts';
import { count, inputs, type OpCase, type Tier } from './case.ts';

type Reduce = 'softmax' | 'argmax' | 'max';
const REDUCE: Record<Reduce, { run: (rt: Runtime, x: Tensor) => Tensor; ref: (x: Float32Array, c: number) => Float64Array; keepsChannels: boolean; factor: number }> = {
  // WGSL's exp is accurate to 3 + 2|x| ULP.
  softmax: { run: softmaxChannels, ref: softmaxRef, keepsChannels: true, factor: 64 },
  argmax: { run: argmaxChannels, ref: argmaxRef, keepsChannels: false, factor: 0 },
  max: { run: maxChannels, ref: maxRef, keepsChannels: false, factor: 0 },
};

/** values: 'spread' in [-8, 8); 'ties' few distinct integers (tied maxima); 'huge' in [95, 105), where exp overflows f32. */
function reduceCase(kind: Reduce, shape: number[], values: 'spread' | 'ties' | 'huge', tier: Tier): OpCase {
  const c = shape[3];
  const op = REDUCE[kind];
  return {
    op: 'channels',
    name: `${kind}Channels over C=${c} on [${shape.slice(0, 3)}]${values === 'spread' ? '' : `, ${values === 'ties' ? 'tied maxima' : 'logits beyond exp range'}`}`,
    tier,
    prepare(rt) {
      const x =
        values === 'ties' ? Float32Array.from(uniform(count(shape), c + 1, 0, 3), Math.floor) : values === 'huge' ? uniform(count(shape), 9, 95, 105) : uniform(count(shape), c, -8, 8);
      const io = inputs(rt);
      const tx = io.upload(shape, x);
      return {
        run: () => op.run(rt, tx),
        expected: () => ({ shape: op.keepsChannels ? shape : [...shape.slice(0, 3), 1], data: op.ref(x, c), opts: { k: op.keepsChannels ? c : 1, factor: op.factor } }),
        dispose: () => io.dispose(),
      };
    },
  };
}

function concatCase(nhw: [number, number, number], channels: number[], tier: Tier): OpCase {
  const pixels = count(nhw);
  return {
    op: 'channels',
    name: `concatChannels ${channels.join(' + ')} on [${nhw}]`,
    tier,
    prepare(rt) {
      const parts = channels.map((c, i) => ({ c, data: uniform(pixels * c, 20 + i) }));
      const io = inputs(rt);
      const tensors = parts.map((p) => io.upload([...nhw, p.c], p.data));
      return {
        run: () => concatChannels(rt, tensors),
        expected: () => ({ shape: [...nhw, channels.reduce((a, b) => a + b, 0)], data: concatRef(parts, pixels), opts: { factor: 0 } }),
        dispose: () => io.dispose(),
      };
    },
  };
}

const SHAPES = [[1, 7, 5, 1], [2, 3, 9, 2], [1, 5, 5, 3], [1, 9, 7, 5], [1, 3, 5, 1001]];

export const CHANNELS_CASES: OpCase[] = [
  concatCase([1, 13, 11], [5, 3], 'smoke'),
  reduceCase('softmax', [1, 13, 11, 5], 'spread', 'smoke'),
  reduceCase('argmax', [1, 13, 11, 5], 'spread', 'smoke'),
  ...SHAPES.flatMap((s) => [reduceCase('softmax', s, 'spread', 'unit'), reduceCase('argmax', s, 'spread', 'unit'), reduceCase('argmax', s, 'ties', 'unit'), reduceCase('max', s, 'spread', 'unit')]),
  reduceCase('softmax', [1, 5, 3, 3], 'huge', 'unit'),
  concatCase([2, 5, 3], [1, 3, 5, 2], 'unit'),
  // Channels in fours: whole vec4s copied (the kernel's copy4) where the part, the result
  // and the part's offset allow, element by element where one does not (4 + 2 + 2 + 8).
  concatCase([1, 7, 5], [4, 8], 'unit'),
  concatCase([2, 5, 3], [4, 2, 2, 8], 'unit'),
  // More pixels than one grid row of workgroups.
  concatCase([1, 129, 130], [1, 1001], 'big'),
  concatCase([1, 128, 128], [256, 256], 'perf'),
];
