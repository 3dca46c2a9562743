// bench/device/summary.ts: the goal table of a device run is read from the suite's JSON
// files; a goal is met by the better of the two kernel sets, a missing step shows as '-'
// and a run at another size than the goals' says so.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GOALS, summarize } from '../bench/device/summary.ts';

function run(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'device-summary-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, `${name}.json`), JSON.stringify(content));
  return summarize(dir);
}

const line = (out: string, start: string): string => out.split('\n').find((l) => l.startsWith(`| ${start}`)) ?? `(no row '${start}')`;

const memnet = (size: number, one: number, pair: number) => ({
  size,
  rows: [
    { memory: 1, batch: 1, msPerStep: 1, msPerSlice: 1 },
    { memory: 5, batch: 1, msPerStep: one, msPerSlice: one },
    { memory: 5, batch: 2, msPerStep: 2 * pair, msPerSlice: pair },
  ],
});
const rounds = (size: number, r1: Record<number, number>, tuned?: number) => ({
  size,
  depth: 100,
  lanes: [2, 1],
  warmupMs: 850,
  rounds: [
    ...Object.entries(r1).map(([lanes, seconds]) => ({ pass: 'second', lanes: Number(lanes), round: 1, slice: 3, seconds })),
    { pass: 'first', lanes: 2, round: 1, slice: 3, seconds: 0.1 },
    ...(tuned === undefined ? [] : [{ pass: 'tuned', lanes: 2, round: 1, slice: 3, seconds: tuned }]),
  ],
});

test('a goal is met by the better kernel set; the rest of a row shows each set', () => {
  const out = run({
    'tc-check': { enabled: { M: 16, N: 16, K: 16 } },
    'tc-memnet': memnet(512, GOALS.qamnStepMs - 0.5, 6),
    memnet: memnet(512, 26.4, 20),
    'tc-memnet-nobc': memnet(512, GOALS.qamnStepMs - 1.5, 5),
    'tc-iog': { medianMs: GOALS.iogMs + 1 },
    'tc-iog-nobc': { medianMs: GOALS.iogMs - 0.2 },
    iog: { medianMs: 23.6 },
    'tc-round': rounds(512, { 2: 1.2, 1: 1.6 }, 1.1),
    round: rounds(512, { 2: 2.9, 1: 3.1 }, 2.2),
    'conf-qamn': { rows: [{ tensor: 'k0', pass: true }, { tensor: 'ps2', pass: false }] },
  });
  assert.ok(out.includes('matrix units: on {"M":16,"N":16,"K":16}'), out);
  assert.ok(!out.includes('says nothing here'), 'a 512x512 run of 100 slices is the goals\' own');
  assert.is(line(out, 'QAMN step, 5 memory frames, one slice'), `| QAMN step, 5 memory frames, one slice | ${(GOALS.qamnStepMs - 0.5).toFixed(1)} ms | 26.4 ms | <= ${GOALS.qamnStepMs} ms | met |`);
  assert.ok(line(out, 'QAMN step per slice in a batch of two').includes('| 6.0 ms | 20.0 ms |'));
  assert.ok(line(out, 'IOG forward |').endsWith('| not met |'), 'neither IOG time meets its goal');
  assert.is(line(out, 'QAMN step, one slice, bounds checks off'), `| QAMN step, one slice, bounds checks off | ${(GOALS.qamnStepMs - 1.5).toFixed(1)} ms | - | <= ${GOALS.qamnStepMs} ms | met |`);
  assert.is(line(out, 'IOG forward, bounds checks off'), `| IOG forward, bounds checks off | ${(GOALS.iogMs - 0.2).toFixed(1)} ms | - | <= ${GOALS.iogMs} ms | met |`);
  assert.ok(line(out, 'round 1, 2 lanes').includes('| 1.20 s | 2.90 s |') && line(out, 'round 1, 2 lanes').endsWith('| met |'));
  assert.ok(line(out, 'round 1, 1 lane').endsWith('| not met |'), line(out, 'round 1, 1 lane'));
  assert.is(line(out, 'round 1, first pass'), '| round 1, first pass: after the session\'s warm-up, against the second pass | 0.08x (0.10 s after 0.85 s) | 0.03x (0.10 s after 0.85 s) | <= 1.2x |  |');
  assert.is(line(out, 'round 1 after autotuning'), `| round 1 after autotuning | 1.10 s | 2.20 s | < ${GOALS.roundS} s | met |`);
  assert.ok(line(out, 'QAMN conformance').includes('1 of 2 pass (failed: ps2)'));
});

test('the Winograd GEMM row: per 3x3 layer, the best direct variant\'s GPU time over the best Winograd one\'s', () => {
  const k = (c: string, variant: string, gpuMs: number | null, ms = 9) => ({ op: 'conv2d', case: c, variant, ms, gpuMs });
  const out = run({
    'wgemm-kernels': { rows: [
      k('res4 3x3 256->256 @32', 'gpu-64x128', 1.0), k('res4 3x3 256->256 @32', 'large', 2.0),
      k('res4 3x3 256->256 @32', 'wgemm-128x128', 0.8), k('res4 3x3 256->256 @32', 'wgemm-64x64', 0.5),
      k('decoder 3x3 256->256 @128', 'large', null, 4), k('decoder 3x3 256->256 @128', 'wgemm-64x128', null, 5),
      k('res2 1x1 64->256 @128', 'large', 1),
    ] },
  });
  assert.ok(line(out, '3x3 convs at 512').includes('| res4 3x3 256->256 @32 2.00x, decoder 3x3 256->256 @128 0.80x |'), line(out, '3x3 convs at 512'));
  assert.ok(line(run({}), '3x3 convs at 512').includes('| - |'));
});

test('missing steps show as "-", a tensor-core check that failed says why, and another size is flagged', () => {
  const out = run({ 'tc-check': { error: 'no subgroup matrix config' }, memnet: memnet(64, 600, 400) });
  assert.ok(out.includes('matrix units: off (no subgroup matrix config)'), out);
  assert.ok(out.includes('frames 64x64') && out.includes('says nothing here'), out);
  assert.ok(line(out, 'QAMN step, 5 memory frames, one slice').startsWith('| QAMN step, 5 memory frames, one slice | - | 600.0 ms |'));
  assert.ok(line(out, 'IOG forward |').includes('| - | - |'));
  assert.ok(line(out, 'IOG forward, bounds checks off').includes('| - | - |'));
  assert.ok(line(out, 'QAMN conformance').includes('| - | - |'));
});

test.run();
