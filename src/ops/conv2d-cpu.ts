// The CPU-driver conv2d variants (kernels/conv2d_cpu.wgsl): no workgroup memory, one
// or two output pixels and 16 or 32 channels per invocation in registers, weights
// loaded once per 8 (lavapipe) or 4 (SwiftShader) lanes and spread by subgroupBroadcast. conv2d (conv2d.ts)
// validates shapes and builds the uniforms and epilogue; this file checks that the
// adapter can run the kernel and dispatches it.
import { grid1d, type Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { defineDerivedKernel, kernelEntry } from '../runtime/kernels.ts';
import type { UniformValues } from '../runtime/uniforms.ts';
import { conv2dF16Source } from './conv2d-f16.ts';

/** Shape of the CPU kernel; see its override constants. */
export interface Conv2dCpu {
  /** Invocations per workgroup (a multiple of the subgroup size). */
  WG: number;
  /** Output pixels per invocation: 1 or 2. */
  PX: number;
  /** vec4 output-channel groups per invocation: 4 or 8. */
  CB4: number;
  /** Lanes that share a weight load, 8 or 4 (at most the adapter's smallest subgroup); default cpuConvLanes(rt). */
  SG?: 4 | 8;
}

/** The kernel spreads weight rows over lanes 0..3 (SG 4) or 0..7 (SG 8) of a subgroup. */
export const CPU_CONV_MIN_SUBGROUP = 4;

/** The kernel's default SG on this runtime: 8 where subgroups are at least 8 wide (one load per 8 rows), else 4. */
export function cpuConvLanes(rt: Runtime): 4 | 8 {
  return rt.adapter.subgroupMinSize >= 8 ? 8 : 4;
}

const F16_KERNEL = 'conv2d_cpu_f16';
defineDerivedKernel(F16_KERNEL, () => conv2dF16Source(kernelEntry('conv2d_cpu').source));

/** Whether this runtime's device has the `subgroups` feature with subgroups of at least `lanes`. */
export function hasSubgroupsOf(rt: Runtime, lanes: number): boolean {
  return rt.device.features.has('subgroups' as GPUFeatureName) && rt.adapter.subgroupMinSize >= lanes;
}

/** Whether this runtime's device can run the CPU kernel: the `subgroups` feature with subgroups of at least 4. */
export function conv2dCpuSupported(rt: Runtime): boolean {
  return hasSubgroupsOf(rt, CPU_CONV_MIN_SUBGROUP);
}

export function checkCpuShape(name: string, rt: Runtime, c: Conv2dCpu): void {
  const limits = rt.device.limits;
  if (!conv2dCpuSupported(rt)) {
    throw new RangeError(`${name}: the CPU conv variant needs the 'subgroups' feature with subgroups of at least ${CPU_CONV_MIN_SUBGROUP} (this adapter: ${rt.adapter.subgroupMinSize || 'none'}); use another variant`);
  }
  const ok =
    Number.isInteger(c.WG) && c.WG > 0 && c.WG % rt.adapter.subgroupMaxSize === 0 && [1, 2].includes(c.PX) && [4, 8].includes(c.CB4) &&
    (c.SG === undefined || ([4, 8].includes(c.SG) && c.SG <= rt.adapter.subgroupMinSize)) &&
    c.WG <= limits.maxComputeInvocationsPerWorkgroup && c.WG <= limits.maxComputeWorkgroupSizeX;
  if (!ok) {
    throw new RangeError(`${name}: unsupported CPU conv shape ${JSON.stringify(c)} (need PX 1|2, CB4 4|8, SG 4|8 within the smallest subgroup ${rt.adapter.subgroupMinSize}, WG a multiple of the subgroup size ${rt.adapter.subgroupMaxSize} within the device's limits)`);
  }
}

export interface Conv2dCpuCall {
  precision: 'f32' | 'f16';
  /** x, weight, bias, residual (or x), out: conv2d.ts's bindings. */
  bindings: [Tensor, Tensor, Tensor, Tensor, Tensor];
  /** conv2d.ts's uniforms (H, W, ..., coutPad4). */
  uniforms: UniformValues & { M: number; Cout: number };
  epilogue: { VEC4_IN: boolean; VEC4_OUT: boolean; HAS_RESIDUAL: boolean; RELU: boolean };
  cost: { flop: number; bytes: number };
}

export function dispatchConv2dCpu(rt: Runtime, name: string, c: Conv2dCpu, call: Conv2dCpuCall): void {
  checkCpuShape(name, rt, c);
  const { M, Cout } = call.uniforms;
  const [gy, gz] = grid1d(Math.ceil(M / (c.WG * c.PX)));
  rt.dispatch({
    kernel: call.precision === 'f16' ? F16_KERNEL : 'conv2d_cpu', label: name, constants: { ...c, SG: c.SG ?? cpuConvLanes(rt), ...call.epilogue },
    bindings: call.bindings, uniforms: call.uniforms, cost: call.cost, workgroups: [Math.ceil(Cout / (4 * c.CB4)), gy, gz],
  });
}
