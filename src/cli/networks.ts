// Which weights a command runs, settled before any GPU work (paths, metadata, slice
// layouts), then loaded; the one place the CLI says what it runs.
import { INPUT_SIZE } from '../interaction/extreme-points.ts';
import type { SafetensorsReader } from '../io/safetensors.ts';
import { MemoryNetwork, type Variant } from '../networks/mem3d/memory-network.ts';
import { checkWeights, hasProblems } from '../weights/check.ts';
import { safetensorsWeightSource } from '../weights/safetensors-source.ts';
import {
  IOG_PHANTOM_INDEX, IOG_PHANTOM_SLICE_LAYOUT, loadIOG, loadMemoryNetwork, openMemoryWeights, PHANTOM_WEIGHTS_NOTICE, QAMN_PHANTOM_INDEX,
  SHIPPED_MEMORY_WEIGHTS, weightFiles, type ShippedMemoryWeights,
} from '../pretrained/node.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { WeightPrecision } from '../weights/loader.ts';
import type { SliceMemoryNetwork } from '../session/memory.ts';
import { Interactive3DSession, type SliceStack } from '../session/session.ts';
import { IOGSliceSegmenter, type SliceSegmenter } from '../session/slice-segmenter.ts';
import { parseSliceLayout, SLICE_LAYOUTS, type SliceLayout } from '../volume/layout.ts';
import { UsageError, type ConsoleLike } from './args.ts';

export const WEIGHTS_OPTIONS = {
  'memory-weights': { type: 'string' },
  'slice-layout': { type: 'string' },
  'weights-precision': { type: 'string' },
} as const;

export const WEIGHTS_HELP = `  --memory-weights P   memory-network weights: converted Mem3D QAMN or STM (mem3d convert) as a
                       .safetensors file, a .safetensors.index.json or their folder; which of the
                       two is read from the tensors (STM has no quality head, so no slice quality).
                       Default: the QAMN trained on synthetic phantoms (weights/qamn-phantom),
                       for phantoms only; real CT needs converted Mem3D/STM weights
  --slice-layout L     ${SLICE_LAYOUTS.join(' | ')}: the slice layout the --memory-weights were
                       trained with, for weights whose metadata does not say (converted Mem3D/STM
                       checkpoints: rows-first-axis)
  --weights-precision P  f32 (default) | f16: conv weights stored as f16 on the GPU, half the
                       weight memory (needs the adapter's shader-f16; tolerances in the README)`;

/** What a command will load, decided from the flags alone (no GPU). */
export interface WeightsPlan {
  /** A user's weights file (resolved from a folder), or undefined for the shipped phantom QAMN. */
  memoryFile?: string;
  /** QAMN (with the quality head) or STM, told from the weights' tensors; 'qamn' for the shipped weights. */
  memoryVariant: Variant;
  /** The shipped memory network in use, null for a user's. */
  shipped: ShippedMemoryWeights | null;
  memoryLayout: SliceLayout;
  iogLayout: SliceLayout;
  /** Conv weight storage on the GPU for both networks. */
  weightPrecision: WeightPrecision;
  /** Lines the command prints before it runs: which weights, and what they are for. */
  report: string[];
  /** Every weights file the command reads (indexes and shards, the shipped ones too): inputs no output may replace. */
  files: string[];
}

export function planWeights(values: { 'memory-weights'?: string; 'slice-layout'?: string; 'weights-precision'?: string }): WeightsPlan {
  const precision = values['weights-precision'] ?? 'f32';
  if (precision !== 'f32' && precision !== 'f16') throw new UsageError(`--weights-precision must be f32 or f16, got '${precision}'`);
  const plan = planMemoryWeights(values);
  const report = precision === 'f16' ? [...plan.report, 'conv weights: f16 on the GPU (--weights-precision f16), f32 accumulation'] : plan.report;
  return { ...plan, report, weightPrecision: precision };
}

function planMemoryWeights(values: { 'memory-weights'?: string; 'slice-layout'?: string }): Omit<WeightsPlan, 'weightPrecision'> {
  const flag = values['slice-layout'];
  const given = flag === undefined ? undefined : parseLayoutFlag(flag);
  const iog = `2D network: IOG trained on synthetic phantoms (weights/iog-phantom, int8), ${IOG_PHANTOM_SLICE_LAYOUT}`;
  const path = values['memory-weights'];
  if (path === undefined) {
    if (given) throw new UsageError('--slice-layout describes --memory-weights; the shipped weights state their own');
    const shipped = SHIPPED_MEMORY_WEIGHTS['qamn-phantom'];
    return {
      shipped: 'qamn-phantom',
      memoryVariant: 'qamn',
      memoryLayout: shipped.sliceLayout,
      iogLayout: IOG_PHANTOM_SLICE_LAYOUT,
      report: [`memory network: ${shipped.summary}, ${shipped.sliceLayout}`, iog, PHANTOM_WEIGHTS_NOTICE],
      files: [...weightFiles(QAMN_PHANTOM_INDEX), ...weightFiles(IOG_PHANTOM_INDEX)],
    };
  }
  if (path === '') throw new UsageError('--memory-weights is empty');
  const { file, headers, sliceLayout } = openMemoryWeights(path, given);
  const variant = memoryVariantOf(file, headers);
  const about = variant === 'stm' ? 'STM, no quality head: slices are ranked by certainty, --strategy quality is refused' : 'QAMN';
  return {
    memoryFile: file, memoryVariant: variant, shipped: null, memoryLayout: sliceLayout, iogLayout: IOG_PHANTOM_SLICE_LAYOUT,
    report: [`memory network: ${file} (${about}; ${sliceLayout})`, iog],
    files: [path, ...weightFiles(file, headers), ...weightFiles(IOG_PHANTOM_INDEX)],
  };
}

/**
 * Which memory network the weights are, by the loader's own check (every tensor the variant
 * reads, with its shape), made before the GPU: QAMN's tensors exactly, or STM's (the same
 * encoders and key/value heads, another decoder, no quality head). Anything else (another
 * network's weights) and truncated shards (each header's extents against its file's size;
 * the data is read once, by the loader) are refused in one line, against QAMN's list;
 * `mem3d convert --model qamn|stm` lists every problem.
 */
function memoryVariantOf(file: string, headers: SafetensorsReader): Variant {
  // Through the loader's source (names and shapes, no data): int8 weights carry their scales as tensors of their own.
  const source = safetensorsWeightSource(headers);
  const shapes = new Map(source.names().map((n) => [n, source.shape(n)]));
  const report = checkWeights(shapes, MemoryNetwork.weightSpec('qamn'));
  if (!hasProblems(report)) return 'qamn';
  if (!hasProblems(checkWeights(shapes, MemoryNetwork.weightSpec('stm')))) return 'stm';
  const first = report.missing[0]?.name ?? report.misshaped[0]?.name ?? report.unexpected[0]?.name;
  throw new Error(`${file}: not QAMN or STM memory-network weights: against QAMN ${report.missing.length} tensors missing, ${report.misshaped.length} mis-shaped, ${report.unexpected.length} unexpected (first: ${first}); \`mem3d convert --model qamn\` (or stm) on the checkpoint lists them`);
}

function parseLayoutFlag(value: string): SliceLayout {
  try {
    return parseSliceLayout(value, '--slice-layout');
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** The networks a session runs on, and how to release them. */
export interface Networks {
  /** Gets slices in the engine's layout; transposes for its network itself when needed (IOGSliceSegmenter). */
  segmenter: SliceSegmenter;
  memory: SliceMemoryNetwork | MemoryNetwork;
  /** The layout the memory network was trained with; the session transposes at its boundary. */
  memoryLayout: SliceLayout;
  dispose(): void;
}

export function newSession(rt: Runtime, stack: SliceStack, networks: Networks): Interactive3DSession {
  return new Interactive3DSession(rt, stack, { segmenter: networks.segmenter, memory: networks.memory }, { memoryLayout: networks.memoryLayout });
}

/**
 * The session's warm-up (Interactive3DSession.warmup), said on stderr: the pipelines of
 * round 1 compiled and the weights uploaded before it starts, so its time is the round's.
 */
export async function warmSession(io: ConsoleLike, session: Interactive3DSession): Promise<void> {
  const t0 = performance.now();
  const pipelines = await session.warmup();
  if (pipelines > 0) io.error(`warm-up: ${pipelines} pipelines and the weights ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

export type LoadNetworks = (rt: Runtime, plan: WeightsPlan) => Networks;

/** How the slice to correct next is ranked: by the quality head, or by certainty for STM weights, which have none. */
export const slicesRankedBy = (plan: WeightsPlan): 'quality' | 'uncertainty' => (plan.memoryVariant === 'stm' ? 'uncertainty' : 'quality');

/** The plan's memory network: the user's weights as the plan read them (variant, layout), or the shipped ones. */
export function loadPlannedMemoryNetwork(rt: Runtime, plan: WeightsPlan): MemoryNetwork {
  const weightPrecision = plan.weightPrecision;
  const file = plan.memoryFile;
  return loadMemoryNetwork(rt, file ? { path: file, variant: plan.memoryVariant, sliceLayout: plan.memoryLayout, weightPrecision } : { weightPrecision }).net;
}

export const loadNetworks: LoadNetworks = (rt, plan) => {
  const net = loadPlannedMemoryNetwork(rt, plan);
  const iog = loadIOG(rt, undefined, undefined, { weightPrecision: plan.weightPrecision });
  return {
    segmenter: new IOGSliceSegmenter(rt, iog, INPUT_SIZE, plan.iogLayout),
    memory: net,
    memoryLayout: plan.memoryLayout,
    dispose() {
      net.dispose();
      iog.dispose();
    },
  };
};

export function printPlan(io: ConsoleLike, plan: WeightsPlan): void {
  for (const line of plan.report) io.log(line);
}
