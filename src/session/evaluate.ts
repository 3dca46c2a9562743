// The robot user's rounds and volume-wise evaluation (the paper's protocol):
// round 1 annotates the slice where the ground truth is largest (extreme points by
// default, any interaction kind on request); every later round
// annotates the slice the strategy recommends (skipping slices the ground truth
// leaves empty: there is nothing to click there), re-propagates, and measures the
// whole volume's Dice and IoU.
import type { InteractionKind } from '../interaction/encode.ts';
import { robotInteraction, robotVoxelPoints } from '../interaction/robot.ts';
import type { VoxelPoint } from '../volume/layout.ts';
import { dice, overlap, pearson } from '../eval/metrics.ts';
import type { Interactive3DSession, Strategy } from './session.ts';

export interface RoundResult {
  round: number;
  slice: number;
  /** Volume-wise, after propagation. */
  dice: number;
  iou: number;
  /** The robot's clicks on that slice as voxel indices (a, b) (src/volume/layout.ts); none for a scribble. */
  points: VoxelPoint[];
  /** Dice of the annotated slice's 2D result alone. */
  sliceDice: number;
  /** The 2D step and the propagation (what a user waits for), without the robot's choice and the scoring. */
  seconds: number;
  /**
   * Pearson's r between the quality head's score and the true IoU of the propagated
   * slices (those with an object in the truth or the prediction), after this round.
   */
  qualityIoU: { r: number | null; slices: number };
}

export interface RobotOptions {
  rounds: number;
  strategy: Strategy;
  /** The robot's interaction kind; default extreme points (the bundled network's). */
  kind?: InteractionKind;
  seed?: number;
  /**
   * The first round to run (default 1): rounds before it were run on this session
   * already. Round 1 does not depend on the strategy, so strategies can share it
   * (snapshot after round 1, restore, go on from round 2) with the same results.
   */
  fromRound?: number;
  onRound?: (r: RoundResult) => void;
  onProgress?: (msg: string) => void;
  signal?: AbortSignal;
}

export async function runRobotRounds(session: Interactive3DSession, groundTruth: Uint8Array, options: RobotOptions): Promise<RoundResult[]> {
  const { width, height, depth } = session.stack;
  const n = width * height;
  if (groundTruth.length !== n * depth) throw new RangeError(`runRobotRounds: ground truth has ${groundTruth.length} voxels, the volume ${n * depth}`);
  if (!(Number.isInteger(options.rounds) && options.rounds >= 1)) throw new RangeError(`runRobotRounds: rounds must be a positive integer, got ${options.rounds}`);
  const seed = options.seed ?? 0;
  const area = (z: number) => groundTruth.subarray(z * n, (z + 1) * n).reduce((s, v) => s + (v ? 1 : 0), 0);
  const areas = Array.from({ length: depth }, (_, z) => area(z));
  if (areas.every((a) => a === 0)) throw new RangeError('runRobotRounds: the ground truth is empty; there is no object to segment');

  const results: RoundResult[] = [];
  const fromRound = options.fromRound ?? 1;
  if (!(Number.isInteger(fromRound) && fromRound >= 1)) throw new RangeError(`runRobotRounds: fromRound must be a positive integer, got ${fromRound}`);
  for (let round = fromRound; round <= options.rounds; round++) {
    const slice = round === 1 ? areas.indexOf(Math.max(...areas)) : session.rankSlices(options.strategy, { groundTruth, seed: seed + round }).find((z) => areas[z] > 0);
    if (slice === undefined) break; // every slice with an object is annotated
    const truth = groundTruth.subarray(slice * n, (slice + 1) * n);
    const interaction = robotInteraction(options.kind ?? 'extreme-points', { width, height, data: truth }, { seed: seed + round });
    const points = robotVoxelPoints(interaction);
    options.onProgress?.(`round ${round}: annotating slice ${slice} (${interaction.kind}${points.length ? ` at voxels ${points.map(([a, b]) => `${a},${b}`).join('; ')}` : ''})`);
    // A round's time is the user's wait: the 2D step and the propagation, not the robot's
    // choice and clicks nor the scoring against the truth (whole-volume passes: ~90 ms at
    // 512x512x100 on a 2-core host, 6% of the 1.5 s goal).
    const t0 = performance.now();
    const mask2d = await session.annotate(slice, interaction);
    await session.propagate({ signal: options.signal, onProgress: (p) => options.onProgress?.(`round ${round}: propagated ${p.done}/${p.total} (slice ${p.slice})`) });
    const seconds = (performance.now() - t0) / 1000;
    const result = { round, slice, points, ...overlap(session.volumeMask(), groundTruth), sliceDice: dice(mask2d, truth), seconds, qualityIoU: qualityAgainstIoU(session, groundTruth) };
    results.push(result);
    options.onRound?.(result);
  }
  return results;
}

/** The quality head's scores of propagated slices against their true IoU (slices empty in both are left out). */
export function qualityAgainstIoU(session: Interactive3DSession, groundTruth: Uint8Array): { r: number | null; slices: number } {
  const n = session.stack.width * session.stack.height;
  const scores: number[] = [];
  const ious: number[] = [];
  for (let z = 0; z < session.stack.depth; z++) {
    const { source, qualityScore } = session.state(z);
    if (source !== 'propagated' || qualityScore === null || qualityScore === undefined) continue;
    const mask = session.sliceMask(z);
    const truth = groundTruth.subarray(z * n, (z + 1) * n);
    if (!mask.some((v) => v) && !truth.some((v) => v)) continue;
    scores.push(qualityScore);
    ious.push(overlap(mask, truth).iou);
  }
  return { r: pearson(scores, ious), slices: scores.length };
}
