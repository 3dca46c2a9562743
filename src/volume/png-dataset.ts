// The Mem3D seed's PNG-slice dataset layout, browser-safe parts (the Node side that
// walks folders is png-dataset-node.ts). Under a root such as data/MSD:
//
//   ImageSets06/train.txt, test.txt      one case name per line
//   Task06_origin/<case>/<k>.png         8-bit slices (k = 0, 1, 2, ...)
//   Task06_mask/<case>/<k>.png           label slices, palette indices or gray values
//
// The seed (dataloaders/data.py, eval_loader.py) lists a case's slices from its mask
// folder, sorts them by int(name.split('.')[0]) and keeps label == 1 as foreground.
// A case becomes a volume whose z = k is the k-th slice in that order (numbering may
// have gaps; the names are kept beside it), so getSlice(volume, 2, k), or 'axial' as
// the affine is the identity, returns that PNG exactly: dims [height, width, count].

import type { GrayImage } from '../io/png.ts';
import { setSlice } from './slice.ts';
import { createVolume, VolumeError, type VolumeOf } from './volume.ts';

export interface PngLayout {
  /** folder of train.txt / test.txt */
  readonly imageSets: string;
  /** folder of image slices, one sub-folder per case */
  readonly imageDir: string;
  /** folder of mask slices, one sub-folder per case */
  readonly maskDir: string;
}

/** The seed's names for task `task` ('06' for MSD lung, '10' for colon). */
export function seedLayout(task: string | number): PngLayout {
  const t = typeof task === 'number' ? String(task).padStart(2, '0') : task;
  return { imageSets: `ImageSets${t}`, imageDir: `Task${t}_origin`, maskDir: `Task${t}_mask` };
}

/** Which label values are the object: one value (the seed's loaders use 1) or any non-zero. */
export type Foreground = number | 'nonzero';

/** Case names of a split file: one per line, blank lines skipped, no path separators. */
/** A case is a folder of the dataset: a name with no separator, not '.' or '..'. */
export const isCaseFolderName = (name: string): boolean => !/[/\\]/.test(name) && name !== '.' && name !== '..';

export function parseCaseList(text: string, source: string): string[] {
  const names: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const name = line.trim();
    if (name === '') return;
    if (!isCaseFolderName(name)) throw new VolumeError(source, `line ${i + 1}: ${JSON.stringify(name)} is not a case folder name`);
    names.push(name);
  });
  return names;
}

/** The `<k>.png` names among `files` in numeric order (10.png after 9.png); other files are ignored. */
export function sortSliceFiles(files: readonly string[], source: string): string[] {
  const numbered = new Map<number, string>();
  for (const f of files) {
    if (!/\.png$/i.test(f)) continue;
    const m = /^(\d+)\.png$/i.exec(f);
    if (!m) throw new VolumeError(source, `slice file ${JSON.stringify(f)}: slice names must be <number>.png`);
    const k = Number(m[1]);
    const other = numbered.get(k);
    if (other !== undefined) throw new VolumeError(source, `slice files ${other} and ${f} both are slice ${k}`);
    numbered.set(k, f);
  }
  return [...numbered.keys()].sort((a, b) => a - b).map((k) => numbered.get(k)!);
}

/** Slices of equal size into a uint8 volume, slices[k] at z = k (see the header comment). */
export function stackSlices(slices: readonly GrayImage[], names: readonly string[], source: string): VolumeOf<Uint8Array> {
  if (slices.length === 0) throw new VolumeError(source, 'no slices');
  const { width, height } = slices[0];
  const volume = createVolume({ dims: [height, width, slices.length], data: new Uint8Array(width * height * slices.length), source });
  slices.forEach((s, k) => {
    if (s.width !== width || s.height !== height) {
      throw new VolumeError(source, `slice ${names[k]} is ${s.width}x${s.height}, slice ${names[0]} is ${width}x${height}`);
    }
    setSlice(volume, 2, k, s.data);
  });
  return volume;
}

/** A label image to a 0/1 mask. */
export function foregroundOf(labels: GrayImage, foreground: Foreground): GrayImage {
  const data = new Uint8Array(labels.data.length);
  for (let i = 0; i < data.length; i++) {
    const v = labels.data[i];
    data[i] = (foreground === 'nonzero' ? v !== 0 : v === foreground) ? 1 : 0;
  }
  return { width: labels.width, height: labels.height, data };
}
