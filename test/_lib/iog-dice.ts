// The shipped int8 IOG weights on slices of the project's phantom generator with robot
// extreme points: crop, forward, paste back, Dice against the tumour mask. Shared by
// test/iog-dice.test.ts (two slices, in `npm test`) and test/full/iog-dice-sweep.test.ts
// (the 20, in `npm run test:full`; also `npm run bench:iog-dice`).
import { dice } from '../../src/eval/metrics.ts';
import { decodeMask, encodeInteraction } from '../../src/interaction/encode.ts';
import { robotInteraction } from '../../src/interaction/robot.ts';
import { loadSafetensors } from '../../src/io/safetensors-node.ts';
import { IOGNetwork } from '../../src/networks/iog/network.ts';
import { phantomSlice } from '../../src/phantom/phantom.ts';
import type { Runtime } from '../../src/runtime/runtime.ts';
import { safetensorsWeightSource } from '../../src/weights/safetensors-source.ts';

const WEIGHTS = new URL('../../weights/iog-phantom/iog.safetensors.index.json', import.meta.url).pathname;

/** Dice per seed (one 512x512 ResNet-101 forward each: 20-40 s apiece on lavapipe). */
export async function iogDiceOnPhantoms(rt: Runtime, seeds: readonly number[]): Promise<number[]> {
  const net = IOGNetwork.load(rt, safetensorsWeightSource(loadSafetensors(WEIGHTS)));
  const scores: number[] = [];
  try {
    for (const seed of seeds) {
      const slice = phantomSlice({ seed });
      const truth = { width: slice.width, height: slice.height, data: slice.mask };
      const encoded = encodeInteraction({ width: slice.width, height: slice.height, data: slice.image }, robotInteraction('extreme-points', truth, { seed }));
      const input = rt.upload([1, encoded.size, encoded.size, encoded.channels], encoded.data);
      const out = net.forward(input, { coarse: false });
      const logits = await out.fine.read();
      out.dispose();
      input.dispose();
      if (!logits.every(Number.isFinite)) throw new Error(`seed ${seed}: non-finite logits`);
      scores.push(dice(decodeMask(encoded, logits), slice.mask));
    }
  } finally {
    net.dispose();
  }
  console.log(`\nDice per slice (seeds ${seeds.join(', ')}): ${scores.map((d) => d.toFixed(4)).join(' ')}`);
  return scores;
}
