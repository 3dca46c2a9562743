// Whole networks for bench/peers.ts: the QAMN propagation step (bench/memnet.ts's step:
// memorize + segment against 5 memory frames + quality head) and the IOG forward
// (bench/iog.ts's, coarse heads off), on our engine and as ONNX graphs exported from
// the very modules and GPU weights our engine runs (bench/onnx-export.ts) for the ONNX
// peers. Weights are the reference's synth-v1 (timing does not depend on values).
// tfjs has no whole-network port, so it sits these out.
import { readFileSync } from 'node:fs';
import { readSafetensors } from '../src/io/safetensors-node.ts';
import { IOGNetwork } from '../src/networks/iog/network.ts';
import { MemoryNetwork, type MemoryEntry } from '../src/networks/mem3d/memory-network.ts';
import { synthWeightSource, type SynthManifest } from '../src/weights/safetensors-source.ts';
import { concatArrays } from '../src/util/concat-arrays.ts';
import { exportIog, exportQamnStep } from './onnx-export.ts';
import type { OnnxGraph } from './onnx-writer.ts';
import { nhwcToNchw, onnxContenders, type BenchCase, type Contender, type Peers } from './peer-kernels.ts';

export const NETWORK_CASES = ['qamn-step', 'iog'] as const;

export interface NetworkOptions {
  /** QAMN frame size (multiple of 16). */
  size: number;
  /** IOG input size (multiple of 16). */
  iogSize: number;
  /** The folder with {qamn,iog}_manifest.json and *_small.safetensors (../shared/reference). */
  reference: string;
}

const MEMORY_FRAMES = 5;
const MiB = 1024 * 1024;

function synth(reference: string, model: 'qamn' | 'iog') {
  const manifest = JSON.parse(readFileSync(`${reference}/${model}_manifest.json`, 'utf8')) as SynthManifest;
  return synthWeightSource(manifest, readSafetensors(`${reference}/${model}_small.safetensors`));
}

function describeGraph(graph: OnnxGraph, bytes: number, ms: number): string {
  const ops = [...graph.opCounts].sort((a, b) => b[1] - a[1]).map(([op, n]) => `${op} ${n}`).join(', ');
  return `  onnx graph: ${(bytes / MiB).toFixed(1)} MiB (weights ${(graph.initializerBytes / MiB).toFixed(1)} MiB), exported in ${(ms / 1000).toFixed(1)} s; ${ops}`;
}

/** Our entries' keys [1, h, w, D] (rows of the memory) as STM's channels-first [D, frames*h*w]. */
async function channelsFirst(tensors: MemoryEntry['key'][], d: number): Promise<Float32Array> {
  const rows = concatArrays(Float32Array, await Promise.all(tensors.map(async (t) => (await t.read()) as Float32Array)));
  const m = rows.length / d;
  const out = new Float32Array(rows.length);
  for (let i = 0; i < m; i++) for (let c = 0; c < d; c++) out[c * m + i] = rows[i * d + c];
  return out;
}

async function qamnCase(peers: Peers, opts: NetworkOptions): Promise<BenchCase> {
  const { rt } = peers;
  const size = opts.size;
  const net = MemoryNetwork.load(rt, synth(opts.reference, 'qamn'), { variant: 'qamn' });
  const frameData = Float32Array.from({ length: size * size * 3 }, (_, i) => Math.sin(i * 0.001));
  const maskData = Float32Array.from({ length: size * size }, (_, i) => (i % size > size / 3 && i % size < size / 2 ? 1 : 0));
  const frame = rt.upload([1, size, size, 3], frameData);
  const mask = rt.upload([1, size, size, 1], maskData);
  const memory: MemoryEntry[] = [];
  while (memory.length < MEMORY_FRAMES - 1) memory.push(net.memorize(frame, mask));

  const t0 = performance.now();
  const { model, graph, gflop } = await exportQamnStep(net, size, memory.length);
  console.log(describeGraph(graph, model.length, performance.now() - t0));

  const ours: Contender = {
    name: 'ours',
    async run() {
      const entry = net.memorize(frame, mask);
      const out = net.segment(frame, [...memory, entry]);
      const [ps, quality] = await Promise.all([out.probability.read(), out.quality!.read()]);
      out.dispose();
      entry.dispose();
      return concatArrays(Float32Array, [ps as Float32Array, quality as Float32Array]);
    },
    dispose() {
      for (const m of memory) m.dispose();
      frame.dispose();
      mask.dispose();
      net.dispose();
    },
  };
  const feeds = {
    frame: { data: nhwcToNchw(frameData, size, size, 3), dims: [1, 3, size, size] },
    mask: { data: maskData, dims: [1, 1, size, size] },
    mem_keys: { data: await channelsFirst(memory.map((m) => m.key), 128), dims: [128, memory.length * (size / 16) ** 2] },
    mem_values: { data: await channelsFirst(memory.map((m) => m.value), 512), dims: [512, memory.length * (size / 16) ** 2] },
  };
  const onnx = await onnxContenders(peers, model, async (s) => {
    const out = await s.run(feeds);
    return concatArrays(Float32Array, [out.ps, out.quality]);
  });
  return { name: `QAMN step ${size}x${size}, ${MEMORY_FRAMES} memory frames`, gflop, contenders: [ours, ...onnx] };
}

async function iogCase(peers: Peers, opts: NetworkOptions): Promise<BenchCase> {
  const { rt } = peers;
  const size = opts.iogSize;
  const net = IOGNetwork.load(rt, synth(opts.reference, 'iog'), { inputChannels: 4 });
  const data = Float32Array.from({ length: size * size * 4 }, (_, i) => 128 + 100 * Math.sin(i * 0.001));
  const input = rt.upload([1, size, size, 4], data);
  const t0 = performance.now();
  const { model, graph, gflop } = await exportIog(net, size);
  console.log(describeGraph(graph, model.length, performance.now() - t0));
  const ours: Contender = {
    name: 'ours',
    async run() {
      const out = net.forward(input, { coarse: false });
      const fine = (await out.fine.read()) as Float32Array;
      out.dispose();
      return fine;
    },
    dispose() {
      input.dispose();
      net.dispose();
    },
  };
  const feeds = { input: { data: nhwcToNchw(data, size, size, 4), dims: [1, 4, size, size] } };
  const onnx = await onnxContenders(peers, model, async (s) => (await s.run(feeds)).fine);
  return { name: `IOG forward ${size}x${size}`, gflop, contenders: [ours, ...onnx] };
}

export function networkCase(peers: Peers, id: (typeof NETWORK_CASES)[number], opts: NetworkOptions): Promise<BenchCase> {
  return id === 'qamn-step' ? qamnCase(peers, opts) : iogCase(peers, opts);
}
