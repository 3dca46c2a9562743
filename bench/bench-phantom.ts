// The phantom the round and host-step benchmarks propagate through, stored as `mem3d
// bench` stores it (x first) and, with --volume int16, as a CT is stored: Hounsfield-like
// int16 (grey * 4 - 1024), read with the seed's per-slice min-max as mem3d reads a CT
// with the shipped weights (defaultIntensity); uint8 takes the grey levels as they are.
import { phantomVolume } from '../src/phantom/phantom.ts';
import { stackMask, volumeStack } from '../src/session/volume-stack.ts';
import type { SliceStack } from '../src/session/session.ts';
import { SEED_MAPPING } from '../src/volume/intensity.ts';
import { createVolume, diagonalAffine } from '../src/volume/volume.ts';

export type StoredAs = 'uint8' | 'int16';

export function parseStoredAs(value: string | undefined, where: string): StoredAs {
  if (value !== 'uint8' && value !== 'int16') throw new RangeError(`${where} is uint8 or int16, not '${value}'`);
  return value;
}

/** Seed 11's size x size x depth phantom: its axial slice stack and the true mask, slice-major. */
export function benchPhantom(size: number, depth: number, storedAs: StoredAs): { stack: () => SliceStack; truth: Uint8Array } {
  const v = phantomVolume({ seed: 11, width: size, height: size, depth });
  const spacing = [v.spacing.x, v.spacing.y, v.spacing.z] as const;
  const ct = storedAs === 'int16';
  const image = createVolume({ dims: [size, size, depth], data: ct ? Int16Array.from(v.image, (g) => g * 4 - 1024) : v.image, spacing, affine: diagonalAffine(spacing), source: 'phantom' });
  const mask = createVolume({ dims: [size, size, depth], data: v.mask, spacing, affine: diagonalAffine(spacing), source: 'phantom mask' });
  return { stack: () => volumeStack(image, 'axial', ct ? SEED_MAPPING : 'raw'), truth: stackMask(mask, 'axial') };
}
