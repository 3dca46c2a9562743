// npx tsx bench/round.ts [--size 512] [--depth 100] [--rounds 2] [--autotune] [--tune-budget-s 60] [--weight-precision f32|f16]
//                        [--memory-layout rows-first-axis|rows-second-axis] [--volume uint8|int16] [--lanes 2,1] [--json out.json]
// Seconds per interactive round (quality strategy) on a generated size x size x depth
// phantom, like `mem3d bench`, but with the reference's synth-v1 weights for both
// networks (timing does not depend on values), so it runs from the 2 MB reference
// files alone: the bundle that goes to a GPU machine cannot carry the trained weights.
// Each network gets the slice layout of the shipped one it stands for, so the host
// transposes what `mem3d bench` transposes: the IOG's crops, not the memory network's
// slices (--memory-layout rows-second-axis adds those: each step's frame read transposed
// and its output transposed back). --volume int16 stores the phantom as a CT is stored
// and reads it as mem3d reads a CT (bench/bench-phantom.ts).
// --lanes: the sweeps walked side by side (SessionOptions.lanes; default the network's
// preference, 2); a list times a pass with each, in one process.
// Two passes (the first after the session's warm-up, which compiles the pipelines; with a list, one more per further value), and
// one more after --autotune (the first value). With
// MEM3D_BENCH_BACKEND=null (bench-runtime.ts) a round's host work alone; its 512 MiB hold
// both networks' f16 weights and a 256x256 round, not a 512x512 one.
// Round 1 = one IOG forward + (depth - 1) propagation steps; the paper reports 5.13 s
// per round on an RTX 2080 Ti at 512x512, the goal is 1.5 s on an H100-class GPU.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { INPUT_SIZE } from '../src/interaction/extreme-points.ts';
import { readSafetensors } from '../src/io/safetensors-node.ts';
import { IOGNetwork } from '../src/networks/iog/network.ts';
import { MemoryNetwork } from '../src/networks/mem3d/memory-network.ts';
import { autotuneConv2d, loadConv2dChoices } from '../src/ops/conv2d-autotune.ts';
import { checkWeightPrecision } from '../src/ops/conv2d-f16.ts';
import { IOG_PHANTOM_SLICE_LAYOUT, SHIPPED_MEMORY_WEIGHTS } from '../src/pretrained/shipped.ts';
import { fileTuningStore } from '../src/runtime/autotune-node.ts';
import { benchPhantom, parseStoredAs } from './bench-phantom.ts';
import { createBenchRuntime } from './bench-runtime.ts';
import { runRobotRounds } from '../src/session/evaluate.ts';
import { GpuSliceMemory } from '../src/session/memory.ts';
import { Interactive3DSession } from '../src/session/session.ts';
import { IOGSliceSegmenter } from '../src/session/slice-segmenter.ts';
import { parseSliceLayout } from '../src/volume/layout.ts';
import { synthWeightSource, type SynthManifest } from '../src/weights/safetensors-source.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '512' },
    depth: { type: 'string', default: '100' },
    rounds: { type: 'string', default: '2' },
    autotune: { type: 'boolean' },
    'tune-budget-s': { type: 'string', default: '60' },
    'weight-precision': { type: 'string', default: 'f32' },
    'memory-layout': { type: 'string', default: SHIPPED_MEMORY_WEIGHTS['qamn-phantom'].sliceLayout },
    volume: { type: 'string', default: 'uint8' },
    lanes: { type: 'string' },
    reference: { type: 'string', default: new URL('../../shared/reference/', import.meta.url).pathname },
    json: { type: 'string' },
  },
});
const [size, depth, rounds] = [Number(values.size), Number(values.depth), Number(values.rounds)];
const weightPrecision = checkWeightPrecision('round: --weight-precision', values['weight-precision']);
const memoryLayout = parseSliceLayout(values['memory-layout'], 'round: --memory-layout');
const storedAs = parseStoredAs(values.volume, 'round: --volume');
const laneList = values.lanes?.split(',').map(Number);
if (laneList && !laneList.every((n) => Number.isInteger(n) && n >= 1)) throw new RangeError(`round: --lanes is a list of positive integers, not '${values.lanes}'`);
const ref = values.reference!;
const synth = (name: string) =>
  synthWeightSource(JSON.parse(readFileSync(`${ref}/${name}_manifest.json`, 'utf8')) as SynthManifest, readSafetensors(`${ref}/${name}_small.safetensors`));

const rt = await createBenchRuntime();
console.log(`adapter: ${rt.describe()}`);
const t0 = performance.now();
const qamn = MemoryNetwork.load(rt, synth('qamn'), { variant: 'qamn', sliceLayout: memoryLayout, weightPrecision });
const iog = IOGNetwork.load(rt, synth('iog'), { sliceLayout: IOG_PHANTOM_SLICE_LAYOUT, weightPrecision });
await rt.sync();
console.log(`weights loaded in ${(performance.now() - t0).toFixed(0)} ms`);

const { stack, truth } = benchPhantom(size, depth, storedAs);
const memory = new GpuSliceMemory(rt, qamn);
const lanes = laneList ?? [memory.preferredLanes];
// A fresh session per pass, so every pass repeats the very same rounds.
let warmupMs: number | null = null;
async function pass(label: string, laneCount: number) {
  const session = new Interactive3DSession(rt, stack(), {
    segmenter: new IOGSliceSegmenter(rt, iog, INPUT_SIZE, IOG_PHANTOM_SLICE_LAYOUT),
    memory,
  }, { memoryLayout, lanes: laneCount });
  if (warmupMs === null) {
    // As mem3d's commands do: the first pass's round 1 then shows what is left of a cold start.
    const w0 = performance.now();
    const pipelines = await session.warmup();
    warmupMs = performance.now() - w0;
    console.log(`warm-up (session.warmup): ${pipelines} pipelines and the weights ready in ${warmupMs.toFixed(0)} ms`);
  }
  const results = await runRobotRounds(session, truth, { rounds, strategy: 'quality' });
  for (const r of results) console.log(`${label} (lanes ${laneCount}) round ${r.round}: slice ${r.slice}, ${r.seconds.toFixed(3)} s`);
  return results.map((r) => ({ pass: label, lanes: laneCount, round: r.round, slice: r.slice, seconds: r.seconds }));
}
const results: Awaited<ReturnType<typeof pass>> = [];
// Written after every pass: a run cut off by its time limit (the device suite's) keeps the passes it finished.
const save = () => values.json && writeFileSync(values.json, JSON.stringify({ adapter: rt.describe(), size, depth, weightPrecision, memoryLayout, volume: storedAs, lanes, warmupMs, rounds: results }, null, 2) + '\n');
results.push(...(await pass('first', lanes[0])));
save();
for (const n of lanes) {
  results.push(...(await pass('second', n)));
  save();
}
if (values.autotune) {
  // The cache only now, so the passes above run the fixed rule whatever an earlier run left
  // there; tuning goes on from the classes it holds (autotuneConv2d installs them too).
  const store = fileTuningStore();
  console.log(`conv2d choices from the tuning cache: ${await loadConv2dChoices(rt, store)}`);
  const a0 = performance.now();
  const tuned = await autotuneConv2d(rt, { store, budgetMs: Number(values['tune-budget-s']) * 1000, onProgress: (m) => console.log(`  ${m}`) });
  console.log(`autotune: ${tuned.timed.size} shape classes timed (${tuned.timing}), ${tuned.skipped.length} skipped, ${(performance.now() - a0).toFixed(0)} ms`);
  results.push(...(await pass('tuned', lanes[0])));
  save();
}
rt.destroy();
