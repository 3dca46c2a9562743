// Fully connected layers (kernels/linear.wgsl): nn.Linear with an optional fused ReLU or sigmoid.
import { grid1d, type Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { WGSL_CONSTANTS } from '../runtime/wgsl.generated.ts';

const WORKGROUP_SIZE = 64;
const { ACT_NONE, ACT_RELU, ACT_SIGMOID } = WGSL_CONSTANTS.linear;

export interface LinearSpec {
  /** nn.Linear.weight in PyTorch's row-major [out, in] layout. */
  weight: Float32Array;
  /** [out, in] */
  shape: readonly [number, number];
  /** [out]; zeros when absent (nn.Linear(bias=False)). */
  bias?: Float32Array;
  label?: string;
}

/** Weights uploaded once by prepareLinear; dispose() returns their buffers. */
export interface LinearWeights {
  readonly weight: Tensor<'f32'>;
  readonly bias: Tensor<'f32'>;
  readonly outFeatures: number;
  readonly inFeatures: number;
  readonly label: string;
  dispose(): void;
}

export function prepareLinear(rt: Runtime, spec: LinearSpec): LinearWeights {
  const label = spec.label ?? 'linear';
  const [outF, inF] = spec.shape;
  if (spec.shape.length !== 2 || !(Number.isInteger(outF) && Number.isInteger(inF) && outF >= 1 && inF >= 1)) {
    throw new RangeError(`prepareLinear '${label}': shape must be [out, in] with positive sizes, got [${spec.shape.join(', ')}]`);
  }
  if (spec.weight.length !== outF * inF) {
    throw new RangeError(`prepareLinear '${label}': weight has ${spec.weight.length} values, shape [${outF}, ${inF}] needs ${outF * inF}`);
  }
  if (spec.bias && spec.bias.length !== outF) {
    throw new RangeError(`prepareLinear '${label}': bias has ${spec.bias.length} values, shape [${outF}, ${inF}] needs ${outF}`);
  }
  const weight = rt.upload([outF, inF], spec.weight, 'f32', `${label}.weight`);
  const bias = rt.upload([outF], spec.bias ?? new Float32Array(outF), 'f32', `${label}.bias`);
  return {
    weight,
    bias,
    outFeatures: outF,
    inFeatures: inF,
    label,
    dispose() {
      weight.dispose();
      bias.dispose();
    },
  };
}

export interface LinearOptions {
  relu?: boolean;
  sigmoid?: boolean;
}

/**
 * y = x w^T + b over the last dimension of x, which must be `in`: every other dimension is
 * flattened into rows N, and the result is [N, out]. A workgroup reduces one output value.
 */
export function linear(rt: Runtime, x: Tensor, w: LinearWeights, opts: LinearOptions = {}): Tensor<'f32'> {
  const name = `linear '${w.label}'`;
  x.assertLive(name);
  w.weight.assertLive(name);
  if (x.dtype !== 'f32') throw new TypeError(`${name}: expects f32, got ${x.dtype}`);
  if (x.shape.length === 0 || x.shape[x.shape.length - 1] !== w.inFeatures) {
    throw new RangeError(`${name}: input [${x.shape.join(', ')}] must end in the weight's in-features ${w.inFeatures} (weight [${w.outFeatures}, ${w.inFeatures}])`);
  }
  if (opts.relu && opts.sigmoid) throw new RangeError(`${name}: relu and sigmoid are exclusive`);
  const rows = x.size / w.inFeatures;
  const out = rt.empty([rows, w.outFeatures], 'f32', w.label);
  const groups = rows * w.outFeatures;
  if (groups === 0) return out;
  rt.dispatch({
    kernel: 'linear',
    label: name,
    constants: { ACT: opts.relu ? ACT_RELU : opts.sigmoid ? ACT_SIGMOID : ACT_NONE, WORKGROUP_SIZE },
    bindings: [x, w.weight, w.bias, out],
    uniforms: { rows, inFeatures: w.inFeatures, outFeatures: w.outFeatures },
    cost: { flop: 2 * rows * w.inFeatures * w.outFeatures, bytes: x.byteLength + w.weight.byteLength + w.bias.byteLength + out.byteLength },
    workgroups: grid1d(groups),
  });
  return out;
}
