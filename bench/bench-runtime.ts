// The benchmarks' Runtime: on a CPU Vulkan driver Dawn polls on a 1 ms timer instead of
// spinning a core the driver needs, as the CLI's does (src/runtime/dawn-node-polling.ts;
// about 30% less CPU per QAMN step on lavapipe). Unlike the CLI it reads no tuning
// cache: a benchmark measures the fixed rule unless it tunes itself (--autotune).
// MEM3D_TENSOR_CORES=1 turns the matrix units on as for the CLI (src/cli/runtime.ts).
import { createRuntimeFromEnv } from '../src/cli/runtime.ts';
import { isCpuAdapter } from '../src/ops/conv2d-variants.ts';
import { pollDawnOnTimer } from '../src/runtime/dawn-node-polling.ts';
import type { Runtime } from '../src/runtime/runtime.ts';

export async function createBenchRuntime(): Promise<Runtime> {
  const rt = await createRuntimeFromEnv(console);
  if (isCpuAdapter(rt)) pollDawnOnTimer();
  return rt;
}
