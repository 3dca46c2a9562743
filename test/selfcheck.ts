// npm run selfcheck: prints this machine's WebGPU adapter, then runs one check per
// kernel against its float64 reference (test/_lib/kernel-checks.ts) and prints
// pass/fail per kernel. Exits 1 if any kernel fails, 2 without an adapter.
import { Runtime } from '../src/runtime/runtime.ts';
import { NoAdapterError } from '../src/runtime/device.ts';
import { CHECKS } from '../test/_lib/kernel-checks.ts';
import { compare } from '../test/_lib/tolerance.ts';

let rt: Runtime;
try {
  rt = await Runtime.create();
} catch (e) {
  console.error(e instanceof NoAdapterError ? e.message : `selfcheck: ${(e as Error).message}`);
  process.exit(2);
}
console.log(`adapter: ${rt.describe()}\n`);
let failed = 0;
for (const check of CHECKS) {
  const t0 = performance.now();
  let line: string;
  try {
    const { actual, expected, opts } = await check.run(rt);
    const c = compare(actual, expected, opts);
    if (!c.ok) failed++;
    line = `${c.ok ? 'pass' : 'FAIL'}  ${check.name}: max abs error ${c.maxAbsError.toExponential(2)} (tolerance ${c.tolerance.toExponential(2)})`;
  } catch (e) {
    failed++;
    line = `FAIL  ${check.name}: ${(e as Error).message}`;
  }
  console.log(`${line}  [${(performance.now() - t0).toFixed(0)} ms]`);
}
console.log(`\n${CHECKS.length - failed} passed, ${failed} failed`);
rt.destroy();
process.exit(failed ? 1 : 0);
