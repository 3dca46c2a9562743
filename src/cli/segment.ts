// mem3d segment <volume.nii[.gz]> --slice N --points a,b;a,b;a,b;a,b --out mask.nii.gz
// Every argument, the output and the weights are checked before the GPU is touched.
import { existsSync, statSync } from 'node:fs';
import { Runtime } from '../runtime/runtime.ts';
import { unstackMask, volumeStack } from '../session/volume-stack.ts';
import { defaultIntensity } from '../pretrained/node.ts';
import { SEED_MAPPING, type IntensityMapping } from '../volume/intensity.ts';
import { pixelFromVoxel, type VoxelPoint } from '../volume/layout.ts';
import { serializeNifti } from '../volume/nifti.ts';
import { readNifti } from '../volume/nifti-node.ts';
import { checkOutputFile, writeFileAtomic } from '../volume/safe-write-node.ts';
import { sliceShape, type AxisName } from '../volume/slice.ts';
import { decimal, integer, parse, runCommand, UsageError, voxelPoints, type ConsoleLike } from './args.ts';
import { loadNetworks, newSession, planWeights, printPlan, WEIGHTS_HELP, WEIGHTS_OPTIONS, type LoadNetworks } from './networks.ts';
import { ProgressBar } from './progress.ts';

const USAGE = `usage: mem3d segment <volume.nii|.nii.gz> --slice N --points a,b;a,b;a,b;a,b --out <mask.nii.gz>

Segments one structure: the 2D network on slice N from four extreme points (the
object's outermost voxels in the four in-plane directions), then the memory network
propagates the mask through the volume in both directions.

Coordinates are voxel indices of the volume as stored, 0-based, as ITK-SNAP, 3D Slicer,
NiiVue and nibabel report them: a point is the two voxel axes other than the slice's,
in file order. For the usual storage (RAS/LPS, slices along k): on an axial slice k a
point is i,j (i along the file's first axis); on a coronal slice i,k; on a sagittal
slice j,k. Example: the object on axial slice 40 spans i 210..260 and j 280..330:
  mem3d segment ct.nii.gz --slice 40 --points "210,300;260,305;236,280;240,330" --out mask.nii.gz

  --slice N            the annotated slice (0-based) along --axis
  --points ...         the four extreme points as a,b voxel indices (see above)
  --out FILE           the mask (uint8 NIfTI with the volume's geometry); never an input
  --overwrite          replace --out if it exists (refused otherwise)
  --axis A             axial (default), coronal or sagittal
  --intensity M        how voxels become the networks' 8-bit slices: minmax (per-slice, the
                       Mem3D seed's) or raw (unscaled uint8 volumes as stored). Default: raw
                       for a uint8 volume under the phantom weights (the grey levels they were
                       trained on), else minmax
  --window L,W         a CT window level,width instead
${WEIGHTS_HELP}`;

const AXES: AxisName[] = ['axial', 'coronal', 'sagittal'];
/** The in-plane voxel axes (a, b) of a slice along voxel axis 0, 1 or 2, for messages. */
const IN_PLANE = ['j,k', 'i,k', 'i,j'] as const;

export interface SegmentDeps {
  /** The networks to run (tests pass scripted ones). */
  loadNetworks?: LoadNetworks;
}

export function segmentCommand(argv: string[], io: ConsoleLike = console, deps: SegmentDeps = {}): Promise<number> {
  return runCommand('segment', io, async () => {
    const { values, positionals } = parse(argv, {
      slice: { type: 'string' },
      points: { type: 'string' },
      out: { type: 'string' },
      overwrite: { type: 'boolean', default: false },
      axis: { type: 'string', default: 'axial' },
      intensity: { type: 'string' },
      window: { type: 'string' },
      ...WEIGHTS_OPTIONS,
    });
    if (values.help) {
      io.log(USAGE);
      return 0;
    }
    // Flags first (no file touched), then files, then the volume, then the GPU.
    if (positionals.length !== 1) throw new UsageError(`give exactly one volume, got ${positionals.length}`);
    const input = positionals[0];
    const out = values.out;
    if (out === undefined) throw new UsageError('--out is required');
    if (!/\.nii(\.gz)?$/.test(out)) throw new UsageError(`--out must end in .nii or .nii.gz, got '${out}'`);
    if (values.slice === undefined) throw new UsageError('--slice is required');
    const slice = integer('slice', values.slice, 0)!;
    if (values.points === undefined) throw new UsageError('--points is required');
    const points = voxelPoints('points', values.points);
    if (points.length !== 4) throw new UsageError(`--points needs exactly the 4 extreme points, got ${points.length}`);
    const axis = values.axis as AxisName;
    if (!AXES.includes(axis)) throw new UsageError(`--axis must be axial, coronal or sagittal, got '${axis}'`);
    const chosen = intensityOf(values.intensity, values.window);

    if (!existsSync(input)) throw new Error(`${input}: no such file`);
    if (!statSync(input).isFile()) throw new Error(`${input}: not a file`);
    checkOutputFile(out, { inputs: [input, ...(values['memory-weights'] ? [values['memory-weights']] : [])], overwrite: values.overwrite! });
    const plan = planWeights(values);

    const volume = readNifti(input);
    const shape = sliceShape(volume, axis);
    if (slice >= shape.count) throw new UsageError(`--slice ${slice} is outside the volume: ${shape.count} ${axis} slices (0..${shape.count - 1})`);
    const inPlane = IN_PLANE[shape.axis];
    checkPointsInside(points, shape.height, shape.width, `${axis} slice (along voxel axis ${'ijk'[shape.axis]}): ${inPlane}`);

    const mapping = chosen ?? defaultIntensity(plan.shipped, volume);
    const eightBit = volume.data instanceof Uint8Array && volume.slope === 1 && volume.inter === 0;
    if (mapping === 'raw' && !eightBit) throw new UsageError(`--intensity raw needs an unscaled uint8 volume; ${input} holds ${volume.data.constructor.name.replace('Array', '').toLowerCase()}${volume.slope !== 1 || volume.inter !== 0 ? ' with scaling' : ''} (use minmax or --window)`);
    printPlan(io, plan);
    io.log(`intensity: ${mapping === 'raw' ? 'raw 8-bit voxels' : mapping.kind === 'window' ? `CT window level ${mapping.level}, width ${mapping.width}` : 'per-slice min-max'}`);
    const stack = volumeStack(volume, axis, mapping);
    const rt = await Runtime.create();
    try {
      io.error(`adapter: ${rt.describe()}`);
      const networks = (deps.loadNetworks ?? loadNetworks)(rt, plan);
      try {
        const session = newSession(rt, stack, networks);
        const t0 = performance.now();
        io.log(`${axis} slice ${slice} (along ${'ijk'[shape.axis]}): extreme points (${inPlane}) ${points.map(([a, b]) => `${a},${b}`).join('; ')}`);
        const mask2d = await session.annotate(slice, { kind: 'extreme-points', points: points.map(pixelFromVoxel) });
        io.log(`slice ${slice}: ${mask2d.reduce((s, v) => s + v, 0)} voxels from the 2D network`);
        const bar = new ProgressBar('propagating', io);
        await session.propagate({ onProgress: (p) => bar.update(p.done, p.total, `slice ${p.slice}`) });
        const mask = unstackMask(session.volumeMask(), volume, axis);
        writeFileAtomic(out, serializeNifti(mask, { gzip: out.endsWith('.gz') }));
        const worst = session.recommendSlice('quality');
        const quality = worst === null ? '' : ` (quality ${session.state(worst).quality?.toFixed(3)})`;
        io.log(`wrote ${out} (${((performance.now() - t0) / 1000).toFixed(1)} s); lowest-quality slice: ${worst ?? 'none'}${quality}`);
      } finally {
        networks.dispose();
      }
    } finally {
      rt.destroy();
    }
    return 0;
  });
}

/** --intensity / --window, or undefined for the weights' default (defaultIntensity). */
function intensityOf(intensity: string | undefined, window: string | undefined): IntensityMapping | 'raw' | undefined {
  if (intensity !== undefined && window !== undefined) throw new UsageError('give --intensity or --window, not both');
  if (window !== undefined) return windowOf(window);
  if (intensity === undefined) return undefined;
  if (intensity === 'raw') return 'raw';
  if (intensity === 'minmax') return SEED_MAPPING;
  throw new UsageError(`--intensity must be minmax or raw, got '${intensity}'`);
}

function windowOf(value: string): IntensityMapping {
  const fields = value.split(',');
  if (fields.length !== 2) throw new UsageError(`--window must be level,width, got '${value}'`);
  const [level, width] = fields.map((f) => decimal('window', f));
  if (!(width > 0)) throw new UsageError(`--window width must be > 0, got '${value}'`);
  return { kind: 'window', level, width };
}

/** Each point (a, b) must lie on the slice: a < its size along the first in-plane axis (rows), b < the second. */
function checkPointsInside(points: readonly VoxelPoint[], sizeA: number, sizeB: number, slice: string): void {
  points.forEach(([a, b], n) => {
    if (a >= sizeA || b >= sizeB) {
      throw new UsageError(`--points: point ${n + 1} (${a},${b}) is outside the ${slice} must be within 0..${sizeA - 1}, 0..${sizeB - 1}`);
    }
  });
}
