// bench/device/summary.ts: the goal table of a device run is read from the suite's JSON
// files; a goal is met by the f32 kernels or by the matrix units once those were checked
// (their float64 check and QAMN's conformance on them), a round by the slower of its
// passes; a missing step shows as '-' and a run at another size than the goals' says so.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
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
    { pass: 'first', lanes: 1, round: 1, slice: 3, seconds: r1[1] + 0.5 },
    ...(tuned === undefined ? [] : [{ pass: 'tuned', lanes: 2, round: 1, slice: 3, seconds: tuned }]),
  ],
});

const TC_CHECKED = {
  'tc-check': { enabled: { M: 16, N: 16, K: 16 }, cases: [{ ok: true }, { ok: true }] },
  'tc-conf-qamn': { rows: [{ tensor: 'k0', pass: true }, { tensor: 'ps1', pass: true }] },
};

test('a goal is met by the f32 kernels or the checked matrix units; the rest of a row shows each set', () => {
  const out = run({
    ...TC_CHECKED,
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
  assert.ok(out.includes("matrix units' times count toward the goals: their float64 check (2 cases) and QAMN conformance passed"), out);
  assert.ok(!out.includes('says nothing here'), 'a 512x512 run of 100 slices is the goals\' own');
  assert.is(line(out, 'QAMN step, 5 memory frames, one slice'), `| QAMN step, 5 memory frames, one slice | ${(GOALS.qamnStepMs - 0.5).toFixed(1)} ms | 26.4 ms | <= ${GOALS.qamnStepMs} ms | met (matrix units, f16 operands) |`);
  assert.ok(line(out, 'QAMN step per slice in a batch of two').includes('| 6.0 ms | 20.0 ms |'));
  assert.ok(line(out, 'IOG forward |').endsWith('| not met |'), 'neither IOG time meets its goal');
  assert.is(line(out, 'QAMN step, one slice, bounds checks off'), `| QAMN step, one slice, bounds checks off | ${(GOALS.qamnStepMs - 1.5).toFixed(1)} ms | - | <= ${GOALS.qamnStepMs} ms | met (matrix units, f16 operands) |`);
  assert.is(line(out, 'IOG forward, bounds checks off'), `| IOG forward, bounds checks off | ${(GOALS.iogMs - 0.2).toFixed(1)} ms | - | <= ${GOALS.iogMs} ms | met (matrix units, f16 operands) |`);
  assert.ok(line(out, 'round 1, 2 lanes').includes('| 1.20 s | 2.90 s |') && line(out, 'round 1, 2 lanes').endsWith('| met (matrix units, f16 operands) |'));
  // One lane: the first pass (2.1 s) is the slower one, so it is the one judged.
  assert.ok(line(out, 'round 1, 1 lane').includes('| 2.10 s | 3.60 s |') && line(out, 'round 1, 1 lane').endsWith('| not met |'), line(out, 'round 1, 1 lane'));
  assert.is(line(out, 'round 1, first pass'), '| round 1, first pass: after the session\'s warm-up, against the second pass | 0.08x (0.10 s after 0.85 s) | 0.03x (0.10 s after 0.85 s) | <= 1.2x |  |');
  assert.is(line(out, 'round 1 after autotuning'), `| round 1 after autotuning | 1.10 s | 2.20 s | < ${GOALS.roundS} s | met (matrix units, f16 operands) |`);
  assert.ok(line(out, 'QAMN conformance').includes('1 of 2 pass (failed: ps2)'));
  assert.ok(out.includes('fp16 autocast takes QAMN 21.3 ms, IOG 12.7 ms'), 'the precision the matrix units are judged at is said');
});

test('unchecked matrix units meet no goal: a failed kernel case, a failed or missing QAMN conformance', () => {
  const times = { 'tc-memnet': memnet(512, GOALS.qamnStepMs - 0.5, 6), memnet: memnet(512, 26.4, 20), 'tc-iog': { medianMs: GOALS.iogMs - 1 }, iog: { medianMs: GOALS.iogMs - 2 } };
  const cases: [string, Record<string, unknown>, string][] = [
    ['a failed kernel case', { ...TC_CHECKED, 'tc-check': { enabled: {}, cases: [{ ok: true }, { ok: false }] } }, 'their float64 check: 1 passed, 1 failed'],
    ['no kernel case ran', { ...TC_CHECKED, 'tc-check': { enabled: {}, cases: [] } }, 'their float64 check: 0 passed, 0 failed'],
    ['a failed conformance', { ...TC_CHECKED, 'tc-conf-qamn': { rows: [{ tensor: 'k0', pass: true }, { tensor: 'mem1', pass: false }] } }, 'QAMN conformance on them failed (mem1)'],
    ['no conformance', { 'tc-check': TC_CHECKED['tc-check'] }, 'QAMN conformance on them did not run'],
  ];
  for (const [what, files, why] of cases) {
    const out = run({ ...files, ...times });
    assert.ok(out.includes(`matrix units' times do not count toward the goals: ${why}`), `${what}: ${out}`);
    assert.ok(line(out, 'QAMN step, 5 memory frames, one slice').endsWith("| not met (the matrix units' time would, unchecked) |"), what);
    // The f32 kernels meet the IOG goal on their own.
    assert.ok(line(out, 'IOG forward |').endsWith('| met (f32) |'), what);
  }
});

test('the memory-read row is the 512x512 step\'s shape alone', () => {
  const r = (c: string, variant: string, gpuMs: number) => ({ op: 'memory read', case: c, variant, ms: 9, gpuMs });
  const out = run({ memread: { rows: [r('Q 1024 (512x512), 5 frames: M 5120', 'gemm', 0.9), r('Q 64 (128x128), 5 frames: M 320', 'gemm', 0.1)] } });
  assert.ok(line(out, 'memory read').includes('| gemm 0.9 ms |'), line(out, 'memory read'));
});

test('run as a script through a symlinked folder, it still prints the table', () => {
  const dir = mkdtempSync(join(tmpdir(), 'device-summary-link-'));
  mkdirSync(join(dir, 'results'));
  writeFileSync(join(dir, 'results', 'memnet.json'), JSON.stringify(memnet(512, 26.4, 20)));
  symlinkSync(new URL('../bench/device', import.meta.url).pathname, join(dir, 'linked dir'));
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(dir, 'linked dir', 'summary.ts'), join(dir, 'results')], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.ok(r.stdout.includes('| QAMN step, 5 memory frames, one slice | - | 26.4 ms |'), r.stdout + r.stderr);
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
