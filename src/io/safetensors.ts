// safetensors reading, browser-safe (no Node imports). Format: u64 LE header length N,
// N bytes of UTF-8 JSON {"__metadata__"?: {str: str}, name: {dtype, shape, data_offsets:
// [begin, end]}} with offsets relative to the first byte after the header, then the
// data, little endian. Sharded checkpoints follow Hugging Face's
// `<prefix>.safetensors.index.json` = {"metadata": {...}, "weight_map": {name: shard}}.

import { decodeBF16, decodeF16 } from './float16.ts';
import { describeList, describeValue, jsonNestingDepth } from './untrusted.ts';

/** The reference implementation's cap on the JSON header (safetensors' MAX_HEADER_SIZE). */
export const MAX_HEADER_BYTES = 100_000_000;
/** JSON nesting refused beyond this depth, as serde_json (which the reference parses with) refuses it. */
export const MAX_JSON_DEPTH = 128;

export type SafetensorsDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I8' | 'U8' | 'BOOL';

export const DTYPE_BYTES: Readonly<Record<SafetensorsDType, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I8: 1, U8: 1, BOOL: 1,
};

export function isSafetensorsDType(s: unknown): s is SafetensorsDType {
  return typeof s === 'string' && Object.hasOwn(DTYPE_BYTES, s);
}

export interface TensorInfo {
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  readonly byteLength: number;
}

export class SafetensorsError extends Error {
  constructor(readonly source: string, message: string, readonly tensor?: string, options?: ErrorOptions) {
    super(`safetensors ${source}: ${tensor === undefined ? '' : `tensor '${shortName(tensor)}': `}${message}`, options);
    this.name = 'SafetensorsError';
  }
}

/** A tensor name as printed: names are untrusted and may be megabytes long. */
function shortName(name: string): string {
  return name.length > 200 ? `${name.slice(0, 200)}...` : name;
}

export interface Float32Options {
  /** Also convert I8/U8/BOOL/I32/I64 tensors (rounding to f32 beyond 2^24); refused otherwise. */
  convertIntegers?: boolean;
}

/**
 * What a single file and a sharded checkpoint both offer. Typed accessors return views
 * of the loaded bytes when the data is aligned for the element type (no copy: do not
 * mutate them) and copies otherwise; float32() of F16/BF16/F64 always converts.
 */
export interface SafetensorsReader {
  readonly source: string;
  readonly metadata: Readonly<Record<string, string>>;
  names(): string[];
  has(name: string): boolean;
  info(name: string): TensorInfo;
  raw(name: string): Uint8Array;
  float32(name: string, options?: Float32Options): Float32Array;
  float64(name: string): Float64Array;
  int8(name: string): Int8Array;
  uint8(name: string): Uint8Array;
  int32(name: string): Int32Array;
  int64(name: string): BigInt64Array;
}

interface Entry extends TensorInfo {
  readonly begin: number;
  readonly end: number;
}

type ViewCtor<T> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; readonly BYTES_PER_ELEMENT: number };

// Typed-array views read host byte order; the format is little endian.
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export class SafetensorsFile implements SafetensorsReader {
  private constructor(
    readonly source: string,
    readonly metadata: Readonly<Record<string, string>>,
    private readonly bytes: Uint8Array,
    private readonly dataStart: number,
    private readonly entries: ReadonlyMap<string, Entry>,
  ) {}

  /**
   * Use parseSafetensors(), or parseSafetensorsHeader() for `input` holding the file's
   * first bytes only (up to the end of its header) out of `fileLength`.
   */
  static parse(input: ArrayBuffer | Uint8Array, source: string, fileLength?: number): SafetensorsFile {
    if (!HOST_LITTLE_ENDIAN) throw new SafetensorsError(source, 'big-endian hosts are not supported');
    // A plain Uint8Array even for a Node Buffer, whose slice() would not copy.
    const bytes = input instanceof Uint8Array ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength) : new Uint8Array(input);
    const length = fileLength ?? bytes.length;
    const fail = (msg: string, tensor?: string): never => { throw new SafetensorsError(source, msg, tensor); };
    if (length < 8) fail(`file is ${length} bytes, shorter than the 8-byte header length`);
    const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
    if (n > BigInt(length - 8)) {
      fail(`header length ${n} exceeds the ${length - 8} bytes after it (truncated, or not a safetensors file)`);
    }
    if (n > BigInt(MAX_HEADER_BYTES)) fail(`header length ${n} exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
    const dataStart = 8 + Number(n);
    if (bytes.length < dataStart) throw new RangeError(`${source}: ${bytes.length} bytes given, the header ends at ${dataStart}`);
    const header = parseLimitedJson(bytes.subarray(8, dataStart), 'header', fail);
    if (!isObject(header)) fail('header is not a JSON object');
    const dataLength = length - dataStart;
    let metadata: Record<string, string> = {};
    const entries: Entry[] = [];
    const entryNames: string[] = [];
    for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
      if (name === '__metadata__') metadata = parseMetadata(value, fail);
      else {
        entries.push(parseEntry(value, dataLength, (msg) => fail(msg, name)));
        entryNames.push(name);
      }
    }
    // names() lists tensors in file order; header key order is not reliable in JS
    // (integer-like keys come first).
    const order = entries.map((_, i) => i).sort((a, b) => entries[a].begin - entries[b].begin || entries[a].end - entries[b].end || a - b);
    let prev = -1;
    for (const i of order) {
      const e = entries[i];
      if (prev >= 0 && e.begin < entries[prev].end) {
        fail(`data_offsets [${e.begin}, ${e.end}] overlap those of '${entryNames[prev]}' [${entries[prev].begin}, ${entries[prev].end}]`, entryNames[i]);
      }
      prev = i;
    }
    const map = new Map<string, Entry>();
    for (const i of order) map.set(entryNames[i], entries[i]);
    return new SafetensorsFile(source, metadata, bytes, dataStart, map);
  }

  names(): string[] { return [...this.entries.keys()]; }
  has(name: string): boolean { return this.entries.has(name); }

  info(name: string): TensorInfo {
    const { dtype, shape, byteLength } = this.entry(name);
    return { dtype, shape, byteLength };
  }

  raw(name: string): Uint8Array {
    const e = this.entry(name);
    this.checkLoaded(name, e);
    return this.bytes.subarray(this.dataStart + e.begin, this.dataStart + e.end);
  }

  float32(name: string, options: Float32Options = {}): Float32Array {
    const e = this.entry(name);
    switch (e.dtype) {
      case 'F32': return this.view(name, e, Float32Array);
      case 'F16': return decodeF16(this.view(name, e, Uint16Array));
      case 'BF16': return decodeBF16(this.view(name, e, Uint16Array));
      case 'F64': return Float32Array.from(this.view(name, e, Float64Array));
      default: {
        if (!options.convertIntegers) {
          throw new SafetensorsError(this.source, `is ${e.dtype}, not a float type (pass { convertIntegers: true } to convert)`, name);
        }
        if (e.dtype === 'I64') return Float32Array.from(this.view(name, e, BigInt64Array), Number);
        if (e.dtype === 'I32') return Float32Array.from(this.view(name, e, Int32Array));
        return Float32Array.from(e.dtype === 'I8' ? this.view(name, e, Int8Array) : this.raw(name));
      }
    }
  }

  float64(name: string): Float64Array { return this.typed(name, Float64Array, ['F64']); }
  int8(name: string): Int8Array { return this.typed(name, Int8Array, ['I8']); }
  uint8(name: string): Uint8Array { return this.typed(name, Uint8Array, ['U8', 'BOOL']); }
  int32(name: string): Int32Array { return this.typed(name, Int32Array, ['I32']); }
  int64(name: string): BigInt64Array { return this.typed(name, BigInt64Array, ['I64']); }

  private typed<T>(name: string, ctor: ViewCtor<T>, dtypes: readonly SafetensorsDType[]): T {
    const e = this.entry(name);
    if (!dtypes.includes(e.dtype)) {
      throw new SafetensorsError(this.source, `is ${e.dtype}, not ${dtypes.join(' or ')}`, name);
    }
    return this.view(name, e, ctor);
  }

  private view<T>(name: string, e: Entry, ctor: ViewCtor<T>): T {
    this.checkLoaded(name, e);
    const size = ctor.BYTES_PER_ELEMENT;
    const offset = this.bytes.byteOffset + this.dataStart + e.begin;
    if (offset % size === 0) return new ctor(this.bytes.buffer, offset, e.byteLength / size);
    const copy = this.raw(name).slice();
    return new ctor(copy.buffer, 0, e.byteLength / size);
  }

  /** A header read alone (parseSafetensorsHeader) describes data it does not hold. */
  private checkLoaded(name: string, e: Entry): void {
    if (this.dataStart + e.end > this.bytes.length) throw new SafetensorsError(this.source, 'only the header was read (names, shapes and extents); load the file to read its data', name);
  }

  private entry(name: string): Entry {
    const e = this.entries.get(name);
    if (!e) throw new SafetensorsError(this.source, notFound(name, this.names()), name);
    return e;
  }
}

export function parseSafetensors(bytes: ArrayBuffer | Uint8Array, source = '<buffer>'): SafetensorsFile {
  return SafetensorsFile.parse(bytes, source);
}

/**
 * A file's header from its first bytes (at least through the header's end) and the
 * file's length: names, shapes, metadata and every tensor's extent checked against
 * that length (a truncated file is refused), without the data; reading a tensor's data
 * throws. What a check before loading needs, at the cost of a few kilobytes.
 */
export function parseSafetensorsHeader(firstBytes: Uint8Array, fileLength: number, source = '<buffer>'): SafetensorsFile {
  return SafetensorsFile.parse(firstBytes, source, fileLength);
}

/** JSON.parse of `text` after the depth check (text nested 10^6 deep takes V8 seconds and its values overflow recursive code). */
function parseLimitedJson(text: Uint8Array | string, what: string, fail: (msg: string) => never): unknown {
  const depth = jsonNestingDepth(text, MAX_JSON_DEPTH);
  if (depth > MAX_JSON_DEPTH) fail(`${what} JSON is nested more than ${MAX_JSON_DEPTH} levels deep (the limit)`);
  try {
    return JSON.parse(typeof text === 'string' ? text : new TextDecoder('utf-8', { fatal: true }).decode(text));
  } catch (e) {
    const msg = (e as Error).message;
    return fail(`${what} is not valid ${typeof text === 'string' ? '' : 'UTF-8 '}JSON (${msg.length > 120 ? `${msg.slice(0, 120)}...` : msg})`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseMetadata(value: unknown, fail: (msg: string) => never): Record<string, string> {
  if (!isObject(value)) return fail('__metadata__ is not an object');
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') fail(`__metadata__ value of '${shortName(k)}' is ${describeValue(v)}, not a string`);
  }
  return value as Record<string, string>;
}

function parseEntry(value: unknown, dataLength: number, fail: (msg: string) => never): Entry {
  if (!isObject(value)) return fail('entry is not an object');
  const { dtype, shape, data_offsets: offsets } = value;
  if (dtype === undefined) fail('missing dtype');
  if (!isSafetensorsDType(dtype)) {
    return fail(`unsupported dtype ${describeValue(dtype)} (supported: ${Object.keys(DTYPE_BYTES).join(', ')})`);
  }
  if (shape === undefined) fail('missing shape');
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`shape ${Array.isArray(shape) ? describeList(shape) : describeValue(shape)} is not a list of non-negative integers`);
  }
  if (offsets === undefined) fail('missing data_offsets');
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((d) => Number.isSafeInteger(d) && d >= 0) || offsets[0] > offsets[1]) {
    fail(`data_offsets ${Array.isArray(offsets) ? describeList(offsets) : describeValue(offsets)} is not [begin, end] with 0 <= begin <= end`);
  }
  const [begin, end] = offsets as [number, number];
  const dims = shape as number[];
  const byteLength = dims.reduce((p, d) => p * d, DTYPE_BYTES[dtype]);
  if (byteLength !== end - begin) {
    fail(`data_offsets [${begin}, ${end}] hold ${end - begin} bytes but shape ${describeList(dims)} of ${dtype} needs ${byteLength}`);
  }
  if (end > dataLength) {
    fail(`data_offsets [${begin}, ${end}] run past the end of the data (${dataLength} bytes): the file is truncated`);
  }
  return { dtype, shape: Object.freeze([...dims]), byteLength, begin, end };
}

/** The "not found" message, with the available names that share the longest prefix with `name`. */
export function notFound(name: string, available: readonly string[]): string {
  const common = (s: string): number => {
    let i = 0;
    while (i < s.length && i < name.length && s[i] === name[i]) i++;
    return i;
  };
  const near = available.map((s, i) => ({ s, i, c: common(s) })).sort((a, b) => b.c - a.c || a.i - b.i).slice(0, 5);
  const list = near.map((x) => `'${shortName(x.s)}'`).join(', ');
  return `not found (${available.length} tensors${available.length ? `; e.g. ${list}${available.length > near.length ? ', ...' : ''}` : ''})`;
}

/** A non-string index metadata value as JSON text; a value too deep or odd to serialise is described instead. */
function metadataText(v: unknown): string {
  try {
    return JSON.stringify(v) ?? describeValue(v);
  } catch {
    return describeValue(v);
  }
}

export interface SafetensorsIndex {
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly weight_map: Readonly<Record<string, string>>;
}

/** Validates a parsed (or raw JSON text) `*.safetensors.index.json`. */
export function parseSafetensorsIndex(json: unknown, source = '<index>'): SafetensorsIndex {
  const fail = (msg: string): never => { throw new SafetensorsError(source, msg); };
  let index = json;
  if (typeof json === 'string') {
    if (json.length > MAX_HEADER_BYTES) fail(`index is ${json.length} characters, over the limit of ${MAX_HEADER_BYTES}`);
    index = parseLimitedJson(json, 'index', fail);
  }
  if (!isObject(index)) return fail('index is not a JSON object');
  const { metadata = {}, weight_map: map } = index;
  if (!isObject(metadata)) fail('index "metadata" is not an object');
  if (!isObject(map)) return fail('index has no "weight_map" object');
  for (const [name, file] of Object.entries(map)) {
    // Shard names are joined to the index's folder: keep them inside it.
    if (typeof file !== 'string' || file === '' || /^([\\/]|[A-Za-z]:)/.test(file) || file.split(/[\\/]/).includes('..')) {
      fail(`weight_map entry for '${shortName(name)}' is ${describeValue(file)}, not a relative shard file name`);
    }
  }
  return { metadata: metadata as Record<string, unknown>, weight_map: map as Record<string, string> };
}

/**
 * A sharded checkpoint read through its index. `openShard(file)` is called once per
 * shard, the first time one of its tensors is asked for.
 */
export class ShardedSafetensors implements SafetensorsReader {
  /** The index metadata, non-string values (total_size) as JSON text. */
  readonly metadata: Readonly<Record<string, string>>;
  private readonly map: ReadonlyMap<string, string>;
  private readonly opened = new Map<string, SafetensorsFile>();

  constructor(readonly index: SafetensorsIndex, readonly source: string, private readonly openShard: (file: string) => SafetensorsFile) {
    this.metadata = Object.fromEntries(Object.entries(index.metadata).map(([k, v]) => [k, typeof v === 'string' ? v : metadataText(v)]));
    this.map = new Map(Object.entries(index.weight_map));
  }

  /** Distinct shard file names, in order of first appearance in the weight map. */
  shardFiles(): string[] { return [...new Set(this.map.values())]; }

  shardOf(name: string): string {
    const file = this.map.get(name);
    if (file === undefined) throw new SafetensorsError(this.source, notFound(name, this.names()), name);
    return file;
  }

  names(): string[] { return [...this.map.keys()]; }
  has(name: string): boolean { return this.map.has(name); }
  info(name: string): TensorInfo { return this.file(name).info(name); }
  raw(name: string): Uint8Array { return this.file(name).raw(name); }
  float32(name: string, options?: Float32Options): Float32Array { return this.file(name).float32(name, options); }
  float64(name: string): Float64Array { return this.file(name).float64(name); }
  int8(name: string): Int8Array { return this.file(name).int8(name); }
  uint8(name: string): Uint8Array { return this.file(name).uint8(name); }
  int32(name: string): Int32Array { return this.file(name).int32(name); }
  int64(name: string): BigInt64Array { return this.file(name).int64(name); }

  private file(name: string): SafetensorsFile {
    const shard = this.shardOf(name);
    let f = this.opened.get(shard);
    if (!f) {
      f = this.openShard(shard);
      this.opened.set(shard, f);
    }
    if (!f.has(name)) throw new SafetensorsError(this.source, `the index maps it to '${shard}', which has no such tensor (${f.source})`, name);
    return f;
  }
}

/**
 * Browser loading of a sharded checkpoint: fetches every shard (in parallel) through
 * `fetchShard`, which receives the shard file name as written in the index.
 */
export async function fetchShardedSafetensors(
  index: unknown,
  fetchShard: (file: string) => Promise<ArrayBuffer | Uint8Array>,
  source = '<index>',
): Promise<ShardedSafetensors> {
  const parsed = parseSafetensorsIndex(index, source);
  const files = [...new Set(Object.values(parsed.weight_map))];
  const loaded = await Promise.all(files.map(async (file) => {
    try {
      return parseSafetensors(await fetchShard(file), file);
    } catch (e) {
      if (e instanceof SafetensorsError) throw e;
      throw new SafetensorsError(source, `shard '${file}' listed in the index could not be fetched (${(e as Error).message})`, undefined, { cause: e });
    }
  }));
  const byName = new Map(files.map((f, i) => [f, loaded[i]]));
  return new ShardedSafetensors(parsed, source, (file) => byName.get(file)!);
}
