// `npm run test:full` only: the demo's two robot rounds on the bundled example (as
// test/demo-dice.test.ts, which `npm test` runs for round 1): round 1 holds its bars
// again and round 2's volume Dice does not fall below round 1's (a second IOG forward
// at 512 and re-propagation).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { demoRounds, NEIGHBOURS_MEASURED, ROUND1_MEASURED } from '../_lib/demo-rounds.ts';

test('bundled example: round 1 near the measured value, and the volume Dice does not fall in round 2', async () => {
  const { rounds, perSlice } = await demoRounds(2);
  const annotated = rounds[0].slice;
  for (const z of [annotated - 1, annotated + 1]) assert.ok(perSlice[z] >= NEIGHBOURS_MEASURED - 0.05, `slice ${z}, next to the annotated ${annotated}: Dice ${perSlice[z].toFixed(3)}`);
  assert.ok(rounds[0].dice >= ROUND1_MEASURED - 0.05, `round 1 volume Dice ${rounds[0].dice.toFixed(4)} < ${ROUND1_MEASURED} - 0.05`);
  assert.is(rounds.length, 2, 'a second round ran');
  assert.ok(rounds[1].dice >= rounds[0].dice, `round 2 volume Dice ${rounds[1].dice.toFixed(4)} fell below round 1's ${rounds[0].dice.toFixed(4)}`);
});

test.run();
