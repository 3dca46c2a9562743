// Elapsed time and an estimate for the long steps, so slow can be told from hung. The
// last measured durations are remembered per adapter and crop size (localStorage), so
// even a page's first step has an estimate after one earlier visit.

export interface StepTimes {
  /** One 2D-network run. */
  annotateMs?: number;
  /** One propagated slice. */
  sliceMs?: number;
}

const KEY = 'mem3d.step-times.v1';

/** Every machine's times as stored; anything else (another page's value, a hand edit) reads as none. */
function storedTimes(): Record<string, unknown> {
  try {
    const all: unknown = JSON.parse(localStorage.getItem(KEY) ?? '{}');
    return typeof all === 'object' && all !== null && !Array.isArray(all) ? (all as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function loadTimes(machine: string): StepTimes {
  const stored = storedTimes()[machine] as Record<string, unknown> | undefined;
  // Only durations: a string or a negative number would show as "NaN min" or a negative estimate.
  const duration = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined);
  return { annotateMs: duration(stored?.annotateMs), sliceMs: duration(stored?.sliceMs) };
}

export function saveTimes(machine: string, times: StepTimes): void {
  try {
    const all = storedTimes();
    all[machine] = times;
    localStorage.setItem(KEY, JSON.stringify(all));
  } catch {
    // storage unavailable (private mode, quota): estimates then last for this page only
  }
}

export function formatDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 90) return `${Math.round(s)} s`;
  return `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
}

/** "12 s elapsed, about 30 s left" / "... longer than the last run (20 s)" / "... no estimate yet". */
export function progressLine(elapsedMs: number, expectedMs: number | undefined): string {
  const elapsed = `${formatDuration(elapsedMs)} elapsed`;
  if (expectedMs === undefined) return `${elapsed} (no estimate yet on this computer)`;
  const left = expectedMs - elapsedMs;
  if (left > 0) return `${elapsed}, about ${formatDuration(left)} left`;
  return `${elapsed}, taking longer than the estimate (${formatDuration(expectedMs)})`;
}
