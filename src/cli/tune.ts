// mem3d tune [--size 128,512] [--networks qamn,iog] [--budget-s 120]
// Times every conv2d variant on each convolution shape the networks meet on this
// adapter and caches the fastest per shape class (src/ops/conv2d-autotune.ts), keyed by
// adapter and kernel source, in the file every other command reads at start
// (src/cli/runtime.ts). Shapes do not depend on weight values: memory-network steps of one
// frame and of a batch of DEFAULT_LANES (a session's two directions, src/session/memory.ts)
// and memory reads of up to MAX_READ_FRAMES frames per --size, and one IOG forward (always
// at its 512x512 crop) record them.
import { INPUT_SIZE } from '../interaction/extreme-points.ts';
import { autotuneConv2d } from '../ops/conv2d-autotune.ts';
import { loadIOG } from '../pretrained/node.ts';
import { fileTuningStore } from '../runtime/autotune-node.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { DEFAULT_LANES } from '../session/memory.ts';
import { KEYDIM, VALDIM, type MemoryNetwork } from '../networks/mem3d/memory-network.ts';
import { gemmFits, memoryRead } from '../ops/memory-read.ts';
import { checkOutputFile } from '../volume/safe-write-node.ts';
import { integer, parse, runCommand, UsageError, type ConsoleLike } from './args.ts';
import { loadPlannedMemoryNetwork, planWeights, printPlan, WEIGHTS_HELP, WEIGHTS_OPTIONS } from './networks.ts';
import { cliTuningPath, createCliRuntime } from './runtime.ts';

const NETWORKS = ['qamn', 'iog'] as const;
type NetworkName = (typeof NETWORKS)[number];

/** The largest --size: a slice side (CT slices are 512); far larger ones only fail on the GPU, after minutes. */
export const MAX_TUNE_SIZE = 4096;

const USAGE = `usage: mem3d tune [--size 128,512] [--networks qamn,iog] [--budget-s 120]

Times the conv2d variants (tile shapes, the direct kernel for CPU drivers) on every
convolution shape of the networks at the given slice sizes (one slice, the two a
propagation steps together, and the memory read's products for up to 32 memorized
slices) on this adapter, and caches
the fastest per shape class. Every mem3d command then runs them on this adapter (it
says so at start); shapes never tuned keep the fixed rule. Run it again after a driver
or GPU change (the cache is keyed by adapter and kernel source).

  --size N[,N...]      memory-network slice sizes to tune for, multiples of 16 from 32 to
                       ${MAX_TUNE_SIZE} (default 128,512: the phantom weights' size and the original's)
  --networks LIST      qamn, iog or both (default qamn,iog; the IOG always runs its 512x512 crop)
  --budget-s S         stop starting new shape classes after S seconds (default 120; on CPU
                       drivers a class takes seconds, on GPUs milliseconds)
  cache: $MEM3D_TUNING_CACHE, else $XDG_CACHE_HOME/mem3d-webgpu/autotune.json (default
         ~/.cache/mem3d-webgpu/autotune.json)
${WEIGHTS_HELP}`;

function sizes(value: string): number[] {
  return value.split(',').map((v) => {
    const n = integer('size', v, 32)!;
    if (n % 16 !== 0) throw new UsageError(`--size values must be multiples of 16, got ${n}`);
    if (n > MAX_TUNE_SIZE) throw new UsageError(`--size values must be at most ${MAX_TUNE_SIZE} (a slice side; CT slices are 512), got ${n}`);
    return n;
  });
}

function networks(value: string): NetworkName[] {
  const names = value.split(',').map((v) => v.trim());
  for (const n of names) if (!(NETWORKS as readonly string[]).includes(n)) throw new UsageError(`--networks: unknown network '${n}' (qamn, iog)`);
  return [...new Set(names as NetworkName[])];
}

/** Memory reads recorded per frame size: 2, 4, ... MAX_READ_FRAMES frames (one frame comes with the step). */
export const MAX_READ_FRAMES = 32;

/**
 * Runs the memory network at `size` with dispatching on, so conv2d records the shapes it
 * meets: a step of one frame and one of a batch of DEFAULT_LANES (batched layers have N
 * times the output pixels: shape classes of their own), then memory reads of 2 to
 * MAX_READ_FRAMES frames (the gemm read's products change class with the memory's size)
 * where the gemm read takes them.
 */
export async function recordMemoryNetworkShapes(rt: Runtime, net: MemoryNetwork, size: number): Promise<void> {
  for (const n of [1, DEFAULT_LANES]) {
    await rt.scope(async () => {
      const frames = rt.upload([n, size, size, 3], new Float32Array(n * size * size * 3));
      const masks = rt.upload([n, size, size, 1], new Float32Array(n * size * size));
      const entries = net.memorizeBatch(frames, masks);
      const out = net.segmentBatch(frames, entries.map((e) => [e]));
      await (out.quality ?? out.probability).read();
      for (const e of entries) e.dispose();
    });
  }
  const q = (size / 16) ** 2;
  for (let frames = 2; frames <= MAX_READ_FRAMES && gemmFits(rt, q, frames * q); frames *= 2) {
    const m = frames * q;
    await rt.scope(async () => {
      const keys = rt.upload([m, KEYDIM], new Float32Array(m * KEYDIM));
      const values = rt.upload([m, VALDIM], new Float32Array(m * VALDIM));
      await memoryRead(rt, keys, values, rt.upload([q, KEYDIM], new Float32Array(q * KEYDIM))).read();
    });
  }
}

/** Runs each network once with dispatching on, so conv2d records the shapes it meets. */
async function recordShapes(rt: Runtime, io: ConsoleLike, names: NetworkName[], frameSizes: number[], plan: ReturnType<typeof planWeights>): Promise<void> {
  const weightPrecision = plan.weightPrecision;
  if (names.includes('qamn')) {
    const net = loadPlannedMemoryNetwork(rt, plan);
    try {
      for (const size of frameSizes) {
        io.error(`recording the memory network's shapes at ${size}x${size}: one frame, batches of ${DEFAULT_LANES}, memory reads of up to ${MAX_READ_FRAMES} frames`);
        await recordMemoryNetworkShapes(rt, net, size);
      }
    } finally {
      net.dispose();
    }
  }
  if (names.includes('iog')) {
    io.error(`recording the IOG network's shapes at ${INPUT_SIZE}x${INPUT_SIZE}`);
    const iog = loadIOG(rt, undefined, undefined, { weightPrecision });
    try {
      await rt.scope(async () => {
        const input = rt.upload([1, INPUT_SIZE, INPUT_SIZE, iog.inputChannels], new Float32Array(INPUT_SIZE * INPUT_SIZE * iog.inputChannels));
        await iog.forward(input).fine.read();
      });
    } finally {
      iog.dispose();
    }
  }
}

/**
 * The cache is updated in place, so an existing file is fine; a folder, an unwritable
 * place or a weights file is refused here rather than after the tuning's minutes.
 */
function checkTuningCache(path: string, weightFiles: readonly string[]): void {
  try {
    checkOutputFile(path, { inputs: weightFiles, overwrite: true });
  } catch (e) {
    throw new UsageError(`tuning cache ${(e as Error).message} (MEM3D_TUNING_CACHE names the file)`);
  }
}

export function tuneCommand(argv: string[], io: ConsoleLike = console): Promise<number> {
  return runCommand('tune', io, async () => {
    const { values, positionals } = parse(argv, {
      size: { type: 'string', default: '128,512' },
      networks: { type: 'string', default: 'qamn,iog' },
      'budget-s': { type: 'string', default: '120' },
      ...WEIGHTS_OPTIONS,
    });
    if (values.help) {
      io.log(USAGE);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`tune takes no positional arguments, got '${positionals[0]}'`);
    const frameSizes = sizes(values.size!);
    const names = networks(values.networks!);
    const budgetS = integer('budget-s', values['budget-s'], 1)!;
    const path = cliTuningPath();
    if (!path) throw new UsageError('MEM3D_TUNING_CACHE is off: there is nowhere to write the tuning; unset it or name a file');
    const plan = planWeights(values);
    checkTuningCache(path, plan.files);
    printPlan(io, plan);
    const rt = await createCliRuntime(io);
    try {
      io.error(`adapter: ${rt.describe()}`);
      await recordShapes(rt, io, names, frameSizes, plan);
      const t0 = performance.now();
      const result = await autotuneConv2d(rt, { store: fileTuningStore(path), budgetMs: budgetS * 1000, onProgress: (m) => io.log(m) });
      io.log(`tuned ${result.timed.size} shape classes in ${((performance.now() - t0) / 1000).toFixed(1)} s (timed by ${result.timing === 'gpu' ? 'GPU timestamps' : 'the clock'})` +
        (result.skipped.length ? `; ${result.skipped.length} left to the fixed rule (budget spent: run again to go on)` : '') + `; cache: ${path}`);
    } finally {
      rt.destroy();
    }
    return 0;
  });
}
