import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fnv1a32, synthWeight } from '../src/weights/synth-v1.ts';

const REF = new URL('../../shared/reference/', import.meta.url);
const log = JSON.parse(readFileSync(new URL('torch_reference_log.json', REF), 'utf8'));

test('fnv1a32 check value from the reference README', () => {
  assert.is(fnv1a32('Encoder_Q.conv1.weight'), 3090055306);
});

for (const [name, check] of Object.entries(log.formula_check as Record<string, { shape: number[]; fnv1a32: number; first4: number[]; sum: number; sumsq: number }>)) {
  test(`synth-v1 ${name} reproduces the reference check values bit-exactly`, () => {
    // The check values are of the bare formula (gain 1), even for tensors that a
    // model manifest gives another gain (KV_M_r4.Key.weight: 1.191076 in qamn).
    assert.is(fnv1a32(name), check.fnv1a32);
    const w = synthWeight(name, check.shape);
    assert.equal(Array.from(w.subarray(0, 4)), check.first4, 'first values bit-exact');
    let sum = 0;
    let sumsq = 0;
    for (const v of w) { sum += v; sumsq += v * v; }
    // Sums of the same f32 values in f64: equal to the reference up to summation order.
    assert.ok(Math.abs(sum - check.sum) <= 1e-9 * Math.max(1, Math.abs(check.sum)), `sum ${sum} vs ${check.sum}`);
    assert.ok(Math.abs(sumsq - check.sumsq) <= 1e-9 * check.sumsq, `sumsq ${sumsq} vs ${check.sumsq}`);
  });
}

test('synth-v1 refuses rank <= 1 tensors', () => {
  assert.throws(() => synthWeight('x.bias', [4]), /small\.safetensors/);
});

test.run();
