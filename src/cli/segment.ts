// mem3d segment <volume.nii[.gz]> --slice N --points x,y;x,y;x,y;x,y --out mask.nii.gz
import { existsSync } from 'node:fs';
import { Runtime } from '../runtime/runtime.ts';
import { Interactive3DSession } from '../session/session.ts';
import { IOGSliceSegmenter } from '../session/slice-segmenter.ts';
import { unstackMask, volumeStack } from '../session/volume-stack.ts';
import { readNifti, writeNifti } from '../volume/nifti-node.ts';
import { assertNotInput } from '../volume/safe-write-node.ts';
import { loadIOG, loadMemoryNetwork, SYNTHETIC_WEIGHTS_NOTICE } from '../pretrained/node.ts';
import type { IntensityMapping } from '../volume/intensity.ts';
import type { AxisName } from '../volume/slice.ts';
import { integer, parse, points, runCommand, UsageError } from './args.ts';
import { ProgressBar } from './progress.ts';

const USAGE = `usage: mem3d segment <volume.nii|.nii.gz> --slice N --points x,y;x,y;x,y;x,y --out <mask.nii.gz>

Segments one structure: the 2D network on slice N from four extreme points (left-,
right-, top-, bottom-most pixels of the object, in slice pixels: x = column, y = row),
then the memory network propagates the mask through the volume in both directions.

  --slice N            the annotated slice (0-based) along --axis
  --points ...         the four extreme points
  --out FILE           the mask (uint8 NIfTI with the volume's geometry); never an input
  --axis A             axial (default), coronal or sagittal
  --window L,W         CT window level,width instead of the per-slice min-max of the Mem3D seed
  --memory-weights F   converted QAMN weights (.safetensors or index .json); default: synthetic`;

export function segmentCommand(argv: string[]): Promise<number> {
  return runCommand('segment', USAGE, async () => {
    const { values, positionals } = parse(argv, {
      slice: { type: 'string' },
      points: { type: 'string' },
      out: { type: 'string' },
      axis: { type: 'string', default: 'axial' },
      window: { type: 'string' },
      'memory-weights': { type: 'string' },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError('give exactly one volume');
    const input = positionals[0];
    if (!values.out) throw new UsageError('--out is required');
    if (!/\.nii(\.gz)?$/.test(values.out)) throw new UsageError(`--out must end in .nii or .nii.gz, got '${values.out}'`);
    const slice = integer('slice', values.slice, 0);
    if (slice === undefined) throw new UsageError('--slice is required');
    if (!values.points) throw new UsageError('--points is required');
    const clicks = points(values.points);
    if (clicks.length !== 4) throw new UsageError(`--points needs the 4 extreme points, got ${clicks.length}`);
    const axis = values.axis as AxisName;
    if (!['axial', 'coronal', 'sagittal'].includes(axis)) throw new UsageError(`--axis must be axial, coronal or sagittal, got '${axis}'`);
    let mapping: IntensityMapping = { kind: 'minmax' };
    if (values.window) {
      const [level, width] = values.window.split(',').map(Number);
      if (!Number.isFinite(level) || !(width > 0)) throw new UsageError(`--window must be level,width with width > 0, got '${values.window}'`);
      mapping = { kind: 'window', level, width };
    }
    if (!existsSync(input)) throw new Error(`${input}: no such file`);
    assertNotInput(values.out, [input]);

    const volume = readNifti(input);
    const stack = volumeStack(volume, axis, mapping);
    if (slice >= stack.depth) throw new UsageError(`--slice ${slice} is outside the volume (${stack.depth} ${axis} slices)`);
    const rt = await Runtime.create();
    console.error(`adapter: ${rt.describe()}`);
    const { net, synthetic } = loadMemoryNetwork(rt, { path: values['memory-weights'] });
    if (synthetic) console.error(SYNTHETIC_WEIGHTS_NOTICE);
    const session = new Interactive3DSession(rt, stack, { segmenter: new IOGSliceSegmenter(rt, loadIOG(rt)), memory: net });
    const t0 = performance.now();
    const mask2d = await session.annotate(slice, { kind: 'extreme-points', points: clicks });
    console.error(`slice ${slice}: ${mask2d.reduce((s, v) => s + v, 0)} pixels from the 2D network`);
    const bar = new ProgressBar('propagating');
    await session.propagate({ onProgress: (p) => bar.update(p.done, p.total, `slice ${p.slice}`) });
    writeNifti(values.out, unstackMask(session.volumeMask(), volume, axis), { protect: [input] });
    const worst = session.recommendSlice('quality');
    console.log(`wrote ${values.out} (${((performance.now() - t0) / 1000).toFixed(1)} s); lowest-quality slice: ${worst ?? 'none'}${worst === null ? '' : ` (quality ${session.state(worst).quality?.toFixed(3)})`}`);
    rt.destroy();
    return 0;
  });
}
