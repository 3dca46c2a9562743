// The memory network against the original PyTorch code's float64 outputs
// (../shared/reference), and its API's behaviour on bad input. QAMN runs the whole
// reference sequence; STM reuses QAMN's encoders (the same weights, checked) and runs
// from its decoder on. STM's own full sequence: test/full/stm-conformance.test.ts
// (`npm run test:full`) and `npm run conformance -- ../shared/reference --model stm`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { formatTable } from '../src/conformance/compare.ts';
import { memoryNetworkPairConformance } from '../src/conformance/memory-network.ts';
import { readSafetensors } from '../src/io/safetensors-node.ts';
import { MemoryNetwork } from '../src/networks/mem3d/memory-network.ts';
import { WeightMismatchError } from '../src/weights/loader.ts';
import { synthWeightSource, type SynthManifest } from '../src/weights/safetensors-source.ts';
import type { WeightSource } from '../src/weights/source.ts';
import { testRuntime } from './_lib/gpu.ts';
import { uniform } from './_lib/random.ts';

const REF = new URL('../../shared/reference/', import.meta.url).pathname;
const REQUIRED = ['k0', 'v0', 'q_key1', 'mem1', 'decoder_logit1', 'ps1', 'k1', 'v1', 'ps2'];

function synth(model: 'qamn' | 'stm'): WeightSource {
  const manifest = JSON.parse(readFileSync(`${REF}${model}_manifest.json`, 'utf8')) as SynthManifest;
  return synthWeightSource(manifest, readSafetensors(`${REF}${model}_small.safetensors`));
}

for (const model of ['qamn', 'stm'] as const) {
  test(`${model}: the tensors the code asks for are exactly the reference manifest's`, () => {
    const manifest = JSON.parse(readFileSync(`${REF}${model}_manifest.json`, 'utf8')) as SynthManifest;
    // Encoder_[MQ].mean/std are registered buffers the forward pass never reads.
    const want = manifest.tensors.filter((t) => !/^Encoder_[MQ]\.(mean|std)$/.test(t.name)).map((t) => `${t.name} [${t.shape}]`).sort();
    const got = MemoryNetwork.expectedTensors(model).map((t) => `${t.name} [${t.shape}]`).sort();
    assert.equal(got, want);
  });
}

test("qamn fully, then stm from its decoder on (sharing qamn's encoders): steps 1 and 2 match the original PyTorch outputs", async () => {
  const rt = await testRuntime();
  const reports = await memoryNetworkPairConformance(rt, REF);
  for (const report of [reports.qamn, reports.stm]) {
    const model = report.model;
    console.log(`\n${model} (${report.seconds.toFixed(0)} s for both):\n${formatTable(report.rows)}`);
    const compared = report.rows.map((r) => r.tensor);
    for (const name of [...REQUIRED, ...(model === 'qamn' ? ['quality1', 'quality2'] : [])]) assert.ok(compared.includes(name), `${model}: ${name} was compared`);
    assert.equal(report.skipped, [], `${model}: no reference tensor skipped`);
    assert.equal(report.rows.filter((r) => !r.pass).map((r) => r.tensor), [], `${model}: every tensor within tolerance`);
  }
});

test('loading reports every missing, mis-shaped and unexpected tensor at once', async () => {
  const rt = await testRuntime();
  const base = synth('stm');
  const broken: WeightSource = {
    description: 'broken-stm.safetensors',
    names: () => [...base.names().filter((n) => n !== 'Decoder.pred2.bias'), 'Decoder.extra.weight'],
    has: (n) => n !== 'Decoder.pred2.bias' && (n === 'Decoder.extra.weight' || base.has(n)),
    shape: (n) => (n === 'Decoder.extra.weight' ? [1] : n === 'KV_Q_r4.Key.bias' ? [64] : base.shape(n)),
    float32: (n) => (n === 'Decoder.extra.weight' ? new Float32Array(1) : n === 'KV_Q_r4.Key.bias' ? new Float32Array(64) : base.float32(n)),
  };
  const before = rt.memoryStats().liveBytes;
  try {
    MemoryNetwork.load(rt, broken, { variant: 'stm' });
    assert.unreachable('load should throw');
  } catch (e) {
    assert.instance(e, WeightMismatchError);
    const msg = (e as Error).message;
    assert.match(msg, /broken-stm\.safetensors/);
    assert.match(msg, /missing \(1\): Decoder\.pred2\.bias \[2\]/);
    assert.match(msg, /mis-shaped \(1\): KV_Q_r4\.Key\.bias: expected \[128\], got \[64\]/);
    assert.match(msg, /unexpected \(1\): Decoder\.extra\.weight/);
  }
  assert.is(rt.memoryStats().liveBytes, before, 'a failed load releases what it uploaded');
});

test('qamn runs at a smaller multiple of 16 and rejects other sizes, empty and disposed memory', async () => {
  const rt = await testRuntime();
  const net = MemoryNetwork.load(rt, synth('qamn'), { variant: 'qamn' });
  const frame = rt.upload([1, 64, 48, 3], uniform(64 * 48 * 3, 5, -2, 2));
  const mask = rt.upload([1, 64, 48, 1], uniform(64 * 48, 6, 0, 1));
  const entry = net.memorize(frame, mask);
  assert.equal(entry.key.shape, [1, 4, 3, 128]);
  assert.is(entry.bytes, 4 * 3 * (128 + 512) * 4);
  // The same mask as a one-hot pair (background, object) gives the same memory.
  const m = await mask.read();
  const pair = rt.upload([1, 64, 48, 2], Float32Array.from({ length: 2 * m.length }, (_, i) => (i % 2 ? m[i >> 1] : 1 - m[i >> 1])));
  const fromPair = net.memorize(frame, pair);
  assert.equal(Array.from(await fromPair.key.read()), Array.from(await entry.key.read()), 'one-hot pair reads the object channel');
  fromPair.dispose();
  pair.dispose();
  const out = net.segment(frame, [entry, entry]);
  assert.equal(out.probability.shape, [1, 64, 48, 1]);
  const ps = await out.probability.read();
  assert.ok(ps.every((p) => p >= 0 && p <= 1), 'probabilities in [0, 1]');
  const q = (await out.quality!.read())[0];
  assert.ok(q > 0 && q < 1, `quality ${q} in (0, 1)`);
  out.dispose();

  // The query encoder's features in place of the frame: the same result, and the encoding outlives it.
  const query = net.encodeQuery(frame);
  const viaQuery = net.segment(query, [entry, entry]);
  assert.equal(Array.from(await viaQuery.probability.read()), Array.from(ps), 'segment(encodeQuery(frame)) = segment(frame)');
  viaQuery.dispose();
  assert.not.ok(query.disposed, 'disposing the result leaves the encoding');
  query.dispose();
  assert.throws(() => net.segment(query, [entry]), /query encoding was disposed/);

  const odd = rt.upload([1, 40, 40, 3], new Float32Array(40 * 40 * 3));
  assert.throws(() => net.segment(odd, [entry]), /multiples of 16/);
  assert.throws(() => net.segment(frame, []), /memory is empty/);
  assert.throws(() => net.memorize(frame, odd), /mask must be \[1, 64, 48, 1\]/);
  entry.dispose();
  assert.throws(() => net.segment(frame, [entry]), /disposed/);
  for (const t of [frame, mask, odd]) t.dispose();
  net.dispose();
});

test.run();
