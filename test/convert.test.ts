// The weight converter on the real torch.save files of ../shared/reference/checkpoints
// (values known from the synth-v1 formulas), on hand-built files for the cases those
// lack, and on broken input. No GPU needed: validation uses the networks' specs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertCommand } from '../src/cli/convert.ts';
import {
  convertCheckpoint, quantizePerOutputChannel, validateStateDict, ValidationError, type ConvertFormat, type ConvertOptions,
} from '../src/convert/convert.ts';
import { CheckpointError } from '../src/convert/errors.ts';
import { expectedTensorsFor } from '../src/convert/network-specs.ts';
import { findStateDict, readTorchCheckpoint, TorchTensor } from '../src/convert/torch-checkpoint.ts';
import { decodeF16, encodeBF16, encodeF16, decodeBF16 } from '../src/io/float16.ts';
import { loadSafetensors, readSafetensors } from '../src/io/safetensors-node.ts';
import { MemoryNetwork } from '../src/networks/mem3d/memory-network.ts';
import { safetensorsWeightSource, synthWeightSource, type SynthManifest } from '../src/weights/safetensors-source.ts';
import { synthUniform, synthWeight } from '../src/weights/synth-v1.ts';
import { f32Bytes, PickleWriter, storedZip, torchLegacy, torchZip } from './_lib/torch-save.ts';

const REF = new URL('../../shared/reference/', import.meta.url).pathname;
const CKPT = join(REF, 'checkpoints');
const KEYS: string[] = JSON.parse(readFileSync(join(REF, 'torch_reference_log.json'), 'utf8')).ckpt.keys;
const NAMES = KEYS.map((k) => k.replace(/^module\./, ''));
const WEIGHTS = NAMES.filter((n) => !n.endsWith('.num_batches_tracked'));

const FILES = [
  { file: 'ckpt_legacy.pth', serialization: 'legacy', location: 'state_dict', prefix: 'module.', dtype: 'F32' },
  { file: 'ckpt_zip.pth', serialization: 'zip', location: 'state_dict', prefix: 'module.', dtype: 'F32' },
  { file: 'ckpt_plain_fp16.pth', serialization: 'zip', location: '', prefix: '', dtype: 'F16' },
] as const;

const f32 = Math.fround;

/** The values the reference README gives (f32 arithmetic, as PyTorch's f32 tensors compute them). */
function expectedValues(name: string, shape: readonly number[]): Float32Array {
  if (shape.length >= 2) return synthWeight(name, shape);
  const u = synthUniform(name, shape.reduce((p, d) => p * d, 1));
  const layer = name.slice(0, name.lastIndexOf('.'));
  const batchNorm = NAMES.includes(`${layer}.running_mean`);
  if (name.endsWith('.running_mean')) return u.map(() => 0);
  if (name.endsWith('.running_var')) return u.map(() => 1);
  if (batchNorm && name.endsWith('.weight')) return u.map((x) => f32(0.5 + f32(0.25 * x)));
  return u.map((x) => f32(f32(batchNorm ? 0.1 : 0.05) * x));
}

const read = (file: string) => new Uint8Array(readFileSync(join(CKPT, file)));
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function convertFile(file: string, options: ConvertOptions = {}) {
  const bytes = read(file);
  return convertCheckpoint(bytes, { path: join(CKPT, file), sha256: sha256(bytes) }, options);
}

/** Writes a conversion into a fresh folder; returns the index path and a cleanup. */
function writeOut(conv: ReturnType<typeof convertCheckpoint>): { index: string; dir: string; done(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'mem3d-convert-'));
  for (const s of conv.output.shards) writeFileSync(join(dir, s.fileName), s.bytes);
  writeFileSync(join(dir, conv.output.indexFileName), conv.output.indexJson);
  return { index: join(dir, conv.output.indexFileName), dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

function throwsCheckpointError(fn: () => unknown, ...parts: (string | RegExp)[]): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, CheckpointError, String(e));
    const msg = (e as Error).message;
    for (const p of parts) assert.ok(typeof p === 'string' ? msg.includes(p) : p.test(msg), `'${msg}' lacks ${p}`);
    return;
  }
  assert.unreachable(`no error; expected one mentioning ${parts.join(', ')}`);
}

for (const f of FILES) {
  test(`${f.file}: ${f.serialization} format read, state_dict found, every value equals the reference formula`, () => {
    const ckpt = readTorchCheckpoint(read(f.file), f.file);
    assert.is(ckpt.serialization, f.serialization);
    const sd = findStateDict(ckpt);
    assert.is(sd.location, f.location);
    assert.is(sd.strippedPrefix, f.prefix);
    assert.equal([...sd.tensors.keys()], NAMES);
    for (const [name, t] of sd.tensors) {
      const bytes = t.bytes(name);
      if (name.endsWith('.num_batches_tracked')) {
        assert.equal(t.shape, []);
        continue;
      }
      assert.is(t.dtype, f.dtype, name);
      const want = expectedValues(name, t.shape);
      const got = f.dtype === 'F32' ? new Float32Array(bytes.buffer) : new Uint16Array(bytes.buffer);
      const wantStored = f.dtype === 'F32' ? want : encodeF16(want);
      const bad = got.findIndex((v, i) => v !== wantStored[i]);
      assert.is(bad, -1, `${name}[${bad}]: ${got[bad]} vs ${wantStored[bad]}`);
    }
    if (f.location) {
      const root = ckpt.root as Map<string, unknown>;
      assert.is(root.get('epoch'), 59);
      assert.is(root.get('loss'), 0.4066);
    }
  });
}

const FORMATS: ConvertFormat[] = ['keep', 'f32', 'f16', 'int8'];

for (const f of FILES) {
  for (const format of FORMATS) {
    test(`${f.file} -> ${format} -> loadSafetensors + safetensorsWeightSource: the same tensors`, () => {
      const conv = convertFile(f.file, { format, maxShardBytes: 40_000 });
      assert.ok(conv.output.shards.length > 1, 'small shards force several files');
      assert.equal(conv.converted, WEIGHTS);
      assert.equal(conv.dropped, NAMES.filter((n) => n.endsWith('.num_batches_tracked')));
      const out = writeOut(conv);
      try {
        const reader = loadSafetensors(out.index);
        const source = safetensorsWeightSource(reader);
        assert.equal(source.names().sort(), [...WEIGHTS].sort());
        assert.is(reader.metadata.source, f.file);
        assert.is(reader.metadata.source_sha256, sha256(read(f.file)));
        assert.is(reader.metadata.format, format === 'int8' ? 'int8-per-output-channel' : format);
        for (const name of WEIGHTS) {
          const shape = source.shape(name);
          const exact = expectedValues(name, shape);
          const stored = f.dtype === 'F16' ? decodeF16(encodeF16(exact)) : exact;
          const got = source.float32(name);
          const dtype = reader.info(name).dtype;
          if (format === 'int8' && shape.length >= 2) {
            assert.is(dtype, 'I8');
            const scale = reader.float32(`${name}.qscale`);
            const per = got.length / shape[0];
            for (let o = 0; o < shape[0]; o++) {
              const row = stored.subarray(o * per, (o + 1) * per);
              assert.is(scale[o], f32(Math.max(...row.map(Math.abs)) / 127), `${name} scale ${o}`);
              for (let i = 0; i < per; i++) {
                // Nearest multiple of the scale, then the f32 rounding of q * scale.
                const err = Math.abs(got[o * per + i] - row[i]);
                assert.ok(err <= scale[o] / 2 + (Math.abs(row[i]) + scale[o]) * 2 ** -24, `${name}[${o * per + i}]: error ${err} > scale/2 ${scale[o] / 2}`);
              }
            }
            continue;
          }
          const want = format === 'f16' ? decodeF16(encodeF16(stored)) : stored;
          assert.is(dtype, { keep: f.dtype, f32: 'F32', f16: 'F16', int8: 'F32' }[format], name);
          const bad = got.findIndex((v, i) => v !== want[i]);
          assert.is(bad, -1, `${name}[${bad}]: ${got[bad]} vs ${want[bad]}`);
        }
      } finally {
        out.done();
      }
    });
  }
}

test('converting the same file twice gives identical bytes; legacy and zip give the same tensors', () => {
  const a = convertFile('ckpt_legacy.pth', { format: 'int8', maxShardBytes: 40_000 });
  const b = convertFile('ckpt_legacy.pth', { format: 'int8', maxShardBytes: 40_000 });
  assert.is(a.output.indexJson, b.output.indexJson);
  assert.equal(a.output.shards.map((s) => s.fileName), b.output.shards.map((s) => s.fileName));
  a.output.shards.forEach((s, i) => assert.ok(Buffer.from(s.bytes).equals(b.output.shards[i].bytes), s.fileName));
  const z = convertFile('ckpt_zip.pth', { format: 'int8', maxShardBytes: 40_000 });
  const [ra, rz] = [a, z].map((c) => writeOut(c));
  try {
    const [la, lz] = [ra, rz].map((o) => loadSafetensors(o.index));
    assert.equal(la.names(), lz.names());
    for (const n of la.names()) assert.ok(Buffer.from(la.raw(n)).equals(lz.raw(n)), n);
    assert.is.not(la.metadata.source_sha256, lz.metadata.source_sha256);
  } finally {
    ra.done();
    rz.done();
  }
});

test('validation: the reference checkpoint is a subset of qamn; every missing tensor is listed, partial output only when allowed', () => {
  const spec = expectedTensorsFor('qamn');
  const missing = MemoryNetwork.expectedTensors('qamn').filter((t) => !WEIGHTS.includes(t.name));
  try {
    convertFile('ckpt_legacy.pth', { spec });
    assert.unreachable('a partial checkpoint must not convert silently');
  } catch (e) {
    assert.instance(e, ValidationError);
    const err = e as ValidationError;
    assert.equal(err.report.missing, missing);
    assert.equal(err.report.misshaped, []);
    assert.equal(err.report.unexpected, []);
    assert.ok(err.message.startsWith(join(CKPT, 'ckpt_legacy.pth')));
    for (const t of missing) assert.ok(err.message.includes(`missing     ${t.name} [${t.shape.join(', ')}]`), t.name);
  }
  const conv = convertFile('ckpt_legacy.pth', { spec, allowPartial: true });
  assert.is(conv.metadata.validation, `partial: ${missing.length} missing, 0 mis-shaped, 0 unexpected`);
  assert.is(conv.metadata.model, 'qamn');
  assert.equal(conv.converted, WEIGHTS);
});

test('validation against stm: the quality head fc2 is unexpected', () => {
  const report = convertFile('ckpt_zip.pth', { spec: expectedTensorsFor('stm'), allowPartial: true }).report!;
  assert.equal(report.unexpected, [{ name: 'fc2.weight', shape: [1, 1000] }, { name: 'fc2.bias', shape: [1] }]);
  assert.is(report.missing.length, MemoryNetwork.expectedTensors('stm').length - (WEIGHTS.length - 2));
});

test('validation: a complete state_dict passes, unused buffers are accepted, a wrong shape is named', () => {
  for (const model of ['qamn', 'stm'] as const) {
    const spec = expectedTensorsFor(model);
    const shapes = new Map(MemoryNetwork.expectedTensors(model).map((t) => [t.name, t.shape]));
    shapes.set('Encoder_M.mean', [1, 3, 1, 1]).set('Encoder_Q.std', [1, 3, 1, 1]);
    const ok = validateStateDict(shapes, spec);
    assert.equal([ok.missing, ok.misshaped, ok.unexpected], [[], [], []], model);
    assert.equal(ok.ignored, ['Encoder_M.mean', 'Encoder_Q.std']);
    shapes.set('Decoder.pred2.weight', [3, 256, 3, 3]).set('extra.weight', [2]);
    shapes.delete('KV_M_r4.Key.bias');
    const bad = validateStateDict(shapes, spec);
    assert.equal(bad.misshaped, [{ name: 'Decoder.pred2.weight', expected: [2, 256, 3, 3], got: [3, 256, 3, 3] }]);
    assert.equal(bad.missing, [{ name: 'KV_M_r4.Key.bias', shape: [128] }]);
    assert.equal(bad.unexpected, [{ name: 'extra.weight', shape: [2] }]);
  }
});

test('a full STM checkpoint laid out like STM_weights.pth (legacy, module. prefixes, mean/std buffers) validates complete, bit-exact', () => {
  const manifest: SynthManifest = JSON.parse(readFileSync(join(REF, 'stm_manifest.json'), 'utf8'));
  const synth = synthWeightSource(manifest, readSafetensors(join(REF, 'stm_small.safetensors')));
  const p = new PickleWriter().emptyDict().mark();
  const storages: { key: string; numel: number; bytes: Uint8Array }[] = [];
  const add = (name: string, type: string, shape: number[], bytes: Uint8Array, numel: number) => {
    const key = String(storages.length);
    const stride = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
    p.str(`module.${name}`).tensor({ type, key, numel, shape, stride, legacy: true });
    storages.push({ key, numel, bytes });
  };
  for (const t of manifest.tensors) {
    add(t.name, 'FloatStorage', t.shape, f32Bytes(synth.float32(t.name)), t.shape.reduce((a, b) => a * b, 1));
    if (t.name.endsWith('.running_var')) add(t.name.replace('running_var', 'num_batches_tracked'), 'LongStorage', [], new Uint8Array(8), 1);
  }
  const conv = convertCheckpoint(torchLegacy(p.setItems().bytes(), storages), { path: 'STM_like.pth', sha256: '' }, { spec: expectedTensorsFor('stm') });
  assert.is(conv.metadata.validation, 'complete');
  assert.equal(conv.report!.ignored, ['Encoder_M.mean', 'Encoder_M.std', 'Encoder_Q.mean', 'Encoder_Q.std']);
  const out = writeOut(conv);
  try {
    const loaded = safetensorsWeightSource(loadSafetensors(out.index));
    const want = MemoryNetwork.expectedTensors('stm');
    assert.equal(loaded.names().sort(), want.map((t) => t.name).sort());
    const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    for (const t of want) assert.ok(bits(loaded.float32(t.name)).equals(bits(synth.float32(t.name))), t.name);
  } finally {
    out.done();
  }
});

test('iog4 / iog5 specs: the reference manifest, with 5 input channels on the first conv for iog5', () => {
  const manifest: { tensors: { name: string; shape: number[] }[] } = JSON.parse(readFileSync(join(REF, 'iog_manifest.json'), 'utf8'));
  const iog4 = expectedTensorsFor('iog4').tensors;
  const iog5 = expectedTensorsFor('iog5').tensors;
  const text = (ts: readonly { name: string; shape: number[] }[]) => ts.map((t) => `${t.name} [${t.shape}]`).sort();
  assert.equal(text(iog4), text(manifest.tensors));
  const differ = iog5.filter((t, i) => t.shape.join() !== iog4[i].shape.join() || t.name !== iog4[i].name);
  assert.equal(differ, [{ name: 'backbone.conv1.weight', shape: [64, 5, 7, 7] }]);
});

test('int8 rounding: scale = max|w| / 127 per output channel, ties to even, zero channels stay zero', () => {
  const w = Float32Array.from([127, 0.5, 1.5, 2.5, -0.5, -126.5, 0, 0, 0, 0, 0, 0, -2, 1, 0.5, 0, 0, 0]);
  const { q, scale } = quantizePerOutputChannel(w, [3, 6]);
  assert.equal([...scale], [1, 0, f32(2 / 127)]);
  assert.equal([...q.subarray(0, 6)], [127, 0, 2, 2, -0, -126]);
  assert.equal([...q.subarray(6, 12)], [0, 0, 0, 0, 0, 0]);
  assert.equal([...q.subarray(12)], [-127, 64, 32, 0, 0, 0]);
  assert.throws(() => quantizePerOutputChannel(Float32Array.from([1, NaN]), [1, 2], 'w'), /'w' output channel 0 holds a non-finite/);
});

// Hand-built files for what the reference files do not exercise.

const STORAGE = Float32Array.from({ length: 12 }, (_, i) => i + 0.5);

function stridedPickle(legacy: boolean): Uint8Array {
  const p = new PickleWriter();
  // A transposed view [3, 2] (stride 1, 3), and a [2, 2] view at element 6 with stride (1, 2), both of one storage.
  return p.dict([
    ['args', (w) => w.global('argparse', 'Namespace').emptyTuple().raw(0x81).dict([['lr', (x) => x.int(1)]]).build()],
    ['model', (w) => w.global('collections', 'OrderedDict').emptyTuple().reduce().mark()
      .str('module.t').tensor({ type: 'FloatStorage', key: '0', numel: 12, shape: [3, 2], stride: [1, 3], legacy })
      .str('module.v').tensor({ type: 'FloatStorage', key: '0', numel: 12, offset: 6, shape: [2, 2], stride: [1, 2], legacy })
      .str('module.p').global('torch._utils', '_rebuild_parameter').mark()
      .tensor({ type: 'BFloat16Storage', key: '1', numel: 3, shape: [3], stride: [1], legacy }).raw(0x88)
      .global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce()
      .setItems().dict([['_metadata', (x) => x.raw(0x4e)]]).build()],
  ]).bytes();
}

const BF16 = encodeBF16(Float32Array.from([1.5, -2.25, 3e38]));

for (const legacy of [false, true]) {
  test(`${legacy ? 'legacy' : 'zip'} file built by hand: strided views, bf16, parameters, OrderedDict state, foreign objects`, () => {
    const pickle = stridedPickle(legacy);
    const bytes = legacy
      ? torchLegacy(pickle, [{ key: '0', numel: 12, bytes: f32Bytes(STORAGE) }, { key: '1', numel: 3, bytes: new Uint8Array(BF16.buffer) }])
      : torchZip(pickle, { 0: f32Bytes(STORAGE), 1: new Uint8Array(BF16.buffer) });
    const sd = findStateDict(readTorchCheckpoint(bytes, 'hand.pth'));
    assert.is(sd.location, 'model');
    assert.equal([...sd.tensors.keys()], ['t', 'v', 'p']);
    const view = (name: string, rows: number, cols: number, offset: number, s0: number, s1: number) => {
      const t = sd.tensors.get(name)!;
      assert.equal(t.shape, [rows, cols]);
      const want = Array.from({ length: rows * cols }, (_, k) => STORAGE[offset + Math.floor(k / cols) * s0 + (k % cols) * s1]);
      assert.equal([...new Float32Array(t.bytes(name).buffer)], want, name);
    };
    view('t', 3, 2, 0, 1, 3);
    view('v', 2, 2, 6, 1, 2);
    const keep = convertCheckpoint(bytes, { path: 'hand.pth', sha256: '0' }, { format: 'keep' });
    const out = writeOut(keep);
    try {
      const reader = loadSafetensors(out.index);
      assert.is(reader.info('p').dtype, 'BF16');
      assert.equal([...reader.float32('p')], [...decodeBF16(BF16)]);
    } finally {
      out.done();
    }
    throwsCheckpointError(() => convertCheckpoint(bytes, { path: 'hand.pth', sha256: '0' }, { format: 'f16' }), 'hand.pth', "tensor 'p'", 'beyond the f16 range');
  });
}

test('a view reaching outside its storage is refused, naming the tensor', () => {
  const p = new PickleWriter().dict([['w', (w) => w.tensor({ type: 'FloatStorage', key: '0', numel: 12, offset: 4, shape: [3, 3], stride: [3, 1] })]]).bytes();
  const sd = findStateDict(readTorchCheckpoint(torchZip(p, { 0: f32Bytes(STORAGE) }), 'view.pth'));
  throwsCheckpointError(() => sd.tensors.get('w')!.bytes('w'), 'view.pth', "tensor 'w'", 'outside its storage of 12 elements');
});

test('a state_dict entry that is not a tensor, and a file without a state_dict, are named', () => {
  const odd = new PickleWriter().dict([['a', (w) => w.tensor({ type: 'FloatStorage', key: '0', numel: 12, shape: [12], stride: [1] })], ['b', (w) => w.str('x')]]).bytes();
  throwsCheckpointError(() => findStateDict(readTorchCheckpoint(torchZip(odd, { 0: f32Bytes(STORAGE) }), 'odd.pth')), 'odd.pth', "'b' is a string, not a tensor");
  const none = new PickleWriter().dict([['epoch', (w) => w.int(3)]]).bytes();
  throwsCheckpointError(() => findStateDict(readTorchCheckpoint(torchZip(none, {}), 'none.pth')), 'none.pth', 'no state_dict found', 'epoch');
  const storage = new PickleWriter().dict([['w', (w) => w.tensor({ type: 'ShortStorage', key: '0', numel: 1, shape: [1], stride: [1] })]]).bytes();
  throwsCheckpointError(() => readTorchCheckpoint(torchZip(storage, { 0: new Uint8Array(2) }), 's.pth'), 's.pth', 'torch.ShortStorage is not supported');
});

// Broken input: every error names the file.

test('truncated files', () => {
  const legacy = read('ckpt_legacy.pth');
  throwsCheckpointError(() => convertCheckpoint(legacy.subarray(0, legacy.length - 100), { path: 'cut.pth', sha256: '' }), 'cut.pth', 'truncated');
  throwsCheckpointError(() => convertCheckpoint(legacy.subarray(0, 2000), { path: 'cut.pth', sha256: '' }), 'cut.pth', 'pickle at byte', 'truncated');
  const zip = read('ckpt_zip.pth');
  throwsCheckpointError(() => convertCheckpoint(zip.subarray(0, zip.length / 2), { path: 'cut.pth', sha256: '' }), 'cut.pth', 'no end-of-central-directory record');
});

test('a pickle opcode the converter does not support', () => {
  // INT (text protocol 0): `I1\n`
  const pickle = new PickleWriter().dict([['w', (w) => w.raw(0x49, 0x31, 0x0a)]]).bytes();
  throwsCheckpointError(() => readTorchCheckpoint(torchZip(pickle, {}), 'op.pth'), 'op.pth (archive/data.pkl)', 'unsupported pickle opcode 0x49 (INT)');
  throwsCheckpointError(() => readTorchCheckpoint(torchLegacy(pickle, []), 'op-legacy.pth'), 'op-legacy.pth', 'unsupported pickle opcode 0x49 (INT)');
});

test('zip archives that are not torch.save files, damaged or compressed', () => {
  throwsCheckpointError(() => readTorchCheckpoint(storedZip([['a/readme.txt', new Uint8Array(3)]]), 'plain.zip'), 'plain.zip', "without '<archive>/data.pkl'", 'a/readme.txt');
  const pickle = new PickleWriter().dict([['w', (w) => w.tensor({ type: 'FloatStorage', key: '0', numel: 12, shape: [12], stride: [1] })]]).bytes();
  throwsCheckpointError(() => readTorchCheckpoint(torchZip(pickle, {}), 'nodata.pth'), 'nodata.pth', "storage record 'archive/data/0' is missing");
  const good = torchZip(pickle, { 0: f32Bytes(STORAGE) });
  const flipped = good.slice();
  flipped[good.indexOf(0x58, 100) + 60] ^= 1; // a byte of data.pkl
  throwsCheckpointError(() => readTorchCheckpoint(flipped, 'crc.pth'), 'crc.pth', 'fails its CRC check');
  throwsCheckpointError(() => readTorchCheckpoint(storedZip([['a/data.pkl', pickle]], 8), 'deflate.pth'), 'deflate.pth', 'compressed (method 8)');
  throwsCheckpointError(() => readTorchCheckpoint(new TextEncoder().encode('hello world'), 'text.pth'), 'text.pth', 'not a PyTorch checkpoint');
});

// The command line.

function runCli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  return convertCommand(argv, { log: (m) => out.push(m), error: (m) => err.push(m) }).then((code) => ({ code, out: out.join('\n'), err: err.join('\n') }));
}

test('mem3d convert: help, usage errors, a validation failure writes nothing, a partial conversion when allowed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mem3d-cli-'));
  try {
    const ckpt = join(CKPT, 'ckpt_legacy.pth');
    assert.is((await runCli(['--help'])).code, 0);
    for (const [argv, msg] of [
      [[ckpt], '--out <dir> is required'],
      [[ckpt, '--out', dir, '--model', 'unet'], "--model must be one of qamn, stm, iog4, iog5, got 'unet'"],
      [[ckpt, '--out', dir, '--format', 'f8'], '--format must be one of'],
      [[ckpt, '--out', dir, '--max-shard-bytes', '1e3'], '--max-shard-bytes must be a positive integer'],
      [['--out', dir], 'give exactly one checkpoint file'],
      [[ckpt, '--out', dir, '--bogus'], 'bogus'],
    ] as const) {
      const r = await runCli([...argv]);
      assert.is(r.code, 2, argv.join(' '));
      assert.ok(r.err.startsWith('mem3d convert: ') && r.err.includes(msg) && !r.err.includes('\n'), r.err);
    }
    const missing = await runCli([join(dir, 'nope.pth'), '--out', dir]);
    assert.is(missing.code, 1);
    assert.ok(missing.err.includes('nope.pth'), missing.err);
    const failed = await runCli([ckpt, '--out', join(dir, 'stm'), '--model', 'stm']);
    assert.is(failed.code, 1);
    assert.ok(failed.err.includes('unexpected  fc2.weight [1, 1000]'), failed.err);
    assert.equal(readdirSync(dir), []);
    const ok = await runCli([ckpt, '--out', join(dir, 'qamn'), '--model', 'qamn', '--format', 'f16', '--allow-partial']);
    assert.is(ok.code, 0, ok.err);
    assert.ok(ok.out.includes('WARNING: partial'), ok.out);
    assert.equal(readdirSync(join(dir, 'qamn')), ['qamn-00001-of-00001.safetensors', 'qamn.safetensors.index.json']);
    const reader = loadSafetensors(join(dir, 'qamn', 'qamn.safetensors.index.json'));
    assert.is(reader.metadata.model, 'qamn');
    assert.is(reader.metadata.format, 'f16');
    assert.is(reader.metadata.allow_partial, 'true');
    assert.is(reader.metadata.slice_layout, 'rows-first-axis', 'the default: the Mem3D code\'s slices');
    // Again with more, smaller shards, then with one: --overwrite leaves no shard of the earlier conversion behind.
    const many = await runCli([ckpt, '--out', join(dir, 'qamn'), '--model', 'qamn', '--allow-partial', '--overwrite', '--max-shard-bytes', '1000']);
    assert.is(many.code, 0, many.err);
    const shards = readdirSync(join(dir, 'qamn')).filter((f) => f.endsWith('.safetensors'));
    assert.ok(shards.length > 2 && shards.every((f) => f.endsWith(`-of-${String(shards.length).padStart(5, '0')}.safetensors`)), shards.join(', '));
    assert.is((await runCli([ckpt, '--out', join(dir, 'qamn'), '--model', 'qamn', '--allow-partial', '--overwrite'])).code, 0);
    assert.equal(readdirSync(join(dir, 'qamn')), ['qamn-00001-of-00001.safetensors', 'qamn.safetensors.index.json']);
    const transposed = await runCli([ckpt, '--out', join(dir, 'transposed'), '--slice-layout', 'rows-second-axis']);
    assert.is(transposed.code, 0, transposed.err);
    assert.is(loadSafetensors(join(dir, 'transposed', 'weights.safetensors.index.json')).metadata.slice_layout, 'rows-second-axis');
    const badLayout = await runCli([ckpt, '--out', join(dir, 'bad'), '--slice-layout', 'columns']);
    assert.is(badLayout.code, 2);
    assert.ok(badLayout.err.includes("--slice-layout must be one of rows-first-axis, rows-second-axis, got 'columns'"), badLayout.err);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('slice_layout metadata: rows-first-axis by default, as given otherwise, an unknown layout refused', () => {
  assert.is(convertFile('ckpt_zip.pth').metadata.slice_layout, 'rows-first-axis');
  const conv = convertFile('ckpt_zip.pth', { sliceLayout: 'rows-second-axis' });
  const out = writeOut(conv);
  try {
    assert.is(safetensorsWeightSource(loadSafetensors(out.index)).metadata?.slice_layout, 'rows-second-axis', 'the weight source exposes it to the networks');
  } finally {
    out.done();
  }
  assert.throws(() => convertFile('ckpt_zip.pth', { sliceLayout: 'columns' as never }), /convert: slice layout 'columns' is not one of rows-first-axis, rows-second-axis/);
});

test('TorchTensor materialises zero-size tensors', () => {
  const p = new PickleWriter().dict([['e', (w) => w.tensor({ type: 'FloatStorage', key: '0', numel: 0, shape: [0, 3], stride: [3, 1] })]]).bytes();
  const t = findStateDict(readTorchCheckpoint(torchZip(p, { 0: new Uint8Array(0) }), 'e.pth')).tensors.get('e')!;
  assert.instance(t, TorchTensor);
  assert.is(t.bytes('e').length, 0);
});

test.run();
