// npm run bench:kernels -- [--reps 5] [--json out.json] [--profile]
// Our conv2d and memory read against TensorFlow.js's WebGPU backend on the same
// Dawn adapter, in the same process: GFLOP/s for each (median of reps, each run
// awaited to completion including a read back of the output, for both engines).
// --profile adds one timestamp-query profiled run of ours per case: GPU time of the
// kernels alone, without submit and read-back overhead (in the JSON as `profile`).
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { conv2d, prepareConv2d } from '../src/ops/conv2d.ts';
import { memoryRead } from '../src/ops/memory-read.ts';
import { formatProfile, type ProfileReport } from '../src/runtime/profiler.ts';
import { createBenchRuntime } from './bench-runtime.ts';
import { initPeer, timeMs } from './peer-tfjs.ts';

const { values } = parseArgs({ options: { reps: { type: 'string', default: '5' }, json: { type: 'string' }, quick: { type: 'boolean' }, profile: { type: 'boolean' } } });
const reps = Number(values.reps);
const tf = await initPeer();
const rt = await createBenchRuntime();
console.log(`adapter: ${rt.describe()}`);

const rand = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.5);

interface Row { case: string; gflop: number; oursMs: number; peerMs: number; oursGflops: number; peerGflops: number }
const rows: Row[] = [];
const profiles: ProfileReport[] = [];
function report(name: string, gflop: number, oursMs: number, peerMs: number): void {
  const row = { case: name, gflop, oursMs, peerMs, oursGflops: gflop / (oursMs / 1000), peerGflops: gflop / (peerMs / 1000) };
  rows.push(row);
  console.log(`${name}: ours ${oursMs.toFixed(1)} ms (${row.oursGflops.toFixed(2)} GFLOP/s), tfjs-webgpu ${peerMs.toFixed(1)} ms (${row.peerGflops.toFixed(2)} GFLOP/s)`);
}

// Convolutions from the networks: ResNet layer3 3x3, a 1x1 projection, the decoder's 1/4-resolution 3x3.
const CONVS = [
  { name: 'conv 3x3 256->256 @64x64', h: 64, cin: 256, cout: 256, k: 3 },
  { name: 'conv 1x1 1024->256 @32x32', h: 32, cin: 1024, cout: 256, k: 1 },
  { name: 'conv 3x3 64->64 @128x128', h: 128, cin: 64, cout: 64, k: 3 },
];
for (const c of values.quick ? CONVS.slice(0, 1) : CONVS) {
  const pad = (c.k - 1) / 2;
  const x = rand(c.h * c.h * c.cin, 1);
  const wOIHW = rand(c.cout * c.cin * c.k * c.k, 2);
  const w = prepareConv2d(rt, { weight: wOIHW, shape: [c.cout, c.cin, c.k, c.k] });
  const tx = rt.upload([1, c.h, c.h, c.cin], x);
  const ours = await timeMs(async () => {
    const y = conv2d(rt, tx, w, { padding: pad });
    await y.read();
    y.dispose();
  }, { reps });
  // tfjs wants HWIO filters.
  const hwio = new Float32Array(wOIHW.length);
  for (let o = 0; o < c.cout; o++) for (let i = 0; i < c.cin; i++) for (let k = 0; k < c.k * c.k; k++) hwio[(k * c.cin + i) * c.cout + o] = wOIHW[(o * c.cin + i) * c.k * c.k + k];
  const fx = tf.tensor4d(x, [1, c.h, c.h, c.cin]);
  const fw = tf.tensor4d(hwio, [c.k, c.k, c.cin, c.cout]);
  const peer = await timeMs(async () => {
    const y = tf.conv2d(fx, fw, 1, 'same');
    await y.data();
    y.dispose();
  }, { reps });
  report(c.name, (2 * c.h * c.h * c.cout * c.cin * c.k * c.k) / 1e9, ours, peer);
  if (values.profile) {
    rt.startProfiling();
    conv2d(rt, tx, w, { padding: pad, label: c.name }).dispose();
    profiles.push(await rt.stopProfiling());
  }
  for (const t of [tx, w]) t.dispose();
  fx.dispose();
  fw.dispose();
}

// The memory read of a propagation step: 32x32 queries, 5 memorized slices, keydim 128, valdim 512.
// The peer composes it from matMul, softmax, matMul (the affinity matrix is materialised).
{
  const q = 1024, m = 5 * 1024, dk = 128, dv = 512;
  const keys = rand(m * dk, 3), vals = rand(m * dv, 4), query = rand(q * dk, 5);
  const tk = rt.upload([m, dk], keys), tv = rt.upload([m, dv], vals), tq = rt.upload([1, 32, 32, dk], query);
  const ours = await timeMs(async () => {
    const y = memoryRead(rt, tk, tv, tq);
    await y.read();
    y.dispose();
  }, { reps });
  const fk = tf.tensor2d(keys, [m, dk]), fv = tf.tensor2d(vals, [m, dv]), fq = tf.tensor2d(query, [q, dk]);
  const peer = await timeMs(async () => {
    const y = tf.tidy(() => tf.matMul(tf.softmax(tf.mul(tf.matMul(fq, fk, false, true), 1 / Math.sqrt(dk))), fv));
    await y.data();
    y.dispose();
  }, { reps });
  report('memory read Q=1024 M=5120 Dk=128 Dv=512', (2 * q * m * (dk + dv)) / 1e9, ours, peer);
  if (values.profile) {
    rt.startProfiling();
    memoryRead(rt, tk, tv, tq).dispose();
    profiles.push(await rt.stopProfiling());
  }
  for (const t of [tk, tv, tq]) t.dispose();
  for (const t of [fk, fv, fq]) t.dispose();
}

console.log(`\n| case | GFLOP | ours ms | ours GFLOP/s | tfjs-webgpu ms | tfjs-webgpu GFLOP/s |\n| --- | --- | --- | --- | --- | --- |`);
for (const r of rows) console.log(`| ${r.case} | ${r.gflop.toFixed(2)} | ${r.oursMs.toFixed(1)} | ${r.oursGflops.toFixed(2)} | ${r.peerMs.toFixed(1)} | ${r.peerGflops.toFixed(2)} |`);
for (const p of profiles) console.log(`\n${formatProfile(p, 3)}`);
if (values.json) writeFileSync(values.json, JSON.stringify({ adapter: rt.describe(), reps, rows, profile: values.profile ? profiles : undefined }, null, 2) + '\n');
rt.destroy();
process.exit(0);
