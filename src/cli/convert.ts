// mem3d convert <checkpoint> --out <dir> [--model qamn|stm|iog4|iog5] [--format keep|f32|f16|int8]
//               [--slice-layout rows-first-axis|rows-second-axis] [--allow-partial] [--max-shard-bytes N]
// Exit codes: 0 written, 1 the checkpoint cannot be read or does not fit the model, 2 bad usage.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CONVERT_FORMATS, DEFAULT_MAX_SHARD_BYTES, convertCheckpoint, problemLines, summary, type ConvertFormat } from '../convert/convert.ts';
import { CONVERT_MODELS, expectedTensorsFor, type ConvertModel } from '../convert/network-specs.ts';
import { SLICE_LAYOUTS, type SliceLayout } from '../volume/layout.ts';
import { assertNotInput, assertWritableFolder, writeFileAtomic } from '../volume/safe-write-node.ts';
import { parse as parseFlags, UsageError, type ConsoleLike } from './args.ts';

export const CONVERT_USAGE = `usage: mem3d convert <checkpoint.pth> --out <dir> [options]

Converts a PyTorch checkpoint (torch.save, zip or legacy format) to sharded
safetensors: <dir>/<model>-0000k-of-0000n.safetensors and <model>.safetensors.index.json
(<model> is 'weights' without --model). The state_dict is taken from the top level
or from 'state_dict' / 'model'; DataParallel's 'module.' prefix is stripped and
num_batches_tracked dropped.

  --out <dir>            output folder (created if needed); files of an earlier
                         conversion there are refused unless --overwrite
  --overwrite            replace <model>.safetensors.index.json and its shards in <dir>
  --model <name>         qamn | stm | iog4 | iog5: check every tensor name and shape
                         against that network; a missing, mis-shaped or unexpected
                         tensor is an error unless --allow-partial
  --format <f>           keep (default: each float tensor in its stored precision)
                         | f32 | f16 | int8 (int8 per output channel, rank-1 tensors f32)
  --slice-layout <l>     ${SLICE_LAYOUTS.join(' | ')} (default rows-first-axis):
                         the slice layout the network was trained with, written as
                         'slice_layout' metadata; rows-first-axis is the Mem3D / STM
                         code's (image row = the slice's first voxel axis), rows-second-axis
                         its transpose
  --allow-partial        write the output even when the checkpoint does not fit --model
  --max-shard-bytes <n>  shard size limit in bytes (default ${DEFAULT_MAX_SHARD_BYTES})
  -h, --help             this text`;

/** The shared parser's rules: one line on bad input, a flag given twice refused. */
function parse(argv: string[]) {
  const { values, positionals } = parseFlags(argv, {
    out: { type: 'string' },
    model: { type: 'string' },
    format: { type: 'string', default: 'keep' },
    'slice-layout': { type: 'string', default: 'rows-first-axis' },
    'allow-partial': { type: 'boolean', default: false },
    overwrite: { type: 'boolean', default: false },
    'max-shard-bytes': { type: 'string', default: String(DEFAULT_MAX_SHARD_BYTES) },
  });
  if (values.help) return null;
  if (positionals.length !== 1) throw new UsageError(`give exactly one checkpoint file, got ${positionals.length}`);
  if (!values.out) throw new UsageError('--out <dir> is required');
  const model = values.model;
  if (model !== undefined && !(CONVERT_MODELS as readonly string[]).includes(model)) throw new UsageError(`--model must be one of ${CONVERT_MODELS.join(', ')}, got '${model}'`);
  if (!(CONVERT_FORMATS as readonly string[]).includes(values.format)) throw new UsageError(`--format must be one of ${CONVERT_FORMATS.join(', ')}, got '${values.format}'`);
  if (!(SLICE_LAYOUTS as readonly string[]).includes(values['slice-layout'])) throw new UsageError(`--slice-layout must be one of ${SLICE_LAYOUTS.join(', ')}, got '${values['slice-layout']}'`);
  const maxShardBytes = Number(values['max-shard-bytes']);
  if (!/^\d+$/.test(values['max-shard-bytes']) || !Number.isSafeInteger(maxShardBytes) || maxShardBytes < 1) {
    throw new UsageError(`--max-shard-bytes must be a positive integer, got '${values['max-shard-bytes']}'`);
  }
  return {
    checkpoint: positionals[0],
    out: values.out,
    model: model as ConvertModel | undefined,
    format: values.format as ConvertFormat,
    sliceLayout: values['slice-layout'] as SliceLayout,
    allowPartial: values['allow-partial'],
    overwrite: values.overwrite,
    maxShardBytes,
  };
}

/** Runs `mem3d convert` with the arguments after the command name; returns the exit code. */
export async function convertCommand(argv: string[], io: ConsoleLike = console): Promise<number> {
  let args;
  try {
    args = parse(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.error(`mem3d convert: ${e.message} (see mem3d convert --help)`);
    return 2;
  }
  if (!args) {
    io.log(CONVERT_USAGE);
    return 0;
  }
  try {
    const earlier = checkFiles(args.checkpoint, args.out, args.model ?? 'weights', args.overwrite);
    const bytes = readFileSync(args.checkpoint);
    const spec = args.model ? expectedTensorsFor(args.model) : undefined;
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const result = convertCheckpoint(bytes, { path: args.checkpoint, sha256 }, { format: args.format, spec, allowPartial: args.allowPartial, maxShardBytes: args.maxShardBytes, sliceLayout: args.sliceLayout });
    let total = 0;
    // Shards first, each atomically, the index last: a folder never holds an index whose shards are half-written.
    for (const { fileName, bytes: shard } of result.output.shards) {
      writeFileAtomic(join(args.out, fileName), shard);
      total += shard.length;
    }
    const index = join(args.out, result.output.indexFileName);
    writeFileAtomic(index, result.output.indexJson);
    // An earlier conversion's shards the new index does not name (it had more of them) go:
    // left, they would read as this model's weights next to an index that disowns them.
    const written = new Set(result.output.shards.map((shard) => shard.fileName));
    for (const f of earlier) if (f !== result.output.indexFileName && !written.has(f)) rmSync(join(args.out, f), { force: true });
    const where = result.stateDict.location ? `['${result.stateDict.location}']` : 'the top level';
    io.log(`${args.checkpoint}: ${result.serialization} torch.save file, state_dict at ${where}${result.stateDict.strippedPrefix ? `, '${result.stateDict.strippedPrefix}' stripped` : ''}`);
    io.log(`converted ${result.converted.length} tensors (${result.metadata.format}); left out ${result.dropped.length}: num_batches_tracked${result.report?.ignored.length ? ` and buffers ${args.model} never reads (${result.report.ignored.join(', ')})` : ''}`);
    if (result.report) {
      const problems = problemLines(result.report);
      io.log(problems.length === 0
        ? `every tensor ${args.model} expects is present with its shape`
        : `WARNING: partial (${summary(result.report)}), written because of --allow-partial:\n${problems.join('\n')}`);
    }
    io.log(`wrote ${result.output.shards.length} shard(s), ${total} bytes, index ${index}`);
    return 0;
  } catch (e) {
    io.error(`mem3d convert: ${(e as Error).message}`);
    return 1;
  }
}

/**
 * What can be refused before reading the checkpoint: an input that is not a file, an
 * output that is not a folder or cannot take files, an earlier conversion's files
 * (without --overwrite), and an output name that is the input. Returns the earlier
 * conversion's file names (replaced with --overwrite).
 */
function checkFiles(checkpoint: string, out: string, prefix: string, overwrite: boolean): string[] {
  if (!existsSync(checkpoint)) throw new Error(`${checkpoint}: no such file`);
  if (statSync(checkpoint).isDirectory()) throw new Error(`${checkpoint}: is a folder; give the checkpoint file (.pth, .pt, .tar)`);
  if (existsSync(out) && !statSync(out).isDirectory()) throw new Error(`${out}: --out is a file; give a folder`);
  assertWritableFolder(out, `--out ${out}`);
  const ours = (f: string) => f === `${prefix}.safetensors.index.json` || new RegExp(`^${prefix}-\\d{5}-of-\\d{5}\\.safetensors$`).test(f);
  const earlier = existsSync(out) ? readdirSync(out).filter(ours) : [];
  for (const f of earlier) assertNotInput(join(out, f), [checkpoint]);
  if (earlier.length > 0 && !overwrite) throw new Error(`${out}: holds an earlier conversion (${earlier[0]}${earlier.length > 1 ? ` and ${earlier.length - 1} more` : ''}); pass --overwrite to replace it`);
  return earlier;
}
