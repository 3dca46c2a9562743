// One Runtime shared by every test file (uvu runs them in one process). With
// MEM3D_BOUNDS_CHECKS=off its shaders run without WebGPU's bounds checks
// (test/full/bounds-checks-variants.test.ts runs kernel files so).
import { boundsChecksRequested } from '../../src/cli/runtime.ts';
import { Runtime } from '../../src/runtime/runtime.ts';

let shared: Promise<Runtime> | null = null;

export function testRuntime(): Promise<Runtime> {
  shared ??= Runtime.create({ boundsChecks: boundsChecksRequested() });
  return shared;
}
