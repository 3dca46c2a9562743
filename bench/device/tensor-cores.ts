// The matrix-unit conv2d's hardware check, for a GPU machine (bench/device/suite.sh) or
// lavapipe with cooperative matrices (tools/lavapipe-coopmat.sh; npm run check:tensor-cores):
// opens a runtime with { tensorCores: true }, turns the matrix units on
// (enableTensorCores: which matrix shape, which spelling of the WGSL builtins compiled),
// then runs the cases CI runs on the emulated form (test/_lib/mma-cases.ts) on the
// hardware form, in every tile of the mma variants that fits the device, with f32 and
// f16 weights, against the same float64 references.
// Prints a line per case; exits 1 if any fails, 2 if the matrix units cannot be used.
// --emulate runs the emulated form instead (any adapter with shader-f16): the suite's
// dry run of its tc steps without matrix units (TC_OPS=emulated).
//   MEM3D_TENSOR_CORES is not needed here; the suite sets it for the network runs.
//   node tensor-cores.mjs [--emulate] [--json out.json]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { enableTensorCores, mmaVariantFits } from '../../src/ops/conv2d-mma.ts';
import { CONV2D_VARIANTS, MMA_VARIANTS } from '../../src/ops/conv2d-variants.ts';
import { Runtime } from '../../src/runtime/runtime.ts';
import { checkMmaCase, mmaCases } from '../../test/_lib/mma-cases.ts';

const { values } = parseArgs({ options: { json: { type: 'string' }, emulate: { type: 'boolean' } } });
const ops = values.emulate ? 'emulated' : 'subgroup-matrix';
const report: Record<string, unknown> = {};
const save = (): void => { if (values.json) writeFileSync(values.json, JSON.stringify(report, null, 2)); };

const rt = await Runtime.create({ tensorCores: !values.emulate });
report.adapter = rt.describe();
console.log(`adapter: ${rt.describe()}; subgroup sizes ${rt.adapter.subgroupMinSize}-${rt.adapter.subgroupMaxSize}`);
try {
  report.enabled = await enableTensorCores(rt, { emulate: values.emulate });
  console.log(`matrix units on: ${JSON.stringify(report.enabled)}`);
} catch (e) {
  report.error = (e as Error).message;
  console.log((e as Error).message);
  save();
  rt.destroy();
  process.exit(2);
}

const rows: Record<string, unknown>[] = [];
let failed = 0;
for (const variant of MMA_VARIANTS) {
  const v = CONV2D_VARIANTS[variant];
  if (v.kind !== 'mma' || !mmaVariantFits(rt, v.mma)) {
    rows.push({ variant, skipped: 'does not fit this device' });
    console.log(`skip  ${variant}: does not fit this device's workgroup limits`);
    continue;
  }
  for (const [i, c] of mmaCases.entries()) {
    for (const weights of ['f32', 'f16'] as const) {
      const t0 = performance.now();
      const label = `${variant}: ${c.name}, ${weights} weights`;
      try {
        const r = await checkMmaCase(rt, c, { kind: 'mma', mma: { ...v.mma, ops } }, 100 + 10 * i, weights);
        if (r.f32Exact) throw new Error('matches the f32-operand conv to f32 accuracy: the operands were not rounded to f16');
        rows.push({ variant, case: c.name, weights, ok: true, ...r });
        console.log(`pass  ${label}: max abs error ${r.maxAbsError.toExponential(2)} (tolerance ${r.tolerance.toExponential(2)})  [${(performance.now() - t0).toFixed(0)} ms]`);
      } catch (e) {
        failed++;
        rows.push({ variant, case: c.name, weights, ok: false, error: (e as Error).message });
        console.log(`FAIL  ${label}: ${(e as Error).message}`);
      }
    }
  }
}
report.cases = rows;
const passed = rows.filter((r) => r.ok).length;
console.log(`\n${passed} passed, ${failed} failed, ${rows.length - passed - failed} tiles skipped`);
save();
rt.destroy();
process.exit(failed ? 1 : 0);
