// `npm run test:full` only (the emulated matrix kernel runs QAMN's reference sequence in
// about 6 minutes on lavapipe): QAMN with its convs on matrix units, emulated (f16
// activations and weights, f32 sums: src/ops/conv2d-mma.ts), against the original
// PyTorch float64 outputs under the f16-operand tolerances of the README's "Numerical
// conformance" (3x the errors this emulation measured; ps2 has no bound). On a GPU with
// matrix units, bench/device/suite.sh tc runs the same check on the hardware form.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatTable } from '../../src/conformance/compare.ts';
import { memoryNetworkConformance } from '../../src/conformance/memory-network.ts';
import { enableTensorCores } from '../../src/ops/conv2d-mma.ts';
import { Runtime } from '../../src/runtime/runtime.ts';

const REF = new URL('../../../shared/reference/', import.meta.url).pathname;

test('qamn on emulated matrix units: steps 1 and 2 match the original PyTorch outputs within the f16-operand tolerances', async () => {
  // A runtime of its own: enabling matrix units routes every later conv of the runtime to them.
  const rt = await Runtime.create();
  try {
    await enableTensorCores(rt, { emulate: true });
    const report = await memoryNetworkConformance(rt, REF, 'qamn');
    console.log(`\nqamn, ${report.arithmetic} (${report.seconds.toFixed(0)} s):\n${formatTable(report.rows)}`);
    for (const r of report.unbounded) console.log(`compared, no bound: ${r.tensor} max abs err ${r.maxAbsError.toExponential(3)}`);
    assert.is(report.arithmetic, 'f16 operands (emulated matrix units)');
    assert.equal(report.unbounded.map((r) => r.tensor), ['ps2'], 'only ps2 goes without a bound');
    assert.equal(report.skipped, [], 'no reference tensor skipped');
    assert.is(report.rows.length, 12);
    assert.equal(report.rows.filter((r) => !r.pass).map((r) => r.tensor), [], 'every tensor within tolerance');
    // The matrix units ran: the encoders are off by far more than the f32 kernels' 1e-5.
    assert.ok(report.rows.find((r) => r.tensor === 'k0')!.relError > 1e-3, 'k0 shows the f16 rounding');
  } finally {
    rt.destroy();
  }
});

test.run();
