// Elementwise ops: add, relu, sigmoid, affine clamp (kernels/elementwise.wgsl).
import { grid1d, type Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { WGSL_CONSTANTS } from '../runtime/wgsl.generated.ts';

const WORKGROUP_SIZE = 256;
const { OP_ADD, OP_RELU, OP_SIGMOID, OP_CLAMP, OP_ADD_RELU } = WGSL_CONSTANTS.elementwise;
type Op = typeof OP_ADD | typeof OP_RELU | typeof OP_SIGMOID | typeof OP_CLAMP | typeof OP_ADD_RELU;

function run(rt: Runtime, op: Op, name: string, a: Tensor, b: Tensor | null, lo = 0, hi = 0, scale = 1, shift = 0): Tensor {
  a.assertLive(name);
  if (a.dtype !== 'f32') throw new TypeError(`${name}: expects f32, got ${a.dtype}`);
  if (b) {
    if (b.dtype !== 'f32') throw new TypeError(`${name}: expects f32, got ${b.dtype}`);
    if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
      throw new RangeError(`${name}: shapes differ: [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
    }
  }
  const out = rt.empty(a.shape, 'f32', name);
  rt.dispatch({
    kernel: 'elementwise',
    label: name,
    constants: { OP: op, WORKGROUP_SIZE },
    bindings: [a, b ?? a, out],
    uniforms: { count: a.size, lo, hi, scale, shift },
    workgroups: grid1d(Math.ceil(a.size / WORKGROUP_SIZE)),
  });
  return out;
}

export const add = (rt: Runtime, a: Tensor, b: Tensor): Tensor => run(rt, OP_ADD, 'add', a, b);
export const addRelu = (rt: Runtime, a: Tensor, b: Tensor): Tensor => run(rt, OP_ADD_RELU, 'add+relu', a, b);
export const relu = (rt: Runtime, a: Tensor): Tensor => run(rt, OP_RELU, 'relu', a, null);
export const sigmoid = (rt: Runtime, a: Tensor): Tensor => run(rt, OP_SIGMOID, 'sigmoid', a, null);
export function clamp(rt: Runtime, a: Tensor, lo: number, hi: number): Tensor {
  return affineClamp(rt, a, 1, 0, lo, hi);
}
/** clamp(scale * a + shift, lo, hi): e.g. Mem3D's background map clamp(1 - mask, 0, 1). */
export function affineClamp(rt: Runtime, a: Tensor, scale: number, shift: number, lo: number, hi: number): Tensor {
  if (!(lo <= hi)) throw new RangeError(`clamp: lo ${lo} must not exceed hi ${hi}`);
  return run(rt, OP_CLAMP, 'clamp', a, null, lo, hi, scale, shift);
}
