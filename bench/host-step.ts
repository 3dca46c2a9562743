// npx tsx bench/host-step.ts [--size 512] [--depth 40] [--reps 3] [--modes ahead,step,lanes] [--memory-layout rows-first-axis|rows-second-axis]
//                            [--volume uint8|int16] [--json out.json]
// The host side of a propagation step, on any adapter: a session propagates a
// size x size x depth phantom with the real GpuSliceMemory in front of a stand-in
// network that does next to no GPU work (its "segmentation" is the memorized mask), so
// what is left is what the session and the adapter do per slice around the network:
// frame preparation and uploads, readbacks, layout transposes, storing the result and
// the label map. On the H200 this work was about half of a round (bench/RESULTS.md).
// The network's slice layout is the shipped QAMN's (no transposes); --memory-layout
// rows-second-axis adds the transposes a network trained on the other layout needs.
// --volume int16 stores the phantom as a CT is stored and reads it as mem3d reads a CT
// (bench/bench-phantom.ts); uint8 (default) takes its grey levels as they are.
// Reports wall ms per slice, the main thread's busy ms per slice (event-loop utilisation:
// meaningful on CPU drivers, where Dawn polls on a timer and waiting counts as idle; on a
// GPU and on the null backend Dawn's polling spins, so busy is about wall) and dispatches per slice, for
// the session's two paths in alternation: 'ahead' (step t + 1 queued before step t is
// read back; GpuSliceMemory's segmentAhead) and 'step' (the same network behind
// memorize / segment only: each step read back before the next is queued), and 'lanes'
// ('ahead' with the two directions' steps as one batch: SessionOptions.lanes 2).
// --work N makes the stand-in run N extra elementwise passes over a 4M-value tensor per
// step, a GPU load for the pipelining to hide.
// --network qamn puts the real QAMN (the reference's synth-v1 weights; --weight-precision
// f16 halves them) behind the session instead: with MEM3D_BENCH_BACKEND=null (Dawn's null
// backend, bench-runtime.ts) that is the whole host cost of a propagation step, network
// encoding included, with no GPU time at all: the floor of a round's time per slice.
// There, run --modes ahead: the null backend's readbacks are whatever its buffers held,
// and the step-by-step path uploads them again as the next memorized mask (NaN refused).
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { readSafetensors } from '../src/io/safetensors-node.ts';
import { MemoryEntry, MemoryNetwork, type SegmentResult } from '../src/networks/mem3d/memory-network.ts';
import { checkWeightPrecision } from '../src/ops/conv2d-f16.ts';
import { stackItems, takeItem } from '../src/ops/channels.ts';
import { relu } from '../src/ops/elementwise.ts';
import { SHIPPED_MEMORY_WEIGHTS } from '../src/pretrained/shipped.ts';
import type { Runtime } from '../src/runtime/runtime.ts';
import type { Tensor } from '../src/runtime/tensor.ts';
import { GpuSliceMemory, type SliceMemoryNetwork } from '../src/session/memory.ts';
import { Interactive3DSession } from '../src/session/session.ts';
import { parseSliceLayout } from '../src/volume/layout.ts';
import { synthWeightSource, type SynthManifest } from '../src/weights/safetensors-source.ts';
import { benchPhantom, parseStoredAs } from './bench-phantom.ts';
import { createBenchRuntime } from './bench-runtime.ts';
import { median } from '../src/util/median.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '512' },
    depth: { type: 'string', default: '40' },
    reps: { type: 'string', default: '3' },
    work: { type: 'string', default: '0' },
    modes: { type: 'string', default: 'ahead,step' },
    network: { type: 'string', default: 'stand-in' },
    'weight-precision': { type: 'string', default: 'f32' },
    'memory-layout': { type: 'string', default: SHIPPED_MEMORY_WEIGHTS['qamn-phantom'].sliceLayout },
    volume: { type: 'string', default: 'uint8' },
    reference: { type: 'string', default: new URL('../../shared/reference/', import.meta.url).pathname },
    json: { type: 'string' },
  },
});
const [size, depth, reps, work] = [Number(values.size), Number(values.depth), Number(values.reps), Number(values.work)];
if (![size, depth, reps].every((v) => Number.isInteger(v) && v > 0) || depth < 3 || !(Number.isInteger(work) && work >= 0)) {
  throw new RangeError('host-step: --size, --reps positive integers, --depth >= 3, --work >= 0');
}
if (values.network !== 'stand-in' && values.network !== 'qamn') throw new RangeError(`host-step: --network is stand-in or qamn, not '${values.network}'`);
const weightPrecision = checkWeightPrecision('host-step: --weight-precision', values['weight-precision']);
const memoryLayout = parseSliceLayout(values['memory-layout'], 'host-step: --memory-layout');
if (values.network === 'stand-in' && weightPrecision !== 'f32') throw new RangeError('host-step: --weight-precision is for --network qamn');
type Mode = 'ahead' | 'step' | 'lanes';
const MODES: readonly Mode[] = ['ahead', 'step', 'lanes'];
const modes = values.modes!.split(',') as Mode[];
if (!modes.length || modes.some((m) => !MODES.includes(m))) throw new RangeError(`host-step: --modes is a list of ${MODES.join(', ')}, not '${values.modes}'`);
const storedAs = parseStoredAs(values.volume, 'host-step: --volume');
if (values.network === 'qamn' && work > 0) throw new RangeError('host-step: --work is for the stand-in network');

/** MemoryNetwork's interface as GpuSliceMemory calls it, with one elementwise kernel per call. */
class StandInNetwork {
  readonly sliceLayout = memoryLayout;
  private readonly load: Tensor;
  constructor(private readonly rt: Runtime) {
    this.load = rt.keep(rt.upload([1 << 22], new Float32Array(1 << 22)));
  }

  memorize(frame: Tensor, mask: Tensor): MemoryEntry {
    frame.assertLive('memorize');
    return this.rt.keep(new MemoryEntry(relu(this.rt, mask), relu(this.rt, mask), [mask.shape[1], mask.shape[2]]));
  }

  segment(frame: Tensor, memory: readonly MemoryEntry[]): SegmentResult {
    return this.segmentBatch(frame, [memory]);
  }

  memorizeBatch(frames: Tensor, masks: Tensor): MemoryEntry[] {
    return Array.from({ length: frames.shape[0] }, (_, b) => this.rt.scope(() => this.memorize(frames, takeItem(this.rt, masks, b))));
  }

  segmentBatch(frames: Tensor, memories: readonly (readonly MemoryEntry[])[]): SegmentResult {
    frames.assertLive('segment');
    for (let i = 0; i < work; i++) relu(this.rt, this.load).dispose();
    const foreground = this.rt.scope(() => stackItems(this.rt, memories.map((memory) => relu(this.rt, memory[memory.length - 1].key))));
    const quality = this.rt.upload([memories.length, 1], memories.map(() => 0.5), 'f32', 'quality');
    return { probability: foreground, logits: foreground, foreground, quality, dispose: () => [foreground, quality].forEach((t) => t.dispose()) };
  }
}

const rt = await createBenchRuntime();
console.log(`adapter: ${rt.describe()}`);
const { stack, truth } = benchPhantom(size, depth, storedAs);
const z0 = Math.floor(depth / 2);
const pixels = size * size;

function qamn(): MemoryNetwork {
  const ref = values.reference!;
  const manifest = JSON.parse(readFileSync(`${ref}/qamn_manifest.json`, 'utf8')) as SynthManifest;
  const source = synthWeightSource(manifest, readSafetensors(`${ref}/qamn_small.safetensors`));
  return MemoryNetwork.load(rt, source, { variant: 'qamn', sliceLayout: memoryLayout, weightPrecision });
}
const network = values.network === 'qamn' ? qamn() : (new StandInNetwork(rt) as unknown as MemoryNetwork);
console.log(`network: ${values.network}${values.network === 'qamn' ? ` (synth-v1, ${weightPrecision} weights)` : ''}, ${memoryLayout}, ${storedAs} volume`);
const gpuMemory = new GpuSliceMemory(rt, network);
// The same network without segmentAhead / memorizeHeld: the session reads each step back first.
const stepByStep: SliceMemoryNetwork = {
  sliceLayout: gpuMemory.sliceLayout,
  memorize: (frame, mask) => gpuMemory.memorize(frame, mask),
  segment: (frame, memory) => gpuMemory.segment(frame, memory as MemoryEntry[]),
};
const runs: { mode: Mode; wallMs: number; busyMs: number; dispatches: number }[] = [];
for (let rep = 0; rep <= reps; rep++) for (const mode of modes) {
  const memory = mode === 'step' ? stepByStep : gpuMemory;
  const session = new Interactive3DSession(rt, stack(), {
    segmenter: { segment: () => Promise.reject(new Error('host-step: no 2D network')) },
    memory,
  }, { memoryLayout, lanes: mode === 'lanes' ? 2 : 1 });
  session.setSliceMask(z0, truth.subarray(z0 * pixels, (z0 + 1) * pixels));
  await rt.sync();
  const elu0 = performance.eventLoopUtilization();
  const dispatches0 = rt.dispatchCount;
  const t0 = performance.now();
  await session.propagate();
  const wallMs = performance.now() - t0;
  const elu = performance.eventLoopUtilization(elu0);
  const steps = depth - 1;
  const dispatches = (rt.dispatchCount - dispatches0) / steps;
  if (rep === 0) continue; // the first pass compiles the kernels
  runs.push({ mode, wallMs: wallMs / steps, busyMs: elu.active / steps, dispatches });
  console.log(`pass ${rep} ${mode}: ${(wallMs / steps).toFixed(2)} ms wall, ${(elu.active / steps).toFixed(2)} ms busy, ${dispatches.toFixed(1)} dispatches per slice (${steps} steps)`);
}
const summary = Object.fromEntries(modes.map((mode) => {
  const mine = runs.filter((r) => r.mode === mode);
  return [mode, { wallMsPerSlice: median(mine.map((r) => r.wallMs)), busyMsPerSlice: median(mine.map((r) => r.busyMs)), dispatchesPerSlice: median(mine.map((r) => r.dispatches)) }];
}));
for (const [mode, m] of Object.entries(summary)) console.log(`${mode}: median per slice at ${size}x${size}: ${m.wallMsPerSlice.toFixed(2)} ms wall, ${m.busyMsPerSlice.toFixed(2)} ms main-thread busy, ${m.dispatchesPerSlice.toFixed(1)} dispatches`);
if (values.json) writeFileSync(values.json, JSON.stringify({ adapter: rt.describe(), network: values.network, weightPrecision, memoryLayout, volume: storedAs, size, depth, work, summary, runs }, null, 2) + '\n');
rt.destroy();
