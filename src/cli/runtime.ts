// The CLI's Runtime: the CLI owns its process, so on a CPU Vulkan driver it lets Dawn
// poll on a timer instead of spinning a core the driver needs (src/runtime/dawn-node-polling.ts),
// and it installs the conv2d choices `mem3d tune` cached for this adapter, so every
// command runs the variants measured fastest here (the fixed rule where none were).
// MEM3D_TENSOR_CORES=1 runs the convs on the adapter's matrix units (f16 operands);
// MEM3D_BOUNDS_CHECKS=off runs the shaders without WebGPU's bounds checks.
import { availableParallelism } from 'node:os';
import { loadConv2dChoices } from '../ops/conv2d-autotune.ts';
import { enableTensorCores } from '../ops/conv2d-mma.ts';
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

/**
 * MEM3D_TENSOR_CORES: '1' runs every conv with more than 16 output channels on the
 * adapter's matrix units (NVIDIA tensor cores through Dawn; activations and weights
 * rounded to f16, sums in f32: src/ops/conv2d-mma.ts), and fails saying why where the
 * adapter has none; 'emulated' runs the same arithmetic written out per invocation on
 * any adapter with shader-f16 (slow: to measure what f16 operands do to a network);
 * '0' or unset: the f32 kernels.
 */
export function tensorCoresRequested(): 'hardware' | 'emulated' | null {
  const v = typeof process !== 'undefined' ? process.env?.MEM3D_TENSOR_CORES : undefined;
  if (v === undefined || v === '' || v === '0') return null;
  if (v === '1') return 'hardware';
  if (v === 'emulated') return 'emulated';
  throw new Error(`MEM3D_TENSOR_CORES must be 1 (matrix units, f16 operands), emulated (the same arithmetic without them) or 0 (f32), got '${v}'`);
}

/**
 * MEM3D_BOUNDS_CHECKS: 'off' runs every shader without WebGPU's bounds checks (Dawn's
 * disable_robustness: no index clamps in the kernels' inner loops; src/runtime/device.ts
 * NO_BOUNDS_CHECK_TOGGLES), 'on' or unset keeps them.
 */
export function boundsChecksRequested(): boolean {
  const v = typeof process !== 'undefined' ? process.env?.MEM3D_BOUNDS_CHECKS : undefined;
  if (v === undefined || v === '' || v === 'on') return true;
  if (v === 'off') return false;
  throw new Error(`MEM3D_BOUNDS_CHECKS must be off (shaders without WebGPU's bounds checks) or on (the default), got '${v}'`);
}

/**
 * A Runtime with the matrix units turned on as MEM3D_TENSOR_CORES says (else a plain one)
 * and bounds checks as MEM3D_BOUNDS_CHECKS says; throws if either cannot be.
 */
export async function createRuntimeFromEnv(io?: ConsoleLike): Promise<Runtime> {
  const tensorCores = tensorCoresRequested();
  const boundsChecks = boundsChecksRequested();
  // One JIT-priming helper device per core (Node 20 has no navigator.hardwareConcurrency).
  const rt = await Runtime.create({ tensorCores: tensorCores === 'hardware', boundsChecks, jitHelpers: availableParallelism() });
  if (!boundsChecks) io?.error('shaders: bounds checks off (MEM3D_BOUNDS_CHECKS=off: no index clamps; an out-of-bounds access would not be caught)');
  if (tensorCores) {
    try {
      const tc = await enableTensorCores(rt, { emulate: tensorCores === 'emulated' });
      io?.error(`conv2d: matrix units on${tc.ops === 'emulated' ? ' (emulated)' : ''} (f16 operands, f32 sums): ${tc.shape.M}x${tc.shape.N}x${tc.shape.K} matrices, subgroups of ${tc.lanes}`);
    } catch (e) {
      rt.destroy();
      throw e;
    }
  }
  return rt;
}

export async function createCliRuntime(io?: ConsoleLike): Promise<Runtime> {
  const rt = await createRuntimeFromEnv(io);
  if (isCpuAdapter(rt) && typeof process !== 'undefined' && process.versions?.node) pollDawnOnTimer();
  const path = cliTuningPath();
  if (path) {
    const n = await loadConv2dChoices(rt, fileTuningStore(path));
    if (n > 0) io?.error(`conv2d: ${n} shape classes tuned for this adapter (${path}, written by mem3d tune)`);
  }
  return rt;
}
