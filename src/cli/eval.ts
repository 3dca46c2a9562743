// mem3d eval <dataset-root> --rounds 6 --strategy quality|oracle|random|all
// and mem3d demo (the bundled phantom): the robot user's rounds, volume-wise Dice
// and IoU after every round, as JSON and as an SVG plot of Dice against rounds.
// Every case is read and decoded, and the output folder proven writable, before the
// GPU is touched.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { InteractionKind } from '../interaction/encode.ts';
import { createCliRuntime } from './runtime.ts';
import { runRobotRounds, type RobotOptions, type RoundResult } from '../session/evaluate.ts';
import { dicePlotSvg } from '../session/plot.ts';
import type { SliceStack, Strategy } from '../session/session.ts';
import { stackMask, volumeStack } from '../session/volume-stack.ts';
import { readNifti } from '../volume/nifti-node.ts';
import { isCaseFolderName } from '../volume/png-dataset.ts';
import { listCases, readPngCase } from '../volume/png-dataset-node.ts';
import { checkOutputFolder, writeFileAtomic } from '../volume/safe-write-node.ts';
import { VolumeError } from '../volume/volume.ts';
import { integer, parse, runCommand, UsageError, type ConsoleLike } from './args.ts';
import { loadNetworks, newSession, planWeights, printPlan, warmSession, WEIGHTS_HELP, WEIGHTS_OPTIONS, type LoadNetworks, type WeightsPlan } from './networks.ts';

const STRATEGIES: Strategy[] = ['quality', 'uncertainty', 'oracle', 'random'];
const OUTPUT_FILES = ['eval.json', 'dice.svg'];

interface CaseResult {
  name: string;
  strategy: Strategy;
  /** A PNG case's slice files in slice order: slice k of the rounds is sliceFiles[k] (numbering may start past 0 or have gaps). */
  sliceFiles?: readonly string[];
  rounds: RoundResult[];
}

interface Case {
  name: string;
  stack: SliceStack;
  groundTruth: Uint8Array;
  sliceFiles?: readonly string[];
}

export interface EvalDeps {
  /** The networks to run (tests pass scripted ones). */
  loadNetworks?: LoadNetworks;
}

async function evaluate(io: ConsoleLike, cases: () => Iterable<Case>, strategies: Strategy[], rounds: number, plan: WeightsPlan, seed: number, kind: InteractionKind, deps: EvalDeps): Promise<CaseResult[]> {
  printPlan(io, plan);
  const rt = await createCliRuntime(io);
  try {
    io.error(`adapter: ${rt.describe()}`);
    const networks = (deps.loadNetworks ?? loadNetworks)(rt, plan);
    try {
      const results: CaseResult[] = [];
      const robot = (strategy: Strategy, fromRound: number, toRound: number): RobotOptions => ({
        rounds: toRound,
        fromRound,
        strategy,
        kind,
        seed,
        onProgress: (msg) => io.error(`  ${msg}`),
        onRound: (x) => io.log(`  round ${x.round}: slice ${x.slice} (2D Dice ${x.sliceDice.toFixed(4)}), volume Dice ${x.dice.toFixed(4)}, IoU ${x.iou.toFixed(4)}, ` +
          `quality vs IoU r ${x.qualityIoU.r === null ? 'n/a' : x.qualityIoU.r.toFixed(3)} over ${x.qualityIoU.slices} slices (${x.seconds.toFixed(1)} s)`),
      });
      for (const c of cases()) {
        // Round 1 (the largest slice) is the same for every strategy: run once, then each strategy goes on from it.
        io.log(`\n${c.name} (${c.stack.width}x${c.stack.height}x${c.stack.depth}), round 1 (every strategy's):`);
        const session = newSession(rt, c.stack, networks);
        await warmSession(io, session);
        const first = await runRobotRounds(session, c.groundTruth, robot(strategies[0], 1, 1));
        const afterFirst = session.snapshot();
        for (const strategy of strategies) {
          io.log(`${c.name}, strategy ${strategy}:`);
          session.restore(afterFirst);
          const later = await runRobotRounds(session, c.groundTruth, robot(strategy, 2, rounds));
          results.push({ name: c.name, strategy, ...(c.sliceFiles ? { sliceFiles: c.sliceFiles } : {}), rounds: [...first, ...later] });
        }
      }
      return results;
    } finally {
      networks.dispose();
    }
  } finally {
    rt.destroy();
  }
}

/** Mean Dice per round and strategy over the cases (a case that stopped early keeps its last Dice). */
function summarize(results: CaseResult[], rounds: number): { strategy: Strategy; dice: number[]; iou: number[] }[] {
  const strategies = [...new Set(results.map((r) => r.strategy))];
  return strategies.map((strategy) => {
    const own = results.filter((r) => r.strategy === strategy && r.rounds.length > 0);
    const at = (r: CaseResult, k: number) => r.rounds[Math.min(k, r.rounds.length - 1)];
    const mean = (f: (x: RoundResult) => number, k: number) => own.reduce((s, r) => s + f(at(r, k)), 0) / own.length;
    return { strategy, dice: Array.from({ length: rounds }, (_, k) => mean((x) => x.dice, k)), iou: Array.from({ length: rounds }, (_, k) => mean((x) => x.iou, k)) };
  });
}

function write(io: ConsoleLike, outDir: string, results: CaseResult[], rounds: number, meta: object): void {
  const summary = summarize(results, rounds);
  io.log(`\nmean Dice per round:\n${summary.map((s) => `  ${s.strategy.padEnd(11)} ${s.dice.map((d) => d.toFixed(4)).join('  ')}`).join('\n')}`);
  const json = join(outDir, 'eval.json');
  const svg = join(outDir, 'dice.svg');
  writeFileAtomic(json, JSON.stringify({ ...meta, coordinates: 'voxel indices (a, b) of the slice: axial (i, j)', rounds, summary, cases: results }, null, 2) + '\n');
  writeFileAtomic(svg, dicePlotSvg(summary.map((s) => ({ label: s.strategy, dice: s.dice }))));
  io.log(`wrote ${json} and ${svg}`);
}

const KINDS: InteractionKind[] = ['extreme-points', 'inside-outside', 'scribble', 'two-points'];
// The CLI runs the shipped IOG (loadNetworks), built with 4 input channels: it takes the
// kinds encodeInteraction encodes in 4 channels; the others need a 5-channel network and
// would fail only at round 1, after the GPU setup (src/interaction/encode.ts).
const FOUR_CHANNEL_KINDS: InteractionKind[] = ['extreme-points', 'scribble'];

function kindOf(value: string): InteractionKind {
  if (!(KINDS as string[]).includes(value)) throw new UsageError(`--kind must be ${KINDS.join(', ')}, got '${value}'`);
  if (!(FOUR_CHANNEL_KINDS as string[]).includes(value)) {
    throw new UsageError(`--kind ${value} needs a 5-channel IOG network; the shipped one (weights/iog-phantom) has 4 channels and takes ${FOUR_CHANNEL_KINDS.join(' or ')}`);
  }
  return value as InteractionKind;
}

// Each round annotates one more slice and re-propagates the volume; a bound keeps a typo
// from running for days, and the per-round summary (an array per round) allocatable.
const MAX_ROUNDS = 100;

function roundsOf(value: string): number {
  const rounds = integer('rounds', value, 1)!;
  if (rounds > MAX_ROUNDS) throw new UsageError(`--rounds must be at most ${MAX_ROUNDS} (each round annotates one more slice), got ${rounds}`);
  return rounds;
}

function strategiesOf(value: string): Strategy[] {
  if (value === 'all') return STRATEGIES;
  if (!(STRATEGIES as string[]).includes(value) && value !== 'uncertainty') throw new UsageError(`--strategy must be quality, oracle, random, uncertainty or all, got '${value}'`);
  return [value as Strategy];
}

/**
 * The strategies the weights can rank by: STM weights have no quality head, so an asked-for
 * 'quality' is refused (it would rank every slice 1, in slice order) and 'all' runs the others.
 */
function strategiesFor(io: ConsoleLike, asked: string, strategies: Strategy[], plan: WeightsPlan): Strategy[] {
  if (plan.memoryVariant !== 'stm' || !strategies.includes('quality')) return strategies;
  if (asked !== 'all') throw new UsageError(`--strategy quality ranks slices by the QAMN quality head, which STM weights (--memory-weights) do not have: pass --strategy uncertainty, oracle, random or all`);
  io.error('NOTE: STM weights have no quality head: --strategy all compares uncertainty, oracle and random');
  return strategies.filter((s) => s !== 'quality');
}

/** --cases a,b: names as listed in the split file; empty names refused, and paths (isCaseFolderName, the split file's rule). */
function caseNames(value: string): string[] {
  const names = value.split(',').map((n) => n.trim());
  if (names.some((n) => n === '')) throw new UsageError(`--cases has an empty name: '${value}'`);
  const path = names.find((n) => !isCaseFolderName(n));
  if (path !== undefined) throw new UsageError(`--cases: ${JSON.stringify(path)} is not a case folder name (no '/', '\\', '.' or '..': a case is a folder of the dataset)`);
  return names;
}

/** A case of the dataset; an error that does not name its file at least names the case. */
function readCase(root: string, name: string) {
  try {
    return readPngCase(root, name);
  } catch (e) {
    if (e instanceof VolumeError) throw e;
    throw new Error(`${root}: case '${name}' cannot be read (${(e as Error).message})`, { cause: e });
  }
}

const OUTPUT_HELP = `  --out DIR            where eval.json and dice.svg go; never inside an input
  --overwrite          replace eval.json / dice.svg if they exist (refused otherwise)`;

const EVAL_USAGE = `usage: mem3d eval <dataset-root> [--rounds 6] [--strategy quality|oracle|random|uncertainty|all] [--split test] [--cases a,b] [--out eval-out]

Runs the robot user on every case of a Mem3D PNG-slice dataset (ImageSetsNN/<split>.txt,
TaskNN_origin/<case>/<k>.png, TaskNN_mask/<case>/<k>.png): round 1 annotates the slice
where the object is largest (with extreme points, or --kind), each later round the slice
the strategy recommends; volume-wise Dice and IoU after every round go to
<out>/eval.json and <out>/dice.svg. --strategy all compares quality, uncertainty, oracle and random (the paper's
Table 2); round 1 (the largest slice) is run once and shared by them.
Every case is decoded before the networks load. Slices and points in eval.json are voxel
indices: slice k is the case's k-th PNG in numeric order (k.png when they are numbered
from 0 without gaps; each case's sliceFiles lists them), a point a,b is row a, column b
of that PNG.

  --rounds N           rounds, 1..${MAX_ROUNDS} (default 6); a case stops early once every slice
                       with its object is annotated
  --strategy S         quality (default), uncertainty, oracle, random or all
  --split NAME         the cases listed in ImageSetsNN/<NAME>.txt (default test)
  --cases a,b          these case folders instead (comma-separated names, as in the split file)
  --kind K             the robot's interaction: extreme-points (default) or scribble, the
                       kinds of the shipped 4-channel IOG (inside-outside and two-points
                       need a 5-channel network, which the CLI does not load); it was trained
                       on extreme points only, so scribbles measure it outside its training
  --seed N             robot user seed (default 0)
${OUTPUT_HELP}
${WEIGHTS_HELP}`;

export function evalCommand(argv: string[], io: ConsoleLike = console, deps: EvalDeps = {}): Promise<number> {
  return runCommand('eval', io, async () => {
    const { values, positionals } = parse(argv, {
      rounds: { type: 'string', default: '6' },
      strategy: { type: 'string', default: 'quality' },
      split: { type: 'string', default: 'test' },
      cases: { type: 'string' },
      out: { type: 'string', default: 'eval-out' },
      overwrite: { type: 'boolean', default: false },
      seed: { type: 'string', default: '0' },
      kind: { type: 'string', default: 'extreme-points' },
      ...WEIGHTS_OPTIONS,
    });
    if (values.help) {
      io.log(EVAL_USAGE);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(`give exactly one dataset root, got ${positionals.length}`);
    const root = positionals[0];
    const rounds = roundsOf(values.rounds!);
    const seed = integer('seed', values.seed, 0)!;
    const strategies = strategiesOf(values.strategy!);
    const kind = kindOf(values.kind!);
    if (values.out === '') throw new UsageError('--out is empty');
    const names = values.cases !== undefined ? caseNames(values.cases) : undefined;

    if (!existsSync(root) || !statSync(root).isDirectory()) throw new Error(`${root}: no such dataset folder`);
    const cases = names ?? listCases(root, values.split!);
    if (cases.length === 0) throw new Error(`${root}: no cases in split '${values.split}'`);
    const plan = planWeights(values);
    const ranked = strategiesFor(io, values.strategy!, strategies, plan);
    checkOutputFolder(values.out!, OUTPUT_FILES, { inputs: [root, ...plan.files], overwrite: values.overwrite! });
    // Every PNG decoded now, so a bad file stops the run before minutes of setup; the
    // slices are read again case by case during the run, so memory holds one case.
    const read = (name: string): Case => {
      const c = readCase(root, name);
      if (!c.mask) throw new Error(`${root}: case '${name}' has no masks; evaluation needs the ground truth`);
      const groundTruth = stackMask(c.mask, 2);
      if (!groundTruth.includes(1)) throw new Error(`${root}: case '${name}' has an empty mask (no voxel of label 1); the robot needs an object to annotate`);
      return { name, stack: volumeStack(c.image, 2, 'raw'), groundTruth, sliceFiles: c.slices };
    };
    for (const name of cases) read(name);
    io.log(`${root}: ${cases.length} case(s) decoded`);
    if (kind !== 'extreme-points') io.error(`NOTE: the shipped IOG was trained on extreme points only; its ${kind} Dice measures it outside its training`);

    const results = await evaluate(io, () => cases.map(read), ranked, rounds, plan, seed, kind, deps);
    write(io, values.out!, results, rounds, { dataset: root, split: values.split, seed, weights: plan.report[0] });
    return 0;
  });
}

const DEMO_USAGE = `usage: mem3d demo [--rounds 3] [--strategy quality] [--out demo-out]

The full loop on the bundled phantom CT volume (examples/phantom): a robot user
annotates the largest tumour slice with extreme points, the memory network propagates,
the quality head scores every slice, the lowest-quality slice is corrected next;
Dice per round is printed and written to <out>/eval.json and <out>/dice.svg.

  --rounds N           rounds, 1..${MAX_ROUNDS} (default 3)
  --strategy S         quality (default), uncertainty, oracle, random or all
${OUTPUT_HELP}
${WEIGHTS_HELP}`;

export const EXAMPLE_DIR = new URL('../../examples/phantom/', import.meta.url).pathname;

export function demoCommand(argv: string[], io: ConsoleLike = console, deps: EvalDeps = {}): Promise<number> {
  return runCommand('demo', io, async () => {
    const { values, positionals } = parse(argv, {
      rounds: { type: 'string', default: '3' },
      strategy: { type: 'string', default: 'quality' },
      out: { type: 'string', default: 'demo-out' },
      overwrite: { type: 'boolean', default: false },
      ...WEIGHTS_OPTIONS,
    });
    if (values.help) {
      io.log(DEMO_USAGE);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`demo takes no positional arguments, got '${positionals[0]}'`);
    const rounds = roundsOf(values.rounds!);
    const strategies = strategiesOf(values.strategy!);
    if (values.out === '') throw new UsageError('--out is empty');
    const plan = planWeights(values);
    const ranked = strategiesFor(io, values.strategy!, strategies, plan);
    checkOutputFolder(values.out!, OUTPUT_FILES, { inputs: [EXAMPLE_DIR, ...plan.files], overwrite: values.overwrite! });
    const image = readNifti(`${EXAMPLE_DIR}image.nii.gz`);
    const mask = readNifti(`${EXAMPLE_DIR}mask.nii.gz`);
    const phantom: Case = { name: 'phantom', stack: volumeStack(image, 'axial', 'raw'), groundTruth: stackMask(mask, 'axial') };
    io.log(`bundled example: ${EXAMPLE_DIR}`);
    const results = await evaluate(io, () => [phantom], ranked, rounds, plan, 0, 'extreme-points', deps);
    write(io, values.out!, results, rounds, { dataset: EXAMPLE_DIR, weights: plan.report[0] });
    return 0;
  });
}
