// Polls a page's state until `until` holds, for the browser scripts (e2e, viewer, device loss).
export interface PageState {
  status: string;
  message: string;
}

/**
 * Reads the state every `everyMs` until `until(state)`; `onEach` sees every state first (it
 * may log or throw). Throws after `ms` naming `what` and the last status.
 */
export async function waitForState<S extends PageState>(
  read: () => Promise<S>,
  what: string,
  until: (s: S) => boolean,
  ms: number,
  options: { everyMs?: number; onEach?: (s: S) => void } = {},
): Promise<S> {
  const end = Date.now() + ms;
  for (;;) {
    const s = await read();
    options.onEach?.(s);
    if (until(s)) return s;
    if (Date.now() > end) throw new Error(`${what}: timed out after ${ms / 1000} s (status ${s.status}: ${s.message})`);
    await new Promise((r) => setTimeout(r, options.everyMs ?? 100));
  }
}
