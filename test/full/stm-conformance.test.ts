// `npm run test:full` only: STM's whole reference sequence on its own encoders. In
// `npm test` (test/memory-network.test.ts) STM shares QAMN's encoders, whose tensors
// are the same (checked there), and runs from its decoder on.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatTable } from '../../src/conformance/compare.ts';
import { memoryNetworkConformance } from '../../src/conformance/memory-network.ts';
import { testRuntime } from '../_lib/gpu.ts';

const REF = new URL('../../../shared/reference/', import.meta.url).pathname;
const REQUIRED = ['k0', 'v0', 'q_key1', 'mem1', 'decoder_logit1', 'ps1', 'k1', 'v1', 'ps2'];

test('stm: steps 1 and 2 on its own encoders match the original PyTorch outputs', async () => {
  const report = await memoryNetworkConformance(await testRuntime(), REF, 'stm');
  console.log(`\nstm (${report.seconds.toFixed(0)} s):\n${formatTable(report.rows)}`);
  const compared = report.rows.map((r) => r.tensor);
  for (const name of REQUIRED) assert.ok(compared.includes(name), `${name} was compared`);
  assert.equal(report.skipped, [], 'no reference tensor skipped');
  assert.equal(report.rows.filter((r) => !r.pass).map((r) => r.tensor), [], 'every tensor within tolerance');
});

test.run();
