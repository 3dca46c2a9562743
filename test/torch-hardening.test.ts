// Hostile torch.save files: views materialised in O(output) and checked before any
// allocation, negative dimensions, unknown persistent ids, huge APPENDS, deep
// nesting, and '.qscale' names; each refused with a CheckpointError naming the file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { convertCheckpoint } from '../src/convert/convert.ts';
import { CheckpointError } from '../src/convert/errors.ts';
import { MAX_PICKLE_DEPTH, unpickle } from '../src/convert/pickle.ts';
import { findStateDict, readTorchCheckpoint } from '../src/convert/torch-checkpoint.ts';
import { parseSafetensors } from '../src/io/safetensors.ts';
import { serializeSafetensors } from '../src/io/safetensors-write.ts';
import { safetensorsWeightSource } from '../src/weights/safetensors-source.ts';
import { rng } from './_lib/random.ts';
import { f32Bytes, PickleWriter, torchLegacy, torchZip } from './_lib/torch-save.ts';

function throwsNaming(fn: () => unknown, file: string, ...parts: string[]): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof CheckpointError)) throw e;
    assert.ok(e.message.startsWith(`${file}`), `'${e.message}' does not start with ${file}`);
    for (const p of parts) assert.ok(e.message.includes(p), `'${e.message}' lacks '${p}'`);
    return;
  }
  assert.unreachable(`no error; expected one naming ${file}`);
}

/** The element-by-element definition of a strided view, in float64. */
function naiveView(storage: Float32Array, offset: number, shape: number[], stride: number[]): Float32Array {
  const n = shape.reduce((p, d) => p * d, 1);
  const out = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    let rest = k;
    let from = offset;
    for (let d = shape.length - 1; d >= 0; d--) {
      from += (rest % shape[d]) * stride[d];
      rest = Math.floor(rest / shape[d]);
    }
    out[k] = storage[from];
  }
  return out;
}

function viewFile(numel: number, offset: number, shape: number[], stride: number[], legacy = false): Uint8Array {
  const storage = Float32Array.from({ length: numel }, (_, i) => i * 1.25 - 3);
  const p = new PickleWriter().dict([['w', (w) => w.tensor({ type: 'FloatStorage', key: '0', numel, offset, shape, stride, legacy })]]).bytes();
  return legacy ? torchLegacy(p, [{ key: '0', numel, bytes: f32Bytes(storage) }]) : torchZip(p, { 0: f32Bytes(storage) });
}

test('random strided, stride-0 and size-1 views match the element-by-element definition', () => {
  const r = rng(13);
  for (let trial = 0; trial < 300; trial++) {
    const rank = Math.floor(r() * 5);
    const shape = Array.from({ length: rank }, () => Math.floor(r() * 4) + (r() < 0.15 ? 0 : 1));
    const stride = shape.map(() => (r() < 0.3 ? 0 : Math.floor(r() * 7)));
    const offset = Math.floor(r() * 5);
    const reach = offset + shape.reduce((s, d, i) => s + Math.max(0, d - 1) * stride[i], 0);
    const numel = reach + 1 + Math.floor(r() * 3);
    const storage = Float32Array.from({ length: numel }, (_, i) => i * 1.25 - 3);
    const legacy = trial % 2 === 1;
    const t = findStateDict(readTorchCheckpoint(viewFile(numel, offset, shape, stride, legacy), 'v.pth')).tensors.get('w')!;
    const got = new Float32Array(t.bytes('w').buffer);
    assert.equal([...got], [...naiveView(storage, offset, shape, stride)], `shape [${shape}] stride [${stride}] offset ${offset}`);
  }
});

test('a stride-0 expand of 2^26 elements is written by repeated blocks, fast', () => {
  const t = findStateDict(readTorchCheckpoint(viewFile(4, 0, [8192, 8192], [0, 0]), 'e.pth')).tensors.get('w')!;
  const out = new Float32Array(t.bytes('w').buffer);
  assert.is(out.length, 8192 * 8192);
  assert.is(out[0], -3);
  assert.is(out[out.length - 1], -3);
});

test('views are refused before allocating: negative dimension, outside the storage, expansion past the limit', () => {
  const get = (bytes: Uint8Array) => findStateDict(readTorchCheckpoint(bytes, 'bad.pth')).tensors.get('w')!;
  throwsNaming(() => get(viewFile(4, 0, [-4, 4], [4, 1])).bytes('w'), 'bad.pth', "tensor 'w'", 'negative dimension');
  throwsNaming(() => get(viewFile(4, 0, [4], [-1])).bytes('w'), 'bad.pth', "tensor 'w'", 'negative stride');
  throwsNaming(() => get(viewFile(4, 0, [16384, 32768], [32768, 1])).bytes('w'), 'bad.pth', "tensor 'w'", 'outside its storage of 4 elements');
  throwsNaming(() => get(viewFile(4, 0, [16384, 16384], [0, 0])).bytes('w'), 'bad.pth', "tensor 'w'", 'over the limit');
  throwsNaming(() => get(viewFile(4, 0, new Array(65).fill(1), new Array(65).fill(1))).bytes('w'), 'bad.pth', "tensor 'w'", '65 dimensions');
});

test('an unknown persistent id is described, never serialised (cyclic, BigInt, deep)', () => {
  // BINPERSID of a list that contains itself, and of a deep list holding a huge integer.
  const cyclic = new PickleWriter().raw(0x5d, 0x71, 0x00, 0x68, 0x00, 0x61, 0x51).bytes(); // [] memo0 get0 APPEND BINPERSID
  throwsNaming(() => readTorchCheckpoint(torchZip(cyclic, {}), 'p.pth'), 'p.pth', 'unknown persistent id');
  const big = new PickleWriter().raw(0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0x85, 0x51).bytes(); // LONG1 2^71-ish, TUPLE1, BINPERSID
  throwsNaming(() => readTorchCheckpoint(torchZip(big, {}), 'p.pth'), 'p.pth', 'unknown persistent id');
  const deep = new PickleWriter();
  for (let i = 0; i < 500; i++) deep.raw(0x5d);
  for (let i = 0; i < 499; i++) deep.raw(0x61);
  throwsNaming(() => readTorchCheckpoint(torchZip(deep.raw(0x51).bytes(), {}), 'p.pth'), 'p.pth', 'unknown persistent id', 'a list of 1 item');
});

test('APPENDS of 200,000 items works (no push(...items)); nesting past the limit is refused', () => {
  const w = new PickleWriter().raw(0x5d, 0x28);
  for (let i = 0; i < 200_000; i++) w.raw(0x4b, i & 0xff);
  const { value } = unpickle(w.raw(0x65).bytes(), 0, 'a.pkl', { persistentLoad: () => null, call: () => undefined });
  assert.is((value as unknown[]).length, 200_000);
  const deep = new PickleWriter();
  // MAX + 2 lists appended into each other: the outermost is MAX + 1 deep.
  for (let i = 0; i < MAX_PICKLE_DEPTH + 2; i++) deep.raw(0x5d);
  for (let i = 0; i < MAX_PICKLE_DEPTH + 1; i++) deep.raw(0x61);
  throwsNaming(() => unpickle(deep.bytes(), 0, 'd.pkl', { persistentLoad: () => null, call: () => undefined }), 'd.pkl', `nested more than ${MAX_PICKLE_DEPTH}`);
  const marks = new PickleWriter();
  for (let i = 0; i < 1_000_000; i++) marks.raw(0x28);
  const started = Date.now();
  throwsNaming(() => unpickle(marks.bytes(), 0, 'm.pkl', { persistentLoad: () => null, call: () => undefined }), 'm.pkl', 'MARKs nested');
  assert.ok(Date.now() - started < 2000);
});

test("a state_dict key ending in '.qscale' is refused by convert in every format", () => {
  const p = new PickleWriter().dict([['w.qscale', (w) => w.tensor({ type: 'FloatStorage', key: '0', numel: 4, shape: [4], stride: [1] })]]).bytes();
  const bytes = torchZip(p, { 0: f32Bytes([1, 2, 3, 4]) });
  for (const format of ['keep', 'f32', 'f16', 'int8'] as const) {
    throwsNaming(() => convertCheckpoint(bytes, { path: 'q.pth', sha256: '0' }, { format }), 'q.pth', "'w.qscale'", 'reserved');
  }
});

test("the weight source hides only an int8 tensor's scale; another '.qscale' name stays visible", () => {
  const file = parseSafetensors(serializeSafetensors([
    { name: 'conv.weight', dtype: 'I8', shape: [2, 1], data: Int8Array.of(2, -4) },
    { name: 'conv.weight.qscale', dtype: 'F32', shape: [2], data: Float32Array.of(0.5, 0.25) },
    { name: 'odd.qscale', dtype: 'F32', shape: [1], data: Float32Array.of(3) },
    { name: 'f.weight', dtype: 'F32', shape: [1], data: Float32Array.of(1) },
    { name: 'f.weight.qscale', dtype: 'F32', shape: [1], data: Float32Array.of(7) },
  ]), 'w.safetensors');
  const source = safetensorsWeightSource(file);
  assert.equal(source.names().sort(), ['conv.weight', 'f.weight', 'f.weight.qscale', 'odd.qscale']);
  assert.equal([...source.float32('conv.weight')], [1, -1]);
  assert.equal([...source.float32('odd.qscale')], [3]);
});

test.run();
