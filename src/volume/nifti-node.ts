// NIfTI files on disk (Node). Reading goes through parseNifti, so a file is accepted
// or refused exactly as in a browser (one gzip path, src/io/gzip.ts, with the
// header's size as the cap); gzip writing through node:zlib, native and faster.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseNifti, serializeNifti } from './nifti.ts';
import { assertNotInput } from './safe-write-node.ts';
import { VolumeError, type Volume } from './volume.ts';

export function readNifti(path: string): Volume {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new VolumeError(path, `cannot read (${(e as Error).message})`, { cause: e });
  }
  return parseNifti(bytes, path, { adopt: true });
}

export interface WriteNiftiOptions {
  /** input paths that must not be overwritten (see assertNotInput); the volume's own source always is */
  protect?: readonly string[];
}

/** Writes `.nii` or, for a name ending in `.nii.gz`, gzipped NIfTI-1. */
export function writeNifti(path: string, volume: Volume, options: WriteNiftiOptions = {}): void {
  const gzip = path.endsWith('.nii.gz');
  if (!gzip && !path.endsWith('.nii')) throw new VolumeError(path, 'a NIfTI output name must end in .nii or .nii.gz');
  assertNotInput(path, [volume.source, ...(options.protect ?? [])]);
  const bytes = serializeNifti(volume);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, gzip ? gzipSync(bytes) : bytes);
}
