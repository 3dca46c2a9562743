// One Runtime shared by every test file (uvu runs them in one process).
import { Runtime } from '../../src/runtime/runtime.ts';

let shared: Promise<Runtime> | null = null;

export function testRuntime(): Promise<Runtime> {
  shared ??= Runtime.create();
  return shared;
}
