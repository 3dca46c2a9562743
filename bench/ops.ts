// npm run bench:ops -- [--op conv2d] [--tier perf|all] [--reps 5] [--check] [--json out.json]
// Perf mode of the op-case registry (test/_lib/op-cases): times each case's op on
// this machine's adapter, median of --reps after 2 warm-up runs, each run flushed and
// awaited (rt.sync, no read back). --tier perf (default) takes the network-sized
// cases; --tier all every case the unit tests run too. --check also compares one run
// with the float64 reference (slow for perf shapes: seconds of CPU per case).
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createBenchRuntime } from './bench-runtime.ts';
import { casesOf, checkCase, type Tier } from '../test/_lib/op-cases/index.ts';
import { median } from '../src/util/median.ts';

const { values } = parseArgs({
  options: {
    op: { type: 'string' },
    tier: { type: 'string', default: 'perf' },
    reps: { type: 'string', default: '5' },
    check: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const tiers: Tier[] = values.tier === 'all' ? ['smoke', 'unit', 'big', 'perf'] : [values.tier as Tier];
if (!['perf', 'smoke', 'unit', 'big', 'all'].includes(values.tier!)) throw new Error(`--tier must be perf, smoke, unit, big or all, got '${values.tier}'`);
const cases = casesOf(values.op ?? null, tiers);
const reps = Number(values.reps);

const rt = await createBenchRuntime();
console.log(`adapter: ${rt.describe()}; ${cases.length} case(s), median of ${reps}`);

interface Row { op: string; case: string; ms: number; gflops: number | null; check?: string }
const rows: Row[] = [];
for (const c of cases) {
  const prepared = c.prepare(rt);
  const once = async (): Promise<number> => {
    const t0 = performance.now();
    const out = prepared.run();
    await rt.sync();
    const ms = performance.now() - t0;
    out.dispose();
    return ms;
  };
  for (let i = 0; i < 2; i++) await once();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) times.push(await once());
  prepared.dispose();
  times.sort((a, b) => a - b);
  const ms = median(times);
  const row: Row = { op: c.op, case: c.name, ms, gflops: prepared.flop ? prepared.flop / 1e9 / (ms / 1000) : null };
  if (values.check) {
    const r = await checkCase(rt, c);
    row.check = `${r.ok ? 'pass' : 'FAIL'} (max abs error ${r.maxAbsError.toExponential(2)}, tolerance ${r.tolerance.toExponential(2)})`;
  }
  rows.push(row);
  console.log(`${c.name}: ${ms.toFixed(2)} ms${row.gflops !== null ? ` (${row.gflops.toFixed(2)} GFLOP/s)` : ''}${row.check ? `  ${row.check}` : ''}`);
}
console.log(`\n| op | case | ms | GFLOP/s |\n| --- | --- | --- | --- |`);
for (const r of rows) console.log(`| ${r.op} | ${r.case} | ${r.ms.toFixed(2)} | ${r.gflops?.toFixed(2) ?? '-'} |`);
if (values.json) writeFileSync(values.json, JSON.stringify({ adapter: rt.describe(), reps, rows }, null, 2) + '\n');
rt.destroy();
