// What the smoke page (page.ts) publishes on `window.__smoke` for the driver (run.ts) to poll.

export interface CheckResult {
  name: string;
  maxAbsError: number;
  tolerance: number;
  ok: boolean;
  ms: number;
  /** Set when the check threw instead of producing a result. */
  error?: string;
}

export interface SmokeState {
  /** 'failed': the run stopped before any check (e.g. no WebGPU adapter). */
  status: 'running' | 'done' | 'failed';
  adapter: string;
  results: CheckResult[];
  error?: string;
}

declare global {
  interface Window {
    __smoke?: SmokeState;
  }
}
