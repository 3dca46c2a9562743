// Channel cases: concatenation of odd channel counts, of channels in fours (the vec4
// copy where the parts allow it), and past one grid row of workgroups.
import { concatChannels } from '../../../src/ops/channels.ts';
import { concatRef } from '../../cpu/channels.ts';
import { uniform } from '../random.ts';
import { count, inputs, type OpCase, type Tier } from './case.ts';

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

export const CHANNELS_CASES: OpCase[] = [
  concatCase([1, 13, 11], [5, 3], 'smoke'),
  concatCase([2, 5, 3], [1, 3, 5, 2], 'unit'),
  // Channels in fours: whole vec4s copied (the kernel's copy4) where the part, the result
  // and the part's offset allow, element by element where one does not (4 + 2 + 2 + 8).
  concatCase([1, 7, 5], [4, 8], 'unit'),
  concatCase([2, 5, 3], [4, 2, 2, 8], 'unit'),
  // More pixels than one grid row of workgroups.
  concatCase([1, 129, 130], [1, 1001], 'big'),
  concatCase([1, 128, 128], [256, 256], 'perf'),
];
