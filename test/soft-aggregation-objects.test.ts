// The K-object Soft_aggregation (kernels/soft_aggregation.wgsl, entry `objects`) against
// its float64 reference written from the original (test/cpu/soft-aggregation-objects.ts),
// on odd shapes and K = 1, 2, 3, 5; K = 1 against the single-object kernel bit for bit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { softAggregation, softAggregationObjects, type ObjectsAggregation } from '../src/ops/soft-aggregation.ts';
import type { Runtime } from '../src/runtime/runtime.ts';
import type { Tensor } from '../src/runtime/tensor.ts';
import { testRuntime } from './_lib/gpu.ts';
import { uniform } from './_lib/random.ts';
import { assertClose } from './_lib/tolerance.ts';
import { softAggregationObjectsRef } from './cpu/soft-aggregation-objects.ts';

function channel(x: ArrayLike<number>, c: number, channels: number): Float64Array {
  const out = new Float64Array(x.length / channels);
  for (let i = 0; i < out.length; i++) out[i] = x[i * channels + c];
  return out;
}

function disposeAll(inputs: Tensor[], out: ObjectsAggregation): void {
  for (const t of [...inputs, out.logits, ...out.objects.flatMap((o) => [o.ps, o.foreground, o.qualityInput])]) t.dispose();
}

async function run(rt: Runtime, shape: [number, number, number], logits: Float32Array[]) {
  const inputs = logits.map((l) => rt.upload([...shape, 2], l));
  const out = softAggregationObjects(rt, inputs);
  const read = {
    logits: await out.logits.read(),
    objects: await Promise.all(out.objects.map(async (o) => ({ ps: await o.ps.read(), foreground: await o.foreground.read(), qualityInput: await o.qualityInput.read() }))),
  };
  return { inputs, out, read };
}

// |l0 - l1| < 5 per object, where the log-odds are well conditioned.
for (const [shape, K] of [[[1, 13, 7], 1], [[1, 5, 9], 2], [[2, 3, 11], 3], [[1, 7, 1], 5], [[1, 17, 19], 5]] as [[number, number, number], number][]) {
  test(`softAggregationObjects K = ${K} on [${shape}, 2] x ${K}: ps, joint log-odds, foregrounds, quality inputs match the float64 original`, async () => {
    const rt = await testRuntime();
    const pixels = shape[0] * shape[1] * shape[2];
    const logits = Array.from({ length: K }, (_, k) => uniform(2 * pixels, 100 + 7 * K + k, -2.5, 2.5));
    const { inputs, out, read } = await run(rt, shape, logits);
    const ref = softAggregationObjectsRef(logits);
    assert.equal(out.logits.shape, [...shape, K + 1]);
    assert.is(out.objects.length, K);
    // The background's log-odds come from a product of K probabilities: K roundings more than an object's.
    assertClose(read.logits, ref.logits, { label: 'joint log-odds', factor: 8, k: K });
    read.objects.forEach((o, k) => {
      const r = ref.objects[k];
      assert.equal(out.objects[k].qualityInput.shape, [...shape, 2]);
      assertClose(o.ps, r.ps, { label: `ps ${k + 1}`, factor: 16 });
      assertClose(o.foreground, r.foreground, { label: `foreground ${k + 1}`, factor: 16, k: K });
      assertClose(channel(o.qualityInput, 1, 2), channel(r.qualityInput, 1, 2), { label: `max probability ${k + 1}`, factor: 16, k: K });
      // The argmax is exact away from a tie (|fg - 1/2| below f32 resolution of the reference could flip it).
      const arg = channel(o.qualityInput, 0, 2);
      const want = channel(r.qualityInput, 0, 2);
      let decided = 0;
      for (let i = 0; i < pixels; i++) {
        if (Math.abs(r.foreground[i] - 0.5) < 1e-5) continue;
        decided++;
        assert.is(arg[i], want[i], `object ${k + 1} argmax at pixel ${i}`);
      }
      assert.ok(decided > pixels * 0.9, `argmax compared at ${decided} of ${pixels} pixels`);
    });
    disposeAll(inputs, out);
  });
}

test('softAggregationObjects with K = 1 is the single-object kernel bit for bit (ps, log-odds, foreground, quality input), saturated logits included', async () => {
  const rt = await testRuntime();
  const shape: [number, number, number] = [1, 9, 13];
  const logit = uniform(2 * 9 * 13, 31, -12, 12);
  logit.set([90, -90, -90, 90, 0, 0, 20, 0, 0, 20, 1e30, -1e30, 17, 17.000002]);
  const { inputs, out, read } = await run(rt, shape, [logit]);
  const single = softAggregation(rt, inputs[0]);
  const bits = (x: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(x).buffer));
  assert.equal(bits(read.objects[0].ps), bits(await single.ps.read()), 'ps');
  assert.equal(bits(read.logits), bits(await single.logits.read()), 'log-odds');
  assert.equal(bits(read.objects[0].foreground), bits(await single.foreground.read()), 'foreground');
  assert.equal(bits(read.objects[0].qualityInput), bits(await single.qualityInput.read()), 'quality input');
  for (const t of Object.values(single)) t.dispose();
  disposeAll(inputs, out);
});

test('softAggregationObjects: saturated and tied objects stay finite, match the original, and no two objects win a pixel', async () => {
  const rt = await testRuntime();
  const K = 3;
  const shape: [number, number, number] = [1, 11, 23];
  const pixels = 11 * 23;
  // Wide logits (saturating probabilities), with pixels where objects tie exactly.
  const logits = Array.from({ length: K }, (_, k) => uniform(2 * pixels, 7 + k, -30, 30));
  for (let i = 0; i < pixels; i += 5) for (const l of logits.slice(1)) l.set(logits[0].subarray(2 * i, 2 * i + 2), 2 * i);
  const { inputs, out, read } = await run(rt, shape, logits);
  const ref = softAggregationObjectsRef(logits);
  for (const v of read.logits) assert.ok(Number.isFinite(v), `finite log-odds, got ${v}`);
  assertClose(read.logits, ref.logits, { label: 'clamped joint log-odds', factor: 8, k: K });
  read.objects.forEach((o, k) => assertClose(o.foreground, ref.objects[k].foreground, { label: `foreground ${k + 1}`, factor: 16, k: K }));
  let won = 0;
  for (let i = 0; i < pixels; i++) {
    const winners = read.objects.filter((o) => o.qualityInput[2 * i] === 1).length;
    assert.ok(winners <= 1, `pixel ${i}: ${winners} objects win their binary view`);
    won += winners;
    const sum = read.objects.reduce((s, o) => s + o.foreground[i], 0);
    assert.ok(sum <= 1 + 1e-6, `pixel ${i}: foregrounds sum to ${sum}`);
  }
  assert.ok(won > pixels / 4, `some pixels are won (${won})`);
  disposeAll(inputs, out);
});

test('softAggregationObjects rejects no objects, mismatched sizes and non-logit channels', async () => {
  const rt = await testRuntime();
  const a = rt.upload([1, 4, 4, 2], new Float32Array(32));
  const b = rt.upload([1, 4, 5, 2], new Float32Array(40));
  const c = rt.upload([1, 4, 4, 3], new Float32Array(48));
  assert.throws(() => softAggregationObjects(rt, []), /at least one object/);
  assert.throws(() => softAggregationObjects(rt, [a, b]), /\[1, 4, 4, 2\].*got f32 \[1, 4, 5, 2\]/);
  assert.throws(() => softAggregationObjects(rt, [a, c]), /\[N, H, W, 2\]/);
  for (const t of [a, b, c]) t.dispose();
});

test.run();
