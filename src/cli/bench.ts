// mem3d bench [--size 512] [--depth 100] [--rounds 2] [--json out.json]
// Seconds per interactive round on a phantom volume: round 1 annotates the largest
// tumour slice and propagates through the whole volume, later rounds correct the
// lowest-quality slice and re-propagate between annotated neighbours (the paper
// reports 5.13 s per round on an RTX 2080 Ti for 512x512 slices).
import { phantomVolume } from '../phantom/phantom.ts';
import { createCliRuntime } from './runtime.ts';
import { runRobotRounds } from '../session/evaluate.ts';
import { stackMask, volumeStack } from '../session/volume-stack.ts';
import { checkOutputFile, writeFileAtomic } from '../volume/safe-write-node.ts';
import { createVolume, diagonalAffine } from '../volume/volume.ts';
import { integer, parse, runCommand, UsageError, type ConsoleLike } from './args.ts';
import { loadNetworks, newSession, planWeights, printPlan, slicesRankedBy, warmSession, WEIGHTS_HELP, WEIGHTS_OPTIONS } from './networks.ts';
import { checkProfilable, profiled, profileRequest, PROFILE_HELP, PROFILE_OPTIONS } from './profile.ts';

/** Bounds of the generated phantom: 2048 x 2048 x 1024 is 4 GiB of voxels and again of mask. */
const MAX_SIZE = 2048;
const MAX_DEPTH = 1024;

const USAGE = `usage: mem3d bench [--size 512] [--depth 100] [--rounds 2] [--json out.json] [--profile]

Seconds per interactive round (quality strategy; uncertainty with STM weights, which have
no quality head) on a generated size x size x depth phantom volume, stored as the bundled
example is (the file's first axis is x).

  --size N             slice side, a multiple of 16, 32..${MAX_SIZE} (default 512)
  --depth N            slices, 2..${MAX_DEPTH} (default 100)
  --rounds N           rounds (default 2)
  --json FILE          also write the timings as JSON
  --overwrite          replace --json (and --profile-json) if it exists (refused otherwise)
${PROFILE_HELP}
${WEIGHTS_HELP}`;

export function benchCommand(argv: string[], io: ConsoleLike = console): Promise<number> {
  return runCommand('bench', io, async () => {
    const { values, positionals } = parse(argv, {
      size: { type: 'string', default: '512' },
      depth: { type: 'string', default: '100' },
      rounds: { type: 'string', default: '2' },
      json: { type: 'string' },
      overwrite: { type: 'boolean', default: false },
      ...PROFILE_OPTIONS,
      ...WEIGHTS_OPTIONS,
    });
    if (values.help) {
      io.log(USAGE);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`bench takes no positional arguments, got '${positionals[0]}'`);
    const size = integer('size', values.size, 32)!;
    if (size % 16 !== 0) throw new UsageError(`--size must be a multiple of 16, got ${size}`);
    const depth = integer('depth', values.depth, 2)!;
    // The phantom is generated in memory first (one byte a voxel, its mask another).
    if (size > MAX_SIZE) throw new UsageError(`--size is at most ${MAX_SIZE}, got ${size}`);
    if (depth > MAX_DEPTH) throw new UsageError(`--depth is at most ${MAX_DEPTH}, got ${depth}`);
    const rounds = integer('rounds', values.rounds, 1)!;
    const plan = planWeights(values);
    const inputs = plan.files;
    if (values.json !== undefined) checkOutputFile(values.json, { inputs, overwrite: values.overwrite! });
    const profile = profileRequest(values, { inputs, overwrite: values.overwrite! }, values.json !== undefined ? [values.json] : []);

    const v = phantomVolume({ seed: 11, width: size, height: size, depth });
    const spacing = [v.spacing.x, v.spacing.y, v.spacing.z] as const;
    const image = createVolume({ dims: [size, size, depth], data: v.image, spacing, affine: diagonalAffine(spacing), source: 'phantom' });
    const mask = createVolume({ dims: [size, size, depth], data: v.mask, spacing, affine: diagonalAffine(spacing), source: 'phantom mask' });
    printPlan(io, plan);
    const rt = await createCliRuntime(io);
    try {
      io.error(`adapter: ${rt.describe()}`);
      checkProfilable(rt, profile);
      const networks = loadNetworks(rt, plan);
      try {
        const session = newSession(rt, volumeStack(image, 'axial', 'raw'), networks);
        await warmSession(io, session);
        const results = await profiled(rt, profile, io, () => runRobotRounds(session, stackMask(mask, 'axial'), { rounds, strategy: slicesRankedBy(plan), onProgress: (m) => io.error(m) }));
        for (const r of results) io.log(`round ${r.round}: slice ${r.slice}, ${r.seconds.toFixed(2)} s`);
        const result = { adapter: rt.describe(), size, depth, rounds: results.map((r) => ({ round: r.round, slice: r.slice, seconds: r.seconds })) };
        if (values.json !== undefined) writeFileAtomic(values.json, JSON.stringify(result, null, 2) + '\n');
      } finally {
        networks.dispose();
      }
    } finally {
      rt.destroy();
    }
    return 0;
  });
}
