// How test/run.ts reads a test file's output: uvu's summary, or a browser script's
// last `N passed, N failed` line (tested in test/run-summary.test.ts).

/**
 * Case counts from uvu's summaries (Total/Passed/Skipped; summed where a file runs several
 * suites, each of which prints one) or a script's last line starting `N passed, N failed`
 * (end of line or `;`).
 */
export function countCases(output: string): { passed: number; failed: number; skipped: number } | null {
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
  const summaries = [...plain.matchAll(/Total:\s+(\d+)\s+Passed:\s+(\d+)\s+Skipped:\s+(\d+)/g)];
  if (summaries.length) {
    return summaries.reduce((sum, m) => {
      const [t, p, s] = [m[1], m[2], m[3]].map(Number);
      return { passed: sum.passed + p, failed: sum.failed + t - p - s, skipped: sum.skipped + s };
    }, { passed: 0, failed: 0, skipped: 0 });
  }
  const lines = [...plain.matchAll(/^(\d+) passed, (\d+) failed(?:$|;)/gm)];
  const last = lines.at(-1);
  return last ? { passed: Number(last[1]), failed: Number(last[2]), skipped: 0 } : null;
}
