// What the shipped weights are, in words and in slice layout; shared by the Node and
// browser loaders (node.ts, web.ts), with no file system or fetch of its own.
import { SEED_MAPPING, type IntensityMapping } from '../volume/intensity.ts';
import type { SliceLayout } from '../volume/layout.ts';
import type { Volume } from '../volume/volume.ts';

export type ShippedMemoryWeights = 'qamn-phantom' | 'synth-v1';

export const SHIPPED_MEMORY_WEIGHTS: Readonly<Record<ShippedMemoryWeights, { summary: string; sliceLayout: SliceLayout }>> = {
  // Trained on frames laid out as the engine reads NIfTI axial slices (weights/qamn-phantom/README.md).
  'qamn-phantom': { summary: 'QAMN trained on synthetic phantoms (weights/qamn-phantom, int8)', sliceLayout: 'rows-first-axis' },
  // Untrained: its layout is the reference's calling sequence, which feeds the seed's layout.
  'synth-v1': { summary: 'QAMN synth-v1 (untrained, for conformance)', sliceLayout: 'rows-first-axis' },
};

/**
 * The shipped IOG network (weights/iog-phantom) was trained on slices rendered as
 * src/phantom renders them: row = y (anterior-posterior), column = x (left-right).
 * The project's NIfTI volumes store x as their first axis (tools/make-example.ts,
 * and every RAS/LPS file), so in the engine's layout (row = first axis) its slices
 * are transposed: 'rows-second-axis'.
 */
export const IOG_PHANTOM_SLICE_LAYOUT: SliceLayout = 'rows-second-axis';

export const PHANTOM_WEIGHTS_NOTICE =
  'NOTE: the default memory network was trained on synthetic CT phantoms only; it is for phantoms. ' +
  'For real CT convert trained Mem3D/STM weights with `mem3d convert` and pass them with --memory-weights.';

export const SYNTHETIC_WEIGHTS_NOTICE =
  'NOTE: the memory network runs with synthetic (synth-v1, untrained) weights, so propagated masks are not meaningful; ' +
  'convert trained QAMN weights with `mem3d convert` and pass them with --memory-weights.';

/**
 * How a volume's voxels become the networks' 8-bit slices when the caller does not say:
 * the phantom weights learned the generator's raw grey levels (per-slice min-max made the
 * slices next to the annotated one the worst, issue 10), so an unscaled uint8 volume goes
 * in as stored; anything else, and every other weights, get the Mem3D seed's per-slice
 * min-max. `memory` is the shipped memory network in use, or null for a user's weights.
 */
export function defaultIntensity(memory: ShippedMemoryWeights | null, volume: Volume): IntensityMapping | 'raw' {
  const eightBit = volume.data instanceof Uint8Array && volume.slope === 1 && volume.inter === 0;
  return memory === 'qamn-phantom' && eightBit ? 'raw' : SEED_MAPPING;
}
