// safetensors writing, browser-safe. Output matches the reference (Rust) writer byte
// for byte: tensors sorted by dtype (widest first, so every tensor is aligned to its
// element size) then by name, compact JSON header, `__metadata__` first, header padded
// with spaces to a multiple of 8 bytes. The same input always gives the same bytes.

import { encodeBF16, encodeF16 } from './float16.ts';
import { DTYPE_BYTES, SafetensorsError, type SafetensorsDType } from './safetensors.ts';

export type TensorData = Float64Array | Float32Array | Uint16Array | BigInt64Array | Int32Array | Int8Array | Uint8Array;

/** F16/BF16 take their bit patterns (Uint16Array) or f32 values (rounded to nearest even). */
export interface TensorToWrite {
  readonly name: string;
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

export type TensorsToWrite = readonly TensorToWrite[] | Readonly<Record<string, Omit<TensorToWrite, 'name'>>>;

// The reference's Dtype enum order, compared descending.
const DTYPE_RANK: Readonly<Record<SafetensorsDType, number>> = {
  BOOL: 0, U8: 1, I8: 2, F16: 3, BF16: 4, I32: 5, F32: 6, F64: 7, I64: 8,
};

const ARRAY_FOR: Readonly<Record<SafetensorsDType, readonly (new (n: number) => TensorData)[]>> = {
  F64: [Float64Array], F32: [Float32Array], F16: [Uint16Array, Float32Array], BF16: [Uint16Array, Float32Array],
  I64: [BigInt64Array], I32: [Int32Array], I8: [Int8Array], U8: [Uint8Array], BOOL: [Uint8Array],
};

const SOURCE = '<writer>';

/** Compares by Unicode code point (= UTF-8 byte order, as Rust sorts), not UTF-16 unit. */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return (x.done ? 0 : 1) - (y.done ? 0 : 1);
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

interface Prepared {
  readonly t: TensorToWrite;
  readonly bytes: Uint8Array;
}

function prepare(tensors: TensorsToWrite): Prepared[] {
  const list = Array.isArray(tensors)
    ? (tensors as readonly TensorToWrite[])
    : Object.entries(tensors as Record<string, Omit<TensorToWrite, 'name'>>).map(([name, t]) => ({ name, ...t }));
  const seen = new Set<string>();
  return list.map((t) => {
    if (seen.has(t.name)) throw new SafetensorsError(SOURCE, 'given twice', t.name);
    seen.add(t.name);
    return { t, bytes: tensorBytes(t) };
  });
}

/** Checks a tensor and returns its little-endian bytes. */
function tensorBytes(t: TensorToWrite): Uint8Array {
  const fail = (msg: string): never => { throw new SafetensorsError(SOURCE, msg, t.name); };
  if (t.name === '__metadata__') fail('the name __metadata__ is reserved');
  if (!Object.hasOwn(DTYPE_BYTES, t.dtype)) fail(`unsupported dtype ${JSON.stringify(t.dtype)}`);
  if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`shape [${t.shape}] is not a list of non-negative integers`);
  const allowed = ARRAY_FOR[t.dtype];
  if (!allowed.some((c) => t.data instanceof c)) {
    fail(`${t.dtype} data must be ${allowed.map((c) => c.name).join(' or ')}, got ${t.data.constructor.name}`);
  }
  const numel = t.shape.reduce((p, d) => p * d, 1);
  if (t.data.length !== numel) fail(`shape [${t.shape}] has ${numel} elements but data has ${t.data.length}`);
  let data = t.data;
  if (data instanceof Float32Array && (t.dtype === 'F16' || t.dtype === 'BF16')) data = t.dtype === 'F16' ? encodeF16(data) : encodeBF16(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export function serializeSafetensors(tensors: TensorsToWrite, metadata?: Readonly<Record<string, string>>): Uint8Array {
  return serializePrepared(prepare(tensors), metadata);
}

function serializePrepared(prepared: readonly Prepared[], metadata?: Readonly<Record<string, string>>): Uint8Array {
  const list = [...prepared].sort((a, b) => DTYPE_RANK[b.t.dtype] - DTYPE_RANK[a.t.dtype] || compareCodePoints(a.t.name, b.t.name));
  const parts: string[] = [];
  if (metadata) {
    const keys = Object.keys(metadata).sort(compareCodePoints);
    for (const k of keys) {
      if (typeof metadata[k] !== 'string') throw new SafetensorsError(SOURCE, `metadata value of '${k}' is not a string`);
    }
    parts.push(`"__metadata__":{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`);
  }
  let offset = 0;
  for (const { t, bytes } of list) {
    parts.push(`${JSON.stringify(t.name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${offset + bytes.length}]}`);
    offset += bytes.length;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const { bytes } of list) {
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

export interface ShardOptions {
  /** A new shard starts when the next tensor would take this one's data past this size; a larger tensor gets a shard of its own. */
  maxShardBytes: number;
  /** Written into every shard's header, and into the index with `total_size` (the data bytes of all shards) added. */
  metadata?: Readonly<Record<string, string>>;
}

export interface ShardedOutput {
  /** `<prefix>-00001-of-0000n.safetensors`, ... in order. */
  shards: { fileName: string; bytes: Uint8Array }[];
  indexFileName: string;
  /** Keys sorted, 2-space indent, trailing newline (as transformers writes it). */
  indexJson: string;
}

/**
 * Splits tensors into shards in their given order (so that related tensors given
 * together stay together) and builds the Hugging Face index.
 */
export function serializeShardedSafetensors(prefix: string, tensors: TensorsToWrite, options: ShardOptions): ShardedOutput {
  const { maxShardBytes, metadata = {} } = options;
  if (!(Number.isSafeInteger(maxShardBytes) && maxShardBytes > 0)) {
    throw new SafetensorsError(SOURCE, `maxShardBytes ${maxShardBytes} is not a positive integer`);
  }
  if (Object.hasOwn(metadata, 'total_size')) throw new SafetensorsError(SOURCE, "metadata key 'total_size' is reserved for the index");
  const groups: Prepared[][] = [[]];
  let size = 0;
  let total = 0;
  for (const p of prepare(tensors)) {
    if (size > 0 && size + p.bytes.length > maxShardBytes) {
      groups.push([]);
      size = 0;
    }
    groups[groups.length - 1].push(p);
    size += p.bytes.length;
    total += p.bytes.length;
  }
  const n = String(groups.length).padStart(5, '0');
  const weightMap: [string, string][] = [];
  const shards = groups.map((group, i) => {
    const fileName = `${prefix}-${String(i + 1).padStart(5, '0')}-of-${n}.safetensors`;
    for (const { t } of group) weightMap.push([t.name, fileName]);
    return { fileName, bytes: serializePrepared(group, metadata) };
  });
  const indexMeta: [string, string][] = Object.entries(metadata).map(([k, v]) => [k, JSON.stringify(v)]);
  indexMeta.push(['total_size', String(total)]);
  const block = (entries: [string, string][]): string => entries
    .sort((a, b) => compareCodePoints(a[0], b[0]))
    .map(([k, v]) => `    ${JSON.stringify(k)}: ${v}`)
    .join(',\n');
  const indexJson = `{\n  "metadata": {\n${block(indexMeta)}\n  },\n  "weight_map": {\n${block(weightMap.map(([k, f]) => [k, JSON.stringify(f)]))}\n  }\n}\n`;
  return { shards, indexFileName: `${prefix}.safetensors.index.json`, indexJson };
}
