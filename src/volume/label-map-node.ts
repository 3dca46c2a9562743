// Label maps on disk (Node): the .nii / .nii.gz and its sidecar .json
// (label-map.ts), checked together before any work, never written over an input,
// both files written whole (temporary files renamed into place together).

import { existsSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { decodeLabelMap, encodeLabelMap, labelSidecarPath, MAX_SIDECAR_BYTES, type LabelArray, type LabelEntry, type LabelMap } from './label-map.ts';
import { readNifti } from './nifti-node.ts';
import { checkOutputFile, writeFileAtomic, type OutputCheck } from './safe-write-node.ts';
import { VolumeError, type Volume } from './volume.ts';

/** Every check that can be made on a label map output and its sidecar before any work (checkOutputFile on both). */
export function checkLabelMapOutput(path: string, check: OutputCheck): void {
  if (!/\.nii(\.gz)?$/.test(path)) throw new VolumeError(path, 'a label map name must end in .nii or .nii.gz');
  checkOutputFile(path, check);
  checkOutputFile(labelSidecarPath(path), check);
}

/**
 * Writes `labels` (volume order) on `like`'s grid to `path` (gzipped for .nii.gz) and
 * the sidecar next to it. Refuses, before writing anything, an output that is an input
 * (`like`'s source always is) or that exists without `overwrite`.
 */
export function writeLabelMap(path: string, labels: LabelArray, like: Volume, structures: readonly LabelEntry[], check: OutputCheck): void {
  const inputs = [like.source, ...check.inputs];
  checkLabelMapOutput(path, { ...check, inputs });
  const { nifti, sidecar } = encodeLabelMap(labels, like, structures, { gzip: path.endsWith('.gz') });
  const json = labelSidecarPath(path);
  // Both into temporary files first, then both renamed: a failure leaves the outputs as they were.
  const stamp = `${process.pid}-${Date.now()}`;
  const temps = [path, json].map((p) => join(dirname(resolve(p)), `.${basename(p)}.part-${stamp}`));
  try {
    writeFileAtomic(temps[0], nifti);
    writeFileAtomic(temps[1], sidecar);
    renameSync(temps[0], path);
    renameSync(temps[1], json);
  } catch (e) {
    for (const t of temps) rmSync(t, { force: true });
    if (e instanceof VolumeError) throw e;
    throw new VolumeError(path, `cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
}

/** Reads a label map and its sidecar (when the .json is there) for `volume`; refused unless on the volume's grid (decodeLabelMap). */
export function readLabelMap(path: string, volume: Volume): LabelMap {
  if (!/\.nii(\.gz)?$/.test(path)) throw new VolumeError(path, 'a label map name must end in .nii or .nii.gz');
  const map = readNifti(path);
  const json = labelSidecarPath(path);
  let sidecar: { text: string; source: string } | undefined;
  if (existsSync(json)) {
    if (statSync(json).isDirectory()) throw new VolumeError(json, 'is a folder, not the label map\'s sidecar JSON');
    const size = statSync(json).size;
    if (size > MAX_SIDECAR_BYTES) throw new VolumeError(json, `${size} bytes; a label sidecar is at most ${MAX_SIDECAR_BYTES}`);
    sidecar = { text: readFileSync(json, 'utf8'), source: json };
  }
  return decodeLabelMap(map, sidecar, volume);
}

/** The files a label map input consists of (the map and its sidecar, when there): outputs must not replace them. */
export function labelMapInputs(path: string): string[] {
  return [path, labelSidecarPath(path)];
}
