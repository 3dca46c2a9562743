// The benchmarks' Runtime: on a CPU Vulkan driver Dawn polls on a 1 ms timer instead of
// spinning a core the driver needs, as the CLI's does (src/runtime/dawn-node-polling.ts;
// about 30% less CPU per QAMN step on lavapipe). Unlike the CLI it reads no tuning
// cache: a benchmark measures the fixed rule unless it tunes itself (--autotune).
// MEM3D_TENSOR_CORES=1 turns the matrix units on as for the CLI (src/cli/runtime.ts).
// MEM3D_BENCH_BACKEND=null runs on Dawn's null backend, which validates every command and
// executes none: a benchmark then times the host's work alone (encoding, uploads, the
// session's JavaScript; readbacks return whatever the buffers held), the floor no GPU can go below. It has
// 512 MiB of memory and 16 KiB of workgroup memory (tiles that need more are not chosen).
import { createRuntimeFromEnv } from '../src/cli/runtime.ts';
import { isCpuAdapter } from '../src/ops/conv2d-variants.ts';
import { pollDawnOnTimer } from '../src/runtime/dawn-node-polling.ts';
import type { Runtime } from '../src/runtime/runtime.ts';

export async function createBenchRuntime(): Promise<Runtime> {
  const backend = process.env.MEM3D_BENCH_BACKEND;
  if (backend !== undefined) {
    if (backend !== 'null') throw new Error(`MEM3D_BENCH_BACKEND=${backend}: the only choice is 'null' (Dawn's null backend); unset it for the adapter`);
    if (process.env.MEM3D_TENSOR_CORES) throw new Error("MEM3D_BENCH_BACKEND=null offers no matrix shapes: unset MEM3D_TENSOR_CORES");
    const { create, globals } = (await import('webgpu')) as unknown as { create(flags: string[]): GPU; globals: object };
    Object.assign(globalThis, globals);
    // device.ts takes navigator.gpu where there is one (as for the peers, bench/peer-ort.ts).
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: create(['backend=null']) }, configurable: true, writable: true });
  }
  const rt = await createRuntimeFromEnv(console);
  if (isCpuAdapter(rt)) pollDawnOnTimer();
  return rt;
}
