// The demo's promise, on the bundled example with the shipped trained weights (IOG and
// the phantom QAMN, as `mem3d demo` runs them): volume Dice after round 1 at least the
// measured value minus 0.05, and no fall over rounds. It also pins the neighbour-slice
// bug of issue 10: the slices next to the annotated one must be among the good ones
// (with per-slice min-max intensities instead of the raw 8-bit grey the QAMN was trained
// on, they were the worst). A slow test (two IOG forwards at 512, about 14 QAMN steps at 128x128).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EXAMPLE_DIR } from '../src/cli/eval.ts';
import { loadNetworks, newSession, planWeights } from '../src/cli/networks.ts';
import { overlap } from '../src/eval/metrics.ts';
import { runRobotRounds } from '../src/session/evaluate.ts';
import { stackMask, volumeStack } from '../src/session/volume-stack.ts';
import { readNifti } from '../src/volume/nifti-node.ts';
import { testRuntime } from './_lib/gpu.ts';

// Measured with this test's own protocol (robot extreme points on the largest slice, seed 0,
// quality strategy) on lavapipe (Mesa 25.0.7), 2026-11-30: round 1 (slice 5, 2D Dice 0.9966)
// volume Dice 0.9577, round 2 (slice 3, 2D 0.9864) 0.9635; 733 s on 2 contended cores.
// (PyTorch, same weights, from the ground-truth mask of slice 5: 0.958, weights/qamn-phantom/README.md.)
const ROUND1_MEASURED = 0.9577;
// Same protocol, same day: Dice of the slices next to round 1's annotated slice 5 were 0.942
// (slice 4) and 0.928 (slice 6); the lower one. Per slice 2..7: 0.959 0.951 0.942 0.997 0.928 0.977.
const NEIGHBOURS_MEASURED = 0.928;

test('bundled example: volume Dice after round 1 near the measured value, and it does not fall in round 2', async () => {
  const rt = await testRuntime();
  const networks = loadNetworks(rt, planWeights({}));
  try {
    const image = readNifti(`${EXAMPLE_DIR}image.nii.gz`);
    const mask = readNifti(`${EXAMPLE_DIR}mask.nii.gz`);
    const session = newSession(rt, volumeStack(image, 'axial', 'raw'), networks);
    const truth = stackMask(mask, 'axial');
    const n = session.stack.width * session.stack.height;
    const sliceDice = (z: number) => overlap(session.sliceMask(z), truth.subarray(z * n, (z + 1) * n)).dice;
    let perSlice: number[] = [];
    const rounds = await runRobotRounds(session, truth, { rounds: 2, strategy: 'quality', seed: 0, onRound: (r) => r.round === 1 && (perSlice = Array.from({ length: session.stack.depth }, (_, z) => sliceDice(z))) });
    console.log(`  round 1 per-slice Dice: ${perSlice.map((d) => d.toFixed(3)).join(' ')}`);
    console.log(`  demo rounds: ${rounds.map((r) => `slice ${r.slice}: 2D ${r.sliceDice.toFixed(4)}, volume ${r.dice.toFixed(4)}, quality-IoU r ${r.qualityIoU.r?.toFixed(3)} (${r.seconds.toFixed(0)} s)`).join('; ')}`);
    const annotated = rounds[0].slice;
    for (const z of [annotated - 1, annotated + 1]) assert.ok(perSlice[z] >= NEIGHBOURS_MEASURED - 0.05, `slice ${z}, next to the annotated ${annotated}: Dice ${perSlice[z].toFixed(3)}`);
    assert.ok(rounds[0].dice >= ROUND1_MEASURED - 0.05, `round 1 volume Dice ${rounds[0].dice.toFixed(4)} < ${ROUND1_MEASURED} - 0.05`);
    assert.ok(rounds[1].dice >= rounds[0].dice, `round 2 volume Dice ${rounds[1].dice.toFixed(4)} fell below round 1's ${rounds[0].dice.toFixed(4)}`);
  } finally {
    networks.dispose();
  }
});

test.run();
