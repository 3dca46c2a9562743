// npx tsx bench/encode-step.ts [--size 64] [--memory 5] [--reps 12] [--json out.json]
// Host time to encode one QAMN step (memorize + segment, synth-v1 weights): the
// JavaScript and Dawn calls that queue its ~160 dispatches, with submission held back
// until the step is read (maxDispatchesPerSubmit and firstSubmitDispatches above the step's count), so the GPU,
// or a CPU driver sharing the cores, runs nothing meanwhile. Independent of the frame
// size beyond the first pass. Also reports the bind-group cache's hits and misses.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readSafetensors } from '../src/io/safetensors-node.ts';
import { MemoryNetwork } from '../src/networks/mem3d/memory-network.ts';
import { Runtime } from '../src/runtime/runtime.ts';
import { synthWeightSource, type SynthManifest } from '../src/weights/safetensors-source.ts';
import { median } from '../src/util/median.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '64' },
    memory: { type: 'string', default: '5' },
    reps: { type: 'string', default: '12' },
    reference: { type: 'string', default: new URL('../../shared/reference/', import.meta.url).pathname },
    json: { type: 'string' },
  },
});
const [size, memoryFrames, reps] = [Number(values.size), Number(values.memory), Number(values.reps)];
if (!(Number.isInteger(size) && size >= 32 && size % 16 === 0) || !(Number.isInteger(memoryFrames) && memoryFrames >= 1) || !(Number.isInteger(reps) && reps >= 1)) {
  throw new RangeError('encode-step: --size a multiple of 16 >= 32, --memory >= 1, --reps >= 1');
}
const ref = values.reference!;
const rt = await Runtime.create({ maxDispatchesPerSubmit: 100_000, firstSubmitDispatches: 100_000 });
console.log(`adapter: ${rt.describe()}`);
const manifest = JSON.parse(readFileSync(`${ref}/qamn_manifest.json`, 'utf8')) as SynthManifest;
const net = MemoryNetwork.load(rt, synthWeightSource(manifest, readSafetensors(`${ref}/qamn_small.safetensors`)), { variant: 'qamn' });
await rt.sync();
const frame = rt.upload([1, size, size, 3], new Float32Array(size * size * 3).fill(0.1));
const mask = rt.upload([1, size, size, 1], new Float32Array(size * size).fill(0.5));
const memory = Array.from({ length: memoryFrames - 1 }, () => net.memorize(frame, mask));
const runs: { memorizeMs: number; segmentMs: number; dispatches: number }[] = [];
for (let rep = 0; rep <= reps; rep++) {
  const d0 = rt.dispatchCount;
  const t0 = performance.now();
  const entry = net.memorize(frame, mask);
  const t1 = performance.now();
  const result = net.segment(frame, [...memory, entry]);
  const t2 = performance.now();
  const dispatches = rt.dispatchCount - d0;
  await result.foreground.read();
  result.dispose();
  entry.dispose();
  if (rep === 0) continue; // the first pass compiles pipelines and fills the caches
  runs.push({ memorizeMs: t1 - t0, segmentMs: t2 - t1, dispatches });
}
const summary = {
  memorizeMs: median(runs.map((r) => r.memorizeMs)),
  segmentMs: median(runs.map((r) => r.segmentMs)),
  dispatches: runs[0].dispatches,
  bindGroups: { hits: rt.bindGroups.hits, misses: rt.bindGroups.misses },
};
console.log(`encode per step (median of ${reps}): memorize ${summary.memorizeMs.toFixed(2)} ms, segment ${summary.segmentMs.toFixed(2)} ms, ${summary.dispatches} dispatches, ${((1000 * (summary.memorizeMs + summary.segmentMs)) / summary.dispatches).toFixed(1)} us per dispatch`);
console.log(`bind groups: ${summary.bindGroups.hits} hits, ${summary.bindGroups.misses} misses`);
if (values.json) writeFileSync(values.json, JSON.stringify({ adapter: rt.describe(), size, memoryFrames, summary, runs }, null, 2) + '\n');
for (const e of memory) e.dispose();
rt.destroy();
