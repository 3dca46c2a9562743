// Elementwise cases: every op on odd sizes, and one op over more than 65,535
// workgroups (the dispatch path is shared by all ops, so one is enough).
import { add, addRelu, affineClamp, clamp, relu, sigmoid } from '../../../src/ops/elementwise.ts';
import type { Runtime } from '../../../src/runtime/runtime.ts';
import type { Tensor } from '../../../src/runtime/tensor.ts';
import { addRef, clampRef, reluRef, sigmoidRef } from '../../cpu/elementwise.ts';
import type { CloseOptions } from '../tolerance.ts';
import { uniform } from '../random.ts';
import { count, inputs, type OpCase, type Tier } from './case.ts';

interface Op {
  name: string;
  run(rt: Runtime, a: Tensor, b: Tensor): Tensor;
  ref(a: Float32Array, b: Float32Array): Float64Array;
  opts: CloseOptions;
  binary?: boolean;
}

const OPS: Op[] = [
  { name: 'add', run: (rt, a, b) => add(rt, a, b), ref: (a, b) => addRef(a, b), opts: {}, binary: true },
  { name: 'add+relu', run: (rt, a, b) => addRelu(rt, a, b), ref: (a, b) => reluRef(addRef(a, b)), opts: {}, binary: true },
  { name: 'relu', run: (rt, a) => relu(rt, a), ref: (a) => reluRef(a), opts: { factor: 0 } },
  // WGSL's exp is accurate to 3 + 2|x| ULP.
  { name: 'sigmoid', run: (rt, a) => sigmoid(rt, a), ref: (a) => sigmoidRef(a), opts: { factor: 64 } },
  { name: 'clamp', run: (rt, a) => clamp(rt, a, -0.5, 2.25), ref: (a) => clampRef(a, -0.5, 2.25), opts: { factor: 0 } },
  // 1 - x rounds once in f32 on the GPU: within one ulp of the f64 value.
  { name: 'clamp(1 - x)', run: (rt, a) => affineClamp(rt, a, -1, 1, 0, 1), ref: (a) => clampRef(a, 0, 1, -1, 1), opts: { factor: 1 } },
];

function ewCase(op: Op, shape: number[], tier: Tier): OpCase {
  return {
    op: 'elementwise',
    name: `elementwise ${op.name} [${shape}]`,
    tier,
    prepare(rt) {
      const n = count(shape);
      const a = uniform(n, 1, -12, 12);
      const b = uniform(n, 2, -3, 3);
      const io = inputs(rt);
      const ta = io.upload(shape, a);
      const tb = op.binary ? io.upload(shape, b) : ta;
      return {
        run: () => op.run(rt, ta, tb),
        expected: () => ({ shape, data: op.ref(a, b), opts: op.opts }),
        flop: n,
        dispose: () => io.dispose(),
      };
    },
  };
}

const byName = (name: string): Op => OPS.find((o) => o.name === name)!;

export const ELEMENTWISE_CASES: OpCase[] = [
  ewCase(byName('add'), [1, 13, 11, 5], 'smoke'),
  ewCase(byName('sigmoid'), [1, 13, 11, 5], 'smoke'),
  ...[[1], [1, 7, 5, 3], [1, 33, 17, 5]].flatMap((shape) => OPS.map((op) => ewCase(op, shape, 'unit'))),
  // 16.8M elements: more than 65,535 workgroups of 256.
  ewCase(byName('add'), [1, 130, 129, 1001], 'big'),
  ewCase(byName('add+relu'), [1, 128, 128, 256], 'perf'),
];
