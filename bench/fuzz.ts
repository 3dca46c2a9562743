// npm run fuzz -- [--count 100000] [--seconds 600] [--seed 1] [--parsers gzip,torch-zip] [--out fuzz.json]
//
// The seeded mutation fuzzer for every parser (bench/fuzz/): first the issue-13
// reproducers (bench/fuzz/regressions.ts), then for each parser up to --count inputs
// or --seconds seconds in a child process, so that an input that never returns is
// killed (after 20 s), recorded as a hang, and the run resumes at the next input.
// Prints inputs, crashes, hangs over 2 s and blow-ups per parser; a finding is
// reproduced by (parser, seed, index) with --parsers P --seed S --start I --count 1 --verbose.
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runTarget, type FuzzStats } from './fuzz/engine.ts';
import { checkRegression, makeTarget, REGRESSIONS, type TargetName } from './fuzz/regressions.ts';

const PARSERS: readonly TargetName[] = ['nifti', 'nifti-gz', 'nifti-paths', 'gzip', 'safetensors', 'sharded', 'torch-legacy', 'torch-zip', 'png-image', 'png-mask'];
/**
 * An input running this long without returning is killed, then run again alone in a
 * fresh process: a hang if it again does not return (a stall of the loaded machine
 * otherwise, and its outcome is counted).
 */
const KILL_MS = 30_000;

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '100000' },
    seconds: { type: 'string', default: '600' },
    seed: { type: 'string', default: '1' },
    start: { type: 'string', default: '0' },
    parsers: { type: 'string', default: PARSERS.join(',') },
    out: { type: 'string' },
    verbose: { type: 'boolean', default: false },
    child: { type: 'boolean', default: false },
  },
});

const count = Number(values.count);
const seconds = Number(values.seconds);
const seed = Number(values.seed);
const start = Number(values.start);
for (const [k, v] of [['count', count], ['seconds', seconds], ['seed', seed], ['start', start]] as const) {
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`--${k} must be a non-negative integer`);
}
const parsers = values.parsers!.split(',').map((p) => p.trim()) as TargetName[];
for (const p of parsers) if (!PARSERS.includes(p)) throw new Error(`--parsers: unknown parser '${p}' (${PARSERS.join(', ')})`);

if (values.child) {
  // One parser in this process; reports every input's index before running it.
  const target = makeTarget(parsers[0]);
  const stats = runTarget(target, {
    count, seconds, seed, start,
    // The stats so far every 1000 inputs, so a killed child's inputs before that are still classified.
    onInput: (i, s) => process.send!(i % 1000 === 0 ? { i, snapshot: { ...s, findings: [...s.findings] } } : { i }),
  });
  target.close?.();
  process.send!({ stats }, () => process.exit(0));
} else {
  await main();
}

type ChildResult = FuzzStats | { killedAt: number; snapshot?: FuzzStats; snapshotAt: number };

function runChild(parser: TargetName, from: number, left: number, secondsLeft: number): Promise<ChildResult> {
  return new Promise((resolve) => {
    const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--child', '--parsers', parser, '--seed', String(seed), '--start', String(from), '--count', String(left), '--seconds', String(secondsLeft)], {
      execArgv: ['--import', 'tsx', '--expose-gc', '--max-old-space-size=4096'],
    });
    let last = from - 1;
    let lastAt = Date.now();
    let snapshot: FuzzStats | undefined;
    let snapshotAt = from;
    const watchdog = setInterval(() => {
      if (Date.now() - lastAt > KILL_MS) {
        clearInterval(watchdog);
        child.kill('SIGKILL');
        resolve({ killedAt: last, snapshot, snapshotAt });
      }
    }, 500);
    child.on('message', (m: { i?: number; snapshot?: FuzzStats; stats?: FuzzStats }) => {
      lastAt = Date.now();
      if (m.i !== undefined) last = m.i;
      if (m.snapshot) {
        snapshot = m.snapshot;
        snapshotAt = m.i!;
      }
      if (m.stats) {
        clearInterval(watchdog);
        resolve(m.stats);
      }
    });
    child.on('exit', (code) => {
      clearInterval(watchdog);
      // A child that died (out of memory, a native crash) stopped at the input it was on.
      resolve({ killedAt: code === 0 ? -1 : last, snapshot, snapshotAt });
    });
  });
}

function add(total: FuzzStats, s: FuzzStats): void {
  for (const k of ['inputs', 'accepted', 'refused', 'crashes', 'hangs', 'blowups'] as const) total[k] += s[k];
  total.slowestMs = Math.max(total.slowestMs, s.slowestMs);
  total.findings.push(...s.findings);
}

async function fuzzParser(parser: TargetName): Promise<FuzzStats> {
  let name: string = parser;
  const total: FuzzStats = { target: parser, inputs: 0, accepted: 0, refused: 0, crashes: 0, hangs: 0, blowups: 0, slowestMs: 0, ms: 0, findings: [] };
  const started = Date.now();
  let from = start;
  while (total.inputs < count && (Date.now() - started) / 1000 < seconds) {
    const secondsLeft = Math.max(1, Math.ceil(seconds - (Date.now() - started) / 1000));
    const result = await runChild(parser, from, count - total.inputs, secondsLeft);
    if (!('killedAt' in result)) {
      name = result.target;
      add(total, result);
      break;
    }
    if (result.killedAt < 0) break;
    // Inputs up to the last snapshot are classified; those after it, before the killed one, only counted.
    if (result.snapshot) add(total, result.snapshot);
    total.inputs += result.killedAt - result.snapshotAt;
    const again = await runChild(parser, result.killedAt, 1, 60);
    if ('killedAt' in again) {
      total.inputs++;
      total.hangs++;
      total.findings.push({ kind: 'hang', index: result.killedAt, detail: `no return within ${KILL_MS} ms, twice (or the process died): killed` });
    } else {
      add(total, again);
      total.findings.push({ kind: 'stall', index: result.killedAt, detail: `no return within ${KILL_MS} ms on the loaded machine; alone it took ${again.slowestMs.toFixed(0)} ms of CPU` });
    }
    from = result.killedAt + 1;
  }
  total.ms = Date.now() - started;
  return { ...total, target: name };
}

async function main(): Promise<void> {
  console.log(`fuzz: seed ${seed}, up to ${count} inputs or ${seconds} s per parser; ${cpus().length} CPUs, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  let regressionFailures = 0;
  for (const reg of REGRESSIONS) {
    const target = makeTarget(reg.target);
    const problem = checkRegression(reg, target);
    target.close?.();
    if (problem) regressionFailures++;
    if (problem || values.verbose) console.log(`  regression ${problem ? 'FAIL' : 'ok'}  ${reg.name}${problem ? `: ${problem}` : ''}`);
  }
  console.log(`regressions: ${REGRESSIONS.length - regressionFailures} of ${REGRESSIONS.length} behave`);
  const results: FuzzStats[] = [];
  console.log('| parser | inputs | accepted | refused | crash | hang > 2 s CPU | blow-up | slowest (ms CPU) | time (s) |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const parser of parsers) {
    const s = await fuzzParser(parser);
    results.push(s);
    console.log(`| ${s.target} | ${s.inputs} | ${s.accepted} | ${s.refused} | ${s.crashes} | ${s.hangs} | ${s.blowups} | ${s.slowestMs.toFixed(0)} | ${(s.ms / 1000).toFixed(0)} |`);
    for (const f of s.findings.slice(0, values.verbose ? Infinity : 5)) console.log(`    ${f.kind} at --parsers ${parser} --seed ${seed} --start ${f.index}: ${f.detail}`);
  }
  console.log(`load after: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  if (values.out) writeFileSync(values.out, JSON.stringify({ seed, count, seconds, regressionFailures, results }, null, 2));
  const bad = regressionFailures + results.reduce((n, s) => n + s.crashes + s.hangs + s.blowups, 0);
  console.log(`${bad === 0 ? 'no' : bad} finding${bad === 1 ? '' : 's'} (stalls of the loaded machine, re-run alone, are not findings)`);
  process.exitCode = bad > 0 ? 1 : 0;
}
