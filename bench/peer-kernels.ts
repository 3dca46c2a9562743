// bench/kernels.ts's cases for bench/peers.ts, for every contender: our conv2d and
// memory read, tfjs-webgpu's conv2d and matMul/softmax/matMul, and ONNX graphs of the
// same (Conv; MatMul, Mul, Softmax, MatMul) on ort-web WebGPU and ort-node CPU.
// Inputs and weights are identical for all; every run returns its output in our
// layout (NHWC; [queries, Dv]) so it can be checked against ours.
import { conv2d, prepareConv2d } from '../src/ops/conv2d.ts';
import { memoryRead } from '../src/ops/memory-read.ts';
import type { Runtime } from '../src/runtime/runtime.ts';
import { OnnxGraph } from './onnx-writer.ts';
import type { PeerSession } from './peer-ort.ts';

type Tf = typeof import('@tensorflow/tfjs-core');

/** One contender on one case: `run` is timed (compute and read back, awaited); `dispose` frees what setup made. */
export interface Contender {
  name: string;
  run(): Promise<Float32Array>;
  dispose(): Promise<void> | void;
}

export interface BenchCase {
  name: string;
  gflop: number;
  contenders: Contender[];
}

export interface Peers {
  rt: Runtime;
  tf: Tf | null;
  /** Session factories for the ONNX peers that are on (null = that peer is off). */
  ortWeb: ((model: Uint8Array) => Promise<PeerSession>) | null;
  ortNode: ((model: Uint8Array) => Promise<PeerSession>) | null;
}

/** Uniform-looking values in [-0.5, 0.5) (the classic sin hash): sums over many terms do not cancel as a plain sinusoid's do. */
const rand = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => {
  const s = Math.sin(i * 12.9898 + seed * 78.233) * 43758.5453;
  return s - Math.floor(s) - 0.5;
});

/** [1, H, W, C] -> [1, C, H, W] and back. */
export function nhwcToNchw(x: Float32Array, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let p = 0; p < h * w; p++) for (let ch = 0; ch < c; ch++) out[ch * h * w + p] = x[p * c + ch];
  return out;
}
export function nchwToNhwc(x: Float32Array, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let p = 0; p < h * w; p++) for (let ch = 0; ch < c; ch++) out[p * c + ch] = x[ch * h * w + p];
  return out;
}

/** The ONNX contenders of one graph: each session is created here, once, outside the timing. */
export async function onnxContenders(peers: Peers, model: Uint8Array, run: (s: PeerSession) => Promise<Float32Array>): Promise<Contender[]> {
  const out: Contender[] = [];
  for (const make of [peers.ortWeb, peers.ortNode]) {
    if (!make) continue;
    const s = await make(model);
    out.push({ name: s.name, run: () => run(s), dispose: () => s.release() });
  }
  return out;
}

const CONVS = [
  { name: 'conv 3x3 256->256 @64x64', h: 64, cin: 256, cout: 256, k: 3 },
  { name: 'conv 1x1 1024->256 @32x32', h: 32, cin: 1024, cout: 256, k: 1 },
  { name: 'conv 3x3 64->64 @128x128', h: 128, cin: 64, cout: 64, k: 3 },
];

async function convCase(peers: Peers, c: (typeof CONVS)[number]): Promise<BenchCase> {
  const { rt, tf } = peers;
  const pad = (c.k - 1) / 2;
  const x = rand(c.h * c.h * c.cin, 1);
  const wOIHW = rand(c.cout * c.cin * c.k * c.k, 2);
  const contenders: Contender[] = [];

  const w = prepareConv2d(rt, { weight: wOIHW, shape: [c.cout, c.cin, c.k, c.k] });
  const tx = rt.upload([1, c.h, c.h, c.cin], x);
  contenders.push({
    name: 'ours',
    async run() {
      const y = conv2d(rt, tx, w, { padding: pad });
      const data = (await y.read()) as Float32Array;
      y.dispose();
      return data;
    },
    dispose() {
      w.dispose();
      tx.dispose();
    },
  });

  if (tf) {
    const hwio = new Float32Array(wOIHW.length);
    for (let o = 0; o < c.cout; o++) for (let i = 0; i < c.cin; i++) for (let k = 0; k < c.k * c.k; k++) hwio[(k * c.cin + i) * c.cout + o] = wOIHW[(o * c.cin + i) * c.k * c.k + k];
    const fx = tf.tensor4d(x, [1, c.h, c.h, c.cin]);
    const fw = tf.tensor4d(hwio, [c.k, c.k, c.cin, c.cout]);
    contenders.push({
      name: 'tfjs-webgpu',
      async run() {
        const y = tf.conv2d(fx, fw, 1, 'same');
        const data = (await y.data()) as Float32Array;
        y.dispose();
        return data;
      },
      dispose() {
        fx.dispose();
        fw.dispose();
      },
    });
  }

  const g = new OnnxGraph(c.name);
  const input = g.input('x', [1, c.cin, c.h, c.h]);
  g.output(g.node('Conv', [input, g.initializer([c.cout, c.cin, c.k, c.k], wOIHW)], { kernel_shape: [c.k, c.k], pads: [pad, pad, pad, pad] }, 'y'));
  const xNCHW = nhwcToNchw(x, c.h, c.h, c.cin);
  contenders.push(...(await onnxContenders(peers, g.toBytes(), async (s) => nchwToNhwc((await s.run({ x: { data: xNCHW, dims: [1, c.cin, c.h, c.h] } })).y, c.h, c.h, c.cout))));
  return { name: c.name, gflop: (2 * c.h * c.h * c.cout * c.cin * c.k * c.k) / 1e9, contenders };
}

/** The memory read of a propagation step: 32x32 queries, 5 memorized slices, keydim 128, valdim 512. */
async function memoryReadCase(peers: Peers): Promise<BenchCase> {
  const { rt, tf } = peers;
  const q = 1024, m = 5 * 1024, dk = 128, dv = 512;
  const keys = rand(m * dk, 3), vals = rand(m * dv, 4), query = rand(q * dk, 5);
  const contenders: Contender[] = [];
  const tk = rt.upload([m, dk], keys), tv = rt.upload([m, dv], vals), tq = rt.upload([1, 32, 32, dk], query);
  contenders.push({
    name: 'ours',
    async run() {
      const y = memoryRead(rt, tk, tv, tq);
      const data = (await y.read()) as Float32Array;
      y.dispose();
      return data;
    },
    dispose() {
      for (const t of [tk, tv, tq]) t.dispose();
    },
  });
  if (tf) {
    const fk = tf.tensor2d(keys, [m, dk]), fv = tf.tensor2d(vals, [m, dv]), fq = tf.tensor2d(query, [q, dk]);
    contenders.push({
      name: 'tfjs-webgpu',
      async run() {
        const y = tf.tidy(() => tf.matMul(tf.softmax(tf.mul(tf.matMul(fq, fk, false, true), 1 / Math.sqrt(dk))), fv));
        const data = (await y.data()) as Float32Array;
        y.dispose();
        return data;
      },
      dispose() {
        for (const t of [fk, fv, fq]) t.dispose();
      },
    });
  }
  // ONNX: keys given transposed ([Dk, M], how STM stores them), so the graph is MatMul, Mul, Softmax, MatMul.
  const g = new OnnxGraph('memory read');
  const affinity = g.node('Mul', [g.node('MatMul', [g.input('q', [q, dk]), g.input('kT', [dk, m])]), g.floats([1], [1 / Math.sqrt(dk)])]);
  g.output(g.node('MatMul', [g.node('Softmax', [affinity], { axis: -1 }), g.input('v', [m, dv])], {}, 'y'));
  const kT = new Float32Array(m * dk);
  for (let i = 0; i < m; i++) for (let j = 0; j < dk; j++) kT[j * m + i] = keys[i * dk + j];
  const feeds = { q: { data: query, dims: [q, dk] }, kT: { data: kT, dims: [dk, m] }, v: { data: vals, dims: [m, dv] } };
  contenders.push(...(await onnxContenders(peers, g.toBytes(), async (s) => (await s.run(feeds)).y)));
  return { name: 'memory read Q=1024 M=5120 Dk=128 Dv=512', gflop: (2 * q * m * (dk + dv)) / 1e9, contenders };
}

export const KERNEL_CASES = ['conv3x3-256', 'conv1x1-1024', 'conv3x3-64', 'memory-read'] as const;

export function kernelCase(peers: Peers, id: (typeof KERNEL_CASES)[number]): Promise<BenchCase> {
  if (id === 'memory-read') return memoryReadCase(peers);
  return convCase(peers, CONVS[KERNEL_CASES.indexOf(id)]);
}
