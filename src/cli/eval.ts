// mem3d eval <dataset-root> --rounds 6 --strategy quality|oracle|random|all
// and mem3d demo (the bundled phantom): the robot user's rounds, volume-wise Dice
// and IoU after every round, as JSON and as an SVG plot of Dice against rounds.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Runtime } from '../runtime/runtime.ts';
import { runRobotRounds, type RoundResult } from '../session/evaluate.ts';
import { dicePlotSvg } from '../session/plot.ts';
import { Interactive3DSession, type SliceStack, type Strategy } from '../session/session.ts';
import { IOGSliceSegmenter } from '../session/slice-segmenter.ts';
import { stackMask, volumeStack } from '../session/volume-stack.ts';
import { readNifti } from '../volume/nifti-node.ts';
import { listCases, readPngCase } from '../volume/png-dataset-node.ts';
import { loadIOG, loadMemoryNetwork, SYNTHETIC_WEIGHTS_NOTICE, WEIGHTS_DIR } from '../pretrained/node.ts';
import type { InteractionKind } from '../interaction/encode.ts';
import { integer, parse, runCommand, UsageError } from './args.ts';

const STRATEGIES: Strategy[] = ['quality', 'oracle', 'random'];

interface CaseResult {
  name: string;
  strategy: Strategy;
  rounds: RoundResult[];
}

interface Case {
  name: string;
  stack: SliceStack;
  groundTruth: Uint8Array;
}

async function evaluate(cases: Iterable<Case>, strategies: Strategy[], rounds: number, memoryWeights: string | undefined, seed: number, kind: InteractionKind): Promise<CaseResult[]> {
  const rt = await Runtime.create();
  console.error(`adapter: ${rt.describe()}`);
  const { net, synthetic } = loadMemoryNetwork(rt, { path: memoryWeights });
  if (synthetic) console.log(SYNTHETIC_WEIGHTS_NOTICE);
  const segmenter = new IOGSliceSegmenter(rt, loadIOG(rt));
  const results: CaseResult[] = [];
  for (const c of cases) {
    for (const strategy of strategies) {
      console.log(`\n${c.name} (${c.stack.width}x${c.stack.height}x${c.stack.depth}), strategy ${strategy}:`);
      const session = new Interactive3DSession(rt, c.stack, { segmenter, memory: net });
      const r = await runRobotRounds(session, c.groundTruth, {
        rounds,
        strategy,
        kind,
        seed,
        onProgress: (msg) => console.error(`  ${msg}`),
        onRound: (x) => console.log(`  round ${x.round}: slice ${x.slice} (2D Dice ${x.sliceDice.toFixed(4)}), volume Dice ${x.dice.toFixed(4)}, IoU ${x.iou.toFixed(4)} (${x.seconds.toFixed(1)} s)`),
      });
      results.push({ name: c.name, strategy, rounds: r });
    }
  }
  net.dispose();
  rt.destroy();
  return results;
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

function write(outDir: string, results: CaseResult[], rounds: number, meta: object): void {
  const summary = summarize(results, rounds);
  console.log(`\nmean Dice per round:\n${summary.map((s) => `  ${s.strategy.padEnd(8)} ${s.dice.map((d) => d.toFixed(4)).join('  ')}`).join('\n')}`);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'eval.json'), JSON.stringify({ ...meta, rounds, summary, cases: results }, null, 2) + '\n');
  writeFileSync(join(outDir, 'dice.svg'), dicePlotSvg(summary.map((s) => ({ label: s.strategy, dice: s.dice }))));
  console.log(`wrote ${join(outDir, 'eval.json')} and ${join(outDir, 'dice.svg')}`);
}

const KINDS: InteractionKind[] = ['extreme-points', 'inside-outside', 'scribble', 'two-points'];

function kindOf(value: string): InteractionKind {
  if (!(KINDS as string[]).includes(value)) throw new UsageError(`--kind must be ${KINDS.join(', ')}, got '${value}'`);
  return value as InteractionKind;
}

function strategiesOf(value: string): Strategy[] {
  if (value === 'all') return STRATEGIES;
  if (!(STRATEGIES as string[]).includes(value) && value !== 'uncertainty') throw new UsageError(`--strategy must be quality, oracle, random, uncertainty or all, got '${value}'`);
  return [value as Strategy];
}

const EVAL_USAGE = `usage: mem3d eval <dataset-root> [--rounds 6] [--strategy quality|oracle|random|uncertainty|all] [--split test] [--cases a,b] [--out eval-out]

Runs the robot user on every case of a Mem3D PNG-slice dataset (ImageSetsNN/<split>.txt,
TaskNN_origin/<case>/<k>.png, TaskNN_mask/<case>/<k>.png): round 1 annotates the slice
where the object is largest with extreme points, each later round the slice the strategy
recommends; volume-wise Dice and IoU after every round go to <out>/eval.json and
<out>/dice.svg. --strategy all compares quality, oracle and random (the paper's Table 2).

  --kind K             the robot's interaction: extreme-points (default; the bundled
                       network's), inside-outside, scribble or two-points (5-channel weights)
  --memory-weights F   converted QAMN weights; default: synthetic (untrained)
  --seed N             robot user seed (default 0)`;

export function evalCommand(argv: string[]): Promise<number> {
  return runCommand('eval', EVAL_USAGE, async () => {
    const { values, positionals } = parse(argv, {
      rounds: { type: 'string', default: '6' },
      strategy: { type: 'string', default: 'quality' },
      split: { type: 'string', default: 'test' },
      cases: { type: 'string' },
      out: { type: 'string', default: 'eval-out' },
      seed: { type: 'string', default: '0' },
      kind: { type: 'string', default: 'extreme-points' },
      'memory-weights': { type: 'string' },
    });
    if (values.help) {
      console.log(EVAL_USAGE);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError('give exactly one dataset root');
    const root = positionals[0];
    const rounds = integer('rounds', values.rounds, 1)!;
    const seed = integer('seed', values.seed, 0)!;
    const strategies = strategiesOf(values.strategy!);
    const names = values.cases ? values.cases.split(',') : listCases(root, values.split!);
    if (names.length === 0) throw new Error(`${root}: no cases in split '${values.split}'`);
    function* cases(): Generator<Case> {
      for (const name of names) {
        const c = readPngCase(root, name);
        if (!c.mask) throw new Error(`${root}: case '${name}' has no masks; evaluation needs the ground truth`);
        yield { name, stack: volumeStack(c.image, 2, 'raw'), groundTruth: stackMask(c.mask, 2) };
      }
    }
    const results = await evaluate(cases(), strategies, rounds, values['memory-weights'], seed, kindOf(values.kind!));
    write(values.out!, results, rounds, { dataset: root, split: values.split, seed });
    return 0;
  });
}

const DEMO_USAGE = `usage: mem3d demo [--rounds 3] [--strategy quality] [--out demo-out]

The full loop on the bundled phantom CT volume (examples/phantom): a robot user
annotates the largest tumour slice with extreme points, the memory network propagates,
the quality head scores every slice, the lowest-quality slice is corrected next;
Dice per round is printed and written to <out>.`;

export const EXAMPLE_DIR = new URL('../../examples/phantom/', import.meta.url).pathname;

export function demoCommand(argv: string[]): Promise<number> {
  return runCommand('demo', DEMO_USAGE, async () => {
    const { values } = parse(argv, {
      rounds: { type: 'string', default: '3' },
      strategy: { type: 'string', default: 'quality' },
      out: { type: 'string', default: 'demo-out' },
      'memory-weights': { type: 'string' },
    });
    if (values.help) {
      console.log(DEMO_USAGE);
      return 0;
    }
    const rounds = integer('rounds', values.rounds, 1)!;
    const image = readNifti(`${EXAMPLE_DIR}image.nii.gz`);
    const mask = readNifti(`${EXAMPLE_DIR}mask.nii.gz`);
    const phantom: Case = { name: 'phantom', stack: volumeStack(image, 'axial', 'raw'), groundTruth: stackMask(mask, 'axial') };
    console.log(`bundled example: ${EXAMPLE_DIR} with IOG weights from ${WEIGHTS_DIR}iog-phantom`);
    const results = await evaluate([phantom], strategiesOf(values.strategy!), rounds, values['memory-weights'], 0, 'extreme-points');
    write(values.out!, results, rounds, { dataset: EXAMPLE_DIR });
    return 0;
  });
}
