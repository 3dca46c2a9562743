// Every conv2d variant on its awkward shapes (test/conv2d-variants.test.ts: the GPU
// tiles, the direct and CPU kernels; test/conv2d-gpu.test.ts: split-K;
// test/conv2d-winograd.test.ts: both Winograd forms) and the matrix tiles in their
// emulated form (test/conv2d-mma.test.ts), each file run in a child process whose shared test
// runtime has no bounds checks (MEM3D_BOUNDS_CHECKS=off, test/_lib/gpu.ts), as a
// benchmark on a GPU may run them: a stray index then reads or writes real memory
// instead of a clamped element, so these cases passing says the kernels stay in bounds.
// test/bounds-checks.test.ts does the same for every op case in npm test.
import { execFileSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { countCases } from '../_lib/run-summary.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
// The child's output goes into a failure's message; its uvu summary lines would be read
// by test/run.ts as this file's own counts.
const quoted = (text: string) => text.replace(/(Total|Passed|Skipped):/g, (m) => `child's ${m.toLowerCase()}`);

for (const file of ['test/conv2d-variants.test.ts', 'test/conv2d-gpu.test.ts', 'test/conv2d-winograd.test.ts', 'test/conv2d-mma.test.ts']) {
  test(`${file} without bounds checks`, () => {
    let out: string;
    try {
      out = execFileSync(process.execPath, ['--import', 'tsx', '--import', './test/_lib/dawn-polling.ts', file], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, MEM3D_BOUNDS_CHECKS: 'off', FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      const { stdout, stderr } = e as { stdout?: string; stderr?: string };
      assert.unreachable(quoted(`${file} failed without bounds checks:\n${stdout ?? ''}\n${stderr ?? ''}`.slice(-6000)));
      return;
    }
    const counts = countCases(out);
    assert.ok(counts && counts.passed > 0 && counts.failed === 0 && counts.skipped === 0, quoted(`${file}: ${JSON.stringify(counts)}\n${out.slice(-3000)}`));
  });
}

test.run();
