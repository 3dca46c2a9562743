import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeBF16, encodeF16 } from '../src/io/float16.ts';
import {
  fetchShardedSafetensors, parseSafetensors, SafetensorsError, ShardedSafetensors, type SafetensorsDType,
  type SafetensorsFile, type SafetensorsReader,
} from '../src/io/safetensors.ts';
import { loadSafetensors, loadSafetensorsHeaders, readSafetensors, readSafetensorsHeader, writeSafetensors, writeShardedSafetensors } from '../src/io/safetensors-node.ts';
import { serializeSafetensors, serializeShardedSafetensors, type TensorToWrite } from '../src/io/safetensors-write.ts';
import { rng, uniform } from './_lib/random.ts';

const SHARED = new URL('../../shared/', import.meta.url).pathname;
const REF = join(SHARED, 'reference');
const IOG_INDEX = join(SHARED, 'weights/iog-phantom/iog.safetensors.index.json');

/** Asserts fn throws a SafetensorsError whose message contains every part. */
function throwsWith(fn: () => unknown, ...parts: (string | RegExp)[]): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, SafetensorsError);
    const msg = (e as Error).message;
    for (const p of parts) assert.ok(typeof p === 'string' ? msg.includes(p) : p.test(msg), `'${msg}' lacks ${p}`);
    return;
  }
  assert.unreachable(`no error; expected one mentioning ${parts.join(', ')}`);
}

/** A file assembled by hand, independent of the writer; the header is not padded. */
function handMade(header: unknown, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const h = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** One tensor of each dtype, with awkward shapes (scalar, empty, odd) and edge values. */
function everyDtype(seed: number): TensorToWrite[] {
  const r = rng(seed);
  const ints = (n: number, lo: number, hi: number) => Array.from({ length: n }, () => Math.floor(lo + (hi - lo) * r()));
  const halves = new Uint16Array(ints(15, 0, 0x10000));
  return [
    { name: 'f64', dtype: 'F64', shape: [3, 1], data: new Float64Array([Math.PI, -1e300, 5e-324]) },
    { name: 'f32', dtype: 'F32', shape: [2, 3, 5], data: uniform(30, seed, -100, 100) },
    { name: 'f32.scalar', dtype: 'F32', shape: [], data: new Float32Array([-0.5]) },
    { name: 'f32.empty', dtype: 'F32', shape: [0, 7], data: new Float32Array(0) },
    { name: 'f16', dtype: 'F16', shape: [3, 5], data: halves },
    { name: 'bf16', dtype: 'BF16', shape: [15], data: halves.map((h) => h ^ 0x5a5a) },
    { name: 'i64', dtype: 'I64', shape: [4], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n, -7n]) },
    { name: 'i32', dtype: 'I32', shape: [1, 7], data: new Int32Array([...ints(5, -1e9, 1e9), -(2 ** 31), 2 ** 31 - 1]) },
    { name: 'i8', dtype: 'I8', shape: [9], data: new Int8Array([...ints(7, -128, 128), -128, 127]) },
    { name: 'u8', dtype: 'U8', shape: [3, 3], data: new Uint8Array([...ints(7, 0, 256), 0, 255]) },
    { name: 'bool', dtype: 'BOOL', shape: [5], data: new Uint8Array([1, 0, 0, 1, 1]) },
  ];
}

function read(f: SafetensorsReader, name: string, dtype: SafetensorsDType): ArrayBufferView {
  switch (dtype) {
    case 'F64': return f.float64(name);
    case 'F32': return f.float32(name);
    case 'F16': case 'BF16': return f.raw(name);
    case 'I64': return f.int64(name);
    case 'I32': return f.int32(name);
    case 'I8': return f.int8(name);
    case 'U8': case 'BOOL': return f.uint8(name);
  }
}

test('round trip of every dtype: shapes, dtypes, bytes and typed values come back', () => {
  const tensors = everyDtype(1);
  const file = parseSafetensors(serializeSafetensors(tensors, { note: 'é ü', format: 'pt' }), 'rt');
  assert.equal(file.metadata, { format: 'pt', note: 'é ü' });
  assert.equal(file.names().sort(), tensors.map((t) => t.name).sort());
  for (const t of tensors) {
    assert.equal(file.info(t.name), { dtype: t.dtype, shape: t.shape, byteLength: t.data.byteLength }, t.name);
    assert.equal(bytesOf(read(file, t.name, t.dtype)), bytesOf(t.data), t.name);
  }
  // float32() decodes halves: re-encoding gives the stored bits back (NaNs come back quiet).
  const halves = encodeF16(file.float32('f16'));
  const bf16 = new Uint32Array(file.float32('bf16').buffer);
  for (let i = 0; i < 15; i++) {
    const h = tensors[4].data[i] as number;
    assert.ok(halves[i] === h || ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0 && halves[i] === (h | 0x200)), `f16[${i}] 0x${h.toString(16)}`);
    assert.is(bf16[i], ((tensors[5].data[i] as number) << 16) >>> 0, `bf16[${i}]`);
  }
  assert.equal(Array.from(file.float32('f64')), Array.from(tensors[0].data as Float64Array, Math.fround));
});

test('F16/BF16 tensors can be written from f32 values (rounded to nearest even)', () => {
  const values = new Float32Array([1 / 3, 65520, -0, 2 ** -25, 1 + 2 ** -8, NaN]);
  const file = parseSafetensors(serializeSafetensors([
    { name: 'h', dtype: 'F16', shape: [6], data: values },
    { name: 'b', dtype: 'BF16', shape: [2, 3], data: values },
  ]));
  assert.equal(file.raw('h'), bytesOf(encodeF16(values)));
  assert.equal(file.raw('b'), bytesOf(encodeBF16(values)));
  assert.equal(Array.from(file.float32('h').subarray(0, 4)), [0.333251953125, Infinity, -0, 0]);
});

test('writer output is byte-identical to the reference implementation (safetensors 0.8.0)', () => {
  const tensors: TensorToWrite[] = [
    { name: 'b', dtype: 'F32', shape: [3], data: new Float32Array(3) },
    { name: 'a', dtype: 'I8', shape: [2], data: new Int8Array(2) },
    { name: '10', dtype: 'F32', shape: [2], data: new Float32Array(2) },
    { name: '2', dtype: 'F32', shape: [1], data: new Float32Array(1) },
    { name: 'é', dtype: 'F16', shape: [1], data: new Uint16Array(1) },
    { name: '\u{1F600}', dtype: 'BF16', shape: [1], data: new Uint16Array(1) },
    { name: '\uffff', dtype: 'BF16', shape: [1], data: new Uint16Array(1) },
    { name: 'c', dtype: 'I64', shape: [1, 1], data: new BigInt64Array(1) },
  ];
  // Python: safetensors.serialize of the same tensors, metadata {"format": "pt"}.
  const expected = '{"__metadata__":{"format":"pt"},"c":{"dtype":"I64","shape":[1,1],"data_offsets":[0,8]},'
    + '"10":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"2":{"dtype":"F32","shape":[1],"data_offsets":[16,20]},'
    + '"b":{"dtype":"F32","shape":[3],"data_offsets":[20,32]},"\uffff":{"dtype":"BF16","shape":[1],"data_offsets":[32,34]},'
    + '"\u{1F600}":{"dtype":"BF16","shape":[1],"data_offsets":[34,36]},"é":{"dtype":"F16","shape":[1],"data_offsets":[36,38]},'
    + '"a":{"dtype":"I8","shape":[2],"data_offsets":[38,40]}}';
  const bytes = serializeSafetensors(tensors, { format: 'pt' });
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.is(n, 480, 'header padded with spaces to a multiple of 8');
  assert.is(new TextDecoder().decode(bytes.subarray(8, 8 + n)), `${expected} `);
  assert.is(bytes.length, 8 + n + 40);
});

test('writer is deterministic and orders by dtype then name, whatever the input order', () => {
  const tensors = everyDtype(2);
  const a = serializeSafetensors(tensors, { x: '1', a: '2' });
  const b = serializeSafetensors([...tensors].reverse(), { a: '2', x: '1' });
  const c = serializeSafetensors(Object.fromEntries(tensors.map(({ name, ...t }) => [name, t])), { x: '1', a: '2' });
  assert.equal(a, b);
  assert.equal(a, c);
  // Widest dtypes first means every tensor's data is aligned to its element size.
  const file = parseSafetensors(a);
  const start = a.length - tensors.reduce((s, t) => s + t.data.byteLength, 0);
  let at = start;
  for (const name of file.names()) {
    const { dtype, byteLength } = file.info(name);
    const size = { F64: 8, I64: 8, F32: 4, I32: 4, F16: 2, BF16: 2, I8: 1, U8: 1, BOOL: 1 }[dtype];
    assert.is(at % size, 0, `${name} aligned`);
    at += byteLength;
  }
  assert.is(at, a.length, 'offsets contiguous');
});

test('typed accessors are views when aligned and copies when not', () => {
  const values = uniform(6, 3);
  const file = serializeSafetensors([{ name: 'x', dtype: 'F32', shape: [6], data: values }]);
  const aligned = parseSafetensors(file);
  const view = aligned.float32('x');
  assert.equal(view, values);
  assert.is(view.buffer, file.buffer, 'zero-copy');
  for (const shift of [1, 2, 3]) {
    const padded = new Uint8Array(file.length + shift);
    padded.set(file, shift);
    const odd = parseSafetensors(padded.subarray(shift), `shift${shift}`).float32('x');
    assert.equal(odd, values);
    assert.is.not(odd.buffer, padded.buffer);
  }
  // A Node Buffer's slice() is a view, so the copy path must not rely on it.
  const buf = Buffer.alloc(file.length + 1);
  buf.set(file, 1);
  assert.equal(parseSafetensors(buf.subarray(1)).float32('x'), values);
});

test('accessors refuse the wrong dtype, name the tensor, and convert integers only when asked', () => {
  const file = parseSafetensors(serializeSafetensors([
    { name: 'q', dtype: 'I8', shape: [3], data: new Int8Array([-128, 0, 127]) },
    { name: 'n', dtype: 'I64', shape: [2], data: new BigInt64Array([-5n, 2n ** 40n]) },
    { name: 'w', dtype: 'F32', shape: [1], data: new Float32Array([1]) },
  ]), 'acc.safetensors');
  throwsWith(() => file.float32('q'), 'acc.safetensors', "'q'", 'I8', 'convertIntegers');
  assert.equal(Array.from(file.float32('q', { convertIntegers: true })), [-128, 0, 127]);
  assert.equal(Array.from(file.float32('n', { convertIntegers: true })), [-5, 2 ** 40]);
  throwsWith(() => file.int8('w'), 'acc.safetensors', "'w'", 'is F32, not I8');
  throwsWith(() => file.int32('n'), "'n'", 'is I64, not I32');
  throwsWith(() => file.uint8('q'), "'q'", 'not U8 or BOOL');
});

test('a missing tensor is reported with the source and the nearest names', () => {
  const names = ['enc.conv1.weight', 'enc.conv1.bias', 'dec.conv1.weight', 'head.weight', 'a', 'b', 'c'];
  const file = parseSafetensors(serializeSafetensors(names.map((name) => ({ name, dtype: 'U8', shape: [1], data: new Uint8Array(1) }))), 'm.safetensors');
  assert.not.ok(file.has('enc.conv2.weight'));
  throwsWith(() => file.raw('enc.conv2.weight'), 'm.safetensors', "'enc.conv2.weight'", 'not found (7 tensors', "e.g. 'enc.conv1.bias', 'enc.conv1.weight'", ', ...');
});

test('corrupt files are refused with the source and the tensor named', () => {
  const good = { __metadata__: { k: 'v' }, a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'U8', shape: [3], data_offsets: [8, 11] } };
  const data = new Uint8Array(11).fill(7);
  assert.equal(parseSafetensors(handMade(good, data), 'ok').uint8('b'), new Uint8Array([7, 7, 7]));
  const bad = (header: unknown, d = data) => () => parseSafetensors(handMade(header, d), 'bad.safetensors');
  const entry = (b: object) => ({ ...good, b: { ...good.b, ...b } });
  throwsWith(bad(good, data.subarray(0, 10)), 'bad.safetensors', "tensor 'b'", 'run past the end of the data (10 bytes)', 'truncated');
  throwsWith(() => parseSafetensors(handMade(good, data).subarray(0, 30), 'cut.safetensors'), 'cut.safetensors', 'header length', 'exceeds');
  throwsWith(() => parseSafetensors(new Uint8Array(5), 'tiny'), 'tiny', 'shorter than the 8-byte header length');
  const short = handMade('{}');
  short[0] = 6;
  throwsWith(() => parseSafetensors(short, 'short'), 'short', 'header length 6 exceeds the 2 bytes after it');
  throwsWith(bad('{"a": {"dtype": "F32",'), 'bad.safetensors', 'not valid UTF-8 JSON');
  throwsWith(() => {
    const f = handMade('{"a":1}    ');
    f[10] = 0xff;
    parseSafetensors(f, 'utf.safetensors');
  }, 'utf.safetensors', 'not valid UTF-8');
  throwsWith(bad([1, 2]), 'not a JSON object');
  throwsWith(bad(entry({ dtype: 'F8_E4M3' })), 'bad.safetensors', "tensor 'b'", 'unsupported dtype "F8_E4M3"', 'BF16');
  throwsWith(bad(entry({ dtype: 'toString' })), "tensor 'b'", 'unsupported dtype');
  throwsWith(bad({ ...good, b: { shape: [3], data_offsets: [8, 11] } }), "tensor 'b'", 'missing dtype');
  throwsWith(bad({ ...good, b: { dtype: 'U8', data_offsets: [8, 11] } }), "tensor 'b'", 'missing shape');
  throwsWith(bad({ ...good, b: { dtype: 'U8', shape: [3] } }), "tensor 'b'", 'missing data_offsets');
  throwsWith(bad(entry({ shape: [3, -1] })), "tensor 'b'", 'not a list of non-negative integers');
  throwsWith(bad(entry({ shape: [1.5] })), "tensor 'b'", 'not a list of non-negative integers');
  throwsWith(bad(entry({ data_offsets: [11, 8] })), "tensor 'b'", 'not [begin, end]');
  throwsWith(bad(entry({ data_offsets: [8, 11, 12] })), "tensor 'b'", 'not [begin, end]');
  throwsWith(bad(entry({ shape: [4] })), 'bad.safetensors', "tensor 'b'", 'hold 3 bytes but shape [4] of U8 needs 4');
  throwsWith(bad(entry({ dtype: 'F16' })), "tensor 'b'", 'shape [3] of F16 needs 6');
  throwsWith(bad(entry({ shape: [1], dtype: 'F32', data_offsets: [4, 8] })), "tensor 'b'", "overlap those of 'a' [0, 8]");
  throwsWith(bad(entry({ shape: [0], data_offsets: [4, 4] })), "tensor 'b'", "overlap those of 'a'");
  throwsWith(bad({ ...good, __metadata__: { k: 1 } }), 'bad.safetensors', "__metadata__ value of 'k'");
  throwsWith(bad({ ...good, __metadata__: 'x' }), '__metadata__ is not an object');
  throwsWith(bad({ ...good, b: 'x' }), "tensor 'b'", 'entry is not an object');
});

test('valid files with tensors out of order, gaps or empty tensors are read; names() is in file order', () => {
  const header = {
    late: { dtype: 'I8', shape: [2], data_offsets: [6, 8] },
    0: { dtype: 'I8', shape: [0], data_offsets: [2, 2] },
    early: { dtype: 'I8', shape: [2], data_offsets: [0, 2] },
    mid: { dtype: 'I8', shape: [1, 2], data_offsets: [3, 5] },
    empty: { dtype: 'F32', shape: [2, 0], data_offsets: [3, 3] },
  };
  const f = parseSafetensors(handMade(header, new Uint8Array([1, 2, 99, 3, 4, 99, 5, 6])));
  assert.equal(f.names(), ['early', '0', 'empty', 'mid', 'late']);
  assert.equal(Array.from(f.int8('late')), [5, 6]);
  assert.equal(Array.from(f.int8('mid')), [3, 4]);
  assert.is(f.int8('0').length, 0);
  assert.equal(f.metadata, {});
});

test('writer refuses bad tensors with the tensor named', () => {
  const t = (over: Partial<TensorToWrite>): TensorToWrite[] => [{ name: 'x', dtype: 'F32', shape: [2], data: new Float32Array(2), ...over }];
  throwsWith(() => serializeSafetensors(t({ data: new Float64Array(2) })), "tensor 'x'", 'F32 data must be Float32Array, got Float64Array');
  throwsWith(() => serializeSafetensors(t({ dtype: 'I8' })), "tensor 'x'", 'I8 data must be Int8Array');
  throwsWith(() => serializeSafetensors(t({ shape: [3] })), "tensor 'x'", 'shape [3] has 3 elements but data has 2');
  throwsWith(() => serializeSafetensors(t({ name: '__metadata__' })), 'reserved');
  throwsWith(() => serializeSafetensors(t({ dtype: 'F8' as SafetensorsDType })), 'unsupported dtype "F8"');
  throwsWith(() => serializeSafetensors([...t({}), ...t({ dtype: 'I8', data: new Int8Array(2) })]), "tensor 'x'", 'given twice');
  throwsWith(() => serializeSafetensors(t({}), { n: 3 as unknown as string }), "metadata value of 'n'");
});

// Sizes 40, 40, 30, 100, 8 bytes with a 100-byte limit: {a, b} {c} {d} {e}.
function shardInput(): TensorToWrite[] {
  return [
    { name: 'a', dtype: 'F32', shape: [10], data: uniform(10, 11) },
    { name: 'b', dtype: 'I32', shape: [2, 5], data: new Int32Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) },
    { name: 'c', dtype: 'F16', shape: [15], data: uniform(15, 12) },
    { name: 'd', dtype: 'U8', shape: [100], data: new Uint8Array(100).map((_, i) => i) },
    { name: 'e', dtype: 'F64', shape: [1, 1], data: new Float64Array([Math.E]) },
  ];
}

test('sharded writing: greedy split, file names, index, metadata; reads back through the index', () => {
  const dir = mkdtempSync(join(tmpdir(), 'st-shards-'));
  const dir2 = mkdtempSync(join(tmpdir(), 'st-shards-'));
  try {
    const tensors = shardInput();
    const out = writeShardedSafetensors(dir, 'model', tensors, { maxShardBytes: 100, metadata: { format: 'pt' } });
    const names = ['model-00001-of-00004.safetensors', 'model-00002-of-00004.safetensors', 'model-00003-of-00004.safetensors', 'model-00004-of-00004.safetensors'];
    assert.equal(out.shards, names.map((n) => join(dir, n)));
    assert.is(out.index, join(dir, 'model.safetensors.index.json'));
    const index = JSON.parse(readFileSync(out.index, 'utf8'));
    assert.equal(index, {
      metadata: { format: 'pt', total_size: 218 },
      weight_map: { a: names[0], b: names[0], c: names[1], d: names[2], e: names[3] },
    });
    assert.equal(readSafetensors(out.shards[0]).names(), ['a', 'b']);
    assert.equal(readSafetensors(out.shards[0]).metadata, { format: 'pt' });
    const loaded = loadSafetensors(out.index);
    assert.instance(loaded, ShardedSafetensors);
    assert.equal(loaded.metadata, { format: 'pt', total_size: '218' });
    for (const t of tensors) {
      assert.equal(loaded.info(t.name).shape, t.shape);
      const want = t.dtype === 'F16' ? encodeF16(t.data as Float32Array) : t.data;
      assert.equal(bytesOf(read(loaded, t.name, t.dtype)), bytesOf(want), t.name);
    }
    // Same input, same bytes.
    writeShardedSafetensors(dir2, 'model', tensors, { maxShardBytes: 100, metadata: { format: 'pt' } });
    assert.equal(readdirSync(dir2).sort(), readdirSync(dir).sort());
    for (const f of readdirSync(dir)) assert.equal(readFileSync(join(dir2, f)), readFileSync(join(dir, f)), f);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(dir2, { recursive: true, force: true });
  }
});

test('sharding edge cases: one big tensor per shard, a single shard, bad options', () => {
  const big = serializeShardedSafetensors('p', shardInput(), { maxShardBytes: 1 });
  assert.equal(big.shards.map((s) => s.fileName), [1, 2, 3, 4, 5].map((i) => `p-0000${i}-of-00005.safetensors`));
  // A shard may fill up to the limit exactly: {a, b, c} = 110 bytes, then {d, e} = 108.
  const exact = serializeShardedSafetensors('p', shardInput(), { maxShardBytes: 110 });
  assert.equal(exact.shards.map((s) => parseSafetensors(s.bytes).names().sort()), [['a', 'b', 'c'], ['d', 'e']]);
  const one = serializeShardedSafetensors('p', shardInput(), { maxShardBytes: 1e9 });
  assert.equal(one.shards.map((s) => s.fileName), ['p-00001-of-00001.safetensors']);
  assert.equal(one.shards[0].bytes, serializeSafetensors(shardInput(), {}));
  assert.ok(one.indexJson.endsWith('}\n'));
  const reversed = JSON.parse(serializeShardedSafetensors('p', shardInput().reverse(), { maxShardBytes: 1e9, metadata: { z: '1', a: '2' } }).indexJson);
  assert.equal(Object.keys(reversed.weight_map), ['a', 'b', 'c', 'd', 'e'], 'index keys sorted');
  assert.equal(Object.keys(reversed.metadata), ['a', 'total_size', 'z']);
  throwsWith(() => serializeShardedSafetensors('p', shardInput(), { maxShardBytes: 0 }), 'maxShardBytes 0');
  throwsWith(() => serializeShardedSafetensors('p', shardInput(), { maxShardBytes: 10, metadata: { total_size: '1' } }), "'total_size' is reserved");
});

test('sharded reading opens each shard once, lazily, and checks the index against the shards', () => {
  const out = serializeShardedSafetensors('m', shardInput(), { maxShardBytes: 100 });
  const opened: string[] = [];
  const files = new Map(out.shards.map((s) => [s.fileName, parseSafetensors(s.bytes, s.fileName)]));
  const index = JSON.parse(out.indexJson);
  const sharded = new ShardedSafetensors(index, 'm.index.json', (f) => {
    opened.push(f);
    return files.get(f) as SafetensorsFile;
  });
  assert.equal(sharded.names(), ['a', 'b', 'c', 'd', 'e']);
  assert.equal(Array.from(sharded.uint8('d').subarray(0, 3)), [0, 1, 2]);
  sharded.info('d');
  assert.equal(opened, ['m-00003-of-00004.safetensors']);
  throwsWith(() => sharded.float32('zz'), 'm.index.json', "'zz'", 'not found (5 tensors');
  const wrong = new ShardedSafetensors({ metadata: {}, weight_map: { ...index.weight_map, a: 'm-00004-of-00004.safetensors' } }, 'w.json', (f) => files.get(f) as SafetensorsFile);
  throwsWith(() => wrong.float32('a'), 'w.json', "tensor 'a'", "maps it to 'm-00004-of-00004.safetensors', which has no such tensor");
});

test('browser-style sharded loading through a fetch callback', async () => {
  const out = serializeShardedSafetensors('m', shardInput(), { maxShardBytes: 100, metadata: { model: 'x' } });
  const bytes = new Map(out.shards.map((s) => [s.fileName, s.bytes]));
  const fetched: string[] = [];
  const sharded = await fetchShardedSafetensors(out.indexJson, async (f) => {
    fetched.push(f);
    const b = bytes.get(f)!;
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }, 'https://x/m.safetensors.index.json');
  assert.equal(fetched.sort(), [...bytes.keys()].sort());
  assert.equal(sharded.int32('b'), shardInput()[1].data);
  assert.equal(sharded.metadata.model, 'x');
  try {
    await fetchShardedSafetensors(out.indexJson, async (f) => {
      if (f.includes('00002')) throw new Error('HTTP 404');
      return bytes.get(f)!;
    }, 'remote.json');
    assert.unreachable('no error for a failed fetch');
  } catch (e) {
    assert.instance(e, SafetensorsError);
    assert.match((e as Error).message, /remote\.json: shard 'm-00002-of-00004\.safetensors' .*could not be fetched \(HTTP 404\)/);
  }
});

test('sharded loading from disk: missing shard files and unsafe shard names are refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'st-missing-'));
  try {
    const { index, shards } = writeShardedSafetensors(dir, 'm', shardInput(), { maxShardBytes: 100 });
    rmSync(shards[2]);
    throwsWith(() => loadSafetensors(index), index, "'m-00003-of-00004.safetensors' (holds 1 tensors, e.g. 'd')", 'missing');
    const escape = join(dir, 'escape.safetensors.index.json');
    writeFileSync(escape, JSON.stringify({ weight_map: { a: '../m-00001-of-00004.safetensors' } }));
    throwsWith(() => loadSafetensors(escape), escape, "weight_map entry for 'a'", 'not a relative shard file name');
    const broken = join(dir, 'broken.safetensors.index.json');
    writeFileSync(broken, '{"weight_map": ');
    throwsWith(() => loadSafetensors(broken), broken, 'index is not valid JSON');
    writeFileSync(broken, '{"metadata": {}}');
    throwsWith(() => loadSafetensors(broken), broken, 'no "weight_map"');
    throwsWith(() => readSafetensors(join(dir, 'nope.safetensors')), 'nope.safetensors', 'cannot read file');
    writeSafetensors(join(dir, 'sub', 'one.safetensors'), { t: { dtype: 'U8', shape: [1], data: new Uint8Array([9]) } });
    assert.equal(Array.from(loadSafetensors(join(dir, 'sub', 'one.safetensors')).uint8('t')), [9]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('headers alone: names, shapes, metadata and extents without the data; truncated files refused; data access refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'st-headers-'));
  try {
    const file = join(dir, 'one.safetensors');
    writeSafetensors(file, { w: { dtype: 'F32', shape: [3, 2], data: new Float32Array(6).fill(1.5) }, b: { dtype: 'I8', shape: [5], data: new Int8Array(5) } }, { slice_layout: 'rows-first-axis' });
    const [full, head] = [readSafetensors(file), readSafetensorsHeader(file)];
    assert.equal(head.names(), full.names());
    for (const n of full.names()) assert.equal(head.info(n), full.info(n), n);
    assert.equal(head.metadata, full.metadata);
    throwsWith(() => head.float32('w'), file, "tensor 'w'", 'only the header was read');
    throwsWith(() => head.raw('b'), "tensor 'b'", 'only the header was read');
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, bytes.length - 1));
    throwsWith(() => readSafetensorsHeader(file), file, 'run past the end of the data', 'truncated');
    writeFileSync(file, bytes.subarray(0, 20));
    throwsWith(() => readSafetensorsHeader(file), file, 'header length', 'exceeds the 12 bytes after it');
    writeFileSync(file, bytes.subarray(0, 5));
    throwsWith(() => readSafetensorsHeader(file), file, 'file is 5 bytes, shorter than the 8-byte header length');
    throwsWith(() => readSafetensorsHeader(join(dir, 'nope.safetensors')), 'nope.safetensors', 'cannot read file');
    const { index, shards } = writeShardedSafetensors(join(dir, 'sharded'), 'm', shardInput(), { maxShardBytes: 100 });
    const [sharded, headers] = [loadSafetensors(index), loadSafetensorsHeaders(index)];
    for (const n of sharded.names()) assert.equal(headers.info(n), sharded.info(n), n);
    throwsWith(() => headers.uint8('d'), "tensor 'd'", 'only the header was read');
    writeFileSync(shards[1], readFileSync(shards[1]).subarray(0, -1));
    throwsWith(() => sharded.names().forEach((n) => loadSafetensorsHeaders(index).info(n)), shards[1], 'truncated');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('qamn_ref1.safetensors: shapes as the README gives them, and ps1 = sigmoid(logits1[:, 1])', () => {
  const f = readSafetensors(join(REF, 'qamn_ref1.safetensors'));
  const shapes: Record<string, number[]> = {
    k0: [1, 1024, 128], v0: [1, 1024, 512], q_key1: [1, 128, 32, 32], mem1: [1, 512, 32, 32],
    decoder_logit1: [1, 2, 512, 512], logits1: [1, 2, 512, 512], ps1: [1, 512, 512], quality1: [1],
  };
  assert.equal(f.names(), Object.keys(shapes));
  for (const [name, shape] of Object.entries(shapes)) assert.equal(f.info(name), { dtype: 'F32', shape, byteLength: 4 * shape.reduce((a, b) => a * b) }, name);
  assert.equal(f.metadata, { dtype_of_reference: 'float64 on GPU, stored as f32' });
  // Tensors far apart in the file agree with each other: the offsets are right.
  const logits = f.float32('logits1');
  const ps = f.float32('ps1');
  const hw = 512 * 512;
  let err = 0;
  for (let i = 0; i < hw; i++) {
    err = Math.max(err, Math.abs(1 / (1 + Math.exp(-logits[hw + i])) - ps[i]), Math.abs(1 / (1 + Math.exp(-logits[i])) - (1 - ps[i])));
  }
  assert.ok(err < 3e-7, `sigmoid(logits1) vs ps1: ${err}`);
  const q = f.float32('quality1')[0];
  assert.ok(q > 0 && q < 1, `quality1 ${q}`);
});

test('qamn_small.safetensors holds exactly the manifest\'s file-sourced tensors, with its shapes', () => {
  const f = readSafetensors(join(REF, 'qamn_small.safetensors'));
  const manifest = JSON.parse(readFileSync(join(REF, 'qamn_manifest.json'), 'utf8')) as { tensors: { name: string; shape: number[]; source: string }[] };
  const fromFile = manifest.tensors.filter((t) => t.source === 'file');
  assert.equal(f.names().sort(), fromFile.map((t) => t.name).sort());
  for (const t of fromFile) assert.equal(f.info(t.name).shape, t.shape, t.name);
  assert.equal(f.metadata, { spec: 'synth-v1' });
  for (const name of f.names().filter((n) => n.endsWith('running_var'))) {
    assert.ok(f.float32(name).every((v) => v > 0 && Number.isFinite(v)), `${name} positive`);
  }
});

test('iog_ref.safetensors: I32 and U8 tensors; the mask has the logged foreground inside the box', () => {
  const f = readSafetensors(join(REF, 'iog_ref.safetensors'));
  const log = JSON.parse(readFileSync(join(REF, 'torch_reference_log.json'), 'utf8'));
  assert.equal(f.info('bbox_xyxy'), { dtype: 'I32', shape: [4], byteLength: 16 });
  assert.equal(f.info('extreme_points_xy').shape, [4, 2]);
  throwsWith(() => f.float32('bbox_xyxy'), 'iog_ref.safetensors', "'bbox_xyxy'", 'is I32');
  const [x0, y0, x1, y1] = f.int32('bbox_xyxy');
  assert.equal(Array.from(f.float32('bbox_xyxy', { convertIntegers: true })), [x0, y0, x1, y1]);
  const mask = f.uint8('full_mask');
  assert.equal(f.info('full_mask').shape, [512, 512]);
  let ones = 0;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] === 0) continue;
    assert.is(mask[i], 1);
    const x = i % 512;
    const y = Math.floor(i / 512);
    assert.ok(x >= x0 && x <= x1 && y >= y0 && y <= y1, `mask pixel (${x}, ${y}) outside the box`);
    ones++;
  }
  assert.is(ones / mask.length, log.iog.fg_frac_full_mask);
});

test('iog-phantom sharded int8 checkpoint: every tensor found, total_size, qscale per output channel', () => {
  const w = loadSafetensors(IOG_INDEX) as ShardedSafetensors;
  const index = JSON.parse(readFileSync(IOG_INDEX, 'utf8'));
  const manifest = JSON.parse(readFileSync(join(REF, 'iog_manifest.json'), 'utf8')) as { tensors: { name: string; shape: number[] }[] };
  const manifestShape = new Map(manifest.tensors.map((t) => [t.name, t.shape]));
  assert.equal(w.names(), Object.keys(index.weight_map));
  assert.equal(w.shardFiles(), JSON.parse(readFileSync(join(SHARED, 'weights/iog-phantom/train_log.json'), 'utf8')).iog_files);
  assert.is(w.metadata.format, 'int8-per-output-channel');
  let total = 0;
  const int8: string[] = [];
  for (const name of w.names()) {
    const { dtype, shape, byteLength } = w.info(name);
    total += byteLength;
    if (name.endsWith('.qscale')) continue;
    assert.equal(shape, manifestShape.get(name), `${name} shape as in the manifest`);
    if (dtype === 'I8') {
      int8.push(name);
      assert.equal(w.info(`${name}.qscale`), { dtype: 'F32', shape: [shape[0]], byteLength: 4 * shape[0] }, `${name}.qscale`);
    } else {
      assert.is(dtype, 'F32', name);
      assert.is(shape.length, 1, name);
    }
  }
  assert.is(total, index.metadata.total_size);
  assert.is(int8.length, manifest.tensors.filter((t) => t.shape.length >= 2).length);
  // One tensor from each shard: symmetric per-channel quantisation puts |q| = 127 on every row.
  for (const file of w.shardFiles()) {
    const name = int8.find((n) => w.shardOf(n) === file)!;
    const q = w.int8(name);
    const scale = w.float32(`${name}.qscale`);
    const row = q.length / scale.length;
    for (let o = 0; o < scale.length; o++) {
      let max = 0;
      for (let i = o * row; i < (o + 1) * row; i++) max = Math.max(max, Math.abs(q[i]));
      assert.is(max, 127, `${name} row ${o}`);
      assert.ok(scale[o] > 0 && scale[o] < 1, `${name}.qscale[${o}] = ${scale[o]}`);
    }
  }
});

test.run();
