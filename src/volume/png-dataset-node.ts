// The seed's PNG-slice datasets on disk (Node): list cases, read a case as volumes,
// write a case (for conversion from NIfTI and for results). Layout: png-dataset.ts.

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeGrayPng, PngError, type GrayImage } from '../io/png.ts';
import { sliceToUint8, type IntensityMapping } from './intensity.ts';
import { decodeLabelPng, encodeGrayPng, encodeMaskPng } from './png-codec.ts';
import { foregroundOf, parseCaseList, seedLayout, sortSliceFiles, stackSlices, type Foreground, type PngLayout } from './png-dataset.ts';
import { assertNotInput } from './safe-write-node.ts';
import { getSlice, sliceShape, type Axis } from './slice.ts';
import { VolumeError, type MaskVolume, type Volume, type VolumeOf } from './volume.ts';

function readBytes(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new VolumeError(path, `cannot read ${what} (${(e as Error).message})`, { cause: e });
  }
}

/** An image slice, a PNG problem reported as a VolumeError naming the file (the dataset's error type). */
function readImageSlice(path: string): GrayImage {
  const bytes = readBytes(path, 'image slice');
  try {
    return decodeGrayPng(bytes, path);
  } catch (e) {
    if (e instanceof PngError) throw new VolumeError(path, e.message.slice(path.length + 2), { cause: e });
    throw e;
  }
}

function isDir(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** The layout under `root`, from its single Task<NN>_origin folder. */
export function detectLayout(root: string): PngLayout {
  if (!isDir(root)) throw new VolumeError(root, 'not a folder');
  const tasks = readdirSync(root).map((f) => /^Task(.+)_origin$/.exec(f)?.[1]).filter((t): t is string => t !== undefined && isDir(join(root, `Task${t}_origin`)));
  if (tasks.length === 0) throw new VolumeError(root, 'no Task<NN>_origin folder: not a Mem3D PNG dataset root (ImageSets<NN>/, Task<NN>_origin/, Task<NN>_mask/)');
  if (tasks.length > 1) throw new VolumeError(root, `several tasks (${tasks.join(', ')}): name the layout to use`);
  return seedLayout(tasks[0]);
}

/** Case names of a split (`<root>/ImageSets<NN>/<split>.txt`). */
export function listCases(root: string, split: string, layout: PngLayout = detectLayout(root)): string[] {
  const path = join(root, layout.imageSets, `${split}.txt`);
  return parseCaseList(new TextDecoder().decode(readBytes(path, 'case list')), path);
}

export interface PngCase {
  readonly name: string;
  /** uint8 slices, slice k of `slices` at z = k */
  readonly image: VolumeOf<Uint8Array>;
  /** 0/1 mask on the same grid; absent when the case has no mask folder */
  readonly mask?: MaskVolume;
  /** slice file names in numeric order */
  readonly slices: readonly string[];
}

export interface ReadPngCaseOptions {
  layout?: PngLayout;
  /** label that is the object; default 1, as the seed's loaders (mask[mask != 1] = 0) */
  foreground?: Foreground;
}

/** Reads a case; its slices are those of the mask folder (as the seed lists them), or of the image folder without one. */
export function readPngCase(root: string, name: string, options: ReadPngCaseOptions = {}): PngCase {
  const layout = options.layout ?? detectLayout(root);
  const imageDir = join(root, layout.imageDir, name);
  const maskDir = join(root, layout.maskDir, name);
  const hasMask = isDir(maskDir);
  const listed = hasMask ? maskDir : imageDir;
  if (!isDir(listed)) throw new VolumeError(imageDir, `no such case folder (case ${JSON.stringify(name)})`);
  const slices = sortSliceFiles(readdirSync(listed), listed);
  if (slices.length === 0) throw new VolumeError(listed, 'no <number>.png slices');
  const images = slices.map((f) => readImageSlice(join(imageDir, f)));
  const image = stackSlices(images, slices, imageDir);
  if (!hasMask) return { name, image, slices };
  const foreground = options.foreground ?? 1;
  const masks: GrayImage[] = slices.map((f, k) => {
    const path = join(maskDir, f);
    const labels = decodeLabelPng(readBytes(path, 'mask slice'), path);
    if (labels.width !== images[k].width || labels.height !== images[k].height) {
      throw new VolumeError(path, `mask is ${labels.width}x${labels.height}, its image slice is ${images[k].width}x${images[k].height}`);
    }
    return foregroundOf(labels, foreground);
  });
  return { name, image, mask: stackSlices(masks, slices, maskDir), slices };
}

export interface WritePngCaseOptions {
  /** default: the seed's task 06 names */
  layout?: PngLayout;
  /** slicing axis; default 'axial' */
  axis?: Axis;
  /** image intensities to 8-bit; default the seed's per-slice min-max */
  mapping?: IntensityMapping;
  /** inputs that must not be written over (the volumes' sources always are) */
  protect?: readonly string[];
  /** replace a case folder that already holds slices (its <number>.png files are removed first) */
  overwrite?: boolean;
}

function prepareFolder(dir: string, protect: readonly string[], overwrite: boolean): void {
  assertNotInput(dir, protect, { folder: true });
  if (isDir(dir)) {
    const old = sortSliceFiles(readdirSync(dir), dir);
    if (old.length > 0 && !overwrite) throw new VolumeError(dir, `already holds ${old.length} slices; pass overwrite to replace them`);
    for (const f of old) rmSync(join(dir, f));
  }
  mkdirSync(dir, { recursive: true });
}

/** Writes `image` slices (8-bit) and/or `mask` slices (palette labels) as `<k>.png`, k = 0.. along the axis. */
export function writePngCase(root: string, name: string, parts: { image?: Volume; mask?: Volume }, options: WritePngCaseOptions = {}): void {
  const { image, mask } = parts;
  const layout = options.layout ?? seedLayout('06');
  const axis = options.axis ?? 'axial';
  if (image && mask && image.dims.some((d, i) => d !== mask.dims[i])) {
    throw new RangeError(`writePngCase ${name}: image is ${image.dims.join('x')}, mask is ${mask.dims.join('x')}`);
  }
  const protect = [...(options.protect ?? []), ...[image, mask].flatMap((v) => (v ? [v.source] : []))];
  const jobs: [Volume, string, (v: Volume, k: number) => Uint8Array][] = [];
  if (image) {
    jobs.push([image, layout.imageDir, (v, k) => encodeGrayPng(sliceToUint8(v, axis, k, options.mapping))]);
  }
  if (mask) {
    jobs.push([mask, layout.maskDir, (v, k) => {
      const { width, height } = sliceShape(v, axis);
      return encodeMaskPng(getSlice(v, axis, k, new Uint8Array(width * height)));
    }]);
  }
  for (const [volume, folder, encode] of jobs) {
    const dir = join(root, folder, name);
    prepareFolder(dir, protect, options.overwrite ?? false);
    for (let k = 0; k < sliceShape(volume, axis).count; k++) writeFileSync(join(dir, `${k}.png`), encode(volume, k));
  }
}

/** Writes `<root>/ImageSets<NN>/<split>.txt`. */
export function writeCaseList(root: string, split: string, names: readonly string[], layout: PngLayout = seedLayout('06')): void {
  const text = parseCaseList(names.join('\n'), `${split} case names`).join('\n') + '\n';
  const dir = join(root, layout.imageSets);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${split}.txt`), text);
}
