// The IOG / DEXTR network against the original PyTorch code's float64 outputs
// (../shared/reference/iog_*), the shipped int8 weights end to end (robot clicks,
// crop, network, paste back), and bad input.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { formatTable } from '../src/conformance/compare.ts';
import { extremePointInput, maskFromLogits } from '../src/interaction/extreme-points.ts';
import { extremePointsOfMask } from '../src/interaction/robot.ts';
import { dice } from '../src/eval/metrics.ts';
import { decodeGrayPng } from '../src/io/png.ts';
import { iogConformance } from '../src/conformance/iog.ts';
import { loadSafetensors, readSafetensors } from '../src/io/safetensors-node.ts';
import { IOGNetwork } from '../src/networks/iog/network.ts';
import { WeightMismatchError } from '../src/weights/loader.ts';
import { safetensorsWeightSource, synthWeightSource, type SynthManifest } from '../src/weights/safetensors-source.ts';
import { testRuntime } from './_lib/gpu.ts';

const REF = new URL('../../shared/reference/', import.meta.url).pathname;
const WEIGHTS = new URL('../weights/iog-phantom/iog.safetensors.index.json', import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(`${REF}iog_manifest.json`, 'utf8')) as SynthManifest;
const synth = () => synthWeightSource(manifest, readSafetensors(`${REF}iog_small.safetensors`));
const spec = (t: { name: string; shape: number[] }) => `${t.name} [${t.shape}]`;

test('the tensors the code asks for are exactly the reference manifest; 5 channels change only conv1', () => {
  assert.equal(IOGNetwork.expectedTensors(4).map(spec).sort(), manifest.tensors.map(spec).sort());
  const five = IOGNetwork.expectedTensors(5).map(spec).sort();
  const four = IOGNetwork.expectedTensors(4).map(spec).sort();
  assert.equal(five.filter((s) => !four.includes(s)), ['backbone.conv1.weight [64,5,7,7]']);
  assert.throws(() => IOGNetwork.expectedTensors(3), /inputChannels must be 4 .* or 5/);
});

test('fine_out, coarse0, coarse3 and the pasted full_mask match the original PyTorch outputs', async () => {
  const rt = await testRuntime();
  const report = await iogConformance(rt, REF);
  console.log(`\niog (${report.seconds.toFixed(0)} s):\n${formatTable(report.rows)}`);
  assert.equal(report.rows.map((r) => r.tensor), ['fine_out', 'coarse0', 'coarse3', 'full_mask']);
  assert.equal(report.rows.filter((r) => !r.pass).map((r) => r.tensor), [], 'every tensor within tolerance');
});

test('the shipped int8 phantom weights: load without a mismatch, segment phantom_0 from robot extreme points, reject bad input', async () => {
  const rt = await testRuntime();
  const net = IOGNetwork.load(rt, safetensorsWeightSource(loadSafetensors(WEIGHTS)));
  assert.ok(net.weightBytes > 4 * 52e6, `${net.weightBytes} bytes of folded f32 weights`);
  const image = decodeGrayPng(readFileSync(`${REF}phantom_0.png`), 'phantom_0.png');
  const truth = decodeGrayPng(readFileSync(`${REF}phantom_mask_0.png`), 'phantom_mask_0.png');
  const crop = extremePointInput(image, extremePointsOfMask(truth, { seed: 1 }));
  const input = rt.upload([1, crop.size, crop.size, crop.channels], crop.data);
  const out = net.forward(input, { coarse: false });
  assert.equal(out.coarse, []);
  const mask = maskFromLogits(await out.fine.read(), crop.size, crop.bbox, image.width, image.height);
  const d = dice(mask, truth.data);
  console.log(`trained weights, phantom_0: Dice ${d.toFixed(4)}`);
  assert.ok(d >= 0.95, `Dice ${d} >= 0.95`);
  out.dispose();
  input.dispose();
  const five = rt.upload([1, 64, 64, 5], new Float32Array(64 * 64 * 5));
  const odd = rt.upload([1, 40, 40, 4], new Float32Array(40 * 40 * 4));
  assert.throws(() => net.forward(five), /input must be an f32 \[1, H, W, 4\] tensor .* got f32 \[1, 64, 64, 5\]/);
  assert.throws(() => net.forward(odd), /40x40 is not supported: .* multiples of 16/);
  five.dispose();
  odd.dispose();
  net.dispose();
});

test('loading 4-channel weights as a 5-channel network names conv1, and releases what it uploaded', async () => {
  const rt = await testRuntime();
  const before = rt.memoryStats().liveBytes;
  try {
    IOGNetwork.load(rt, synth(), { inputChannels: 5 });
    assert.unreachable('load should throw');
  } catch (e) {
    assert.instance(e, WeightMismatchError);
    assert.match((e as Error).message, /mis-shaped \(1\): backbone\.conv1\.weight: expected \[64, 5, 7, 7\], got \[64, 4, 7, 7\]/);
  }
  assert.is(rt.memoryStats().liveBytes, before);
  assert.throws(() => IOGNetwork.load(rt, synth(), { inputChannels: 3 }), /inputChannels must be 4/);
});

test.run();
