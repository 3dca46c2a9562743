// How test/run.ts reads a test file's output: uvu's summary, or a browser script's
// last `N passed, N failed` line (tested in test/run-summary.test.ts).

/** Case counts from uvu's summary (Total/Passed/Skipped) or a script's last line starting `N passed, N failed` (end of line or `;`). */
export function countCases(output: string): { passed: number; failed: number; skipped: number } | null {
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
  const total = /Total:\s+(\d+)/.exec(plain);
  const passed = /Passed:\s+(\d+)/.exec(plain);
  const skipped = /Skipped:\s+(\d+)/.exec(plain);
  if (total && passed && skipped) {
    const [t, p, s] = [total, passed, skipped].map((m) => Number(m[1]));
    return { passed: p, failed: t - p - s, skipped: s };
  }
  const lines = [...plain.matchAll(/^(\d+) passed, (\d+) failed(?:$|;)/gm)];
  const last = lines.at(-1);
  return last ? { passed: Number(last[1]), failed: Number(last[2]), skipped: 0 } : null;
}
