// Preloaded by test/run.ts into every test process. Dawn's Node binding (npm `webgpu`)
// learns that GPU work finished (mapAsync, onSubmittedWorkDone, pipeline creation) by
// polling: while anything is pending it re-queues a native callback with setImmediate,
// about 400,000 times during one QAMN step at 128x128 on lavapipe, so the main thread
// spins on one of the machine's two cores beside lavapipe's workers (a third of the
// step's CPU time). Here its callbacks (native functions; JavaScript's own go through
// untouched) wait for a 1 ms timer instead: the same results, about 30% less CPU per
// network step (bench/RESULTS.md "Test suite timing").
const immediate = globalThis.setImmediate;
const native = (fn: unknown): boolean => typeof fn === 'function' && fn.name === '' && /\{ \[native code\] \}$/.test(Function.prototype.toString.call(fn));

globalThis.setImmediate = Object.assign(
  <A extends unknown[]>(callback: (...args: A) => void, ...args: A): NodeJS.Immediate => {
    if (!native(callback)) return immediate(callback, ...args);
    // A timer is not an Immediate, but Dawn never clears what it queues.
    return setTimeout(callback, 1, ...args) as unknown as NodeJS.Immediate;
  },
  { __promisify__: immediate.__promisify__ },
) as typeof setImmediate;
