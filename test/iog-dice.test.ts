// The shipped int8 IOG weights on phantoms from the project's own generator with
// robot extreme points: crop, forward, paste back, Dice against the tumour mask.
// Six slices (one 512x512 ResNet-101 forward each: about a minute apiece on lavapipe);
// `npm run bench:iog-dice` runs the full 20.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeMask, encodeInteraction } from '../src/interaction/encode.ts';
import { dice, robotInteraction } from '../src/interaction/robot.ts';
import { loadSafetensors } from '../src/io/safetensors-node.ts';
import { IOGNetwork } from '../src/networks/iog/network.ts';
import { safetensorsWeightSource } from '../src/weights/safetensors-source.ts';
import { phantomSlice } from '../tools/phantom.ts';
import { testRuntime } from './_lib/gpu.ts';

const WEIGHTS = new URL('../weights/iog-phantom/iog.safetensors.index.json', import.meta.url).pathname;
const SEEDS = [1, 2, 3, 4, 5, 6];

test(`trained weights: Dice >= 0.95 on ${SEEDS.length} generator phantoms with robot extreme points`, async () => {
  const rt = await testRuntime();
  const net = IOGNetwork.load(rt, safetensorsWeightSource(loadSafetensors(WEIGHTS)));
  const scores: number[] = [];
  for (const seed of SEEDS) {
    const slice = phantomSlice({ seed });
    const truth = { width: slice.width, height: slice.height, data: slice.mask };
    const encoded = encodeInteraction({ width: slice.width, height: slice.height, data: slice.image }, robotInteraction('extreme-points', truth, { seed }));
    const input = rt.upload([1, encoded.size, encoded.size, encoded.channels], encoded.data);
    const out = net.forward(input, { coarse: false });
    const logits = await out.fine.read();
    out.dispose();
    input.dispose();
    assert.ok(logits.every(Number.isFinite), `seed ${seed}: finite logits`);
    scores.push(dice(decodeMask(encoded, logits), slice.mask));
  }
  net.dispose();
  console.log(`\nDice per slice: ${scores.map((d) => d.toFixed(4)).join(' ')}`);
  for (const [i, d] of scores.entries()) assert.ok(d >= 0.95, `seed ${SEEDS[i]}: Dice ${d}`);
});

test.run();
