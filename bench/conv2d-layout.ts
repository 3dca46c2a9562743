// The activation-layout decision for conv2d: times the engine's NHWC implicit
// GEMM (kernels/conv2d.wgsl, the tile the op picks plus one rung per wide tile of
// CONV2D_TILES) against the same GEMM on NCHW (bench/conv2d_nchw_bench.wgsl, a
// benchmark-only rung kept out of the product bundle) on ResNet-sized layers, after checking that both agree.
//   npx tsx bench/conv2d-layout.ts [--reps N] [--tfjs]
// --tfjs adds @tensorflow/tfjs-backend-webgpu's conv2d (NHWC) as a reference rung.
import { readFileSync } from 'node:fs';
import { create, globals } from 'webgpu';
import { CONV2D_TILES, chooseConv2dTile, conv2d, prepareConv2d, type Conv2dTile } from '../src/ops/conv2d.ts';
import { createBenchRuntime } from './bench-runtime.ts';
import { grid1d } from '../src/runtime/runtime.ts';
import type { Tensor } from '../src/runtime/tensor.ts';
import { registerKernel } from '../src/runtime/kernels.ts';
import { uniform } from '../test/_lib/random.ts';
import { compare } from '../test/_lib/tolerance.ts';

const args = process.argv.slice(2);
const reps = Number(args[args.indexOf('--reps') + 1]) || 5;
const withTfjs = args.includes('--tfjs');

// tfjs's WebGPU backend reads navigator.gpu when it initialises; the runtime then
// shares that Dawn instance (src/runtime/device.ts keeps one per process).
if (withTfjs) {
  Object.assign(globalThis, globals);
  (globalThis as { navigator?: unknown }).navigator = { gpu: create([]) };
}

registerKernel('conv2d_nchw_bench', readFileSync(new URL('conv2d_nchw_bench.wgsl', import.meta.url), 'utf8'));

interface Layer { name: string; cin: number; cout: number; k: number; hw: number }
const LAYERS: Layer[] = [
  { name: '3x3 256->256 @64x64', cin: 256, cout: 256, k: 3, hw: 64 },
  { name: '1x1 1024->256 @32x32', cin: 1024, cout: 256, k: 1, hw: 32 },
  { name: '3x3 64->64 @128x128', cin: 64, cout: 64, k: 3, hw: 128 },
];

const rt = await createBenchRuntime();
console.log(`adapter: ${rt.describe()}`);

interface Rung { name: string; run: () => Promise<void> }

/** Median ms per rung; rungs alternate run by run so machine-load drift hits them alike. */
async function timeRungs(rungs: Rung[]): Promise<number[]> {
  for (const r of rungs) await r.run();
  const times: number[][] = rungs.map(() => []);
  for (let i = 0; i < reps; i++) {
    for (const [j, r] of rungs.entries()) {
      const t0 = performance.now();
      await r.run();
      times[j].push(performance.now() - t0);
    }
  }
  return times.map((t) => t.sort((a, b) => a - b)[t.length >> 1]);
}

const gpuRung = (name: string, launch: () => Tensor): Rung => ({
  name,
  run: async () => {
    launch().dispose();
    await rt.sync();
  },
});

function nchwWeights(ws: Float32Array, bias: Float32Array, cout: number, K: number): [Tensor, Tensor] {
  const cp = Math.ceil(cout / 4) * 4;
  const wt = new Float32Array(K * cp);
  for (let o = 0; o < cout; o++) for (let k = 0; k < K; k++) wt[k * cp + o] = ws[o * K + k];
  const b = new Float32Array(cp);
  b.set(bias);
  return [rt.upload([K, cp], wt), rt.upload([cp], b)];
}

function conv2dNchw(x: Tensor, w: Tensor, bias: Tensor, l: Layer, tile: Conv2dTile): Tensor<'f32'> {
  const pad = (l.k - 1) / 2;
  const out = rt.empty([1, l.cout, l.hw, l.hw], 'f32', 'nchw out');
  const M = l.hw * l.hw;
  const [gy, gz] = grid1d(Math.ceil(M / (tile.TM * tile.WGY)));
  rt.dispatch({
    kernel: 'conv2d_nchw_bench',
    label: `conv2d nchw ${l.name}`,
    constants: { ...tile },
    bindings: [x, w, bias, out],
    uniforms: {
      H: l.hw, W: l.hw, Cin: l.cin, KH: l.k, KW: l.k, OH: l.hw, OW: l.hw, Cout: l.cout, K: l.k * l.k * l.cin,
      strideH: 1, strideW: 1, dilH: 1, dilW: 1, padH: pad, padW: pad, M, coutPad4: Math.ceil(l.cout / 4),
    },
    workgroups: [Math.ceil(l.cout / (4 * tile.WGX * tile.TN4)), gy, gz],
  });
  return out;
}

function toNchw(nhwc: ArrayLike<number>, hw: number, c: number): Float32Array {
  const out = new Float32Array(nhwc.length);
  for (let p = 0; p < hw * hw; p++) for (let ch = 0; ch < c; ch++) out[ch * hw * hw + p] = nhwc[p * c + ch];
  return out;
}

const tfjs = withTfjs ? await import('@tensorflow/tfjs-core') : null;
if (tfjs) {
  await import('@tensorflow/tfjs-backend-webgpu');
  await tfjs.setBackend('webgpu');
}

const rows: [string, string, number, number][] = [];
const speedups: number[] = [];
for (const l of LAYERS) {
  const flops = 2 * l.hw * l.hw * l.cout * l.cin * l.k * l.k;
  const K = l.k * l.k * l.cin;
  const xs = uniform(l.hw * l.hw * l.cin, 1);
  const ws = uniform(l.cout * K, 2, -0.05, 0.05);
  const bias = uniform(l.cout, 3);
  const pad = (l.k - 1) / 2;
  const w = prepareConv2d(rt, { weight: ws, shape: [l.cout, l.cin, l.k, l.k], bias });
  const x = rt.upload([1, l.hw, l.hw, l.cin], xs);
  const xNchw = rt.upload([1, l.cin, l.hw, l.hw], toNchw(xs, l.hw, l.cin));
  const [wN, bN] = nchwWeights(ws, bias, l.cout, K);
  const picked = chooseConv2dTile(l.hw * l.hw, l.cout);

  const yNhwc = conv2d(rt, x, w, { padding: pad, tile: picked });
  const yNchw = conv2dNchw(xNchw, wN, bN, l, picked);
  const c = compare(await yNchw.read(), toNchw(await yNhwc.read(), l.hw, l.cout), { k: K });
  if (!c.ok) throw new Error(`${l.name}: NCHW and NHWC disagree (max abs error ${c.maxAbsError} > ${c.tolerance})`);
  yNhwc.dispose();
  yNchw.dispose();

  const rungs = [
    // The tile the NCHW rung runs, not the fixed rule's choice (the CPU kernel or Winograd on CPU drivers, split-K on GPUs).
    gpuRung(`NHWC, picked tile ${JSON.stringify(picked)}`, () => conv2d(rt, x, w, { padding: pad, tile: picked })),
    // 'narrow' exists for Cout <= 16 only.
    ...Object.entries(CONV2D_TILES)
      .filter(([name]) => name !== 'narrow')
      .map(([name, tile]) => gpuRung(`NHWC, '${name}' tile`, () => conv2d(rt, x, w, { padding: pad, tile }))),
    gpuRung('NCHW, picked tile', () => conv2dNchw(xNchw, wN, bN, l, picked)),
  ];
  const tf = tfjs && {
    x: tfjs.tensor4d(xs, [1, l.hw, l.hw, l.cin]),
    w: tfjs.tensor4d(uniform(K * l.cout, 2, -0.05, 0.05), [l.k, l.k, l.cin, l.cout]),
  };
  if (tfjs && tf) {
    rungs.push({
      name: 'tfjs-backend-webgpu (NHWC, incl. readback)',
      run: async () => {
        const y = tfjs.conv2d(tf.x, tf.w, 1, 'same');
        await y.data();
        y.dispose();
      },
    });
  }
  const ms = await timeRungs(rungs);
  rungs.forEach((r, i) => rows.push([l.name, r.name, ms[i], flops / ms[i] / 1e6]));
  speedups.push(ms[rungs.findIndex((r) => r.name.startsWith('NCHW'))] / ms[0]);
  tf?.x.dispose();
  tf?.w.dispose();
  for (const t of [x, xNchw, wN, bN]) t.dispose();
  w.dispose();
}

console.log(`\n${'layer'.padEnd(22)} ${'rung'.padEnd(66)} ${'ms'.padStart(9)} ${'GFLOP/s'.padStart(8)}`);
for (const [layer, rung, ms, gflops] of rows) {
  console.log(`${layer.padEnd(22)} ${rung.padEnd(66)} ${ms.toFixed(1).padStart(9)} ${gflops.toFixed(2).padStart(8)}`);
}
const geomean = Math.exp(speedups.reduce((s, v) => s + Math.log(v), 0) / speedups.length);
console.log(
  `\ndecision: ${geomean >= 1 ? 'NHWC' : 'NCHW'} — NHWC is ${geomean.toFixed(2)}x NCHW's speed (geometric mean over ${LAYERS.length} layers, picked tile, median of ${reps} interleaved runs)`,
);
rt.destroy();
process.exit(0);
