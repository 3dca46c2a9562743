// Opening a volume (a file, a drop, or the bundled phantom) and putting it in a session
// of the networks once both are there.
import { sliceShape } from '../../src/volume/slice.ts';
import { parseNifti, type IntensityMapping, type Volume } from '../embed.ts';
import { $, app, fail, hidden, idleStatus, params, points, say, segmentedWith, ui } from './app.ts';
import { syncStructures, unsavedWork } from './labels.ts';
import { obliqueNotice, sliceOrientation, type SliceOrientation } from './orientation.ts';
import { applyPreset, fitZoom, render } from './render.ts';
import { CT_PRESETS } from './window.ts';

const PHANTOM = 'examples/phantom/image.nii.gz';

/**
 * ?slices=a-b, limited to this volume's slices; all of them when absent, and then also
 * when unusable (reversed, outside the volume, not a-b), with a note saying so: a slip in
 * the address would otherwise turn a short session into the whole volume unannounced.
 */
function sessionRange(depth: number): { range: [number, number]; note?: string } {
  const given = params.get('slices');
  const all: [number, number] = [0, depth - 1];
  if (given === null) return { range: all };
  const m = /^\s*(\d+)\s*[-\u2013]\s*(\d+)\s*$/.exec(given);
  const [first, last] = m ? [Math.max(0, Number(m[1])), Math.min(depth - 1, Number(m[2]))] : [1, 0];
  if (first <= last) return { range: [first, last] };
  return { range: all, note: `?slices=${given} is not a range a-b within this volume's slices 0–${depth - 1}: the session takes all of them.` };
}

export function openVolume(bytes: ArrayBuffer, name: string): void {
  if (ui.status === 'busy') return say('Wait for the running step to finish, or cancel it (Esc), before opening another volume.', 'busy', 'warn');
  // A new session replaces this one with its masks, structures and history (a label map dropped here by mistake would do it).
  if (unsavedWork() && !confirm(`Open ${name}? It replaces ${app.vol!.name} and everything segmented on it, with its undo history. Export the label map first to keep it.`)) {
    return say(`${name} was not opened: ${app.vol!.name} and its label map are as they were.`, 'ready', 'warn');
  }
  let volume: Volume;
  let orientation: SliceOrientation;
  try {
    volume = parseNifti(bytes, name);
    orientation = sliceOrientation(volume.affine, volume.dims, sliceShape(volume, 'axial').axis);
  } catch (e) {
    return fail(e, `Opening ${name}`, idleStatus());
  }
  const { axis, count: depth } = sliceShape(volume, 'axial');
  const { range: [first, last], note: rangeNote } = sessionRange(depth);
  app.vol = { volume, name, axis, depth, orientation, first, last };
  points.clearAll();
  segmentedWith.clear();
  hidden.clear();
  app.stroke = null;
  app.selected = -1;
  app.attached = false;
  ui.segmentable = false;
  ui.volume = { width: orientation.sliceCols, height: orientation.sliceRows, depth, first, last, plane: orientation.plane, labels: orientation.labels, obliqueDegrees: orientation.obliqueDegrees };
  $<HTMLInputElement>('z').max = String(depth - 1);
  const notice = [obliqueNotice(orientation), rangeNote].filter(Boolean).join(' ');
  $('notice').hidden = !notice;
  $('notice').textContent = notice;
  $('orient').textContent = `${orientation.plane[0].toUpperCase()}${orientation.plane.slice(1)} slices (voxel axis ${'ijk'[axis]}), shown radiologically: ${orientation.plane === 'sagittal' ? 'anterior on the left' : 'patient right on the left'}, ${orientation.plane === 'axial' ? 'anterior' : 'superior'} up.`;
  ui.slice = Math.floor((first + last) / 2);
  $<HTMLInputElement>('z').value = String(ui.slice);
  applyPreset('auto');
  fitZoom();
  attachSession();
}

/** A picked or dropped file opened as the volume; a file the browser cannot read is said, as a bad one is. */
export async function openFile(file: File): Promise<void> {
  let bytes: ArrayBuffer;
  try {
    bytes = await file.arrayBuffer();
  } catch (e) {
    return fail(e, `Reading ${file.name}`, idleStatus());
  }
  openVolume(bytes, file.name);
}

/** Puts the open volume in a session of the networks, once both are there. */
export function attachSession(): void {
  if (!app.vol || !app.seg) {
    if (app.vol) {
      const why = ui.status === 'no-webgpu' ? 'viewing only: segmentation needs WebGPU' : 'the networks are still loading; you can place points meanwhile';
      say(`${app.vol.name}: ${volSummary()} (${why}).`, idleStatus(), ui.status === 'no-webgpu' ? 'warn' : '');
    }
    return render();
  }
  try {
    const info = app.seg.loadVolume(app.vol.volume, { name: app.vol.name, slices: [app.vol.first, app.vol.last], ...intensityOption() });
    $('netmapnow').textContent = describeMapping(info.intensity);
    app.attached = true;
    app.maskEpoch++;
    ui.segmentable = true;
    ui.active = 1;
    syncStructures();
    say(`${app.vol.name}: ${volSummary()}. Click four extreme points of the object, then Segment (Enter); or paint it with the brush (B).`, 'ready');
    // While the points are placed, a GPU compiles what the first round runs. Not on a CPU adapter:
    // there it would hold the page's few cores for tens of seconds, also for a user who only paints.
    if (!app.seg.softwareAdapter) app.seg.warmup().catch((e) => console.warn('warm-up failed (the first step compiles what it needs):', e));
  } catch (e) {
    app.attached = false;
    ui.segmentable = false;
    syncStructures();
    fail(e, `Opening ${app.vol.name} for segmentation`, 'ready');
  }
  render();
}

function volSummary(): string {
  const v = app.vol!;
  const [x, y, z] = v.volume.dims;
  return `${x}×${y}×${z} voxels${v.first > 0 || v.last < v.depth - 1 ? `, session on slices ${v.first}–${v.last}` : ''}`;
}

/** The networks' intensity mapping chosen in the page; none: the embedding API's default for its weights. */
function intensityOption(): { intensity?: IntensityMapping } {
  const name = $<HTMLSelectElement>('netmap').value;
  const p = CT_PRESETS[name];
  if (p) return { intensity: { kind: 'window', width: p.width, level: p.level } };
  return name === 'minmax' ? { intensity: { kind: 'minmax' } } : {};
}

function describeMapping(m: IntensityMapping | 'raw'): string {
  if (m === 'raw') return '(now: the 8-bit voxels as stored)';
  return m.kind === 'window' ? `(now: W ${m.width}, L ${m.level})` : '(now: each slice\'s min–max)';
}

export async function loadPhantom(): Promise<void> {
  try {
    const res = await fetch(PHANTOM);
    if (!res.ok) throw new Error(`fetching ${PHANTOM}: HTTP ${res.status}`);
    openVolume(await res.arrayBuffer(), 'phantom.nii.gz');
  } catch (e) {
    fail(e, 'Loading the bundled phantom', idleStatus());
  }
}
