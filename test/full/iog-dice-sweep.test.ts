// `npm run test:full` only: the 20 generator phantoms (seeds 1-20) through the
// shipped IOG weights (test/_lib/iog-dice.ts). The bar is the mean Dice, as the
// weights' README reports it (0.977 on held-out crops); every slice must also clear
// 0.9, so one broken slice cannot hide in the mean (seed 9 scores 0.916).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testRuntime } from '../_lib/gpu.ts';
import { iogDiceOnPhantoms } from '../_lib/iog-dice.ts';

const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);

test(`trained weights: mean Dice >= 0.95 on ${SEEDS.length} generator phantoms with robot extreme points, none under 0.9`, async () => {
  const scores = await iogDiceOnPhantoms(await testRuntime(), SEEDS);
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  assert.ok(mean >= 0.95, `mean Dice ${mean}`);
  for (const [i, d] of scores.entries()) assert.ok(d >= 0.9, `seed ${SEEDS[i]}: Dice ${d}`);
});

test.run();
