// Soft aggregation (Mem3D's head): probabilities, the aggregated log-odds and the
// foreground, on well-conditioned logits (probabilities within [0.007, 0.993]).
import { softAggregation, softAggregationObjects, type SoftAggregation } from '../../../src/ops/soft-aggregation.ts';
import type { Tensor } from '../../../src/runtime/tensor.ts';
import { softAggregationRef } from '../../cpu/soft-aggregation.ts';
import { softAggregationObjectsRef } from '../../cpu/soft-aggregation-objects.ts';
import { uniform } from '../random.ts';
import { inputs, type OpCase, type Tier } from './case.ts';

type Output = 'ps' | 'logits' | 'foreground';

function softAggregationCase(output: Output, hw: [number, number], tier: Tier): OpCase {
  const shape = [1, ...hw, 2];
  return {
    op: 'softAggregation',
    name: `softAggregation ${output} on [${shape}]`,
    tier,
    prepare(rt) {
      // |l0 - l1| < 5, where log-odds are well conditioned.
      const logit = uniform(hw[0] * hw[1] * 2, 11, -2.5, 2.5);
      const io = inputs(rt);
      const t = io.upload(shape, logit);
      return {
        run: (): Tensor => {
          const out: SoftAggregation = softAggregation(rt, t);
          for (const [name, x] of Object.entries(out)) if (name !== output) (x as Tensor).dispose();
          return out[output];
        },
        expected: () => ({
          shape: [1, ...hw, output === 'logits' ? 2 : 1],
          data: softAggregationRef(logit)[output],
          // The kernel never forms 1 - p by subtraction, so the log-odds keep full precision.
          opts: { factor: output === 'logits' ? 8 : 16 },
        }),
        dispose: () => io.dispose(),
      };
    },
  };
}

/** K objects: object `k`'s foreground (softmax share of the joint log-odds), or the joint log-odds [.., K + 1]. */
function softAggregationObjectsCase(output: 'foreground' | 'logits', objects: number, k: number, hw: [number, number], tier: Tier): OpCase {
  const shape = [1, ...hw, 2];
  return {
    op: 'softAggregation',
    name: `softAggregationObjects ${output === 'logits' ? 'logits' : `foreground ${k + 1}`} of ${objects} on [${shape}]`,
    tier,
    prepare(rt) {
      const logits = Array.from({ length: objects }, (_, j) => uniform(hw[0] * hw[1] * 2, 31 + j, -2.5, 2.5));
      const io = inputs(rt);
      const ts = logits.map((l) => io.upload(shape, l));
      return {
        run: (): Tensor => {
          const out = softAggregationObjects(rt, ts);
          const keep = output === 'logits' ? out.logits : out.objects[k].foreground;
          for (const t of [out.logits, ...out.objects.flatMap((o) => [o.ps, o.foreground, o.qualityInput])]) if (t !== keep) t.dispose();
          return keep;
        },
        expected: () => {
          const ref = softAggregationObjectsRef(logits);
          return {
            shape: [1, ...hw, output === 'logits' ? objects + 1 : 1],
            data: output === 'logits' ? ref.logits : ref.objects[k].foreground,
            opts: { factor: output === 'logits' ? 8 : 16 },
          };
        },
        dispose: () => io.dispose(),
      };
    },
  };
}

export const SOFT_AGGREGATION_CASES: OpCase[] = [
  softAggregationObjectsCase('foreground', 3, 1, [9, 7], 'smoke'),
  softAggregationObjectsCase('logits', 2, 0, [5, 11], 'unit'),
  softAggregationCase('ps', [13, 11], 'smoke'),
  softAggregationCase('logits', [13, 7], 'unit'),
  softAggregationCase('foreground', [13, 7], 'unit'),
  softAggregationCase('ps', [512, 512], 'perf'),
];
