// The parsers under fuzz, each with a seed corpus built in code by our own writers
// (and test/_lib/torch-save.ts for pickles), a generator of mutated inputs that
// also mutates inside containers and fixes their checksums (so mutations reach the
// parser behind a CRC), the call that parses an input fully, and its typed error.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync as nodeGzip } from 'node:zlib';
import { gzipSync, zlibSync } from 'fflate';
import { CheckpointError } from '../../src/convert/errors.ts';
import { findStateDict, readTorchCheckpoint } from '../../src/convert/torch-checkpoint.ts';
import { crc32 } from '../../src/io/crc32.ts';
import { gunzip, GzipError } from '../../src/io/gzip.ts';
import { decodeGrayPng, PngError } from '../../src/io/png.ts';
import { parseSafetensors, SafetensorsError, type SafetensorsReader } from '../../src/io/safetensors.ts';
import { loadShardedSafetensors } from '../../src/io/safetensors-node.ts';
import { serializeSafetensors, serializeShardedSafetensors, type TensorToWrite } from '../../src/io/safetensors-write.ts';
import { parseNifti, serializeNifti } from '../../src/volume/nifti.ts';
import { readNifti } from '../../src/volume/nifti-node.ts';
import { decodeLabelPng, encodeGrayPng, encodeMaskPng } from '../../src/volume/png-codec.ts';
import { createVolume, VolumeError, type Volume } from '../../src/volume/volume.ts';
import { PickleWriter, torchLegacy, torchZip } from '../../test/_lib/torch-save.ts';
import { int, mutate, pick, type Rng } from './mutate.ts';
import { pngChunk } from '../../src/volume/png-codec.ts';

/** One input: one file, or several (a sharded checkpoint: index first). */
export type Files = Uint8Array[];

export interface FuzzTarget {
  readonly name: string;
  generate(r: Rng): Files;
  /** Parses the input fully; returns the bytes its headers legitimately declare (outputs allocated). */
  run(files: Files): number;
  /** The parser's own error type: any other throw is a crash. */
  typed(e: unknown): boolean;
  /** Frees temporary files. */
  close?(): void;
}

// ---------------------------------------------------------------- NIfTI and gzip

function niftiSeeds(): Uint8Array[] {
  const vol = (dims: [number, number, number], data: Volume['data'], extra: Partial<Parameters<typeof createVolume>[0]> = {}) =>
    serializeNifti(createVolume({ dims, data, ...extra }));
  const affine = [[0, -0.8, 0, 10], [0.7, 0, 0, -3], [0, 0, 2.5, 1], [0, 0, 0, 1]] as const;
  return [
    vol([5, 4, 3], Uint8Array.from({ length: 60 }, (_, i) => i * 4)),
    vol([3, 2, 2], Int16Array.from({ length: 12 }, (_, i) => i * 1000 - 6000), { slope: 0.5, inter: -3 }),
    vol([2, 3, 1], Float32Array.from({ length: 6 }, (_, i) => i / 3 - 1), { affine }),
    vol([1, 1, 1], Float64Array.of(Math.PI)),
    vol([4, 1, 2], Uint16Array.from({ length: 8 }, (_, i) => i * 9000)),
  ];
}

/** Offsets of NIfTI header numbers worth editing: dims, datatype, bitpix, pixdim, vox_offset, scaling, q/sform. */
const NIFTI_FIELDS: readonly [number, 'i16' | 'f32' | 'i32'][] = [
  [0, 'i32'], [40, 'i16'], [42, 'i16'], [44, 'i16'], [46, 'i16'], [48, 'i16'], [70, 'i16'], [72, 'i16'], [76, 'f32'], [80, 'f32'],
  [108, 'f32'], [112, 'f32'], [116, 'f32'], [252, 'i16'], [254, 'i16'], [256, 'f32'], [260, 'f32'], [268, 'f32'], [280, 'f32'], [296, 'f32'], [312, 'f32'], [324, 'f32'],
];

function editNiftiHeader(b: Uint8Array, r: Rng): Uint8Array {
  const out = b.slice();
  const v = new DataView(out.buffer);
  for (let k = 1 + int(r, 3); k > 0; k--) {
    const [at, kind] = pick(r, NIFTI_FIELDS);
    if (at + 4 > out.length) continue;
    if (kind === 'f32') v.setFloat32(at, pick(r, [NaN, Infinity, -Infinity, 0, -1, 1e30, 1e-30, 352, 2 ** 31, 3.5]), true);
    else if (kind === 'i16') v.setInt16(at, pick(r, [-1, 0, 1, 2, 3, 4, 7, 8, 16, 64, 256, 512, 768, 32767, -32768]), true);
    else v.setInt32(at, pick(r, [348, 540, 0, -1, 0x5c010000]), true);
  }
  return out;
}

function mutatedNifti(r: Rng, seeds: readonly Uint8Array[]): Uint8Array {
  const seed = pick(r, seeds);
  const edited = r() < 0.5 ? editNiftiHeader(seed, r) : seed;
  return r() < 0.8 ? mutate(edited, r) : edited;
}

/** gzip of `b` as one member, or split into several; by fflate or zlib. */
function gzipOf(b: Uint8Array, r: Rng): Uint8Array {
  const members = r() < 0.2 ? 2 + int(r, 2) : 1;
  const cuts = [0, ...Array.from({ length: members - 1 }, () => int(r, b.length + 1)).sort((x, y) => x - y), b.length];
  const parts = cuts.slice(1).map((end, i) => {
    const part = b.subarray(cuts[i], end);
    return r() < 0.5 ? gzipSync(part, { level: int(r, 10) as 0, mtime: 0 }) : new Uint8Array(nodeGzip(part, { level: int(r, 10) }));
  });
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

/** Edits the last member's trailer: ISIZE (which decoders may trust for allocation) or CRC-32. */
function editTrailer(gz: Uint8Array, r: Rng): Uint8Array {
  const out = gz.slice();
  if (out.length < 8) return out;
  const v = new DataView(out.buffer);
  if (r() < 0.7) v.setUint32(out.length - 4, pick(r, [0, 1, 10, 0xffffffff, 0x40000000, 0x7fffffff, v.getUint32(out.length - 4, true) + 1]), true);
  else out[out.length - 8 + int(r, 4)] ^= 1 << int(r, 8);
  return out;
}

function mutatedNiftiGz(r: Rng, seeds: readonly Uint8Array[]): Uint8Array {
  const inner = r() < 0.7 ? mutatedNifti(r, seeds) : pick(r, seeds);
  const gz = gzipOf(inner, r);
  const choice = r();
  return choice < 0.2 ? editTrailer(gz, r) : choice < 0.6 ? mutate(gz, r) : gz;
}

const isVolumeError = (e: unknown) => e instanceof VolumeError;

export function niftiTarget(): FuzzTarget {
  const seeds = niftiSeeds();
  return {
    name: 'nifti .nii',
    generate: (r) => [mutatedNifti(r, seeds)],
    run: ([b]) => parseNifti(b, 'fuzz.nii').data.byteLength,
    typed: isVolumeError,
  };
}

export function niftiGzTarget(): FuzzTarget {
  const seeds = niftiSeeds();
  return {
    name: 'nifti .nii.gz (browser path)',
    generate: (r) => [mutatedNiftiGz(r, seeds)],
    run: ([b]) => parseNifti(b, 'fuzz.nii.gz').data.byteLength,
    typed: isVolumeError,
  };
}

/** The outcome of a parse as comparable text: the data's bytes, or the error message. */
function outcome(fn: () => Volume): string {
  try {
    const v = fn();
    return `ok ${v.dims} ${v.slope} ${v.inter} ${crc32(new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength))}`;
  } catch (e) {
    return e instanceof VolumeError ? `refused ${e.message}` : `CRASH ${(e as Error)?.message}`;
  }
}

/** The Node path (readNifti from disk) and the browser path (parseNifti) must agree on every input. */
export function niftiPathsTarget(): FuzzTarget {
  const seeds = niftiSeeds();
  const dir = mkdtempSync(join(tmpdir(), 'fuzz-nifti-'));
  const path = join(dir, 'fuzz.nii.gz');
  return {
    name: 'nifti .nii.gz Node path = browser path',
    generate: (r) => [mutatedNiftiGz(r, seeds)],
    run: ([b]) => {
      writeFileSync(path, b);
      const node = outcome(() => readNifti(path));
      const browser = outcome(() => parseNifti(b, path));
      if (node !== browser) throw new Error(`paths disagree: Node ${node.slice(0, 200)} | browser ${browser.slice(0, 200)}`);
      if (node.startsWith('CRASH')) throw new Error(node);
      if (node.startsWith('refused')) throw new VolumeError(path, node);
      return 0;
    },
    typed: isVolumeError,
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function gzipTarget(): FuzzTarget {
  const seeds = [new Uint8Array(0), new TextEncoder().encode('hello gzip '.repeat(50)), Uint8Array.from({ length: 3000 }, (_, i) => (i * 7919) & 0xff)];
  return {
    name: 'gzip',
    generate: (r) => {
      const gz = gzipOf(r() < 0.3 ? mutate(pick(r, seeds), r) : pick(r, seeds), r);
      const choice = r();
      return [choice < 0.2 ? editTrailer(gz, r) : choice < 0.8 ? mutate(gz, r) : gz];
    },
    run: ([b]) => gunzip(b, 'fuzz.gz').length,
    typed: (e) => e instanceof GzipError,
  };
}

// ---------------------------------------------------------------- safetensors

function tensorSets(): TensorToWrite[][] {
  return [
    [
      { name: 'conv.weight', dtype: 'F32', shape: [2, 3, 1, 1], data: Float32Array.from({ length: 6 }, (_, i) => i - 2.5) },
      { name: 'conv.bias', dtype: 'F16', shape: [2], data: Uint16Array.of(0x3c00, 0xbc00) },
      { name: 'bn.num', dtype: 'I64', shape: [], data: BigInt64Array.of(7n) },
    ],
    [
      { name: 'a', dtype: 'BF16', shape: [3], data: Uint16Array.of(0x3f80, 0x4000, 0xc040) },
      { name: 'q', dtype: 'I8', shape: [2, 2], data: Int8Array.of(-128, 0, 5, 127) },
      { name: 'q.qscale', dtype: 'F32', shape: [2], data: Float32Array.of(0.5, 0.25) },
      { name: 'e', dtype: 'F64', shape: [0, 4], data: new Float64Array(0) },
      { name: 'm', dtype: 'BOOL', shape: [5], data: Uint8Array.of(0, 1, 1, 0, 1) },
      { name: 'i', dtype: 'I32', shape: [1, 3], data: Int32Array.of(-1, 2 ** 31 - 1, 0) },
    ],
  ];
}

/** A random JSON value for header edits: deep nesting, wrong types, extreme numbers. */
function hostileJson(r: Rng): string {
  switch (int(r, 8)) {
    case 0: { const d = pick(r, [1 + int(r, 200), 1 + int(r, 3000), 20_000, 60_000]); return '['.repeat(d) + ']'.repeat(d); }
    case 1: { const d = pick(r, [1 + int(r, 200), 1 + int(r, 3000), 20_000]); return '{"a":'.repeat(d) + '1' + '}'.repeat(d); }
    case 2: return String(pick(r, [-1, -16, 1e300, 2 ** 53 + 2, 1.5, 0, 4294967296]));
    case 3: return JSON.stringify('x'.repeat(int(r, 300)));
    case 4: return pick(r, ['null', 'true', '{}', '[]', '[1,2,3]', '[0,-4]', '[8,4]', '"F8_E4M3"', '"toString"', '"__proto__"']);
    case 5: return `[${Array.from({ length: int(r, 200) }, () => int(r, 5)).join(',')}]`;
    case 6: return `[${Array.from({ length: int(r, 5) }, () => int(r, 1 << 20)).join(',')}]`;
    default: return '"F32"';
  }
}

/** Replaces one value of the header JSON text (found by key) with a hostile one. */
function editJsonText(text: string, r: Rng): string {
  const keys = ['dtype', 'shape', 'data_offsets', '__metadata__', 'weight_map', 'metadata', 'format'];
  const key = pick(r, keys);
  const at = text.indexOf(`"${key}"`, int(r, Math.max(1, text.length)) * (r() < 0.5 ? 0 : 1));
  const start = at >= 0 ? at : text.indexOf(`"${key}"`);
  if (start < 0) return text.replace(/^\{/, `{"${key}":${hostileJson(r)},`);
  const colon = text.indexOf(':', start);
  // The value runs to the next ',' or '}' at the same depth: approximate by the next one.
  let end = colon + 1;
  let depth = 0;
  for (; end < text.length; end++) {
    const c = text[end];
    if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') { if (depth === 0) break; depth--; } else if (c === ',' && depth === 0) break;
  }
  return text.slice(0, colon + 1) + hostileJson(r) + text.slice(end);
}

function withHeader(file: Uint8Array, r: Rng): Uint8Array {
  const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  const header = new TextEncoder().encode(editJsonText(new TextDecoder().decode(file.subarray(8, 8 + n)), r));
  const out = new Uint8Array(8 + header.length + file.length - 8 - n);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  out.set(file.subarray(8 + n), 8 + header.length);
  return out;
}

function readAll(reader: SafetensorsReader): number {
  let declared = 0;
  for (const name of reader.names()) {
    const info = reader.info(name);
    reader.raw(name);
    declared += reader.float32(name, { convertIntegers: true }).byteLength + info.byteLength;
  }
  return declared;
}

export function safetensorsTarget(): FuzzTarget {
  const seeds = tensorSets().map((t, i) => serializeSafetensors(t, i ? { format: 'pt', note: 'x' } : undefined));
  return {
    name: 'safetensors single file',
    generate: (r) => {
      const seed = pick(r, seeds);
      const edited = r() < 0.5 ? withHeader(seed, r) : seed;
      return [r() < 0.7 ? mutate(edited, r) : edited];
    },
    run: ([b]) => readAll(parseSafetensors(b, 'fuzz.safetensors')),
    typed: (e) => e instanceof SafetensorsError,
  };
}

export function shardedTarget(): FuzzTarget {
  const out = serializeShardedSafetensors('m', tensorSets().flat().filter((t, i, all) => all.findIndex((u) => u.name === t.name) === i), { maxShardBytes: 16, metadata: { format: 'pt' } });
  const index = new TextEncoder().encode(out.indexJson);
  const dir = mkdtempSync(join(tmpdir(), 'fuzz-sharded-'));
  const indexPath = join(dir, out.indexFileName);
  return {
    name: 'safetensors sharded on disk',
    generate: (r) => {
      const files = [index, ...out.shards.map((s) => s.bytes)];
      const k = r() < 0.5 ? 0 : 1 + int(r, out.shards.length);
      if (k === 0) files[0] = r() < 0.5 ? mutate(new TextEncoder().encode(editJsonText(out.indexJson, r)), r) : new TextEncoder().encode(editJsonText(out.indexJson, r));
      else files[k] = r() < 0.5 ? mutate(withHeader(files[k], r), r) : mutate(files[k], r);
      return files;
    },
    run: (files) => {
      writeFileSync(indexPath, files[0]);
      // Shard k of n is m-0000k-of-0000n.safetensors, as the writer names them.
      const n = String(files.length - 1).padStart(5, '0');
      files.slice(1).forEach((b, i) => writeFileSync(join(dir, `m-${String(i + 1).padStart(5, '0')}-of-${n}.safetensors`), b));
      return readAll(loadShardedSafetensors(indexPath));
    },
    typed: (e) => e instanceof SafetensorsError,
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// ---------------------------------------------------------------- torch

interface TorchSeed { pickle: Uint8Array; storages: { key: string; numel: number; bytes: Uint8Array }[] }

function torchSeeds(legacy: boolean): TorchSeed[] {
  const f32 = (n: number) => new Uint8Array(Float32Array.from({ length: n }, (_, i) => i * 0.5 - 1).buffer);
  const t = (key: string, numel: number, shape: number[], stride: number[], offset = 0) => (w: PickleWriter) => w.tensor({ type: 'FloatStorage', key, numel, shape, stride, offset, legacy });
  const flat = new PickleWriter().dict([
    ['conv.weight', t('0', 12, [2, 3, 2], [6, 2, 1])],
    ['conv.bias', t('1', 2, [2], [1])],
    ['fc.weight', t('0', 12, [3, 4], [1, 3])],
    ['expand', t('1', 2, [4, 2], [0, 1])],
    ['view', t('0', 12, [2, 2], [4, 1], 3)],
  ]).bytes();
  const nested = new PickleWriter().dict([
    ['epoch', (w) => w.int(3)],
    ['state_dict', (w) => w.dict([['module.w', t('0', 12, [12], [1])], ['module.b', t('1', 2, [1, 2], [2, 1])]])],
  ]).bytes();
  const storages = [{ key: '0', numel: 12, bytes: f32(12) }, { key: '1', numel: 2, bytes: f32(2) }];
  return [{ pickle: flat, storages }, { pickle: nested, storages }];
}

/** Opcode sequences the unpickler must survive: nesting, huge APPENDS, stray marks, memo misuse. */
function pickleNoise(r: Rng): Uint8Array {
  const n = 1 + int(r, 2000);
  switch (int(r, 6)) {
    case 0: return new Uint8Array(n).fill(0x28); // MARK x n
    case 1: { // nested lists, sometimes far past the limit
      const d = r() < 0.1 ? 200_000 : n;
      const out = new Uint8Array(2 * d - 1).fill(0x61);
      out.fill(0x5d, 0, d);
      return out;
    }
    case 2: return Uint8Array.from([0x5d, 0x28, ...Array.from({ length: n }, () => [0x4b, int(r, 256)]).flat(), 0x65]); // APPENDS
    case 3: return Uint8Array.from([0x7d, 0x28, ...Array.from({ length: n }, () => [0x4b, int(r, 256)]).flat(), 0x75]); // SETITEMS
    case 4: return Uint8Array.from(Array.from({ length: 1 + int(r, 16) }, () => pick(r, [0x28, 0x29, 0x2e, 0x30, 0x31, 0x32, 0x4e, 0x51, 0x52, 0x5d, 0x61, 0x62, 0x65, 0x68, 0x71, 0x74, 0x75, 0x7d, 0x81, 0x85, 0x86, 0x87, 0x93, 0x94])));
    default: return Uint8Array.from([0x8a, 255, ...Array.from({ length: 255 }, () => int(r, 256))]); // a 2040-bit LONG1
  }
}

/** A state_dict of one to three tensors with hostile view arguments and storage references. */
function randomViewPickle(r: Rng, legacy: boolean): Uint8Array {
  const dim = () => pick(r, [-4, -1, 0, 1, 2, 3, 4, 16384, 32768, 2 ** 31 - 1]);
  const w = new PickleWriter().emptyDict().mark();
  for (let k = 1 + int(r, 3); k > 0; k--) {
    const rank = int(r, 4);
    const shape = Array.from({ length: rank }, dim);
    const stride = Array.from({ length: rank }, () => pick(r, [0, 0, 1, 1, -1, 2, 4, 32768, 2 ** 30]));
    w.str(pick(r, ['w', 'b', 'x.qscale', 'module.w', `t${k}`]));
    w.tensor({ type: pick(r, ['FloatStorage', 'FloatStorage', 'HalfStorage', 'LongStorage', 'ShortStorage']), key: pick(r, ['0', '1', '9']), numel: pick(r, [0, 2, 4, 12, -1, 2 ** 31]), offset: pick(r, [0, 0, 1, 3, -1, 2 ** 30]), shape, stride, legacy });
  }
  return w.setItems().bytes();
}

function mutatedPickle(p: Uint8Array, r: Rng): Uint8Array {
  if (r() < 0.4) {
    const at = int(r, p.length);
    const noise = pickleNoise(r);
    const out = new Uint8Array(p.length + noise.length);
    out.set(p.subarray(0, at));
    out.set(noise, at);
    out.set(p.subarray(at), at + noise.length);
    return r() < 0.5 ? mutate(out, r) : out;
  }
  return mutate(p, r);
}

function readTorch(b: Uint8Array, source: string): number {
  const sd = findStateDict(readTorchCheckpoint(b, source));
  let declared = 0;
  for (const [name, t] of sd.tensors) declared += t.bytes(name).length;
  return declared;
}

export function torchTarget(legacy: boolean): FuzzTarget {
  const seeds = torchSeeds(legacy);
  const wrap = (s: TorchSeed, pickle: Uint8Array) => (legacy ? torchLegacy(pickle, s.storages) : torchZip(pickle, Object.fromEntries(s.storages.map((x) => [x.key, x.bytes]))));
  return {
    name: legacy ? 'torch legacy pickle' : 'torch zip',
    generate: (r) => {
      const s = pick(r, seeds);
      const choice = r();
      const pickle = choice < 0.3 ? randomViewPickle(r, legacy) : choice < 0.8 ? mutatedPickle(s.pickle, r) : s.pickle;
      const file = wrap(s, pickle);
      return [r() < 0.4 ? mutate(file, r) : file];
    },
    run: ([b]) => readTorch(b, legacy ? 'fuzz-legacy.pth' : 'fuzz.pth'),
    typed: (e) => e instanceof CheckpointError,
  };
}

// ---------------------------------------------------------------- PNG

export const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

/** A PNG from parts: IHDR fields, optional PLTE, raw (filtered) scanlines, extra chunks before IDAT. */
export function buildPng(o: { width: number; height: number; depth: number; ctype: number; interlace?: number; raw: Uint8Array; plte?: Uint8Array; extra?: Uint8Array[] }): Uint8Array {
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, o.width);
  new DataView(ihdr.buffer).setUint32(4, o.height);
  ihdr.set([o.depth, o.ctype, 0, 0, o.interlace ?? 0], 8);
  const parts = [PNG_SIGNATURE, pngChunk('IHDR', ihdr), ...(o.extra ?? []), ...(o.plte ? [pngChunk('PLTE', o.plte)] : []), pngChunk('IDAT', zlibSync(o.raw)), pngChunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

interface Chunk { type: string; body: Uint8Array }

function chunksOf(png: Uint8Array): Chunk[] {
  const v = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: Chunk[] = [];
  for (let at = 8; at + 12 <= png.length;) {
    const len = v.getUint32(at);
    out.push({ type: String.fromCharCode(...png.subarray(at + 4, at + 8)), body: png.subarray(at + 8, at + 8 + len) });
    at += 12 + len;
  }
  return out;
}

function pngSeeds(): Uint8Array[] {
  const gray = { width: 7, height: 5, data: Uint8Array.from({ length: 35 }, (_, i) => (i * 37) & 0xff) };
  const mask = { width: 6, height: 4, data: Uint8Array.from({ length: 24 }, (_, i) => (i % 5 === 0 ? 1 : 0)) };
  const packed = (w: number, h: number, depth: number) => {
    const row = Math.ceil((w * depth) / 8);
    return Uint8Array.from({ length: h * (row + 1) }, (_, i) => (i % (row + 1) === 0 ? i % 5 : (i * 29) & 0xff));
  };
  return [
    encodeGrayPng(gray), encodeMaskPng(mask),
    buildPng({ width: 9, height: 3, depth: 1, ctype: 0, raw: packed(9, 3, 1) }),
    buildPng({ width: 5, height: 4, depth: 4, ctype: 3, raw: packed(5, 4, 4), plte: Uint8Array.from({ length: 48 }, (_, i) => i * 5) }),
    buildPng({ width: 3, height: 2, depth: 16, ctype: 0, raw: packed(6, 2, 8) }),
    buildPng({ width: 2, height: 2, depth: 8, ctype: 2, raw: Uint8Array.of(0, 9, 9, 9, 8, 8, 8, 0, 7, 7, 7, 6, 6, 6) }),
    buildPng({ width: 3, height: 3, depth: 8, ctype: 0, interlace: 1, raw: new Uint8Array(3 * 3 + 7 * 2), extra: [pngChunk('tEXt', new TextEncoder().encode('Comment\0fuzz'))] }),
  ];
}

/** Mutates inside one chunk (the IDAT's inflated data, or a chunk body) and re-seals it with a correct CRC, or adds a hostile ancillary chunk. */
function mutatedPng(seed: Uint8Array, r: Rng): Uint8Array {
  const chunks = chunksOf(seed);
  const k = int(r, chunks.length);
  const c = chunks[k];
  const choice = int(r, 4);
  if (choice === 0 && c.type === 'IDAT') {
    // Inflate is not needed: mutate a fresh image's scanlines by rebuilding from random bytes of the same size.
    const raw = Uint8Array.from({ length: int(r, 64) }, () => int(r, 256));
    chunks[k] = { type: 'IDAT', body: r() < 0.5 ? zlibSync(raw) : mutate(zlibSync(raw), r) };
  } else if (choice === 1) {
    chunks[k] = { type: r() < 0.9 ? c.type : pick(r, ['IHDR', 'PLTE', 'IDAT', 'IEND', 'tRNS', 'acTL', 'fcTL', 'fdAT', 'iCCP', 'zTXt', 'XXXX']), body: mutate(c.body.length ? c.body : new Uint8Array(1), r) };
  } else if (choice === 2) {
    const hostile = pick(r, [
      pngChunk('tEXt', Uint8Array.from({ length: int(r, 40) }, () => 65 + int(r, 26))),
      pngChunk('iTXt', Uint8Array.from({ length: int(r, 40) }, () => 65 + int(r, 26))),
      pngChunk('acTL', Uint8Array.of(0, 0, 0, 2, 0, 0, 0, 0)),
      pngChunk('fcTL', new Uint8Array(26).fill(0xff)),
      pngChunk('zTXt', Uint8Array.of(65, 0, 0, ...zlibSync(new Uint8Array(1 << 16)))),
    ]);
    const parts = [PNG_SIGNATURE, ...chunks.slice(0, Math.max(1, k)).map((x) => pngChunk(x.type, x.body)), hostile, ...chunks.slice(Math.max(1, k)).map((x) => pngChunk(x.type, x.body))];
    const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
    return out;
  } else if (c.type === 'IHDR') {
    const body = c.body.slice();
    const v = new DataView(body.buffer);
    if (body.length >= 13) {
      if (r() < 0.5) v.setUint32(int(r, 2) * 4, pick(r, [0, 1, 2 ** 31 - 1, 2 ** 31, 65536, 8193, 2 ** 32 - 1]));
      else body[8 + int(r, 5)] = pick(r, [0, 1, 2, 3, 4, 5, 6, 7, 8, 16, 255]);
    }
    chunks[k] = { type: 'IHDR', body };
  } else {
    return mutate(seed, r);
  }
  const parts = [PNG_SIGNATURE, ...chunks.map((x) => pngChunk(x.type, x.body))];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return r() < 0.3 ? mutate(out, r) : out;
}

export function pngTarget(mask: boolean): FuzzTarget {
  const seeds = pngSeeds();
  return {
    name: mask ? 'PNG mask slice' : 'PNG image slice',
    generate: (r) => [mutatedPng(pick(r, seeds), r)],
    run: ([b]) => {
      const img = mask ? decodeLabelPng(b, 'fuzz-mask.png') : decodeGrayPng(b, 'fuzz.png');
      return img.width * img.height * 9;
    },
    typed: (e) => (mask ? e instanceof VolumeError : e instanceof PngError),
  };
}

/** Every target, by name. */
export function allTargets(): FuzzTarget[] {
  return [
    niftiTarget(), niftiGzTarget(), niftiPathsTarget(), gzipTarget(), safetensorsTarget(), shardedTarget(),
    torchTarget(true), torchTarget(false), pngTarget(false), pngTarget(true),
  ];
}
