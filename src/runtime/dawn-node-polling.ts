// Dawn's Node binding (npm `webgpu`) learns that GPU work finished (mapAsync,
// onSubmittedWorkDone, pipeline creation) by polling: while anything is pending it
// re-queues a native callback with setImmediate, about 400,000 times during one QAMN
// step at 128x128 on lavapipe, so the main thread spins on a core that a CPU Vulkan
// driver's workers need (a third of the step's CPU time). pollDawnOnTimer() makes those
// callbacks (native functions; JavaScript's own go through untouched) wait for a 1 ms
// timer instead: the same results, about 30% less CPU per network step on a CPU driver.
// On a real GPU the timer would add up to 1 ms to every readback, so only processes
// that own their event loop call it, and only on CPU drivers (the CLI; the test runner).
// A library never changes its host's setImmediate.
let installed = false;

const isNative = (fn: unknown): boolean => typeof fn === 'function' && fn.name === '' && /\{ \[native code\] \}$/.test(Function.prototype.toString.call(fn));

/** Routes Dawn's native setImmediate polling through a 1 ms timer, once per process. */
export function pollDawnOnTimer(): void {
  if (installed) return;
  installed = true;
  const immediate = globalThis.setImmediate;
  globalThis.setImmediate = Object.assign(
    <A extends unknown[]>(callback: (...args: A) => void, ...args: A): NodeJS.Immediate => {
      if (!isNative(callback)) return immediate(callback, ...args);
      // A timer is not an Immediate, but Dawn never clears what it queues.
      return setTimeout(callback, 1, ...args) as unknown as NodeJS.Immediate;
    },
    { __promisify__: immediate.__promisify__ },
  ) as typeof setImmediate;
}
