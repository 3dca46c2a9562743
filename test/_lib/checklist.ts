// Pass/fail lines for the browser scripts (e2e, viewer), ending in the plain
// 'N passed, N failed' line that test/run.ts and CI read.
export class Checklist {
  passed = 0;
  failed = 0;

  check(name: string, ok: boolean, detail = ''): void {
    if (ok) this.passed++;
    else this.failed++;
    console.log(`${ok ? 'pass' : 'FAIL'}  ${name}${detail ? `  (${detail})` : ''}`);
  }

  /** Prints the summary line (with `suffix`) and returns the exit code: 0 only when something passed and nothing failed. */
  finish(suffix = ''): number {
    console.log(`${this.passed} passed, ${this.failed} failed${suffix}`);
    return this.failed === 0 && this.passed > 0 ? 0 : 1;
  }
}
