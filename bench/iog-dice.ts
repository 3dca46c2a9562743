// npm run bench:iog-dice -- [--slices 20] [--first-seed 1] [--kind extreme-points] [--json out.json]
// Dice of the shipped int8 IOG weights (weights/iog-phantom, the 4-channel
// extreme-point model) on phantom slices from src/phantom/phantom.ts with robot clicks:
// crop, forward, paste back (crop2fullmask, threshold 0.8) against the tumour mask.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { decodeMask, encodeInteraction } from '../src/interaction/encode.ts';
import { robotInteraction } from '../src/interaction/robot.ts';
import { dice } from '../src/eval/metrics.ts';
import { loadSafetensors } from '../src/io/safetensors-node.ts';
import { IOGNetwork } from '../src/networks/iog/network.ts';
import { createBenchRuntime } from './bench-runtime.ts';
import { safetensorsWeightSource } from '../src/weights/safetensors-source.ts';
import { phantomSlice } from '../src/phantom/phantom.ts';

const { values } = parseArgs({
  options: {
    slices: { type: 'string', default: '20' },
    'first-seed': { type: 'string', default: '1' },
    weights: { type: 'string', default: new URL('../weights/iog-phantom/iog.safetensors.index.json', import.meta.url).pathname },
    json: { type: 'string' },
  },
});
const seeds = Array.from({ length: Number(values.slices) }, (_, i) => Number(values['first-seed']) + i);

const rt = await createBenchRuntime();
console.log(`adapter: ${rt.describe()}`);
const net = IOGNetwork.load(rt, safetensorsWeightSource(loadSafetensors(values.weights!)));
const rows: { seed: number; dice: number; tumourPixels: number; ms: number }[] = [];
for (const seed of seeds) {
  const slice = phantomSlice({ seed });
  const image = { width: slice.width, height: slice.height, data: slice.image };
  const truth = { width: slice.width, height: slice.height, data: slice.mask };
  const encoded = encodeInteraction(image, robotInteraction('extreme-points', truth, { seed }));
  const t0 = performance.now();
  const input = rt.upload([1, encoded.size, encoded.size, encoded.channels], encoded.data);
  const out = net.forward(input, { coarse: false });
  const logits = await out.fine.read();
  const ms = performance.now() - t0;
  out.dispose();
  input.dispose();
  const row = { seed, dice: dice(decodeMask(encoded, logits), slice.mask), tumourPixels: slice.mask.reduce((a, v) => a + v, 0), ms };
  rows.push(row);
  console.log(`seed ${seed}: Dice ${row.dice.toFixed(4)} (${row.tumourPixels} tumour px, forward ${(ms / 1000).toFixed(1)} s)`);
}
const d = rows.map((r) => r.dice);
const summary = { adapter: rt.describe(), slices: rows.length, meanDice: d.reduce((a, v) => a + v, 0) / d.length, minDice: Math.min(...d), rows };
console.log(`\n${rows.length} slices: Dice mean ${summary.meanDice.toFixed(4)}, min ${summary.minDice.toFixed(4)}`);
if (values.json) writeFileSync(values.json, JSON.stringify(summary, null, 2) + '\n');
net.dispose();
rt.destroy();
