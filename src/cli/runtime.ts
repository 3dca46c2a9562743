// The CLI's Runtime: the CLI owns its process, so on a CPU Vulkan driver it lets Dawn
// poll on a timer instead of spinning a core the driver needs (src/runtime/dawn-node-polling.ts),
// and it installs the conv2d choices `mem3d tune` cached for this adapter, so every
// command runs the variants measured fastest here (the fixed rule where none were).
import { loadConv2dChoices } from '../ops/conv2d-autotune.ts';
import { isCpuAdapter } from '../ops/conv2d-variants.ts';
import { defaultTuningPath, fileTuningStore } from '../runtime/autotune-node.ts';
import { pollDawnOnTimer } from '../runtime/dawn-node-polling.ts';
import { Runtime } from '../runtime/runtime.ts';
import type { ConsoleLike } from './args.ts';

/**
 * The tuning cache the CLI reads and `mem3d tune` writes: $MEM3D_TUNING_CACHE (a file),
 * or the default ~/.cache/mem3d-webgpu/autotune.json; null when it is 'off' (the test
 * runner sets that, so tests run the fixed rule whatever this machine has tuned).
 */
export function cliTuningPath(): string | null {
  const env = process.env.MEM3D_TUNING_CACHE;
  if (env === 'off') return null;
  return env || defaultTuningPath();
}

export async function createCliRuntime(io?: ConsoleLike): Promise<Runtime> {
  const rt = await Runtime.create();
  if (isCpuAdapter(rt) && typeof process !== 'undefined' && process.versions?.node) pollDawnOnTimer();
  const path = cliTuningPath();
  if (path) {
    const n = await loadConv2dChoices(rt, fileTuningStore(path));
    if (n > 0) io?.error(`conv2d: ${n} shape classes tuned for this adapter (${path}, written by mem3d tune)`);
  }
  return rt;
}
