// npm run selfcheck: prints this machine's WebGPU adapter, then runs every smoke and
// unit case of the op-case registry (test/_lib/op-cases) against its float64
// reference and prints pass/fail per case. Exits 1 if any case fails, 2 without an
// adapter. `-- --op conv2d` keeps one op family. A test tool, so it lives in test/.
import { parseArgs } from 'node:util';
import { NoAdapterError } from '../src/runtime/device.ts';
import { Runtime } from '../src/runtime/runtime.ts';
import { casesOf, checkCase } from './_lib/op-cases/index.ts';

const { values } = parseArgs({ options: { op: { type: 'string' } } });
const cases = casesOf(values.op ?? null, ['smoke', 'unit']);

let rt: Runtime;
try {
  rt = await Runtime.create();
} catch (e) {
  console.error(e instanceof NoAdapterError ? e.message : `selfcheck: ${(e as Error).message}`);
  process.exit(2);
}
console.log(`adapter: ${rt.describe()}\n`);
let failed = 0;
for (const c of cases) {
  const t0 = performance.now();
  let line: string;
  try {
    const r = await checkCase(rt, c);
    if (!r.ok) failed++;
    const shape = r.shape.join() === r.expectedShape.join() ? '' : `, shape [${r.shape}] expected [${r.expectedShape}]`;
    line = `${r.ok ? 'pass' : 'FAIL'}  ${c.name}: max abs error ${r.maxAbsError.toExponential(2)} (tolerance ${r.tolerance.toExponential(2)})${shape}`;
  } catch (e) {
    failed++;
    line = `FAIL  ${c.name}: ${(e as Error).message}`;
  }
  console.log(`${line}  [${(performance.now() - t0).toFixed(0)} ms]`);
}
console.log(`\n${cases.length - failed} passed, ${failed} failed`);
rt.destroy();
process.exit(failed ? 1 : 0);
