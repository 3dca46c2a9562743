// The session's steps: the long ones (the 2D network, propagation) with a ticking
// status and Cancel, and the edits (undo/redo, accept, add a structure, import and export
// the label map).
import type { Structure } from '../embed.ts';
import { $, app, fail, hidden, points, pointsKey, say, segmentedWith, ui } from './app.ts';
import { activeName, anyVoxels, canPropagate, showActive } from './labels.ts';
import { isAbort } from './messages.ts';
import { POINTS_PER_SET } from './points.ts';
import { afterEdit, render } from './render.ts';
import { formatDuration, loadTimes, progressLine, saveTimes } from './timing.ts';

function machineKey(): string {
  return `${app.seg?.adapter ?? ''} crop ${app.seg?.cropSize ?? ''}`;
}

/**
 * The adapter line and the step estimates of the adapter in use: at load, and after a
 * reconnect (the new device may be another adapter: a software fallback after a GPU crash).
 */
export function showAdapter(): void {
  if (!app.seg) return;
  app.times = loadTimes(machineKey());
  const gpu = $('gpu');
  gpu.textContent = `WebGPU: ${app.seg.adapter.split(';')[0]}. 2D network crop ${app.seg.cropSize}×${app.seg.cropSize} px.`;
  // Chrome without a usable GPU falls back to SwiftShader: say so before the first step, not after minutes of it.
  gpu.classList.toggle('warn', app.seg.softwareAdapter);
  if (app.seg.softwareAdapter) {
    gpu.textContent += ` Software WebGPU (no GPU in use): every step takes seconds to minutes${app.seg.cropSize > 256 ? `, and a ${app.seg.cropSize}-px crop may not finish; a smaller one (?crop=128 in the address) is quicker and coarser` : ''}.`;
  }
  gpu.title = app.seg.adapter;
}

/** What a cancel waits for: the GPU work already submitted is not interruptible. */
const CANCELLING = {
  '2D network': 'the 2D network finishes the run it is in (it cannot be stopped half-way), then its result is thrown away.',
  propagation: 'the slice being computed finishes, then the propagated slices are put back as they were.',
} as const;

/** Runs a long step with a status that ticks (stage, slice, elapsed, estimate) and a Cancel that aborts it. */
async function runStep<T>(stage: '2D network' | 'propagation', slice: number, describe: (elapsedMs: number) => string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  app.running = new AbortController();
  ui.step = { stage, slice, startedMs: performance.now() };
  const prog = $<HTMLProgressElement>('prog');
  prog.hidden = false;
  const tick = () => {
    const ms = performance.now() - ui.step!.startedMs;
    say(app.running?.signal.aborted ? `Cancelling (${formatDuration(ms)} elapsed): ${CANCELLING[stage]}` : describe(ms), 'busy');
  };
  tick();
  render();
  const timer = setInterval(tick, 250);
  try {
    return await work(app.running.signal);
  } finally {
    app.maskEpoch++;
    clearInterval(timer);
    prog.hidden = true;
    app.running = null;
    ui.step = null;
  }
}

export async function segmentSlice(): Promise<void> {
  if (!app.seg || !app.vol || !app.attached || app.deviceLost || ui.status === 'busy' || app.stroke) return;
  const z = ui.slice;
  const pts = points.get(z);
  const structure = ui.active;
  const name = activeName();
  if (pts.length !== POINTS_PER_SET || z < app.vol.first || z > app.vol.last) return;
  showActive();
  const prog = $<HTMLProgressElement>('prog');
  prog.removeAttribute('value'); // indeterminate: the 2D network reports no progress
  let mask: Uint8Array;
  try {
    const t0 = performance.now();
    mask = await runStep('2D network', z, (ms) => `Segmenting ${name} on slice ${z} with the 2D network: ${progressLine(ms, app.times.annotateMs)}. Esc cancels.`, (signal) => app.seg!.annotate(z, pts, { signal, structure }));
    ui.timings.annotateMs = performance.now() - t0;
    segmentedWith.set(z, pointsKey(z));
    app.times = { ...app.times, annotateMs: ui.timings.annotateMs };
    saveTimes(machineKey(), app.times);
  } catch (e) {
    if (isAbort(e)) say(`Cancelled: slice ${z} and the rest of the label map are as they were.`, 'ready', 'warn');
    else fail(e, `Segmenting slice ${z}`, 'ready');
    return render();
  }
  if (!mask.some((v) => v !== 0)) {
    // Kept, the empty result would replace the slice's mask and, pending, empty its neighbours at the next propagation.
    try {
      await app.seg.undo();
    } catch (e) {
      fail(e, `Taking back the empty result on slice ${z}`, 'ready');
      return render();
    }
    segmentedWith.delete(z);
    const small = app.seg.cropSize < 512;
    say(`The 2D network found no object inside your points on slice ${z}, so slice ${z} is as it was and nothing was propagated. ${small ? `Likely cause: the network's input crop is ${app.seg.cropSize} px here, but it was trained at 512 px — reload with ?crop=512.` : 'Likely cause: the points are not on the object\'s outermost edges, or the object looks unlike what the network was trained on (the bundled network knows synthetic phantoms only).'} Move a point and press Segment again.`, 'ready', 'warn');
    return render();
  }
  // Straight on, not through propagate(): the 2D step's status is still 'busy', which its guard refuses.
  await runPropagation(`${name}: slice ${z} segmented in ${formatDuration(ui.timings.annotateMs)}`);
}

export async function propagate(): Promise<void> {
  if (!app.seg || !app.vol || !app.attached || app.deviceLost || ui.status === 'busy' || app.stroke) return;
  await runPropagation();
}

/**
 * The session's propagation with a ticking status; `before` says what ran first in the
 * same step (the 2D network). Progress counts the session's steps (a slice of one sweep,
 * its structures jointly: with several structures a slice can take two); the end says
 * how many distinct slices changed.
 */
async function runPropagation(before?: string): Promise<void> {
  const prog = $<HTMLProgressElement>('prog');
  prog.value = 0;
  let done = 0;
  let total = 0;
  let last = -1;
  const slices = new Set<number>();
  const t0 = performance.now();
  try {
    await runStep('propagation', ui.slice, (ms) => {
      const perStep = done > 0 ? ms / done : app.times.sliceMs;
      const expected = perStep !== undefined && total > 0 ? perStep * total : undefined;
      const where = total > 0 ? `${done} of ${total} steps done${last >= 0 ? ` (last: slice ${last})` : ''}` : 'computing the first slice';
      return `${before ? `${before}; propagating` : 'Propagating'}: ${where}, ${progressLine(ms, expected)}. Esc cancels.`;
    }, (signal) => app.seg!.propagate({
      signal,
      onProgress: (p) => {
        [done, total, last] = [p.done, p.total, p.slice];
        slices.add(p.slice);
        prog.max = p.total;
        prog.value = p.done;
        render();
      },
    }));
  } catch (e) {
    // A failed propagation keeps what it finished and its work pending: the session resumes it (canPropagate reads that).
    if (isAbort(e)) say('Propagation cancelled: the other slices are as they were before it started. Press Propagate (or Enter) to run it again.', 'ready', 'warn');
    else fail(e, 'Propagating', 'ready');
    return render();
  }
  ui.timings.propagateMs = performance.now() - t0;
  if (done > 0) app.times = { ...app.times, sliceMs: ui.timings.propagateMs / done };
  saveTimes(machineKey(), app.times);
  say(`${before ? `${before}, then propagated` : 'Propagated'} to ${slices.size} slice(s) in ${formatDuration(ui.timings.propagateMs)}. Check the recommended slice next (correct it with the brush, or accept it), or export the label map.`, 'ready', 'ok');
  render();
}

/** After a lost device: the networks on a new one, the session moved onto them with its masks and annotations. */
export async function reconnect(): Promise<void> {
  if (!app.seg || !app.deviceLost || ui.status === 'busy') return;
  say('Reconnecting: loading the networks on a new GPU device…', 'busy');
  render();
  try {
    await app.seg.recover();
  } catch (e) {
    fail(e, 'Reconnecting the GPU', 'ready');
    return render();
  }
  app.deviceLost = false;
  app.maskEpoch++;
  showAdapter();
  say(`GPU reconnected: your masks and annotations are kept.${canPropagate() ? ' Press Propagate (or Enter) to finish the propagation.' : ''}`, 'ready', 'ok');
  render();
}

export function cancel(): void {
  if (!app.running || app.running.signal.aborted) return;
  app.running.abort(new DOMException('cancelled by the user', 'AbortError'));
  say(`Cancelling: ${CANCELLING[ui.step!.stage]}`, 'busy', 'warn');
  render();
}

/** Undo or redo one step of the session's history (annotate, correct, accept, add or remove a structure, propagate). */
export async function undoRedo(which: 'undo' | 'redo'): Promise<void> {
  if (!app.seg || !app.attached || ui.status === 'busy' || app.stroke || !(which === 'undo' ? app.seg.canUndo() : app.seg.canRedo())) return;
  try {
    await (which === 'undo' ? app.seg.undo() : app.seg.redo());
  } catch (e) {
    fail(e, which === 'undo' ? 'Undoing' : 'Redoing', 'ready');
    return render();
  }
  segmentedWith.clear();
  afterEdit(which === 'undo' ? 'Undone: the label map and annotations are back to before the last step (Ctrl+Shift+Z redoes it).' : 'Redone: the step is back.', '');
}

/** The active structure's propagated slice, taken as it is: locked against later propagation. */
export function acceptSlice(): void {
  if (!app.seg || !app.attached || app.deviceLost || ui.status === 'busy' || app.stroke || $<HTMLButtonElement>('accept').disabled) return;
  const z = ui.slice;
  showActive();
  try {
    app.seg.acceptSlice(z, { structure: ui.active });
  } catch (e) {
    fail(e, `Accepting slice ${z}`, 'ready');
    return render();
  }
  afterEdit(`${activeName()}: slice ${z} accepted as it is; propagation will not change it.`);
}

export function addStructure(): void {
  if (!app.seg || !app.attached || ui.status === 'busy' || app.stroke) return;
  const input = $<HTMLInputElement>('newname');
  // Named after the id the session gives: the lowest not in use.
  let id = 1;
  while (ui.structures.some((s) => s.id === id)) id++;
  const name = input.value.trim() || `structure ${id}`;
  let added: Structure;
  try {
    added = app.seg.addStructure(name);
  } catch (e) {
    fail(e, `Adding ${name}`, 'ready');
    return render();
  }
  input.value = '';
  ui.active = added.id;
  afterEdit(`${added.name} added and made active: segment it with four points, or paint it with the brush (B).`);
}

/**
 * A label map picked with its sidecar (one .nii / .nii.gz, optionally one .json): its
 * structures replace the list and every slice with their voxels comes in accepted
 * (locked). A map on another grid is refused with what differs. One undoable step.
 */
export async function importLabelMap(files: readonly File[]): Promise<void> {
  if (!app.seg || !app.attached || ui.status === 'busy' || app.stroke) return;
  const nifti = files.filter((f) => /\.nii(\.gz)?$/i.test(f.name));
  const json = files.filter((f) => /\.json$/i.test(f.name));
  if (nifti.length !== 1 || json.length > 1 || nifti.length + json.length !== files.length) {
    return say('Pick one label map (.nii or .nii.gz), and optionally its .json sidecar, together.', 'ready', 'warn');
  }
  let imported;
  try {
    imported = app.seg.importLabelMap(await nifti[0].arrayBuffer(), json.length ? await json[0].text() : undefined, { name: nifti[0].name });
  } catch (e) {
    // The reader's own reason says what does not fit (dims, an affine entry, a label, the sidecar's JSON).
    if ((e as Error).name === 'VolumeError') say(`Opening the label map failed: ${(e as Error).message}`, 'ready', 'error', String(e));
    else fail(e, `Opening the label map ${nifti[0].name}`, 'ready');
    return render();
  }
  if (imported.length === 0) {
    // A session needs a structure to show and edit: an all-zero map without a sidecar's names would leave none.
    await app.seg.undo();
    say(`${nifti[0].name} holds no labels (every voxel 0), so nothing was imported; the label map is as it was.`, 'ready', 'warn');
    return render();
  }
  segmentedWith.clear();
  hidden.clear();
  afterEdit(`${nifti[0].name}: ${imported.map((s) => s.name).join(', ') || 'no structures'} opened; their slices are accepted as they are (Ctrl+Z undoes the import).`);
}

/** The label map (.nii.gz) and its sidecar (.json, names and colours), downloaded side by side. */
export function exportLabelMap(): void {
  if (!app.seg || !app.vol || !anyVoxels()) return;
  let files: { nifti: Uint8Array; sidecar: string };
  try {
    files = app.seg.exportLabelMap();
  } catch (e) {
    return fail(e, 'Exporting the label map', 'ready');
  }
  const base = `${app.vol.name.replace(/\.nii(\.gz)?$/, '')}_labels`;
  const offer = (id: string, blob: Blob, name: string) => {
    const a = $<HTMLAnchorElement>(id);
    URL.revokeObjectURL(a.href);
    a.href = URL.createObjectURL(blob);
    a.download = name;
    a.textContent = name;
    a.hidden = false;
    a.click();
  };
  offer('download', new Blob([files.nifti as Uint8Array<ArrayBuffer>], { type: 'application/gzip' }), `${base}.nii.gz`);
  offer('download-json', new Blob([files.sidecar], { type: 'application/json' }), `${base}.json`);
  say(`Label map exported: ${base}.nii.gz with ${base}.json (each structure's name and colour). Two downloads: if the browser asks to allow multiple files, allow them, or use the links beside Export.`, 'ready', 'ok');
}
