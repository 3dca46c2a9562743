// Which entry points an op dispatches: for tests that check a kernel's fast path is the
// one that runs (a wrong choice would still give right numbers, only slower).
import type { Runtime } from '../../src/runtime/runtime.ts';

/** The kernels and entry points of the dispatches `run` makes on rt, in order (entryPoint undefined: the kernel's default, main). */
export function dispatchesMade(rt: Runtime, run: () => void): { kernel: string; entryPoint?: string }[] {
  const made: { kernel: string; entryPoint?: string }[] = [];
  const dispatch = rt.dispatch.bind(rt);
  rt.dispatch = ((d: Parameters<typeof rt.dispatch>[0]) => {
    made.push({ kernel: d.kernel, entryPoint: d.entryPoint });
    return dispatch(d);
  }) as typeof rt.dispatch;
  try {
    run();
  } finally {
    rt.dispatch = dispatch;
  }
  return made;
}

/** The entry points of the dispatches `run` makes on rt, in order (undefined: the kernel's default, main). */
export function entryPointsDispatched(rt: Runtime, run: () => void): (string | undefined)[] {
  return dispatchesMade(rt, run).map((d) => d.entryPoint);
}
