// The CLI's Runtime: the CLI owns its process, so on a CPU Vulkan driver it lets Dawn
// poll on a timer instead of spinning a core the driver needs (src/runtime/dawn-node-polling.ts).
import { isCpuAdapter } from '../ops/conv2d-variants.ts';
import { pollDawnOnTimer } from '../runtime/dawn-node-polling.ts';
import { Runtime } from '../runtime/runtime.ts';

export async function createCliRuntime(): Promise<Runtime> {
  const rt = await Runtime.create();
  if (isCpuAdapter(rt) && typeof process !== 'undefined' && process.versions?.node) pollDawnOnTimer();
  return rt;
}
