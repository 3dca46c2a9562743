// Which entry points an op dispatches: for tests that check a kernel's fast path is the
// one that runs (a wrong choice would still give right numbers, only slower).
import type { Runtime } from '../../src/runtime/runtime.ts';

/** The entry points of the dispatches `run` makes on rt, in order (undefined: the kernel's default, main). */
export function entryPointsDispatched(rt: Runtime, run: () => void): (string | undefined)[] {
  const entries: (string | undefined)[] = [];
  const dispatch = rt.dispatch.bind(rt);
  rt.dispatch = ((d: Parameters<typeof rt.dispatch>[0]) => {
    entries.push(d.entryPoint);
    return dispatch(d);
  }) as typeof rt.dispatch;
  try {
    run();
  } finally {
    rt.dispatch = dispatch;
  }
  return entries;
}
