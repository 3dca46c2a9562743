import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { frameTable, IMAGENET_MEAN, IMAGENET_STD, preprocessFrame } from '../src/networks/mem3d/preprocess.ts';
import { greyFrame, greyFrames, zeroOutside } from '../src/ops/frame.ts';
import { imagenetLevel } from './cpu/frame.ts';
import { testRuntime } from './_lib/gpu.ts';
import { rng } from './_lib/random.ts';
import { assertCase, casesOf, UNIT_TIERS } from './_lib/op-cases/index.ts';

for (const c of casesOf('frame', UNIT_TIERS)) test(c.name, async () => assertCase(await testRuntime(), c));

test('frameTable is the original f32 chain (x / 255, - mean, / std, each rounded) and within 2 ulp of the exact value', () => {
  const table = frameTable();
  for (let g = 0; g < 256; g++) {
    for (let c = 0; c < 3; c++) {
      const x = Math.fround(g / 255);
      const chain = Math.fround(Math.fround(x - Math.fround(IMAGENET_MEAN[c])) / Math.fround(IMAGENET_STD[c]));
      assert.is(table[3 * g + c], chain, `level ${g} channel ${c}`);
      const exact = imagenetLevel(g, c);
      assert.ok(Math.abs(table[3 * g + c] - exact) <= 2 * 2 ** -23 * Math.max(1, Math.abs(exact)), `level ${g} channel ${c}: ${table[3 * g + c]} vs ${exact}`);
    }
  }
});

test('the GPU frame equals preprocessFrame of the zero-padded slice bit for bit (what the conformance tests feed the network)', async () => {
  const rt = await testRuntime();
  const [width, height, outWidth, outHeight] = [45, 27, 48, 32];
  const r = rng(3);
  const grey = Uint8Array.from({ length: width * height }, () => Math.floor(256 * r()));
  const padded = new Uint8Array(outWidth * outHeight);
  for (let y = 0; y < height; y++) padded.set(grey.subarray(y * width, (y + 1) * width), y * outWidth);
  const frame = greyFrame(rt, grey, { width, height }, { width: outWidth, height: outHeight }, frameTable());
  const gpu = (await frame.read()) as Float32Array;
  frame.dispose();
  const cpu = preprocessFrame(padded, outHeight, outWidth);
  assert.is(gpu.length, cpu.length);
  const first = gpu.findIndex((v, i) => !Object.is(v, cpu[i]));
  assert.is(first, -1, `first difference at ${first}: ${gpu[first]} vs ${cpu[first]}`);
});

test('greyFrame refuses bad sizes and tables before touching the GPU', async () => {
  const rt = await testRuntime();
  const grey = new Uint8Array(12);
  const table = frameTable();
  assert.throws(() => greyFrame(rt, grey, { width: 4, height: 4 }, { width: 4, height: 4 }, table), /12 bytes for a 4x4 slice/);
  assert.throws(() => greyFrame(rt, grey, { width: 4, height: 3 }, { width: 3, height: 3 }, table), /smaller than the slice/);
  assert.throws(() => greyFrame(rt, grey, { width: 4, height: 3 }, { width: 4.5, height: 3 }, table), /positive integers/);
  assert.throws(() => greyFrame(rt, grey, { width: 4, height: 3 }, { width: 4, height: 3 }, new Float32Array(100)), /256 \* C values/);
  const nan = frameTable();
  nan[7] = NaN;
  assert.throws(() => greyFrame(rt, grey, { width: 4, height: 3 }, { width: 4, height: 3 }, nan), /table entry 7 is not finite/);
  assert.throws(() => greyFrames(rt, [], { width: 4, height: 3 }, { width: 4, height: 3 }, table), /no slices/);
  assert.throws(() => greyFrames(rt, [grey, new Uint8Array(11)], { width: 4, height: 3 }, { width: 4, height: 3 }, table), /11 bytes for a 4x3 slice \(slice 1 of 2\)/);
});

test('zeroOutside refuses windows larger than the image and non-NHWC tensors', async () => {
  const rt = await testRuntime();
  const t = rt.upload([1, 4, 6, 1], new Float32Array(24));
  assert.throws(() => zeroOutside(rt, t, { width: 7, height: 4 }), /window 7x4 must lie within the 6x4 image/);
  const flat = rt.upload([24], new Float32Array(24));
  assert.throws(() => zeroOutside(rt, flat, { width: 1, height: 1 }), /NHWC/);
  t.dispose();
  flat.dispose();
});

test.run();
