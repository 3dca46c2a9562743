// test/run.ts counts cases from each file's output; CI reads its last line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { countCases } from './_lib/run-summary.ts';

test("uvu's summary, colour codes included: failed = total - passed - skipped", () => {
  const out = '• • ✘ (2 / 3)\n\n  Total:     3\n  Passed:    \x1b[32m1\x1b[39m\n  Skipped:   1\n  Duration:  5.1ms\n';
  assert.equal(countCases(out), { passed: 1, failed: 1, skipped: 1 });
});

test('several suites in one file (one summary each): their counts add up', () => {
  const out = '  Total:     1\n  Passed:    1\n  Skipped:   0\n  Duration:  6ms\n\n• ✘\n  Total:     12\n  Passed:    \x1b[32m10\x1b[39m\n  Skipped:   1\n  Duration:  3.9s\n';
  assert.equal(countCases(out), { passed: 11, failed: 1, skipped: 1 });
});

test("a browser script's last 'N passed, N failed' line wins over earlier ones", () => {
  assert.equal(countCases('pass  a\n3 passed, 0 failed\nFAIL  b\n7 passed, 2 failed\nscreenshot: x.png\n'), { passed: 7, failed: 2, skipped: 0 });
  assert.equal(countCases('12 passed, 1 failed; screenshots in test-artifacts/viewer-*.png\n'), { passed: 12, failed: 1, skipped: 0 }, 'the viewer test adds a note after a semicolon');
});

test('no summary (a crash before the end) is null, so the runner counts the file as failed', () => {
  assert.is(countCases('TypeError: x is not a function\n    at y (file.ts:1:2)\n'), null);
  assert.is(countCases('the check says 3 passed, 0 failed so far\n'), null, 'only a whole line counts');
});

test.run();
