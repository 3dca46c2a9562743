import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { softAggregation } from '../src/ops/soft-aggregation.ts';
import { testRuntime } from './_lib/gpu.ts';
import { assertCase, casesOf, UNIT_TIERS } from './_lib/op-cases/index.ts';
import { uniform } from './_lib/random.ts';
import { assertClose } from './_lib/tolerance.ts';
import { softAggregationRef } from './cpu/soft-aggregation.ts';

function channel(x: ArrayLike<number>, c: number, channels: number): Float64Array {
  const out = new Float64Array(x.length / channels);
  for (let i = 0; i < out.length; i++) out[i] = x[i * channels + c];
  return out;
}

// ps, aggregated log-odds and foreground against the float64 reference: test/_lib/op-cases/soft-aggregation.ts.
for (const c of casesOf('softAggregation', UNIT_TIERS)) test(c.name, async () => assertCase(await testRuntime(), c));

test("soft aggregation's quality-head input: argmax and max probability per pixel", async () => {
  const rt = await testRuntime();
  const logit = uniform(13 * 7 * 2, 11, -2.5, 2.5);
  const t = rt.upload([1, 13, 7, 2], logit);
  const out = softAggregation(rt, t);
  const ref = softAggregationRef(logit);
  assert.equal(out.qualityInput.shape, [1, 13, 7, 2]);
  const q = await out.qualityInput.read();
  assertClose(channel(q, 0, 2), channel(ref.qualityInput, 0, 2), { label: 'argmax', factor: 0 });
  assertClose(channel(q, 1, 2), channel(ref.qualityInput, 1, 2), { label: 'max probability', factor: 16 });
  for (const x of [t, ...Object.values(out)]) x.dispose();
});

test('soft aggregation clamps saturated probabilities to [1e-7, 1 - 1e-7] without NaN or Infinity', async () => {
  const rt = await testRuntime();
  const logit = new Float32Array([90, -90, -90, 90, 0, 0, 20, 0, 0, 20, 1e30, -1e30]);
  const t = rt.upload([1, 1, 6, 2], logit);
  const out = softAggregation(rt, t);
  const agg = await out.logits.read();
  const ref = softAggregationRef(logit);
  for (const v of agg) assert.ok(Number.isFinite(v), `finite log-odds, got ${v}`);
  // The clamped log-odds are log(1e-7 / (1 - 1e-7)) = -16.118 and its negation, up to f32 rounding of the bounds.
  assertClose(agg, ref.logits, { label: 'clamped logits', factor: 8 });
  assertClose(await out.ps.read(), ref.ps, { label: 'saturated ps', factor: 16 });
  // A tie (0, 0) goes to background, like torch.argmax.
  const q = await out.qualityInput.read();
  assert.is(q[2 * 2], 0);
  assert.is(q[2 * 1], 1);
  for (const x of [t, ...Object.values(out)]) x.dispose();
});

test('soft aggregation rejects logits that are not 2-channel NHWC', async () => {
  const rt = await testRuntime();
  const t = rt.upload([1, 2, 2, 3], new Float32Array(12));
  assert.throws(() => softAggregation(rt, t), /\[N, H, W, 2\]/);
  t.dispose();
});

test.run();
