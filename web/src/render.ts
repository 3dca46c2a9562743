// Drawing the page from the state: the slice with its overlay and marks, the quality
// strip, the structure list and which controls are enabled; zoom, slice and display
// window changes, which redraw.
import type { VoxelPoint } from '../../src/volume/layout.ts';
import { getSlice } from '../embed.ts';
import { $, app, fail, hidden, overlay, points, pointsKey, say, segmentedWith, ui } from './app.ts';
import { drawMarks, drawSlice, drawStrip, drawStripAxis } from './draw.ts';
import { activeName, activeStates, allStates, anyVoxels, canPropagate, labelColours, labelImage, syncStructures, unsavedWork } from './labels.ts';
import { screenFromVoxel, toScreen, type SliceOrientation } from './orientation.ts';
import { POINTS_PER_SET } from './points.ts';
import { renderStructureList } from './structures-panel.ts';
import { CT_PRESETS, percentileWindow, type DisplayWindow } from './window.ts';

function screenImage(z: number) {
  const { volume, axis, orientation: o } = app.vol!;
  return { width: o.width, height: o.height, data: toScreen(o, getSlice(volume, axis, z).data), labels: toScreen(o, labelImage(z)) };
}

export function render(): void {
  renderControls();
  if (!app.vol) return;
  const z = ui.slice;
  const o = app.vol.orientation;
  const canvas = $<HTMLCanvasElement>('slice');
  drawSlice(canvas, screenImage(z), ui.window, app.scale, overlay, labelColours());
  renderMarks();
  const inSession = z >= app.vol.first && z <= app.vol.last;
  const states = activeStates();
  const state = app.attached && app.seg ? states[z] : null;
  $('ztext').textContent = `${z} of 0–${app.vol.depth - 1}${!inSession ? ' (outside the session)' : state && state.source !== 'empty' ? ` (${activeName()}: ${state.source})` : ''}`;
  for (const side of ['left', 'right', 'top', 'bottom'] as const) $(`edge-${side}`).textContent = o.labels[side];
  const recommended = app.attached && app.seg && states.some((s) => s.source !== 'empty') ? app.seg.recommend({ structure: ui.active }) : null;
  drawStrip($<HTMLCanvasElement>('strip'), states, z, recommended, app.vol, app.hoverSlice);
  drawStripAxis($<HTMLCanvasElement>('stripaxis'), $<HTMLCanvasElement>('strip'), app.vol.depth, z);
  $('striphead').textContent = app.attached ? `Quality per slice of ${activeName()}` : 'Quality per slice';
  $('recommend').textContent = recommended === null ? '' : `Recommended next for ${activeName()}: slice ${recommended} (lowest quality score; click its bar to go there)`;
  renderStructures();
}

function renderStructures(): void {
  const all = allStates();
  renderStructureList($('structures'), ui.structures.map((s) => {
    const states = all.get(s.id) ?? [];
    return { ...s, active: s.id === ui.active, states, recommended: states.some((x) => x.source === 'propagated') ? app.seg!.recommend({ structure: s.id }) : null };
  }), structureActions, { first: app.vol!.first, last: app.vol!.last, current: ui.slice, locked: ui.status === 'busy' || app.stroke !== null });
}

const structureActions = {
  select(id: number): void {
    ui.active = id;
    render();
  },
  setVisible(id: number, visible: boolean): void {
    if (visible) hidden.delete(id);
    else hidden.add(id);
    syncStructures();
    render();
  },
  remove(id: number): void {
    if (!app.seg || !app.attached || ui.status === 'busy') return;
    const name = ui.structures.find((s) => s.id === id)?.name ?? String(id);
    try {
      app.seg.removeStructure(id);
    } catch (e) {
      fail(e, `Removing ${name}`, 'ready');
      return render();
    }
    hidden.delete(id);
    afterEdit(`${name} removed with its voxels (Ctrl+Z brings it back).`);
  },
};

/** After a step that changed the session: structures, masks and the status. */
export function afterEdit(message: string, css = 'ok'): void {
  app.maskEpoch++;
  syncStructures();
  say(message, 'ready', css);
  render();
}

export function renderMarks(): void {
  if (!app.vol) return;
  const canvas = $<HTMLCanvasElement>('slice');
  const marks = ui.tool !== 'points' ? [] : points.get(ui.slice).map(([a, b], i) => {
    const s = screenFromVoxel(app.vol!.orientation, a, b);
    return { col: (s.col + 0.5) * app.scale.x, row: (s.row + 0.5) * app.scale.y, selected: i === app.selected };
  });
  const brush = ui.tool !== 'points' && app.hoverVoxel ? { ...screenFromVoxel(app.vol.orientation, app.hoverVoxel[0], app.hoverVoxel[1]), radius: ui.brushRadius } : null;
  drawMarks($<HTMLCanvasElement>('marks'), { width: canvas.width, height: canvas.height }, marks, brush && { x: (brush.col + 0.5) * app.scale.x, y: (brush.row + 0.5) * app.scale.y, rx: (brush.radius + 0.5) * app.scale.x, ry: (brush.radius + 0.5) * app.scale.y });
  ui.points = Object.fromEntries(points.slices().map((z) => [z, points.get(z).map((p) => [p[0], p[1]] as VoxelPoint)]));
}

function renderControls(): void {
  const busy = ui.status === 'busy';
  const z = ui.slice;
  const canRun = !!app.seg && app.attached && !busy && !app.stroke && !app.deviceLost && !!app.vol && z >= app.vol.first && z <= app.vol.last;
  const enable = (id: string, on: boolean, why = '') => {
    const b = $<HTMLButtonElement>(id);
    b.disabled = !on;
    if (b.dataset.title === undefined) b.dataset.title = b.title;
    b.title = on || !why ? b.dataset.title : why;
  };
  const n = points.get(z).length;
  const noNets = app.seg ? (app.deviceLost ? 'The GPU device was lost: press Reconnect GPU' : '') : ui.status === 'no-webgpu' ? 'Segmentation needs WebGPU' : 'The networks are still loading';
  const fresh = segmentedWith.get(z) !== pointsKey(z);
  const outside = 'Outside the session\'s slices';
  enable('segment', canRun && n === POINTS_PER_SET && fresh, noNets || (n < POINTS_PER_SET ? `Place ${POINTS_PER_SET - n} more point(s)` : !fresh ? 'Already segmented with these points: move one to segment again' : outside));
  enable('propagate', canRun && canPropagate(), noNets || 'Nothing new to propagate');
  enable('cancel', busy && app.running !== null && !app.running.signal.aborted);
  $('reconnect').hidden = !app.deviceLost;
  enable('reconnect', app.deviceLost && !busy);
  enable('clear', !busy && n > 0);
  const editable = !busy && app.attached && !!app.seg && app.stroke === null;
  enable('undo', editable && !!app.seg?.canUndo(), 'Nothing to undo');
  enable('redo', editable && !!app.seg?.canRedo(), 'Nothing to redo');
  const state = app.attached && app.seg && app.vol ? activeStates()[z] : null;
  enable('accept', canRun && state?.source === 'propagated', noNets || (state?.source === 'propagated' || !app.vol || (z >= app.vol.first && z <= app.vol.last) ? `Only a propagated slice of ${activeName()} can be accepted` : outside));
  enable('export', !busy && anyVoxels(), 'The label map is empty: nothing to export yet');
  enable('addstructure', editable, app.seg ? 'Wait for the running step' : noNets);
  $<HTMLInputElement>('labelfile').disabled = !editable;
  for (const tool of ['points', 'brush', 'eraser'] as const) $<HTMLInputElement>(`tool-${tool}`).checked = ui.tool === tool;
  $('brushtext').textContent = `${2 * ui.brushRadius + 1} voxels across`;
  // Changing it starts a new session: not over edits.
  $<HTMLSelectElement>('netmap').disabled = !app.vol || busy || unsavedWork();
  $<HTMLSelectElement>('netmap').title = unsavedWork() ? 'Fixed once the session holds edits: reopen the volume to change it' : 'How voxel values become the networks\' 8-bit input';
  $<HTMLInputElement>('z').disabled = !app.vol;
}

// ---- geometry --------------------------------------------------------------------

function baseScale(o: SliceOrientation): { x: number; y: number } {
  const mm = Math.min(o.mmPerCol, o.mmPerRow);
  return { x: o.mmPerCol / mm, y: o.mmPerRow / mm };
}

export function setZoom(z: number, fit = false): void {
  if (!app.vol) return;
  app.fitMode = fit;
  ui.zoom = Math.min(40, Math.max(0.1, Number.isFinite(z) ? z : 1));
  const base = baseScale(app.vol.orientation);
  app.scale = { x: ui.zoom * base.x, y: ui.zoom * base.y };
  $<HTMLInputElement>('zoom').value = String(+ui.zoom.toFixed(2));
  render();
}

export function fitZoom(): void {
  if (!app.vol) return;
  const vp = $('viewport');
  const base = baseScale(app.vol.orientation);
  const o = app.vol.orientation;
  setZoom(Math.max(0.1, Math.min((vp.clientWidth - 4) / (o.width * base.x), (vp.clientHeight - 4) / (o.height * base.y))), true);
}

export function goTo(z: number): void {
  // A brush stroke paints the slice it began on: the wheel or a key does not move away under it.
  if (!app.vol || app.stroke) return;
  const clamped = Math.min(app.vol.depth - 1, Math.max(0, Math.round(z)));
  if (clamped !== ui.slice) app.selected = -1;
  ui.slice = clamped;
  $<HTMLInputElement>('z').value = String(clamped);
  render();
}

export function setWindow(w: DisplayWindow, preset: string): void {
  ui.window = { width: Math.max(w.width, 1e-6), level: w.level };
  $<HTMLInputElement>('win').value = String(+ui.window.width.toPrecision(4));
  $<HTMLInputElement>('lev').value = String(+ui.window.level.toPrecision(4));
  $<HTMLSelectElement>('preset').value = preset;
  render();
}

export function applyPreset(name: string): void {
  if (!app.vol) return;
  const { data, slope, inter } = app.vol.volume;
  if (name === 'auto') setWindow(percentileWindow(data, slope, inter), name);
  else if (name === 'full') setWindow(percentileWindow(data, slope, inter, 0, 100), name);
  else if (CT_PRESETS[name]) setWindow(CT_PRESETS[name], name);
}

export function stripTip(z: number): string {
  if (!app.vol) return '';
  if (z < app.vol.first || z > app.vol.last) return `Slice ${z}: outside this session (slices ${app.vol.first}–${app.vol.last})`;
  const s = app.attached && app.seg ? activeStates()[z] : null;
  if (!s || s.source === 'empty') return `Slice ${z}: ${app.attached ? `${activeName()} ` : ''}not segmented yet`;
  const q = s.quality === null ? '' : `, quality ${s.quality.toFixed(2)}`;
  return `Slice ${z}: ${activeName()} ${s.source}${q}${app.seg!.recommend({ structure: ui.active }) === z ? ' (recommended next)' : ''}`;
}
