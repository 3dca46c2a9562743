// The performance machinery: the timestamp profiler, pipeline warm-up, and conv2d
// autotuning with its per-adapter cache (memory and file stores).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { autotuneConv2d, conv2dCandidates, loadConv2dChoices } from '../src/ops/conv2d-autotune.ts';
import { conv2d, conv2dShapeClass, installConv2dChoices, prepareConv2d, untunedConv2dShapes } from '../src/ops/conv2d.ts';
import { affineClamp, relu } from '../src/ops/elementwise.ts';
import { adapterKey, memoryTuningStore } from '../src/runtime/autotune.ts';
import { fileTuningStore } from '../src/runtime/autotune-node.ts';
import { formatProfile, moduleOf } from '../src/runtime/profiler.ts';
import { WGSL_CONSTANTS } from '../src/runtime/wgsl.generated.ts';
import { testRuntime } from './_lib/gpu.ts';
import { uniform } from './_lib/random.ts';
import { median } from '../src/util/median.ts';

test('median: the middle value, the mean of the two middle ones for an even count', () => {
  assert.is(median([3, 1, 2]), 2);
  assert.is(median([4, 1, 3, 2]), 2.5);
  assert.is(median([7]), 7);
  assert.throws(() => median([]), /median of no values/);
});

test('moduleOf takes the network prefix of a quoted weight path', () => {
  assert.is(moduleOf("conv2d 'Encoder_M.res4.0.conv1'"), 'Encoder_M');
  assert.is(moduleOf("linear 'fc'"), 'fc');
  assert.is(moduleOf('soft aggregation'), 'soft aggregation');
});

test('the profiler times each dispatch and sums FLOPs by kernel and module', async () => {
  const rt = await testRuntime();
  if (!rt.hasFeature('timestamp-query')) {
    assert.throws(() => rt.startProfiling(), /timestamp-query/);
    return;
  }
  const w = prepareConv2d(rt, { weight: uniform(8 * 4 * 9, 1), shape: [8, 4, 3, 3], label: 'enc.layer1.conv' });
  const x = rt.upload([1, 4, 4, 4], uniform(64, 2));
  rt.startProfiling();
  const y = conv2d(rt, x, w, { padding: 1, variant: 'large' }); // the tiled kernel 'conv2d' whatever the adapter's rule picks
  const z = relu(rt, y);
  const report = await rt.stopProfiling();
  assert.is(report.dispatches, 2);
  const convRow = report.byKernel.find((r) => r.name === 'conv2d')!;
  assert.is(convRow.dispatches, 1);
  assert.is(convRow.gflop, (2 * 16 * 8 * 36) / 1e9);
  assert.ok(report.byModule.some((r) => r.name === 'enc'), JSON.stringify(report.byModule));
  assert.ok(report.byKernel.every((r) => r.ms >= 0 && r.share >= 0 && r.share <= 1));
  assert.ok(Math.abs(report.byKernel.reduce((s, r) => s + r.share, 0) - 1) < 1e-9 || report.gpuMs === 0);
  assert.match(formatProfile(report), /by kernel[\s\S]*conv2d/);
  // After stopProfiling dispatches run unprofiled again, in one shared pass.
  const z2 = relu(rt, z);
  assert.equal(Array.from(await z2.read()), Array.from(await z.read()));
  for (const t of [x, y, z, z2]) t.dispose();
  w.dispose();
  await rt.sync();
  try {
    await rt.stopProfiling();
    assert.unreachable('stopProfiling without start');
  } catch (e) {
    assert.match((e as Error).message, /startProfiling\(\) was not called/);
  }
});

test('profiles keep the timestamps at the GPU resolution (Dawn would round each to 65.5 us)', async () => {
  const rt = await testRuntime();
  const x = rt.upload([4096], uniform(4096, 3));
  rt.startProfiling();
  const ys = [relu(rt, x)];
  for (let i = 0; i < 7; i++) ys.push(relu(rt, ys[i]));
  const report = await rt.stopProfiling();
  for (const t of [x, ...ys]) t.dispose();
  const ns = Math.round(report.gpuMs * 1e6);
  assert.ok(ns > 0 && ns % 65536 !== 0, `8 dispatches' GPU time ${ns} ns is not a multiple of 2^16 ns`);
  assert.ok(rt.adapter.preciseTimestamps, 'the runtime says so (the autotuner times GPUs by timestamps only then)');
});

test('warmup creates pipelines ahead of dispatch; unknown overrides are refused', async () => {
  const rt = await testRuntime();
  const spec = { kernel: 'elementwise', constants: { OP: WGSL_CONSTANTS.elementwise.OP_CLAMP, WORKGROUP_SIZE: 256 } };
  await rt.warmup([spec, spec]);
  assert.ok(rt.pipelines.specs().some((s) => s.kernel === 'elementwise' && s.constants.OP === WGSL_CONSTANTS.elementwise.OP_CLAMP));
  const cold = rt.pipelines.coldCompiles;
  const a = rt.upload([4], [-2, 0.5, 2, 9]);
  const b = affineClamp(rt, a, 1, 0, 0, 1);
  assert.equal(Array.from(await b.read()), [0, 0.5, 1, 1]);
  assert.is(rt.pipelines.coldCompiles, cold, 'the warmed pipeline was reused, not compiled again');
  try {
    await rt.warmup([{ kernel: 'elementwise', constants: { OPS: 1 } }]);
    assert.unreachable('unknown override');
  } catch (e) {
    assert.match((e as Error).message, /kernel 'elementwise' override 'OPS' is not declared/);
  }
  a.dispose();
  b.dispose();
});

test('warmupFrom records a step without running it, then compiles its pipelines in parallel', async () => {
  const rt = await testRuntime();
  const w = prepareConv2d(rt, { weight: uniform(6 * 5 * 9, 5), shape: [6, 5, 3, 3] });
  const x = rt.upload([1, 4, 3, 5], uniform(60, 6));
  const step = () => relu(rt, conv2d(rt, x, w, { padding: 1, variant: 'direct-p2c4', relu: true }));
  const live = rt.memoryStats().liveBytes;
  const dispatches = rt.dispatchCount;
  assert.is(await rt.warmupFrom(step), 2);
  assert.is(rt.dispatchCount, dispatches, 'nothing ran');
  assert.is(rt.memoryStats().liveBytes, live, 'the recorded step released its tensors');
  const cold = rt.pipelines.coldCompiles;
  const y = step();
  assert.is(rt.pipelines.coldCompiles, cold, 'the warmed step compiled nothing at dispatch');
  const again = relu(rt, conv2d(rt, x, w, { padding: 1, variant: 'large', relu: true }));
  assert.equal(Array.from(await y.read()), Array.from(await again.read()));
  for (const t of [x, y, again]) t.dispose();
  w.dispose();
});

test('conv2d records untuned shape classes and follows installed choices', async () => {
  const rt = await testRuntime();
  const w = prepareConv2d(rt, { weight: uniform(8 * 4, 3), shape: [8, 4, 1, 1] });
  const x = rt.upload([1, 3, 5, 4], uniform(60, 4));
  const shape = { KH: 1, KW: 1, M: 15, Cin: 4, Cout: 8 };
  const cls = conv2dShapeClass(shape);
  assert.is(cls, '1x1 cin4 cout8 m16');
  conv2d(rt, x, w).dispose();
  assert.ok(untunedConv2dShapes(rt).has(cls));
  installConv2dChoices(rt, new Map([[cls, 'direct-p1c4' as const]]));
  assert.not.ok(untunedConv2dShapes(rt).has(cls));
  conv2d(rt, x, w).dispose();
  assert.ok(rt.pipelines.specs().some((s) => s.kernel === 'conv2d' && s.entryPoint === 'direct' && s.constants.DCN4 === 1));
  installConv2dChoices(rt, new Map());
  x.dispose();
  w.dispose();
  // Dilated convs (ASPP's) are a class of their own, met and tuned as dilated.
  const w3 = prepareConv2d(rt, { weight: uniform(8 * 4 * 9, 5), shape: [8, 4, 3, 3] });
  const x3 = rt.upload([1, 9, 9, 4], uniform(9 * 9 * 4, 6));
  const dilated = { KH: 3, KW: 3, M: 25, Cin: 4, Cout: 8, dilation: [2, 2] as const };
  assert.is(conv2dShapeClass(dilated), '3x3 cin4 cout8 m32 dil2x2');
  conv2d(rt, x3, w3, { dilation: 2 }).dispose();
  assert.ok(untunedConv2dShapes(rt).has('3x3 cin4 cout8 m32 dil2x2'), [...untunedConv2dShapes(rt).keys()].join('; '));
  const tuned = await autotuneConv2d(rt, { shapes: [dilated], reps: 1 });
  assert.ok(tuned.timed.has('3x3 cin4 cout8 m32 dil2x2'));
  installConv2dChoices(rt, new Map());
  x3.dispose();
  w3.dispose();
});

test('autotuning times the candidates, installs the fastest and caches it by adapter', async () => {
  const rt = await testRuntime();
  const store = memoryTuningStore();
  const shape = { KH: 3, KW: 3, M: 9, Cin: 4, Cout: 4 };
  const cls = conv2dShapeClass(shape);
  const result = await autotuneConv2d(rt, { store, shapes: [shape], reps: 1 });
  const ranking = result.timed.get(cls)!;
  assert.equal(ranking.map(([n]) => n).sort(), conv2dCandidates(rt, shape).sort());
  assert.ok(ranking.every(([, ms], i) => i === 0 || ms >= ranking[i - 1][1]), 'sorted fastest first');
  const saved = await store.load(adapterKey(rt));
  assert.is(saved?.conv2d[cls], ranking[0][0]);
  // A fresh table from the store; a second tuning pass has nothing left to time.
  installConv2dChoices(rt, new Map());
  assert.is(await loadConv2dChoices(rt, store), 1);
  const again = await autotuneConv2d(rt, { store, shapes: [shape], reps: 1 });
  assert.is(again.timed.size, 0);
  const none = await autotuneConv2d(rt, { shapes: [{ ...shape, Cin: 8 }], reps: 1, budgetMs: -1 });
  assert.equal(none.skipped, [conv2dShapeClass({ ...shape, Cin: 8 })]);
  installConv2dChoices(rt, new Map());
});

test('autotune times by the clock on a CPU driver, by GPU timestamps where asked (the GPUs default), not inside a profile', async () => {
  const rt = await testRuntime();
  const shape = { KH: 1, KW: 1, M: 9, Cin: 12, Cout: 20 };
  assert.is((await autotuneConv2d(rt, { shapes: [shape], reps: 1 })).timing, 'wall', 'lavapipe: the clock');
  installConv2dChoices(rt, new Map());
  const gpu = await autotuneConv2d(rt, { shapes: [shape], reps: 1, timing: 'gpu' });
  assert.is(gpu.timing, 'gpu');
  const ranking = gpu.timed.get(conv2dShapeClass(shape))!;
  assert.equal(ranking.map(([n]) => n).sort(), conv2dCandidates(rt, shape).sort());
  assert.ok(ranking.every(([, ms]) => ms > 0 && ms < 1000), JSON.stringify(ranking));
  assert.not.ok(rt.profiling, 'no profile left running');
  installConv2dChoices(rt, new Map());
  rt.startProfiling();
  try {
    await autotuneConv2d(rt, { shapes: [shape], reps: 1, timing: 'gpu' }).then(() => assert.unreachable('tuned inside a profile'), (e: Error) => assert.match(e.message, /already being profiled/));
  } finally {
    await rt.stopProfiling();
  }
  installConv2dChoices(rt, new Map());
});

test('the file tuning store round-trips, keeps other adapters and survives a damaged file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mem3d-tune-'));
  try {
    const path = join(dir, 'sub', 'autotune.json');
    const store = fileTuningStore(path);
    assert.is(await store.load('a'), null);
    await store.save('a', { conv2d: { c1: 'large' } });
    await store.save('b', { conv2d: { c1: 'medium' } });
    assert.equal(await store.load('a'), { conv2d: { c1: 'large' } });
    assert.equal(await fileTuningStore(path).load('b'), { conv2d: { c1: 'medium' } });
    writeFileSync(path, '{ not json');
    assert.is(await store.load('a'), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
