// mem3d segment <volume.nii[.gz]> --slice N --points a,b;a,b;a,b;a,b --out mask.nii.gz
// mem3d segment <volume.nii[.gz]> --object NAME:SLICE:POINTS ... [--labels in.nii.gz] --out labels.nii.gz
// Every argument, the outputs, the label map's geometry and the weights are checked
// before the GPU is touched.
import { existsSync, statSync } from 'node:fs';
import type { Runtime } from '../runtime/runtime.ts';
import { createCliRuntime } from './runtime.ts';
import type { Interactive3DSession } from '../session/session.ts';
import { unstackMask, volumeStack } from '../session/volume-stack.ts';
import { defaultIntensity } from '../pretrained/node.ts';
import { SEED_MAPPING, type IntensityMapping } from '../volume/intensity.ts';
import { checkLabelEntries, defaultLabel, labelSidecarPath, MAX_LABEL_ID, stackLabels, unstackLabels, type LabelEntry, type LabelMap } from '../volume/label-map.ts';
import { checkLabelMapOutput, labelMapInputs, readLabelMap, writeLabelMap } from '../volume/label-map-node.ts';
import { pixelFromVoxel, type VoxelPoint } from '../volume/layout.ts';
import { serializeNifti } from '../volume/nifti.ts';
import { readNifti } from '../volume/nifti-node.ts';
import { checkOutputFile, writeFileAtomic } from '../volume/safe-write-node.ts';
import { sliceShape, type AxisName, type SliceShape } from '../volume/slice.ts';
import type { Volume } from '../volume/volume.ts';
import { decimal, integer, parse, runCommand, UsageError, voxelPoints, type ConsoleLike } from './args.ts';
import { loadNetworks, newSession, planWeights, printPlan, slicesRankedBy, warmSession, WEIGHTS_HELP, WEIGHTS_OPTIONS, type LoadNetworks } from './networks.ts';
import { ProgressBar } from './progress.ts';
import { checkProfilable, profiled, profileRequest, PROFILE_HELP, PROFILE_OPTIONS } from './profile.ts';

const USAGE = `usage: mem3d segment <volume.nii|.nii.gz> --slice N --points a,b;a,b;a,b;a,b --out <mask.nii.gz>
       mem3d segment <volume.nii|.nii.gz> --object NAME:SLICE:POINTS [--object ...] [--labels <in.nii.gz>] --out <labels.nii.gz>

Segments one structure: the 2D network on slice N from four extreme points (the
object's outermost voxels in the four in-plane directions), then the memory network
propagates the mask through the volume in both directions.

With --object (once per structure) it segments several structures together and writes
a label map: a uint8 NIfTI (uint16 above 255 structures) of ids 1..N with the volume's
geometry, 0 = background, and its sidecar JSON next to it (labels.nii.gz ->
labels.json: {"labels": {"1": {"name": "liver", "color": [r, g, b]}, ...}}). Labels
never overlap. --labels starts from an existing label map of this volume (and its
sidecar, if there): every slice where a structure has voxels is kept as it is (locked);
an --object naming one of its structures annotates it on another slice and propagates
up to its locked slices, another name adds a structure; --propagate-labels completes a
map drawn on a few slices.

Coordinates are voxel indices of the volume as stored, 0-based, as ITK-SNAP, 3D Slicer
and nibabel report them (NiiVue's vox is in its RAS-reoriented grid, the same only for
RAS-stored volumes): a point is the two voxel axes other than the slice's, in file
order. For the usual storage (RAS/LPS, slices along k): on an axial slice k a point is
i,j (i along the file's first axis); on a coronal slice i,k; on a sagittal slice j,k.
Example: the object on axial slice 40 spans i 210..260 and j 280..330:
  mem3d segment ct.nii.gz --slice 40 --points "210,300;260,305;236,280;240,330" --out mask.nii.gz
Two structures, the kidney on slice 40 and a tumour on slice 44:
  mem3d segment ct.nii.gz --object "kidney:40:210,300;260,305;236,280;240,330" \\
    --object "tumour:44:230,310;245,312;238,301;240,322" --out labels.nii.gz
Refining the tumour of an earlier label map on slice 50 (writes a new map):
  mem3d segment ct.nii.gz --labels labels.nii.gz --object "tumour:50:231,309;247,311;239,300;240,321" --out labels2.nii.gz

  --slice N            the annotated slice (0-based) along --axis
  --points ...         the four extreme points as a,b voxel indices (see above)
  --object N:S:P       a structure: its name, the slice S (0-based, along --axis) and the
                       four extreme points P on it; repeat once per structure
  --labels FILE        a label map of this volume (same grid) to start from; refined with --object
  --propagate-labels   also propagate each --labels structure from its slices (a map drawn on a
                       few slices, to complete); by default they are kept as they are
  --out FILE           the mask (uint8 NIfTI with the volume's geometry), or with --object /
                       --labels the label map (its .json is written next to it); never an input
  --overwrite          replace --out (and its .json) and --profile-json if there (refused otherwise)
  --axis A             axial (default), coronal or sagittal
  --intensity M        how voxels become the networks' 8-bit slices: minmax (per-slice, the
                       Mem3D seed's) or raw (unscaled uint8 volumes as stored). Default: raw
                       for a uint8 volume under the phantom weights (the grey levels they were
                       trained on), else minmax
  --window L,W         a CT window level,width instead
${PROFILE_HELP}
${WEIGHTS_HELP}`;

const AXES: AxisName[] = ['axial', 'coronal', 'sagittal'];
/** The in-plane voxel axes (a, b) of a slice along voxel axis 0, 1 or 2, for messages. */
const IN_PLANE = ['j,k', 'i,k', 'i,j'] as const;

export interface SegmentDeps {
  /** The networks to run (tests pass scripted ones). */
  loadNetworks?: LoadNetworks;
  /** The WebGPU runtime (tests of scripted networks pass one without a device). */
  createRuntime?: () => Promise<Runtime>;
}

/** One --object: a structure's name and its extreme points on one slice. */
interface ObjectFlag {
  name: string;
  slice: number;
  points: VoxelPoint[];
}

export function segmentCommand(argv: string[], io: ConsoleLike = console, deps: SegmentDeps = {}): Promise<number> {
  return runCommand('segment', io, async () => {
    const { values, positionals } = parse(argv, {
      slice: { type: 'string' },
      points: { type: 'string' },
      object: { type: 'string', multiple: true },
      labels: { type: 'string' },
      'propagate-labels': { type: 'boolean', default: false },
      out: { type: 'string' },
      overwrite: { type: 'boolean', default: false },
      axis: { type: 'string', default: 'axial' },
      intensity: { type: 'string' },
      window: { type: 'string' },
      ...PROFILE_OPTIONS,
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
    const objects = (values.object ?? []).map(objectFlag);
    const labelsIn = values.labels;
    const multi = objects.length > 0 || labelsIn !== undefined;
    if (multi && (values.slice !== undefined || values.points !== undefined)) {
      throw new UsageError('give --slice/--points (one structure, a 0/1 mask) or --object/--labels (a label map), not both');
    }
    let single: { slice: number; points: VoxelPoint[] } | undefined;
    if (!multi) {
      if (values.slice === undefined) throw new UsageError('--slice is required (or --object NAME:SLICE:POINTS per structure)');
      const slice = integer('slice', values.slice, 0)!;
      if (values.points === undefined) throw new UsageError('--points is required');
      const points = voxelPoints('points', values.points);
      if (points.length !== 4) throw new UsageError(`--points needs exactly the 4 extreme points, got ${points.length}`);
      single = { slice, points };
    }
    checkDistinctNames(objects);
    if (labelsIn === '') throw new UsageError('--labels is empty');
    if (labelsIn !== undefined && !/\.nii(\.gz)?$/.test(labelsIn)) throw new UsageError(`--labels must end in .nii or .nii.gz, got '${labelsIn}'`);
    if (values['propagate-labels'] && labelsIn === undefined) throw new UsageError('--propagate-labels needs --labels');
    if (labelsIn !== undefined && objects.length === 0 && !values['propagate-labels']) {
      throw new UsageError('--labels alone changes nothing: add --object NAME:SLICE:POINTS, or --propagate-labels to complete the map from its slices');
    }
    const axis = values.axis as AxisName;
    if (!AXES.includes(axis)) throw new UsageError(`--axis must be axial, coronal or sagittal, got '${axis}'`);
    const chosen = intensityOf(values.intensity, values.window);

    for (const file of [input, ...(labelsIn !== undefined ? [labelsIn] : [])]) {
      if (!existsSync(file)) throw new Error(`${file}: no such file`);
      if (!statSync(file).isFile()) throw new Error(`${file}: not a file`);
    }
    const plan = planWeights(values);
    const inputs = [input, ...(labelsIn !== undefined ? labelMapInputs(labelsIn) : []), ...plan.files];
    if (multi) checkLabelMapOutput(out, { inputs, overwrite: values.overwrite! });
    else checkOutputFile(out, { inputs, overwrite: values.overwrite! });
    const profile = profileRequest(values, { inputs, overwrite: values.overwrite! }, multi ? [out, labelSidecarPath(out)] : [out]);

    const volume = readNifti(input);
    const shape = sliceShape(volume, axis);
    const where = `${axis} slice (along voxel axis ${'ijk'[shape.axis]}): ${IN_PLANE[shape.axis]}`;
    if (single) {
      if (single.slice >= shape.count) throw new UsageError(`--slice ${single.slice} is outside the volume: ${shape.count} ${axis} slices (0..${shape.count - 1})`);
      checkPointsInside('--points', single.points, shape, where);
    }
    for (const o of objects) {
      if (o.slice >= shape.count) throw new UsageError(`--object ${o.name}: slice ${o.slice} is outside the volume: ${shape.count} ${axis} slices (0..${shape.count - 1})`);
      checkPointsInside(`--object ${o.name}`, o.points, shape, where);
    }
    const imported = labelsIn !== undefined ? readLabelMap(labelsIn, volume) : undefined;
    const structures = multi ? planStructures(objects, imported) : [];

    const mapping = chosen ?? defaultIntensity(plan.shipped, volume);
    const eightBit = volume.data instanceof Uint8Array && volume.slope === 1 && volume.inter === 0;
    if (mapping === 'raw' && !eightBit) throw new UsageError(`--intensity raw needs an unscaled uint8 volume; ${input} holds ${volume.data.constructor.name.replace('Array', '').toLowerCase()}${volume.slope !== 1 || volume.inter !== 0 ? ' with scaling' : ''} (use minmax or --window)`);
    printPlan(io, plan);
    io.log(`intensity: ${mapping === 'raw' ? 'raw 8-bit voxels' : mapping.kind === 'window' ? `CT window level ${mapping.level}, width ${mapping.width}` : 'per-slice min-max'}`);
    const stack = volumeStack(volume, axis, mapping);
    const rt = await (deps.createRuntime ?? (() => createCliRuntime(io)))();
    try {
      io.error(`adapter: ${rt.describe()}`);
      checkProfilable(rt, profile);
      const networks = (deps.loadNetworks ?? loadNetworks)(rt, plan);
      try {
        const session = newSession(rt, stack, networks);
        const run = { io, volume, axis, shape, out, overwrite: values.overwrite!, inputs, worst: slicesRankedBy(plan), t0: performance.now() };
        await profiled(rt, profile, io, () =>
          single ? segmentOne(session, single, run) : segmentStructures(session, objects, structures, imported, values['propagate-labels']!, run));
      } finally {
        networks.dispose();
      }
    } finally {
      rt.destroy();
    }
    return 0;
  });
}

interface RunContext {
  io: ConsoleLike;
  volume: Volume;
  axis: AxisName;
  shape: SliceShape;
  out: string;
  overwrite: boolean;
  inputs: string[];
  /** How the slice to check next is picked (slicesRankedBy). */
  worst: 'quality' | 'uncertainty';
  /** When the work began (performance.now()), for the time printed with the output. */
  t0: number;
}

/** 'lowest-quality slice: 7 (quality 0.412)', or 'lowest-certainty slice: ...' by certainty. */
function worstSlice(session: Interactive3DSession, run: RunContext, structure = 1): string {
  const by = run.worst;
  const z = session.recommendSlice(by, { structure });
  const state = z === null ? null : session.state(z, structure);
  const score = state === null ? '' : by === 'quality' ? ` (quality ${state.quality?.toFixed(3)})` : ` (certainty ${state.certainty?.toFixed(3) ?? 'none'})`;
  return `lowest-${by === 'quality' ? 'quality' : 'certainty'} slice: ${z ?? 'none'}${score}`;
}

const seconds = (run: RunContext) => `${((performance.now() - run.t0) / 1000).toFixed(1)} s`;

/** --slice/--points: one structure, written as a 0/1 mask. */
async function segmentOne(session: Interactive3DSession, { slice, points }: { slice: number; points: VoxelPoint[] }, run: RunContext): Promise<void> {
  const { io, volume, axis, shape, out } = run;
  io.log(`${axis} slice ${slice} (along ${'ijk'[shape.axis]}): extreme points (${IN_PLANE[shape.axis]}) ${points.map(([a, b]) => `${a},${b}`).join('; ')}`);
  await warmSession(io, session);
  const mask2d = await session.annotate(slice, { kind: 'extreme-points', points: points.map(pixelFromVoxel) });
  io.log(`slice ${slice}: ${mask2d.reduce((s, v) => s + v, 0)} voxels from the 2D network`);
  const bar = new ProgressBar('propagating', io);
  await session.propagate({ onProgress: (p) => bar.update(p.done, p.total, `slice ${p.slice}`) });
  const mask = unstackMask(session.volumeMask(), volume, axis);
  writeFileAtomic(out, serializeNifti(mask, { gzip: out.endsWith('.gz') }));
  io.log(`wrote ${out} (${seconds(run)}); ${worstSlice(session, run)}`);
}

/**
 * --object / --labels: the imported structures (locked where they have voxels) and
 * one new structure per new name, annotated, propagated together, written as a label
 * map and its sidecar.
 */
async function segmentStructures(session: Interactive3DSession, objects: readonly ObjectFlag[], structures: readonly LabelEntry[], imported: LabelMap | undefined, propagateImported: boolean, run: RunContext): Promise<void> {
  const { io, volume, axis, shape } = run;
  // Also without --labels: the structures replace the session's default one, with their ids.
  const labels = imported ? stackLabels(imported.labels, volume, axis) : new Uint8Array(volume.data.length);
  session.loadLabels(labels, structures, { pending: propagateImported });
  if (imported) io.log(`${imported.structures.length} structure(s) from the label map: ${imported.structures.map((s) => `${s.id} ${s.name}`).join(', ')}`);
  await warmSession(io, session);
  const idOf = new Map(structures.map((s) => [s.name, s.id]));
  for (const o of objects) {
    const id = idOf.get(o.name)!;
    io.log(`${o.name} (label ${id}): ${axis} slice ${o.slice} (along ${'ijk'[shape.axis]}): extreme points (${IN_PLANE[shape.axis]}) ${o.points.map(([a, b]) => `${a},${b}`).join('; ')}`);
    const mask2d = await session.annotate(o.slice, { kind: 'extreme-points', points: o.points.map(pixelFromVoxel) }, { structure: id });
    io.log(`${o.name}: ${mask2d.reduce((s, v) => s + v, 0)} voxels from the 2D network on slice ${o.slice}`);
  }
  const bar = new ProgressBar('propagating', io);
  await session.propagate({ onProgress: (p) => bar.update(p.done, p.total, `slice ${p.slice}`) });
  const result = unstackLabels(session.labelMap(), volume, axis);
  writeLabelMap(run.out, result, volume, session.structures, { inputs: run.inputs, overwrite: run.overwrite });
  const counts = new Map<number, number>();
  for (const v of result) if (v) counts.set(v, (counts.get(v) ?? 0) + 1);
  for (const s of session.structures) {
    io.log(`${s.id} ${s.name}: ${counts.get(s.id) ?? 0} voxels; ${worstSlice(session, run, s.id)}`);
  }
  io.log(`wrote ${run.out} and ${labelSidecarPath(run.out)} (${seconds(run)})`);
}

/** NAME:SLICE:POINTS (the name may hold colons; slice and points cannot). */
function objectFlag(flag: string): ObjectFlag {
  const m = /^(.*):([^:]*):([^:]*)$/s.exec(flag);
  const shown = `'${flag.length > 60 ? `${flag.slice(0, 60)}...` : flag}'`.replace(/[\x00-\x1f\x7f]/g, '?');
  if (!m) throw new UsageError(`--object ${shown} is not NAME:SLICE:POINTS (e.g. "liver:40:210,300;260,305;236,280;240,330")`);
  const name = m[1].trim();
  try {
    checkLabelEntries([{ id: 1, name, color: [0, 0, 0] }], `--object ${shown}`);
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/: label 1: "name"/, ': the name'));
  }
  const slice = integer(`object ${name}: slice`, m[2], 0)!;
  const points = voxelPoints(`object ${name}: points`, m[3]);
  if (points.length !== 4) throw new UsageError(`--object ${name}: needs exactly the 4 extreme points, got ${points.length}`);
  return { name, slice, points };
}

function checkDistinctNames(objects: readonly ObjectFlag[]): void {
  const seen = new Set<string>();
  for (const o of objects) {
    if (seen.has(o.name)) throw new UsageError(`--object ${o.name} is given twice (one --object per structure)`);
    seen.add(o.name);
  }
}

/** The label map's structures: the imported ones with their ids, then each new --object name with the next free id. */
function planStructures(objects: readonly ObjectFlag[], imported: LabelMap | undefined): LabelEntry[] {
  const out = [...(imported?.structures ?? [])];
  let next = Math.max(0, ...out.map((s) => s.id)) + 1;
  for (const o of objects) {
    if (out.some((s) => s.name === o.name)) continue;
    if (next > MAX_LABEL_ID) throw new UsageError(`--object ${o.name}: no label id left (ids go up to ${MAX_LABEL_ID})`);
    out.push({ ...defaultLabel(next), name: o.name });
    next++;
  }
  return out;
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
function checkPointsInside(flag: string, points: readonly VoxelPoint[], shape: SliceShape, slice: string): void {
  points.forEach(([a, b], n) => {
    if (a >= shape.height || b >= shape.width) {
      throw new UsageError(`${flag}: point ${n + 1} (${a},${b}) is outside the ${slice} must be within 0..${shape.height - 1}, 0..${shape.width - 1}`);
    }
  });
}
