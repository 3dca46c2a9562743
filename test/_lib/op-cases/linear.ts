// Linear cases: the quality head's fc layers, a pooled NHWC map, odd sizes, no bias,
// more (row, output) pairs than one row of workgroups; plain, ReLU and sigmoid.
import { linear, prepareLinear } from '../../../src/ops/linear.ts';
import { linearRef } from '../../cpu/linear.ts';
import { uniform } from '../random.ts';
import { count, inputs, type OpCase, type Tier } from './case.ts';

type Act = 'none' | 'relu' | 'sigmoid';

function linearCase(shape: number[], outF: number, withBias: boolean, act: Act, tier: Tier): OpCase {
  const inF = shape[shape.length - 1];
  return {
    op: 'linear',
    name: `linear [${shape}] -> ${outF}${withBias ? '' : ' without bias'}, ${act}`,
    tier,
    prepare(rt) {
      const rows = count(shape) / inF;
      const bound = Math.sqrt(6 / inF); // nn.Linear-like magnitudes
      const x = uniform(rows * inF, inF, -1, 1);
      const weight = uniform(outF * inF, outF, -bound, bound);
      const bias = withBias ? uniform(outF, 3, -0.5, 0.5) : undefined;
      const io = inputs(rt);
      const w = io.own(prepareLinear(rt, { weight, bias, shape: [outF, inF], label: 'fc' }));
      const tx = io.upload(shape, x);
      return {
        run: () => linear(rt, tx, w, { relu: act === 'relu', sigmoid: act === 'sigmoid' }),
        // WGSL's exp is accurate to 3 + 2|x| ULP.
        expected: () => ({ shape: [rows, outF], data: linearRef(x, weight, bias, [outF, inF], act), opts: { k: inF, factor: act === 'sigmoid' ? 64 : 8 } }),
        flop: 2 * rows * outF * inF,
        dispose: () => io.dispose(),
      };
    },
  };
}

// [x shape, out features, with bias]; x's last dimension is `in`.
const SPECS: [number[], number, boolean][] = [
  [[1, 2048], 1000, true], // QAMN quality head fc
  [[1, 1000], 1, true], // and its fc2
  [[1, 1, 1, 2048], 13, true], // a pooled NHWC map
  [[3, 37], 5, true],
  [[2, 1], 7, false],
  [[70, 3], 1000, true], // more (row, output) pairs than one row of workgroups
];

export const LINEAR_CASES: OpCase[] = [
  linearCase([3, 37], 5, true, 'relu', 'smoke'),
  ...SPECS.flatMap(([shape, outF, bias]) => (['none', 'relu', 'sigmoid'] as const).map((act) => linearCase(shape, outF, bias, act, 'unit'))),
  linearCase([1, 2048], 1000, true, 'relu', 'perf'),
];
