// The test runner behind `npm test` and `npm run test:full`: runs each test file in its
// own process (a crash or a hang stays in its file), prints every file's wall time at
// the end, slowest first, and ends with one plain line `N passed, N failed` (test
// cases; a file that dies without a summary counts as one failure). Exits 1 on any
// failure or skipped case.
//
//   tsx test/run.ts [--full] [--unit] [--jobs N] [--timeout S] [pattern ...]
//
// --jobs 2 (what `npm test` uses): one lane runs the browser scripts and then joins the
// other on the Node files, so Chromium's SwiftShader work overlaps lavapipe's and, once
// the browser scripts are done, no core idles while the Node lane is still long (most of
// its time is one-threaded shader compilation; bench/RESULTS.md). Output then comes file
// by file as each ends, not live.
//
// Every test process gets two preloads: test/_lib/report-cpu.ts (its CPU time and its
// children's, printed at exit) and test/_lib/dawn-polling.ts (Dawn's event polling on a
// 1 ms timer instead of a setImmediate spin).
//
// Tiers: the default tier is test/*.test.ts plus the scripts test/<dir>/run.ts that
// drive headless Chromium (smoke, viewer, end-to-end); --full adds test/full/*.test.ts (the sweeps)
// and sets MEM3D_TEST_TIER=full for every file (the e2e then runs the 2D network at crop 512); --unit runs
// only the *.test.ts files. A pattern keeps the files whose path contains it.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { countCases } from './_lib/run-summary.ts';

const ROOT = new URL('..', import.meta.url).pathname;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    full: { type: 'boolean', default: false },
    unit: { type: 'boolean', default: false },
    jobs: { type: 'string', default: '1' },
    // Longer than any file takes on lavapipe; only guards against a hang.
    timeout: { type: 'string', default: '2700' },
  },
});

const testFiles = (dir: string): string[] =>
  readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
    .map((f) => `${dir}/${f}`);

const browserScripts = (): string[] =>
  readdirSync(join(ROOT, 'test'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(ROOT, 'test', d.name, 'run.ts')))
    .map((d) => `test/${d.name}/run.ts`)
    .sort();

const files = [
  ...testFiles('test'),
  ...(values.full ? testFiles('test/full') : []),
  // Scripts that drive headless Chromium (test/browser, test/viewer, test/e2e); each prints its own `N passed, N failed`.
  ...(values.unit ? [] : browserScripts()),
].filter((f) => positionals.length === 0 || positionals.some((p) => f.includes(p)));

interface Outcome {
  file: string;
  seconds: number;
  /** CPU seconds of the test process (all threads), null if it died before reporting. */
  cpu: number | null;
  /** CPU seconds of the child processes it waited for (Chromium, spawned CLIs), null if unknown. */
  children: number | null;
  passed: number;
  failed: number;
  skipped: number;
  code: number | null;
  note: string;
}

function runFile(file: string, live: boolean): Promise<Outcome> {
  const t0 = performance.now();
  if (live) console.log(`\n=== ${file}`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', './test/_lib/report-cpu.ts', '--import', './test/_lib/dawn-polling.ts', file], { cwd: ROOT, env: { ...process.env, FORCE_COLOR: '0', MEM3D_TUNING_CACHE: 'off', ...(values.full ? { MEM3D_TEST_TIER: 'full' } : {}) } });
    let output = '';
    const take = (chunk: Buffer, stream: NodeJS.WriteStream) => {
      output += chunk.toString();
      if (live) stream.write(chunk);
    };
    child.stdout.on('data', (c: Buffer) => take(c, process.stdout));
    child.stderr.on('data', (c: Buffer) => take(c, process.stderr));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, Number(values.timeout) * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (!live) process.stdout.write(`\n=== ${file}\n${output}`);
      const seconds = (performance.now() - t0) / 1000;
      const counts = countCases(output);
      const cpu = /\[cpu\] ([\d.]+) s(?:, children ([\d.]+) s)?/.exec(output);
      let note = '';
      let { passed, failed, skipped } = counts ?? { passed: 0, failed: 0, skipped: 0 };
      if (timedOut) note = `killed after ${values.timeout} s`;
      else if (!counts) note = `exit ${code} without a summary`;
      else if (code !== 0 && failed === 0) note = `exit ${code} although every case passed`;
      // A file that dies, hangs or exits non-zero with no failed case still fails once.
      if ((timedOut || !counts || code !== 0) && failed === 0) failed = 1;
      resolve({ file, seconds, cpu: cpu ? Number(cpu[1]) : null, children: cpu?.[2] ? Number(cpu[2]) : null, passed, failed, skipped, code, note });
    });
  });
}

async function main(): Promise<number> {
  if (files.length === 0) {
    console.error(`test/run.ts: no test file matches ${positionals.join(' ')}`);
    return 1;
  }
  const jobs = Math.max(1, Number(values.jobs) || 1);
  const start = performance.now();
  const outcomes: Outcome[] = [];
  // With --jobs N > 1: one lane runs the browser scripts (Chromium on SwiftShader) one
  // after another, the other N - 1 share the Node files (lavapipe), and the browser lane
  // joins them when its scripts are done. A browser script and a Node file overlap each
  // other's single-threaded and waiting phases; two Node files side by side split the
  // cores where both are network-heavy, but most Node files are compile-bound (one thread).
  const isBrowser = (f: string) => f.endsWith('/run.ts');
  const browserQueue = files.filter(isBrowser);
  const nodeQueue = files.filter((f) => !isBrowser(f));
  // Each lane takes its next file from the first of its queues that still holds one.
  const lanes: string[][][] = jobs === 1 ? [[[...files]]] : [[browserQueue, nodeQueue], ...Array.from({ length: jobs - 1 }, () => [nodeQueue])];
  await Promise.all(
    lanes.map(async (queues) => {
      for (let q = queues.find((x) => x.length > 0); q; q = queues.find((x) => x.length > 0)) outcomes.push(await runFile(q.shift()!, jobs === 1));
    }),
  );
  const wall = (performance.now() - start) / 1000;

  const cpuTotal = outcomes.reduce((a, o) => a + (o.cpu ?? 0), 0);
  const childTotal = outcomes.reduce((a, o) => a + (o.children ?? 0), 0);
  console.log(`\nper-file wall time, slowest first (${files.length} files, ${jobs} at a time, ${wall.toFixed(0)} s wall, ${cpuTotal.toFixed(0)} s CPU in the test processes + ${childTotal.toFixed(0)} s in their children, Chromium and CLIs):`);
  console.log(`   wall       CPU  children`);
  for (const o of [...outcomes].sort((a, b) => b.seconds - a.seconds)) {
    const status = o.failed || o.skipped ? 'FAIL' : 'ok  ';
    const counts = `${o.passed} passed, ${o.failed} failed${o.skipped ? `, ${o.skipped} skipped` : ''}`;
    const cpu = o.cpu === null ? '      -' : `${o.cpu.toFixed(1).padStart(7)}`;
    const children = o.children === null ? '      -' : `${o.children.toFixed(1).padStart(7)}`;
    console.log(`${o.seconds.toFixed(1).padStart(7)} s ${cpu} s ${children} s  ${status}  ${relative('.', o.file).padEnd(36)} ${counts}${o.note ? `  (${o.note})` : ''}`);
  }
  const passed = outcomes.reduce((a, o) => a + o.passed, 0);
  const failed = outcomes.reduce((a, o) => a + o.failed, 0);
  const skipped = outcomes.reduce((a, o) => a + o.skipped, 0);
  // A skipped case is not a pass: it fails the run.
  if (skipped) console.log(`${skipped} case(s) skipped: the run fails`);
  console.log(`${passed} passed, ${failed + skipped} failed`);
  return failed + skipped === 0 && passed > 0 ? 0 : 1;
}

process.exitCode = await main();
