// mem3d conformance <reference-dir> --model qamn|stm|iog [--json <file>] (or npm run conformance -- ...)
// Runs the reference calling sequence on this machine's WebGPU adapter and prints
// one row per reference tensor; exits 1 when any is out of tolerance, 2 on bad input.
import { realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatTable } from '../conformance/compare.ts';
import { iogConformance } from '../conformance/iog.ts';
import { memoryNetworkConformance } from '../conformance/memory-network.ts';
import { referenceFiles, type ReferenceModel } from '../conformance/reference-files.ts';
import { checkOutputFile, writeFileAtomic } from '../volume/safe-write-node.ts';
import { parse, UsageError, type ConsoleLike } from './args.ts';
import { createCliRuntime, tensorCoresRequested } from './runtime.ts';

const USAGE = `usage: mem3d conformance <reference-dir> --model qamn|stm|iog [--weights-precision f32|f16] [--json <file>] [--overwrite]
       (npm run conformance -- <the same arguments>)

  <reference-dir>  a folder laid out like shared/reference: phantom_{0,1,2}.png,
                   phantom_mask_0.png, <model>_manifest.json, <model>_small.safetensors,
                   <model>_ref1.safetensors, <model>_ref2.safetensors (qamn, stm) or
                   iog_manifest.json, iog_small.safetensors, iog_ref.safetensors (iog);
                   torch_reference_log.json where present
  --model          qamn (memory network with quality head), stm (original decoder)
                   or iog (the 2D interactive network, run on iog_ref's stored input)
  --weights-precision f16
                   conv weights stored as f16 on the GPU (needs shader-f16; qamn only),
                   checked against the f16 tolerances (README, Numerical conformance)
  --json <file>    also write the report as JSON (never over a reference file)
  --overwrite      replace an existing --json file

Exits 0 when every tensor is within tolerance, 1 when one is not, 2 on any error.
MEM3D_TENSOR_CORES=1 runs the convs on the adapter's matrix units (f16 operands, f32
sums; =emulated: the same arithmetic without them), checked against the f16-operand
tolerances (qamn only; README, Numerical conformance).`;

const isFile = (path: string) => statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;

/** Refuses a reference folder that lacks a file the comparison reads, naming them all; returns every file it reads. */
function checkReferenceFolder(dir: string, model: ReferenceModel): string[] {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`${dir} is not a folder: give the reference folder, laid out like shared/reference`);
  const { required, optional } = referenceFiles(model);
  const missing = required.filter((f) => !isFile(join(dir, f)));
  if (missing.length) throw new UsageError(`${dir} lacks ${missing.join(', ')}: the folder must be laid out like shared/reference`);
  return [...required, ...optional].map((f) => join(dir, f));
}

async function run(argv: string[], io: ConsoleLike): Promise<number> {
  const { values, positionals } = parse(argv, {
    model: { type: 'string' },
    json: { type: 'string' },
    overwrite: { type: 'boolean', default: false },
    'weights-precision': { type: 'string', default: 'f32' },
  });
  if (values.help) {
    io.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('give exactly one reference folder');
  const model = values.model;
  if (model !== 'qamn' && model !== 'stm' && model !== 'iog') throw new UsageError(`--model must be qamn, stm or iog, got ${model === undefined ? 'nothing' : `'${model}'`}`);

  const precision = values['weights-precision'];
  if (precision !== 'f32' && precision !== 'f16') throw new UsageError(`--weights-precision must be f32 or f16, got '${precision}'`);
  // IOG on synth-v1 moves 13-31% with f16 weights (README): no useful bound; STM is not measured.
  if (precision === 'f16' && model !== 'qamn') throw new UsageError(`--weights-precision f16 has tolerances for qamn only, not ${model}`);
  const tc = tensorCoresRequested();
  if (tc && model !== 'qamn') throw new UsageError(`MEM3D_TENSOR_CORES=${process.env.MEM3D_TENSOR_CORES}: f16-operand tolerances exist for qamn only, not ${model}`);

  // Everything the files can tell is checked before the GPU starts: a run takes minutes.
  const dir = positionals[0];
  const inputs = checkReferenceFolder(dir, model);
  if (values.json !== undefined) checkOutputFile(values.json, { inputs, overwrite: values.overwrite! });

  const rt = await createCliRuntime(io);
  try {
    io.error(`adapter: ${rt.describe()}`);
    const t0 = performance.now();
    const progress = (msg: string) => io.log(`[${((performance.now() - t0) / 1000).toFixed(1)} s] ${msg}`);
    const report = model === 'iog' ? await iogConformance(rt, dir, progress) : await memoryNetworkConformance(rt, dir, model, progress, { weightPrecision: precision });
    io.log(`\n${model} against ${dir}:\n${formatTable(report.rows)}`);
    if ('unbounded' in report && report.unbounded.length) {
      const mode = 'arithmetic' in report && report.arithmetic !== 'f32' ? report.arithmetic : `${report.weightPrecision} weights`;
      io.log(`compared, no bound with ${mode} (README, Numerical conformance): ${report.unbounded.map((r) => `${r.tensor} max abs err ${r.maxAbsError.toExponential(3)}`).join(', ')}`);
    }
    if (report.skipped.length) io.log(`skipped (not in the ref files): ${report.skipped.join(', ')}`);
    io.log(`${report.rows.filter((r) => r.pass).length} of ${report.rows.length} tensors within tolerance (${report.seconds.toFixed(1)} s)`);
    if (values.json !== undefined) writeFileAtomic(values.json, JSON.stringify(report, null, 2) + '\n');
    return report.pass ? 0 : 1;
  } finally {
    rt.destroy();
  }
}

/** mem3d conformance: the exit code (0 pass, 1 a tensor out of tolerance, 2 any error), messages through `io`. */
export async function conformanceCommand(argv: string[], io: ConsoleLike = console): Promise<number> {
  try {
    return await run(argv, io);
  } catch (e) {
    // Not runCommand: its exit 1 for errors would read as "out of tolerance" here.
    const hint = e instanceof UsageError ? ' (see mem3d conformance --help)' : '';
    io.error(`mem3d conformance: ${e instanceof Error ? e.message : String(e)}${hint}`);
    return 2;
  }
}

// `npm run conformance` and the device bundle (bench/device/build.sh) run this file itself;
// mem3d imports it. In a bundle every module's import.meta.url is the bundle's, so the
// script's name is checked too (as src/phantom/phantom.ts does).
const script = process.argv[1];
if (script && /(^|[\\/])conformance\.[cm]?[jt]s$/.test(script) && import.meta.url === pathToFileURL(realpathSync(script)).href) {
  process.exitCode = await conformanceCommand(process.argv.slice(2));
}
