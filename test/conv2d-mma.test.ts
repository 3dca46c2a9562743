// The matrix-unit conv2d (kernels/conv2d_mma.wgsl, src/ops/conv2d-mma.ts). CI's adapters
// have no subgroup matrices, so the kernel runs here in its emulated form (the same
// text with the matrix operations written out per invocation) against float64
// references on the awkward shapes: Cin and Cout not multiples of 4, partial tiles,
// several K slices, stride 2, dilation, N = 2, residual + ReLU, a channel window, f16
// weights, activations past f16's range, the 8x8x8 matrices other vendors offer, every
// tile of the mma variants (one in non-square 16x8x16 matrices), and the tuning of those
// tiles. The hardware form is checked as text (the block swap, both builtin spellings,
// subgroup matrices in function scope only; Dawn's compiler checks it in
// conv2d-mma-dawn.test.ts), its refusal where there are no matrix
// units, and the runtime's opt-in; on a GPU with matrix units, or lavapipe with
// cooperative matrices (tools/lavapipe-coopmat.sh), bench/device/tensor-cores.ts runs the
// same cases on the hardware form.
// The two references per case: test/_lib/mma-cases.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { conv2d, prepareConv2d, type Conv2dVariant } from '../src/ops/conv2d.ts';
import {
  chooseMmaShape, conv2dMmaSource, conv2dMmaSplits, enableTensorCores, MMA_DEFAULT_TILE, MMA_ROW_PAD, mmaFits, tensorCoresEnabled, tensorCoresUnavailable, toRowMajorTemplate, type MmaShape,
  type MmaTile,
} from '../src/ops/conv2d-mma.ts';
import { conv2dCandidates } from '../src/ops/conv2d-autotune.ts';
import {
  chooseConv2dVariant, conv2dShapeClass, CONV2D_VARIANTS, defaultConv2dVariant, installConv2dChoices, MMA_VARIANTS, untunedConv2dShapes,
} from '../src/ops/conv2d-variants.ts';
import { Runtime } from '../src/runtime/runtime.ts';
import { reflectWgsl } from '../src/runtime/wgsl-reflect.ts';
import { WGSL_REFLECTION } from '../src/runtime/wgsl.generated.ts';
import { testRuntime } from './_lib/gpu.ts';
import { channelWindow } from './_lib/channel-window.ts';
import { uniform } from './_lib/random.ts';
import { assertClose } from './_lib/tolerance.ts';
import { conv2dRef } from './cpu/conv2d.ts';
import { checkMmaCase, halfRound, mmaCases, type MmaCase } from './_lib/mma-cases.ts';

const EMULATED: MmaShape = { M: 16, N: 16, K: 16 };
const emulated = (shape?: MmaShape, lanes?: number, tile?: MmaTile, padRows?: boolean): Conv2dVariant => ({ kind: 'mma', mma: { ops: 'emulated', shape, lanes, tile, padRows } });

for (const [i, c] of mmaCases.entries()) {
  test(`matrix conv, emulated 16x16x16 on 32 lanes: ${c.name}`, async () => {
    const rt = await testRuntime();
    assert.ok(rt.hasFeature('shader-f16'), `this adapter lacks shader-f16 (${rt.describe()}); the matrix conv needs it`);
    const splits = caseSplits(rt, c);
    if (c.mustSplit) assert.ok(splits > 1, `the case splits K (got ${splits} split)`);
    const r = await checkMmaCase(rt, c, emulated(), 100 + 10 * i);
    assert.not.ok(r.f32Exact, 'the operands were rounded to f16 (the result is not the f32 one to f32 accuracy)');
    if (splits > 1) await checkMmaCase(rt, c, { kind: 'mma', mma: { ops: 'emulated', splitK: false } }, 100 + 10 * i);
  });
}

test('matrix conv, emulated 8x8x8 matrices on 16 lanes and f16 weights', async () => {
  const rt = await testRuntime();
  await checkMmaCase(rt, mmaCases[0], emulated({ M: 8, N: 8, K: 8 }, 16), 300);
  await checkMmaCase(rt, mmaCases[0], emulated(), 310, 'f16');
});

// The variants' other tiles (128 x 64, 64 x 128, 128 x 128 with 16x16 matrices): partial
// tiles on all sides of 145 pixels x 136 channels, and a split K on 35 pixels x 70 channels.
// Each in a matrix shape of its own: 64 x 128 in 16x8x16 (rows and columns of the matrices
// differ, so a row count used for a column count shows), 128 x 128 in 8x8x8 on 16 lanes
// (in 16x16x16 it takes 41 KiB of workgroup memory; lavapipe has 32). 128 x 64 runs with
// unpadded tile rows (padded it takes 33 KiB), so that layout is checked too. Each tile is
// a kernel of its own: one cold compile of the emulated form is ~10 s on lavapipe.
const TILE_SHAPES: Record<string, { shape: MmaShape; lanes: number; padRows?: boolean }> = {
  'mma-128x64': { shape: EMULATED, lanes: 32, padRows: false },
  'mma-64x128': { shape: { M: 16, N: 8, K: 16 }, lanes: 32 },
  'mma-128x128': { shape: { M: 8, N: 8, K: 8 }, lanes: 16 },
};

test('matrix conv, emulated: every tile of the mma variants', async () => {
  const rt = await testRuntime();
  assert.equal(Object.keys(TILE_SHAPES), MMA_VARIANTS.filter((n) => n !== 'mma'), 'a shape for every tile but the cases\' own');
  for (const [name, { shape, lanes, padRows }] of Object.entries(TILE_SHAPES)) {
    const v = CONV2D_VARIANTS[name as keyof typeof CONV2D_VARIANTS];
    if (v.kind !== 'mma' || !v.mma.tile) throw new Error(`${name} is no matrix variant with a tile`);
    const tile = v.mma.tile;
    const pad = padRows === false ? 0 : MMA_ROW_PAD;
    assert.ok(mmaFits(rt, shape, lanes, tile, pad), `${name} fits here with ${JSON.stringify(shape)}, rows padded by ${pad}`);
    await checkMmaCase(rt, mmaCases[1], emulated(shape, lanes, tile, padRows), 400);
    assert.ok(conv2dMmaSplits(rt, shape, tile, 35, 70, 612).splits > 1, `${name} splits K on 35 x 70`);
    await checkMmaCase(rt, mmaCases[4], emulated(shape, lanes, tile, padRows), 410);
  }
});

test('matrix conv, emulated: a channel-window output leaves the other channels', async () => {
  const rt = await testRuntime();
  const xShape: [number, number, number, number] = [1, 5, 3, 20];
  const xs = uniform(5 * 3 * 20, 71);
  const ws = uniform(6 * 20 * 9, 72);
  const ref = conv2dRef({ x: halfRound(xs), xShape, weight: halfRound(ws), wShape: [6, 20, 3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1] });
  const w = prepareConv2d(rt, { weight: ws, shape: [6, 20, 3, 3] });
  const x = rt.upload(xShape, xs);
  const before = uniform(15 * 11, 73, 5, 6);
  const out = rt.upload([1, 5, 3, 11], before);
  conv2d(rt, x, w, { padding: 1, out: { tensor: out, channelOffset: 3 }, variant: emulated() });
  const window = channelWindow(await out.read(), before, { pixels: 15, channels: 11, offset: 3, count: 6, label: 'mma window' });
  assertClose(window, ref.out, { k: 9 * 20, label: 'mma window' });
  for (const t of [x, out]) t.dispose();
  w.dispose();
});

// The split-K kernel's uniforms: conv2d_gpu.wgsl's reduce reads the same values.
const conv2dParams = WGSL_REFLECTION.conv2d_gpu.uniforms[6].fields.map((f) => f.name);

/** The K-splits conv2d-mma.ts picks for case c with 16x16x16 matrices on this runtime. */
function caseSplits(rt: Runtime, c: MmaCase): number {
  const [O, I, KH, KW] = c.w;
  const [sH, sW] = c.stride ?? [1, 1];
  const [pH, pW] = c.padding ?? [0, 0];
  const [dH, dW] = c.dilation ?? [1, 1];
  const out = (n: number, k: number, s: number, p: number, d: number) => Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;
  const M = c.x[0] * out(c.x[1], KH, sH, pH, dH) * out(c.x[2], KW, sW, pW, dW);
  return conv2dMmaSplits(rt, EMULATED, MMA_DEFAULT_TILE, M, O, KH * KW * Math.ceil(I / 4) * 4).splits;
}

test('matrix conv, hardware form: the block swap, the shape, the tile and both builtin spellings', () => {
  const shape = { M: 16, N: 8, K: 16 };
  const src = conv2dMmaSource({ ops: 'subgroup-matrix', shape, lanes: 32, tile: { TM: 4, TN: 2 }, dialect: 'col-major-argument', f16Weights: true });
  assert.ok(src.startsWith('enable chromium_experimental_subgroup_matrix;\ndiagnostic(off, chromium.subgroup_matrix_uniformity);\n'));
  for (const line of ['const SM: u32 = 16u;', 'const SN: u32 = 8u;', 'const SK: u32 = 16u;', 'const LANES: u32 = 32u;', 'const TM: u32 = 4u;', 'const TN: u32 = 2u;', 'array<vec4h>']) {
    assert.ok(src.includes(line), line);
  }
  assert.ok(src.includes('alias Accumulators = array<subgroup_matrix_result<f32, SN, SM>, TM * TN>;'));
  assert.not.ok(src.includes('alias Accumulators = array<f32'), 'the per-invocation block is gone');
  // Dawn's WGSL compiler refuses subgroup matrices outside function scope ('private' included).
  assert.not.ok(/var<[^>]*>[^;]*subgroup_matrix/.test(src), 'a subgroup matrix outside function scope');
  assert.is(src.match(/subgroupMatrixMultiplyAccumulate\(/g)?.length, 1);
  assert.is(src.match(/, false, (A_STRIDE|B_STRIDE|SN)\)/g)?.length, 3, 'two loads and a store, row-major');
  const t = toRowMajorTemplate(src);
  assert.is(t.match(/subgroupMatrixLoad<subgroup_matrix_(left|right)<f16, S\w, S\w>, row_major>\(&[AB]s, [^;]*, [AB]_STRIDE\)/g)?.length, 2);
  assert.is(t.match(/subgroupMatrixStore<row_major>\(&Cs, at, \(\*acc\)\[i \* TN \+ j\], SN\)/g)?.length, 1);
  assert.not.ok(/, false, /.test(t), 'no col_major argument left');
  // The runtime reflects it on first use (uniform layout, overrides) as it does every kernel.
  for (const code of [src, t]) {
    const r = reflectWgsl('conv2d_mma hardware', code);
    assert.equal(r.uniforms[6].fields.map((f) => f.name), conv2dParams);
    assert.equal(Object.keys(r.overrides).sort(), ['HAS_RESIDUAL', 'RELU', 'VEC4_IN', 'VEC4_OUT']);
  }
  const emulatedSrc = conv2dMmaSource({ ops: 'emulated', shape, lanes: 32, tile: MMA_DEFAULT_TILE, f16Weights: false });
  assert.not.ok(/enable chromium|subgroupMatrix\w*\(/.test(emulatedSrc), 'the emulated form needs no extension');
  assert.ok(emulatedSrc.includes('alias Accumulators = array<f32, TM * TN * OWN>;'));
});

test('matrix conv: the shape choice, and a refusal naming what is missing where there are no matrix units', async () => {
  const f = (componentType: string, resultComponentType: string, M: number, N: number, K: number) => ({ componentType, resultComponentType, M, N, K });
  assert.equal(chooseMmaShape([f('f16', 'f16', 16, 16, 16), f('f16', 'f32', 16, 8, 16), f('f16', 'f32', 16, 16, 16)]), { M: 16, N: 16, K: 16 });
  assert.equal(chooseMmaShape([f('f16', 'f32', 8, 8, 8)]), { M: 8, N: 8, K: 8 });
  assert.is(chooseMmaShape([f('f16', 'f16', 16, 16, 16), f('i8', 'i32', 16, 16, 32)]), null);

  const rt = await testRuntime();
  if (rt.adapter.subgroupMatrixConfigs.length) return assert.unreachable(`this adapter has matrix units (${rt.describe()}): bench/device/tensor-cores.ts is its test`);
  assert.match(tensorCoresUnavailable(rt) ?? '', /no 'chromium-experimental-subgroup-matrix'/);
  await enableTensorCores(rt).then(() => assert.unreachable('enabled without matrix units'), (e: Error) => assert.match(e.message, /^tensor cores: the device has no 'chromium-experimental-subgroup-matrix'/));
  assert.not.ok(tensorCoresEnabled(rt));
  assert.is(chooseConv2dVariant(rt, { KH: 3, KW: 3, M: 4096, Cin: 64, Cout: 64 }).kind === 'mma', false);
  const w = prepareConv2d(rt, { weight: uniform(8 * 8 * 9, 1), shape: [8, 8, 3, 3] });
  const x = rt.upload([1, 4, 4, 8], uniform(128, 2));
  assert.throws(() => conv2d(rt, x, w, { variant: 'mma' }), /needs enableTensorCores\(rt\) first \(the device has no 'chromium-experimental-subgroup-matrix'/);
  x.dispose();
  w.dispose();
});

test('with tensor cores on, convs of more than 16 channels run an mma tile: mma, or one a tuned table chose among them', async () => {
  const rt = await Runtime.create();
  try {
    await enableTensorCores(rt, { emulate: true });
    const conv = { KH: 3, KW: 3, M: 4096, Cin: 64, Cout: 64 };
    assert.is(chooseConv2dVariant(rt, conv), CONV2D_VARIANTS.mma);
    assert.is(chooseConv2dVariant(rt, { ...conv, Cout: 16 }), CONV2D_VARIANTS[defaultConv2dVariant(rt, { ...conv, Cout: 16 })], 'heads keep the f32 rule');
    const cls = conv2dShapeClass({ ...conv, matrixUnits: true });
    assert.is(cls, `${conv2dShapeClass(conv)} mma`, 'tuned apart from the f32 kernels');
    assert.ok(untunedConv2dShapes(rt).get(cls)?.matrixUnits, 'recorded for the autotuner as a matrix-unit shape');
    // Workgroup memory of a BM x BN tile of 16x16x16 matrices: two A and two B tiles of f16 (rows of BK = 32 and BN, each 8 longer), four 16 x 16 f32 results.
    const bytes = (BM: number, BN: number) => 2 * 2 * (BM * (32 + 8) + 32 * (BN + 8)) + 4 * 4 * 16 * 16;
    const extent: Record<string, [number, number]> = { mma: [64, 64], 'mma-128x64': [128, 64], 'mma-64x128': [64, 128], 'mma-128x128': [128, 128] };
    const fitting = MMA_VARIANTS.filter((n) => bytes(...extent[n]) <= rt.device.limits.maxComputeWorkgroupStorageSize);
    assert.equal(conv2dCandidates(rt, { ...conv, matrixUnits: true }), fitting, 'the tiles that fit this device');
    assert.not.ok(conv2dCandidates(rt, conv).some((n) => CONV2D_VARIANTS[n].kind === 'mma'), 'f32 shapes time f32 kernels');
    installConv2dChoices(rt, new Map([[cls, 'mma-128x128'], [conv2dShapeClass(conv), 'large']]));
    assert.is(chooseConv2dVariant(rt, conv), CONV2D_VARIANTS['mma-128x128']);
  } finally {
    rt.destroy();
  }
});

test('a runtime created with { tensorCores: true } runs as any other where the adapter has no matrix units', async () => {
  const rt = await Runtime.create({ tensorCores: true });
  try {
    assert.equal(rt.adapter.subgroupMatrixConfigs, []);
    const w = prepareConv2d(rt, { weight: uniform(20 * 4 * 9, 3), shape: [20, 4, 3, 3] });
    const x = rt.upload([1, 5, 5, 4], uniform(100, 4));
    const y = conv2d(rt, x, w, { padding: 1 });
    const ref = conv2dRef({ x: uniform(100, 4), xShape: [1, 5, 5, 4], weight: uniform(20 * 4 * 9, 3), wShape: [20, 4, 3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1] });
    assertClose(await y.read(), ref.out, { k: 36, label: 'tensorCores runtime, f32 rule' });
    for (const t of [x, y]) t.dispose();
    w.dispose();
  } finally {
    rt.destroy();
  }
});

test.run();
