// Label maps in and out, browser-safe: one NIfTI of structure ids (0 = background)
// with the segmented volume's geometry, plus a sidecar JSON naming and colouring
// each id (`labels.nii.gz` -> `labels.json`):
//   { "labels": { "1": { "name": "liver", "color": [r, g, b] }, ... } }
// Voxels here are in the volume's own (NIfTI) order; stackLabels / unstackLabels
// convert at the boundary to the session's slice-major stacks in the engine's slice
// layout (src/volume/layout.ts, as stackMask / unstackMask do for 0/1 masks).
// File access lives in label-map-node.ts.

import { describeValue, jsonNestingDepth } from '../io/untrusted.ts';
import { serializeNifti } from './nifti.ts';
import { defaultHeader, maskHeader, type NiftiHeader } from './nifti-header.ts';
import { getSlice, setSlice, sliceShape, type Axis } from './slice.ts';
import { createVolume, voxelCount, voxelType, VolumeError, type Volume } from './volume.ts';
import { defaultColor, MAX_STRUCTURE_ID, type Labels, type Rgb, type Structure } from '../session/structures.ts';

/** Structure ids per voxel, 0 = background: uint8 up to id 255, uint16 above (the session's label maps). */
export type LabelArray = Labels;
export type { Rgb };

/** One structure of a label map: the session's Structure (id, name, colour). */
export type LabelEntry = Structure;

/** A label map read back: ids per voxel (volume order) and every structure it names, ascending by id. */
export interface LabelMap {
  readonly labels: LabelArray;
  readonly structures: LabelEntry[];
}

export const MAX_LABEL_ID = MAX_STRUCTURE_ID;
/** nifti1.h's NIFTI_INTENT_LABEL: the voxel values are indices into a label table. */
export const NIFTI_INTENT_LABEL = 1002;
const MAX_NAME_LENGTH = 200;
/** A sidecar of 65535 entries with long names is a few MB; more is not a label table. */
export const MAX_SIDECAR_BYTES = 16 * 2 ** 20;

/** The name and colour of an id the sidecar does not list (or when there is no sidecar): the session's colour for that id. */
export function defaultLabel(id: number): LabelEntry {
  return { id, name: `label ${id}`, color: defaultColor(id) };
}

/** The sidecar's path: the label map's name with .nii / .nii.gz replaced by .json. */
export function labelSidecarPath(niftiPath: string): string {
  const m = /\.nii(\.gz)?$/.exec(niftiPath);
  if (!m) throw new RangeError(`a label map's name must end in .nii or .nii.gz, got '${niftiPath}'`);
  return `${niftiPath.slice(0, m.index)}.json`;
}

// ---------------------------------------------------------------------------------
// Sidecar JSON

/** Checks a structure list before it is written: ids 1..65535 once each, names non-empty and distinct, colours 3 ints 0..255. */
export function checkLabelEntries(entries: readonly LabelEntry[], where: string): void {
  const ids = new Set<number>();
  const names = new Map<string, number>();
  for (const e of entries) {
    checkId(e.id, where);
    if (ids.has(e.id)) throw new RangeError(`${where}: label ${e.id} is listed twice`);
    ids.add(e.id);
    checkName(e.name, `${where}: label ${e.id}`);
    const other = names.get(e.name);
    if (other !== undefined) throw new RangeError(`${where}: labels ${other} and ${e.id} are both named ${describeValue(e.name)}`);
    names.set(e.name, e.id);
    checkColor(e.color, `${where}: label ${e.id}`);
  }
}

function checkId(id: unknown, where: string): asserts id is number {
  if (!Number.isInteger(id) || (id as number) < 1 || (id as number) > MAX_LABEL_ID) {
    throw new RangeError(`${where}: label id ${describeValue(id)} is not an integer 1..${MAX_LABEL_ID}`);
  }
}

function checkName(name: unknown, where: string): asserts name is string {
  if (typeof name !== 'string' || name.trim() === '') throw new RangeError(`${where}: "name" must be a non-empty string, got ${describeValue(name)}`);
  if (name.length > MAX_NAME_LENGTH) throw new RangeError(`${where}: "name" is ${name.length} characters long, at most ${MAX_NAME_LENGTH}`);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) throw new RangeError(`${where}: "name" ${describeValue(name)} holds control characters`);
}

function checkColor(color: unknown, where: string): asserts color is Rgb {
  const ok = Array.isArray(color) && color.length === 3 && color.every((c) => Number.isInteger(c) && c >= 0 && c <= 255);
  if (!ok) throw new RangeError(`${where}: "color" must be [r, g, b] with integers 0..255, got ${Array.isArray(color) ? `[${color.map(describeValue).join(', ')}]` : describeValue(color)}`);
}

/** The sidecar JSON for `entries` (ids ascending, one label per line). */
export function serializeLabelSidecar(entries: readonly LabelEntry[]): string {
  checkLabelEntries(entries, 'label sidecar');
  const sorted = [...entries].sort((a, b) => a.id - b.id);
  const lines = sorted.map((e) => `    ${JSON.stringify(String(e.id))}: ${JSON.stringify({ name: e.name, color: [...e.color] })}`);
  return `{\n  "labels": {\n${lines.join(',\n')}\n  }\n}\n`;
}

/**
 * The sidecar's entries, ascending by id, checked strictly: an object with only
 * "labels", whose keys are ids written as decimal integers 1..65535 and whose values
 * hold exactly "name" (a non-empty string, distinct) and "color" ([r, g, b], integers 0..255).
 */
export function parseLabelSidecar(text: string, source: string): LabelEntry[] {
  const fail = (msg: string): never => { throw new VolumeError(source, msg); };
  if (text.length > MAX_SIDECAR_BYTES) fail(`${text.length} characters; a label sidecar is at most ${MAX_SIDECAR_BYTES}`);
  if (jsonNestingDepth(text, 8) > 8) fail('nested deeper than a label sidecar is');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return fail(`not JSON (${(e as Error).message})`);
  }
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(doc)) return fail(`expected {"labels": {...}}, got ${describeValue(doc)}`);
  const extra = Object.keys(doc).filter((k) => k !== 'labels');
  if (extra.length > 0) fail(`unexpected key ${describeValue(extra[0])} (a label sidecar holds only "labels")`);
  const labels = doc.labels;
  if (!isObject(labels)) return fail(`"labels" must be an object of id: {"name", "color"}, got ${describeValue(labels)}`);
  const entries: LabelEntry[] = [];
  for (const [key, value] of Object.entries(labels)) {
    if (!/^[1-9]\d{0,4}$/.test(key) || Number(key) > MAX_LABEL_ID) fail(`label id ${describeValue(key)} is not an integer 1..${MAX_LABEL_ID} written in decimal`);
    const where = `label ${key}`;
    if (!isObject(value)) fail(`${where} must be {"name": ..., "color": [r, g, b]}, got ${describeValue(value)}`);
    const entry = value as Record<string, unknown>;
    const unknown = Object.keys(entry).filter((k) => k !== 'name' && k !== 'color');
    if (unknown.length > 0) fail(`${where}: unexpected key ${describeValue(unknown[0])} (expected "name" and "color")`);
    try {
      checkName(entry.name, where);
      checkColor(entry.color, where);
    } catch (e) {
      fail((e as Error).message);
    }
    entries.push({ id: Number(key), name: entry.name as string, color: [...(entry.color as Rgb)] as unknown as Rgb });
  }
  try {
    checkLabelEntries(entries, 'sidecar');
  } catch (e) {
    fail((e as Error).message.replace(/^sidecar: /, ''));
  }
  return entries.sort((a, b) => a.id - b.id);
}

// ---------------------------------------------------------------------------------
// NIfTI label maps

/** The largest id in a label array (0 when empty). */
export function maxLabel(labels: LabelArray): number {
  let max = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] > max) max = labels[i];
  return max;
}

/** The ids present in a label array, ascending (background 0 left out). */
export function presentLabels(labels: LabelArray): number[] {
  const seen = new Uint8Array(MAX_LABEL_ID + 1);
  for (let i = 0; i < labels.length; i++) seen[labels[i]] = 1;
  const out: number[] = [];
  for (let id = 1; id <= MAX_LABEL_ID; id++) if (seen[id]) out.push(id);
  return out;
}

/**
 * A label volume on `like`'s grid: its header's geometry (dims, pixdim, qform and
 * sform codes and matrices, xyzt units), datatype uint8 when every id (in the data
 * and in `maxId`) is <= 255, else uint16, intent NIFTI_INTENT_LABEL.
 */
export function labelMapVolume(labels: LabelArray, like: Volume, maxId = 0, source = `labels of ${like.source}`): Volume {
  const n = voxelCount(like.dims);
  if (labels.length !== n) throw new RangeError(`labelMapVolume: ${labels.length} voxels for the ${like.dims.join('x')} volume ${like.source}`);
  const widest = Math.max(maxId, maxLabel(labels));
  if (widest > MAX_LABEL_ID) throw new RangeError(`labelMapVolume: label ${widest} is above ${MAX_LABEL_ID}`);
  const data = widest <= 255 ? (labels instanceof Uint8Array ? labels : Uint8Array.from(labels)) : labels instanceof Uint16Array ? labels : Uint16Array.from(labels);
  const base: NiftiHeader = like.header ?? defaultHeader(like.dims, like.spacing, like.affine);
  const header: NiftiHeader = { ...maskHeader(base), intent_code: NIFTI_INTENT_LABEL, descrip: 'mem3d label map' };
  return createVolume({ dims: like.dims, data, spacing: like.spacing, affine: like.affine, header, source });
}

/** The label map's .nii bytes and sidecar text for `labels` (volume order) on `like`'s grid; every id in the data gets an entry (defaultLabel when `structures` has none). */
export function encodeLabelMap(labels: LabelArray, like: Volume, structures: readonly LabelEntry[], options: { gzip?: boolean } = {}): { nifti: Uint8Array; sidecar: string } {
  checkLabelEntries(structures, 'label map');
  const listed = new Set(structures.map((s) => s.id));
  const entries = [...structures, ...presentLabels(labels).filter((id) => !listed.has(id)).map(defaultLabel)];
  const maxId = Math.max(0, ...entries.map((e) => e.id));
  return { nifti: serializeNifti(labelMapVolume(labels, like, maxId), { gzip: options.gzip }), sidecar: serializeLabelSidecar(entries) };
}

/** Affine entries may differ by this fraction of the smallest voxel size (NIfTI stores them as float32) plus 1e-6 of their size. */
export const GEOMETRY_TOLERANCE = 1e-3;

/** Refuses a label map that is not on `volume`'s grid: the message names the first thing that differs. */
export function checkLabelGeometry(map: Volume, volume: Volume): void {
  const fail = (msg: string): never => { throw new VolumeError(map.source, `does not fit ${volume.source}: ${msg}`); };
  if (map.dims.some((d, i) => d !== volume.dims[i])) fail(`dims ${map.dims.join('x')}, the volume's ${volume.dims.join('x')}`);
  const tol = GEOMETRY_TOLERANCE * Math.min(...volume.spacing);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 4; c++) {
      const a = map.affine[r][c];
      const b = volume.affine[r][c];
      if (!(Math.abs(a - b) <= tol + 1e-6 * Math.abs(b))) {
        const what = c === 3 ? `origin (${'xyz'[r]})` : `voxel axis ${'ijk'[c]} direction/size (${'xyz'[r]})`;
        fail(`affine row ${r} column ${c}, the ${what}, is ${a} in the label map and ${b} in the volume (tolerance ${tol.toPrecision(2)})`);
      }
    }
  }
}

/**
 * A parsed label map (and its sidecar's text, if there is one) checked against the
 * volume it labels: same grid (checkLabelGeometry), integer datatype without scaling,
 * no negative or too large ids. Ids in the voxels that the sidecar does not list get
 * defaultLabel; sidecar entries without voxels are kept (empty structures).
 */
export function decodeLabelMap(map: Volume, sidecar: { text: string; source: string } | undefined, volume: Volume): LabelMap {
  const fail = (msg: string): never => { throw new VolumeError(map.source, msg); };
  checkLabelGeometry(map, volume);
  const type = voxelType(map.data);
  if (type === 'float32' || type === 'float64') fail(`holds ${type} voxels; a label map holds integer ids (uint8 or uint16: save it with an integer datatype, e.g. nibabel's set_data_dtype(np.uint8))`);
  if (map.slope !== 1 || map.inter !== 0) fail(`is scaled (scl_slope ${map.slope}, scl_inter ${map.inter}); a label map holds ids as stored`);
  const src = map.data;
  let max = 0;
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (v < 0) fail(`voxel ${voxelName(i, map)} holds ${v}; label ids are >= 0`);
    if (v > max) max = v;
  }
  if (max > MAX_LABEL_ID) fail(`holds label ${max}; ids go up to ${MAX_LABEL_ID}`);
  const labels: LabelArray = max <= 255 ? (src instanceof Uint8Array ? src : Uint8Array.from(src)) : src instanceof Uint16Array ? src : Uint16Array.from(src);
  const listed = sidecar ? parseLabelSidecar(sidecar.text, sidecar.source) : [];
  const known = new Set(listed.map((e) => e.id));
  const structures = [...listed, ...presentLabels(labels).filter((id) => !known.has(id)).map(defaultLabel)].sort((a, b) => a.id - b.id);
  // A default name may clash with a listed one ("label 3" given to id 5).
  try {
    checkLabelEntries(structures, 'label map');
  } catch (e) {
    fail((e as Error).message);
  }
  return { labels, structures };
}

function voxelName(index: number, v: Volume): string {
  const [nx, ny] = v.dims;
  return `(${index % nx}, ${Math.floor(index / nx) % ny}, ${Math.floor(index / (nx * ny))})`;
}

/** Labels in volume order as the session's slice-major stack along `axis` (engine slice layout). */
export function stackLabels(labels: LabelArray, like: Volume, axis: Axis): LabelArray {
  const view = labelView(labels, like);
  const shape = sliceShape(like, axis);
  const n = shape.width * shape.height;
  const out = new (labels.constructor as new (n: number) => LabelArray)(labels.length);
  const slice = new Float32Array(n); // exact for ids <= 65535
  for (let z = 0; z < shape.count; z++) out.set(getSlice(view, axis, z, slice).data, z * n);
  return out;
}

/** The session's slice-major stack along `axis` (labelMap()) back in volume order. */
export function unstackLabels(stack: LabelArray, like: Volume, axis: Axis): LabelArray {
  const out = new (stack.constructor as new (n: number) => LabelArray)(stack.length);
  const view = labelView(out, like);
  const shape = sliceShape(like, axis);
  const n = shape.width * shape.height;
  for (let z = 0; z < shape.count; z++) setSlice(view, axis, z, stack.subarray(z * n, (z + 1) * n));
  return out;
}

function labelView(labels: LabelArray, like: Volume): Volume {
  if (labels.length !== voxelCount(like.dims)) throw new RangeError(`label map: ${labels.length} voxels for the ${like.dims.join('x')} volume ${like.source}`);
  return createVolume({ dims: like.dims, data: labels, affine: like.affine, spacing: like.spacing, source: like.source });
}
