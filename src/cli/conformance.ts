// npm run conformance -- <reference-dir> --model qamn|stm|iog [--json <file>]
// Runs the reference calling sequence on this machine's WebGPU adapter and prints
// one row per reference tensor; exits 1 when any is out of tolerance, 2 on bad input.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatTable } from '../conformance/compare.ts';
import { iogConformance } from '../conformance/iog.ts';
import { memoryNetworkConformance } from '../conformance/memory-network.ts';
import { createCliRuntime, tensorCoresRequested } from './runtime.ts';

const USAGE = `usage: npm run conformance -- <reference-dir> --model qamn|stm|iog [--weights-precision f32|f16] [--json <file>]

  <reference-dir>  a folder laid out like shared/reference: phantom_{0,1,2}.png,
                   phantom_mask_0.png, <model>_manifest.json, <model>_small.safetensors,
                   <model>_ref1.safetensors, <model>_ref2.safetensors (qamn, stm) or
                   iog_manifest.json, iog_small.safetensors, iog_ref.safetensors (iog)
  --model          qamn (memory network with quality head), stm (original decoder)
                   or iog (the 2D interactive network, run on iog_ref's stored input)
  --weights-precision f16
                   conv weights stored as f16 on the GPU (needs shader-f16; qamn only),
                   checked against the f16 tolerances (README, Numerical conformance)
  --json <file>    also write the table as JSON

MEM3D_TENSOR_CORES=1 runs the convs on the adapter's matrix units (f16 operands, f32
sums; =emulated: the same arithmetic without them), checked against the f16-operand
tolerances (qamn only; README, Numerical conformance).`;

function fail(message: string): never {
  console.error(`conformance: ${message}\n\n${USAGE}`);
  process.exit(2);
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals: true, options: { model: { type: 'string' }, json: { type: 'string' }, 'weights-precision': { type: 'string', default: 'f32' }, help: { type: 'boolean', short: 'h' } } });
  } catch (e) {
    fail((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (positionals.length !== 1) fail('give exactly one reference folder');
  const model = values.model;
  if (model !== 'qamn' && model !== 'stm' && model !== 'iog') fail(`--model must be qamn, stm or iog, got ${model === undefined ? 'nothing' : `'${model}'`}`);

  const precision = values['weights-precision'];
  if (precision !== 'f32' && precision !== 'f16') fail(`--weights-precision must be f32 or f16, got '${precision}'`);
  // IOG on synth-v1 moves 13-31% with f16 weights (README): no useful bound; STM is not measured.
  if (precision === 'f16' && model !== 'qamn') fail(`--weights-precision f16 has tolerances for qamn only, not ${model}`);
  let tc: ReturnType<typeof tensorCoresRequested> = null;
  try {
    tc = tensorCoresRequested();
  } catch (e) {
    fail((e as Error).message);
  }
  if (tc && model !== 'qamn') fail(`MEM3D_TENSOR_CORES=${process.env.MEM3D_TENSOR_CORES}: f16-operand tolerances exist for qamn only, not ${model}`);

  const rt = await createCliRuntime(console);
  console.log(`adapter: ${rt.describe()}`);
  const t0 = performance.now();
  const progress = (msg: string) => console.log(`[${((performance.now() - t0) / 1000).toFixed(1)} s] ${msg}`);
  const report = model === 'iog' ? await iogConformance(rt, positionals[0], progress) : await memoryNetworkConformance(rt, positionals[0], model, progress, { weightPrecision: precision });
  console.log(`\n${model} against ${positionals[0]}:\n${formatTable(report.rows)}`);
  if ('unbounded' in report && report.unbounded.length) {
    const mode = 'arithmetic' in report && report.arithmetic !== 'f32' ? report.arithmetic : `${report.weightPrecision} weights`;
    console.log(`compared, no bound with ${mode} (README, Numerical conformance): ${report.unbounded.map((r) => `${r.tensor} max abs err ${r.maxAbsError.toExponential(3)}`).join(', ')}`);
  }
  if (report.skipped.length) console.log(`skipped (not in the ref files): ${report.skipped.join(', ')}`);
  console.log(`${report.rows.filter((r) => r.pass).length} of ${report.rows.length} tensors within tolerance (${report.seconds.toFixed(1)} s)`);
  if (values.json) writeFileSync(values.json, JSON.stringify(report, null, 2) + '\n');
  rt.destroy();
  process.exitCode = report.pass ? 0 : 1;
}

main().catch((e) => {
  console.error(`conformance: ${(e as Error).message}`);
  process.exit(2);
});
