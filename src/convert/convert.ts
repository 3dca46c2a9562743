// PyTorch checkpoint -> sharded safetensors (browser-safe; the CLI adds the files).
// The state_dict is found, `module.` stripped, num_batches_tracked dropped, the rest
// checked against the target network's spec and stored as f32, f16, the source's own
// precision, or int8 per output channel (the format of shared/weights/iog-phantom).
// The output bytes depend only on the input bytes and the options.
import { encodeF16, decodeBF16, decodeF16 } from '../io/float16.ts';
import type { SafetensorsDType } from '../io/safetensors.ts';
import { serializeShardedSafetensors, type ShardedOutput, type TensorData, type TensorToWrite } from '../io/safetensors-write.ts';
import { parseSliceLayout, SLICE_LAYOUT_KEY, type SliceLayout } from '../volume/layout.ts';
import { checkWeights, hasProblems, type WeightReport, type WeightSpec } from '../weights/check.ts';
import { CheckpointError } from './errors.ts';
import { findStateDict, readTorchCheckpoint, type StateDict, type TorchTensor } from './torch-checkpoint.ts';

export const CONVERT_FORMATS = ['keep', 'f32', 'f16', 'int8'] as const;
/** keep: every float tensor in its stored precision (f32, f16, bf16, f64); int8: int8-per-output-channel. */
export type ConvertFormat = (typeof CONVERT_FORMATS)[number];

/** What a network expects (its weight spec, from the network code's dry run), and its name. */
export interface NetworkSpec extends WeightSpec {
  readonly model: string;
}

export interface ConvertOptions {
  format?: ConvertFormat;
  /** Validate against this network; without it every tensor is converted unchecked. */
  spec?: NetworkSpec;
  /** Write the output even when tensors are missing, mis-shaped or unexpected. */
  allowPartial?: boolean;
  /** Default 64 MiB. */
  maxShardBytes?: number;
  /**
   * The slice layout the weights were trained with, written as `slice_layout` metadata
   * (src/volume/layout.ts). Default 'rows-first-axis': the Mem3D / STM code's numpy slices.
   */
  sliceLayout?: SliceLayout;
}

/** The one weight check's report (src/weights/check.ts) for a named model; `ignored` tensors are not written. */
export interface ValidationReport extends WeightReport {
  readonly model: string;
}

export interface Conversion {
  readonly output: ShardedOutput;
  readonly serialization: 'zip' | 'legacy';
  readonly stateDict: Pick<StateDict, 'location' | 'strippedPrefix'>;
  /** Names written (an int8 tensor's `.qscale` not counted). */
  readonly converted: string[];
  /** num_batches_tracked and the network's unused buffers. */
  readonly dropped: string[];
  readonly report: ValidationReport | null;
  readonly metadata: Readonly<Record<string, string>>;
}

export const DEFAULT_MAX_SHARD_BYTES = 64 * 2 ** 20;
const FLOATS: ReadonlySet<SafetensorsDType> = new Set(['F64', 'F32', 'F16', 'BF16']);
const QSCALE = '.qscale';

export class ValidationError extends CheckpointError {
  constructor(source: string, readonly report: ValidationReport) {
    super(source, `does not fit ${report.model}: ${summary(report)} (allowPartial / --allow-partial converts anyway)\n${problemLines(report).join('\n')}`);
    this.name = 'ValidationError';
  }
}

const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;

export function summary(r: ValidationReport): string {
  return `${r.missing.length} missing, ${r.misshaped.length} mis-shaped, ${r.unexpected.length} unexpected`;
}

/** One line per problem tensor, every one of them. */
export function problemLines(r: ValidationReport): string[] {
  return [
    ...r.missing.map((t) => `  missing     ${t.name} ${shapeText(t.shape)}`),
    ...r.misshaped.map((t) => `  mis-shaped  ${t.name}: expected ${shapeText(t.expected)}, got ${shapeText(t.got)}`),
    ...r.unexpected.map((t) => `  unexpected  ${t.name} ${shapeText(t.shape)}`),
  ];
}

/** Compares a state_dict's names and shapes with a network's spec: the loader's own check (checkWeights). */
export function validateStateDict(shapes: ReadonlyMap<string, readonly number[]>, spec: NetworkSpec): ValidationReport {
  return { model: spec.model, ...checkWeights(shapes, spec) };
}

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  return d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
}

/**
 * int8-per-output-channel: scale[o] = f32(max|W[o]| / 127), q = round(W / scale)
 * (half to even, as torch.round), clamped to -127..127; an all-zero channel gets
 * scale 0 and q 0. Dividing by the stored f32 scale makes q*scale the nearest
 * representable value, so |q*scale - W| <= scale / 2.
 */
export function quantizePerOutputChannel(w: Float32Array, shape: readonly number[], name = '<tensor>'): { q: Int8Array; scale: Float32Array } {
  const channels = shape[0];
  const per = channels > 0 ? w.length / channels : 0;
  const q = new Int8Array(w.length);
  const scale = new Float32Array(channels);
  for (let o = 0; o < channels; o++) {
    let max = 0;
    for (let i = o * per; i < (o + 1) * per; i++) max = Math.max(max, Math.abs(w[i]));
    if (!Number.isFinite(max)) throw new RangeError(`int8: '${name}' output channel ${o} holds a non-finite value`);
    const s = (scale[o] = Math.fround(max / 127));
    if (s === 0) continue;
    for (let i = o * per; i < (o + 1) * per; i++) q[i] = Math.max(-127, Math.min(127, roundHalfEven(w[i] / s)));
  }
  return { q, scale };
}

function typed(dtype: SafetensorsDType, bytes: Uint8Array): TensorData {
  const b = bytes.buffer;
  switch (dtype) {
    case 'F64': return new Float64Array(b);
    case 'F32': return new Float32Array(b);
    case 'F16': case 'BF16': return new Uint16Array(b);
    case 'I64': return new BigInt64Array(b);
    case 'I32': return new Int32Array(b);
    case 'I8': return new Int8Array(b);
    case 'U8': case 'BOOL': return bytes;
  }
}

function toFloat32(dtype: SafetensorsDType, data: TensorData): Float32Array {
  if (dtype === 'F32') return data as Float32Array;
  if (dtype === 'F16') return decodeF16(data as Uint16Array);
  if (dtype === 'BF16') return decodeBF16(data as Uint16Array);
  return Float32Array.from(data as Float64Array);
}

/** One state_dict tensor in the output format: one tensor, or an I8 tensor and its `.qscale`. */
function outputTensors(name: string, t: TorchTensor, format: ConvertFormat, source: string): TensorToWrite[] {
  const shape = [...t.shape];
  const data = typed(t.dtype, t.bytes(name));
  if (!FLOATS.has(t.dtype) || format === 'keep') return [{ name, dtype: t.dtype, shape, data }];
  const f32 = toFloat32(t.dtype, data);
  if (format === 'f32' || (format === 'int8' && shape.length < 2)) return [{ name, dtype: 'F32', shape, data: f32 }];
  if (format === 'f16') {
    const f16 = encodeF16(f32);
    const bad = f16.findIndex((h, i) => (h & 0x7fff) === 0x7c00 && Number.isFinite(f32[i]));
    if (bad >= 0) throw new CheckpointError(source, `tensor '${name}' holds ${f32[bad]} at index ${bad}, beyond the f16 range (+-65504): use --format f32 or keep`);
    return [{ name, dtype: 'F16', shape, data: f16 }];
  }
  try {
    const { q, scale } = quantizePerOutputChannel(f32, shape, name);
    return [{ name, dtype: 'I8', shape, data: q }, { name: name + QSCALE, dtype: 'F32', shape: [shape[0]], data: scale }];
  } catch (e) {
    throw new CheckpointError(source, (e as Error).message, { cause: e });
  }
}

const baseName = (path: string) => path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);

/**
 * Converts a torch.save file (bytes) to sharded safetensors. `source.path` names the
 * file in errors (its base name goes into the metadata with `source.sha256`). Throws
 * a ValidationError listing every problem tensor when a spec is given, the state_dict
 * does not fit it and `allowPartial` is not set.
 */
export function convertCheckpoint(bytes: Uint8Array, source: { path: string; sha256: string }, options: ConvertOptions = {}): Conversion {
  const { format = 'keep', spec, allowPartial = false, maxShardBytes = DEFAULT_MAX_SHARD_BYTES } = options;
  if (!CONVERT_FORMATS.includes(format)) throw new RangeError(`convert: format '${format}' is not one of ${CONVERT_FORMATS.join(', ')}`);
  const sliceLayout = parseSliceLayout(options.sliceLayout ?? 'rows-first-axis', 'convert');
  const ckpt = readTorchCheckpoint(bytes, source.path);
  const stateDict = findStateDict(ckpt);
  const dropped: string[] = [];
  const kept = new Map<string, TorchTensor>();
  for (const [name, t] of stateDict.tensors) {
    if (name.endsWith('.num_batches_tracked')) dropped.push(name);
    else kept.set(name, t);
  }
  let report: ValidationReport | null = null;
  if (spec) {
    report = validateStateDict(new Map([...kept].map(([n, t]) => [n, t.shape])), spec);
    if (hasProblems(report) && !allowPartial) throw new ValidationError(source.path, report);
    for (const name of report.ignored) kept.delete(name);
    dropped.push(...report.ignored);
  }
  const tensors: TensorToWrite[] = [];
  for (const [name, t] of kept) {
    // Any format: the weight loader reads every '<name>.qscale' as an int8 scale and hides it from names().
    if (name.endsWith(QSCALE)) throw new CheckpointError(source.path, `tensor '${name}' collides with the int8 format's scale names ('${QSCALE}' is reserved; the loader would hide it)`);
    tensors.push(...outputTensors(name, t, format, source.path));
  }
  const metadata: Record<string, string> = {
    converter: 'mem3d convert',
    format: format === 'int8' ? 'int8-per-output-channel' : format,
    source: baseName(source.path),
    source_sha256: source.sha256,
    source_serialization: ckpt.serialization,
    state_dict: stateDict.location || '(top level)',
    stripped_prefix: stateDict.strippedPrefix,
    allow_partial: String(allowPartial),
    max_shard_bytes: String(maxShardBytes),
    validation: report ? (hasProblems(report) ? `partial: ${summary(report)}` : 'complete') : 'none (no model given)',
    [SLICE_LAYOUT_KEY]: sliceLayout,
  };
  if (spec) metadata.model = spec.model;
  const output = serializeShardedSafetensors(spec?.model ?? 'weights', tensors, { maxShardBytes, metadata });
  return { output, serialization: ckpt.serialization, stateDict: { location: stateDict.location, strippedPrefix: stateDict.strippedPrefix }, converted: [...kept.keys()], dropped, report, metadata };
}
