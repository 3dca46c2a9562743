// The f16-weight conv kernel: kernels/conv2d.wgsl with its weight binding stored as
// half precision. The source is derived from conv2d.wgsl (one kernel body to keep,
// not two) by putting `enable f16;` on top and swapping the two lines that declare
// and read the weights; activations, bias and accumulation stay f32. The variant is
// a separate shader module, so adapters without shader-f16 never compile it. It is a
// derived kernel (runtime/kernels.ts), built on first use by dispatch or warmup().
import { defineDerivedKernel, kernelEntry, replaceOnce } from '../runtime/kernels.ts';
import type { Runtime } from '../runtime/runtime.ts';

export type WeightPrecision = 'f32' | 'f16';

export const CONV2D_F16_KERNEL = 'conv2d_f16';

const F32_WEIGHTS = [
  '@group(0) @binding(1) var<storage, read> w: array<vec4f>;',
  'fn loadW(i: u32) -> vec4f { return w[i]; }',
].join('\n');
const F16_WEIGHTS = [
  '@group(0) @binding(1) var<storage, read> w: array<vec4h>;',
  'fn loadW(i: u32) -> vec4f { return vec4f(w[i]); }',
].join('\n');

/** A conv kernel's source with its weight binding and loadW swapped for f16 ones; throws unless they are there exactly once. */
export function withF16WeightLines(f32Source: string): string {
  return replaceOnce(f32Source, F32_WEIGHTS, F16_WEIGHTS, 'conv2d kernel (its f16 variant swaps them)', 'its weight binding and loadW');
}

/** conv2d.wgsl's source with f16 weights (`enable f16;` on top); throws if the weight lines it swaps are not there exactly once. */
export function conv2dF16Source(f32Source: string): string {
  return `enable f16;\n${withF16WeightLines(f32Source)}`;
}

defineDerivedKernel(CONV2D_F16_KERNEL, () => conv2dF16Source(kernelEntry('conv2d').source));

export function checkWeightPrecision(what: string, precision: unknown): WeightPrecision {
  if (precision !== 'f32' && precision !== 'f16') throw new RangeError(`${what}: weight precision must be 'f32' or 'f16', got ${JSON.stringify(precision)}`);
  return precision;
}

/** Throws a one-line error unless the runtime's device can run f16 weights. */
export function assertF16Weights(rt: Runtime, what: string): void {
  if (!rt.device.features.has('shader-f16')) {
    const a = rt.adapter;
    const name = [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ') || 'this adapter';
    throw new Error(`${what}: f16 weights need the WebGPU feature 'shader-f16', which ${name} does not offer; load with weight precision 'f32'`);
  }
}
