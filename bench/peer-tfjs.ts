// The peer for kernel benchmarks: TensorFlow.js's WebGPU backend on the same Dawn
// instance and adapter as our runtime, in the same process, so both are timed
// under identical conditions. Call `initPeer()` before `Runtime.create()`.
import { create, globals } from 'webgpu';
import { median } from '../src/util/median.ts';

type Tf = typeof import('@tensorflow/tfjs-core');
let tf: Tf | null = null;

export async function initPeer(): Promise<Tf> {
  if (tf) return tf;
  Object.assign(globalThis, globals);
  // Our device.ts uses navigator.gpu when present, so both share one Dawn instance.
  const nav = { gpu: create([]) };
  Object.defineProperty(globalThis, 'navigator', { value: nav, configurable: true, writable: true });
  const core = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await core.setBackend('webgpu'))) throw new Error('tfjs webgpu backend failed to initialise');
  await core.ready();
  tf = core;
  return core;
}

/** Milliseconds per call of `fn` (median of `reps` after `warmup`), each awaited to completion. */
export async function timeMs(fn: () => Promise<void>, { warmup = 2, reps = 5 } = {}): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return median(times);
}
