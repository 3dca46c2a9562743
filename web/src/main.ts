// The web viewer: wires the page's controls to the embedding API (../embed.ts).
// Volumes can be opened and browsed while the networks load (and without WebGPU);
// segmenting needs both. URL options: ?crop=N (2D network crop side, default 512),
// ?slices=a-b (session limited to those slices), ?phantom (open the bundled phantom),
// ?memory=synth-v1 (the untrained small memory network: a quick pipeline check).
//
// Several structures: the list on the side picks the active one (what Segment, the
// brush, the eraser and Accept act on) and hides or shows each. A brush or eraser
// stroke edits the active structure's mask of the current slice; when the mouse comes
// up the slice becomes that structure's hand-corrected annotation (setSliceMask), one
// undoable step. Undo and redo are the session's own history.
import { createSegmenter, getSlice, parseNifti, type IntensityMapping, type Labels, type Segmenter, type SliceState, type Structure, type Volume } from '../embed.ts';
import { transposeImage, type VoxelPoint } from '../../src/volume/layout.ts';
import { sliceShape, type AxisIndex } from '../../src/volume/slice.ts';
import { BRUSH_RADIUS, paintStroke, type SliceMaskImage } from './brush.ts';
import { drawMarks, drawSlice, drawStrip, drawStripAxis, stripSliceAt, type LabelColours, type OverlayStyle, type Scale } from './draw.ts';
import { isAbort, userMessage } from './messages.ts';
import { obliqueNotice, screenFromVoxel, sliceOrientation, toScreen, voxelFromScreen, type SliceOrientation } from './orientation.ts';
import { pointNear, SlicePoints, POINTS_PER_SET } from './points.ts';
import { renderStructureList } from './structures-panel.ts';
import { formatDuration, loadTimes, progressLine, saveTimes, type StepTimes } from './timing.ts';
import { CT_PRESETS, percentileWindow, type DisplayWindow } from './window.ts';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const PHANTOM = 'examples/phantom/image.nii.gz';

/** What the page publishes for the browser tests (test/viewer, test/e2e). */
export interface ViewerState {
  status: 'starting' | 'no-webgpu' | 'loading-weights' | 'ready' | 'busy' | 'error';
  message: string;
  /** The engine's own message behind the "Details" toggle, if any. */
  details: string;
  weights?: { cachedFiles: number };
  /** width / height as embed's VolumeInfo: the sizes of in-plane voxel axes b and a (axial: j and i). */
  volume?: { width: number; height: number; depth: number; first: number; last: number; plane: string; labels: SliceOrientation['labels']; obliqueDegrees: number };
  /** True once a volume is in a session of the loaded networks. */
  segmentable: boolean;
  slice: number;
  zoom: number;
  window: DisplayWindow;
  /** The current step while one runs. */
  step: { stage: '2D network' | 'propagation'; slice: number; startedMs: number } | null;
  /** The points of every slice, in-plane voxel indices (a, b). */
  points: Record<number, VoxelPoint[]>;
  /** The session's structures with the viewer's visibility; `active` is the one edits go to. */
  structures: (Structure & { visible: boolean })[];
  active: number;
  tool: Tool;
  /** Brush and eraser radius in voxels (0: one voxel). */
  brushRadius: number;
  segmenter?: Segmenter;
  timings: Record<string, number>;
  /** Canvas pixel (CSS px from the slice canvas's top-left) at the centre of in-plane voxel (a, b). */
  canvasPoint(a: number, b: number): { x: number; y: number };
  /** In-plane voxel (a, b) under a canvas pixel. */
  voxelAt(x: number, y: number): VoxelPoint | null;
}
declare global {
  interface Window {
    __mem3d: ViewerState;
  }
}

interface OpenVolume {
  volume: Volume;
  name: string;
  axis: AxisIndex;
  depth: number;
  orientation: SliceOrientation;
  /** The session's slices (all unless ?slices=a-b). */
  first: number;
  last: number;
}

/** What a left click on the slice does: place extreme points, paint the active structure, or erase it. */
type Tool = 'points' | 'brush' | 'eraser';

let seg: Segmenter | null = null;
let vol: OpenVolume | null = null;
/** The open volume is in a session of `seg`. */
let attached = false;
/** Annotated slices whose results have not been propagated yet. */
let pendingPropagation = false;
let scale: Scale = { x: 1, y: 1 };
let fitMode = true;
let selected = -1;
let hoverSlice: number | null = null;
let times: StepTimes = {};
let running: AbortController | null = null;
/** The GPU device is gone (a DeviceLostError): nothing runs until Reconnect GPU moves the session to a new one. */
let deviceLost = false;
const points = new SlicePoints();
/** The points each slice was last segmented with: Segment is offered again once one moves. */
const segmentedWith = new Map<number, string>();
const pointsKey = (z: number) => JSON.stringify([ui.active, points.get(z)]);
const overlay: OverlayStyle = { mode: 'fill+outline', opacity: 0.5, visible: true };
/** Structures hidden in the viewer (the session knows nothing of it). */
const hidden = new Set<number>();
/** A brush or eraser stroke in progress: the active structure's mask of slice z being edited (slice image, row a). */
let stroke: { z: number; structure: number; value: 0 | 1; mask: SliceMaskImage; last: VoxelPoint } | null = null;
/** The voxel under the mouse, for the brush outline. */
let hoverVoxel: VoxelPoint | null = null;

const ui: ViewerState = {
  status: 'starting',
  message: '',
  details: '',
  segmentable: false,
  slice: 0,
  zoom: 1,
  window: { width: 1, level: 0.5 },
  step: null,
  points: {},
  structures: [],
  active: 1,
  tool: 'points',
  brushRadius: BRUSH_RADIUS.initial,
  timings: {},
  canvasPoint: (a, b) => {
    const s = screenFromVoxel(vol!.orientation, a, b);
    return { x: (s.col + 0.5) * scale.x, y: (s.row + 0.5) * scale.y };
  },
  voxelAt: (x, y) => voxelUnder(x, y),
};
window.__mem3d = ui;

// ---- status ----------------------------------------------------------------------

function say(text: string, kind: ViewerState['status'] = ui.status, css = '', details = ''): void {
  ui.status = kind;
  ui.message = text;
  ui.details = details;
  const el = $('status');
  el.textContent = text;
  el.className = css;
  $('details').hidden = !details;
  $('detailtext').textContent = details;
}

function fail(e: unknown, doing: string, kind: ViewerState['status'] = 'error'): void {
  console.error(e);
  if ((e as Error | null)?.name === 'DeviceLostError') deviceLost = true;
  const m = userMessage(e, doing);
  say(m.text, kind, 'error', m.details);
}

/** The status the page returns to when nothing runs. */
function idleStatus(): ViewerState['status'] {
  if (seg) return 'ready';
  return ui.status === 'no-webgpu' || ui.status === 'error' ? ui.status : 'loading-weights';
}

// ---- the embedding API's conventions, in one place ----------------------------------

/** Voxel order (a fastest, the embedding API's) -> slice image (row a, column b), keeping the array type. */
function sliceImageOf<T extends Labels>(voxelOrder: T): T {
  const o = vol!.orientation;
  const out = new (voxelOrder.constructor as new (n: number) => T)(voxelOrder.length);
  for (let b = 0; b < o.sliceCols; b++) for (let a = 0; a < o.sliceRows; a++) out[a * o.sliceCols + b] = voxelOrder[a + o.sliceRows * b];
  return out;
}

/** The session's labels of slice z as a slice image (row a, column b), or zeros; a stroke in progress drawn over them. */
function labelImage(z: number): Labels {
  const o = vol!.orientation;
  if (!attached || !seg) return new Uint8Array(o.sliceRows * o.sliceCols);
  const labels = sliceImageOf(seg.sliceLabels(z));
  if (stroke && stroke.z === z) {
    // The active structure wins where painted; where erased it gives the voxel back to the background.
    const { mask, structure } = stroke;
    for (let n = 0; n < labels.length; n++) {
      if (mask.data[n]) labels[n] = structure;
      else if (labels[n] === structure) labels[n] = 0;
    }
  }
  return labels;
}

/** The active structure's mask of slice z as a slice image (0 / 1). */
function activeMaskImage(z: number): Uint8Array {
  return sliceImageOf(seg!.sliceMask(z, { structure: ui.active }));
}

/** Colours of the structures shown. */
function labelColours(): LabelColours {
  return new Map(ui.structures.filter((s) => s.visible).map((s) => [s.id, s.color]));
}

/** The session's structures into the page's state; the active one stays if it still exists. */
function syncStructures(): void {
  if (!attached || !seg) {
    ui.structures = [];
    return;
  }
  ui.structures = seg.structures().map((s) => ({ ...s, visible: !hidden.has(s.id) }));
  if (!ui.structures.some((s) => s.id === ui.active)) ui.active = ui.structures[0]?.id ?? 1;
}

const EMPTY_STATE: SliceState = { source: 'empty', quality: null, certainty: null };

/** The active structure's slice states (all empty before a session). */
function activeStates(): SliceState[] {
  return attached && seg ? seg.states({ structure: ui.active }) : Array.from({ length: vol?.depth ?? 0 }, () => ({ ...EMPTY_STATE }));
}

function activeName(): string {
  return ui.structures.find((s) => s.id === ui.active)?.name ?? `structure ${ui.active}`;
}

// ---- drawing ---------------------------------------------------------------------

function screenImage(z: number) {
  const { volume, axis, orientation: o } = vol!;
  return { width: o.width, height: o.height, data: toScreen(o, getSlice(volume, axis, z).data), labels: toScreen(o, labelImage(z)) };
}

/** Each structure's slice states, by id. */
function allStates(): Map<number, SliceState[]> {
  return new Map(attached && seg ? ui.structures.map((s) => [s.id, seg!.states({ structure: s.id })]) : []);
}

function segmented(): boolean {
  return [...allStates().values()].some((states) => states.some((s) => s.source !== 'empty'));
}

/**
 * The slices holding voxels of each structure, recomputed only when the slices' states
 * change (render runs on every drag) or after a step that may change masks without
 * changing states (a slice segmented or painted again: maskEpoch).
 */
let labelled = { key: '', slices: new Map<number, Set<number>>() };
let maskEpoch = 0;
function slicesWithVoxels(): Map<number, Set<number>> {
  if (!attached || !seg || !vol) return new Map();
  const states = allStates();
  const key = `${maskEpoch}:${[...states].map(([id, ss]) => `${id}:${ss.map((s) => `${s.source}${s.quality}`).join()}`).join(';')}`;
  if (key !== labelled.key) {
    const slices = new Map(ui.structures.map((s) => [s.id, new Set<number>()]));
    for (let z = 0; z < vol.depth; z++) {
      if (![...states.values()].some((ss) => ss[z].source !== 'empty')) continue;
      for (const id of new Set(seg.sliceLabels(z))) if (id) slices.get(id)?.add(z);
    }
    labelled = { key, slices };
  }
  return labelled.slices;
}

/** Something is labelled: the label map has voxels to export. */
function anyVoxels(): boolean {
  return [...slicesWithVoxels().values()].some((s) => s.size > 0);
}

function render(): void {
  renderControls();
  if (!vol) return;
  const z = ui.slice;
  const o = vol.orientation;
  const canvas = $<HTMLCanvasElement>('slice');
  drawSlice(canvas, screenImage(z), ui.window, scale, overlay, labelColours());
  renderMarks();
  const inSession = z >= vol.first && z <= vol.last;
  const states = activeStates();
  const state = attached && seg ? states[z] : null;
  $('ztext').textContent = `${z} of 0–${vol.depth - 1}${!inSession ? ' (outside the session)' : state && state.source !== 'empty' ? ` (${activeName()}: ${state.source})` : ''}`;
  for (const side of ['left', 'right', 'top', 'bottom'] as const) $(`edge-${side}`).textContent = o.labels[side];
  const recommended = attached && seg && states.some((s) => s.source !== 'empty') ? seg.recommend({ structure: ui.active }) : null;
  drawStrip($<HTMLCanvasElement>('strip'), states, z, recommended, vol, hoverSlice);
  drawStripAxis($<HTMLCanvasElement>('stripaxis'), $<HTMLCanvasElement>('strip'), vol.depth, z);
  $('striphead').textContent = attached ? `Quality per slice of ${activeName()}` : 'Quality per slice';
  $('recommend').textContent = recommended === null ? '' : `Recommended next for ${activeName()}: slice ${recommended} (lowest quality score; click its bar to go there)`;
  renderStructures();
}

function renderStructures(): void {
  const all = allStates();
  renderStructureList($('structures'), ui.structures.map((s) => {
    const states = all.get(s.id) ?? [];
    return { ...s, active: s.id === ui.active, states, recommended: states.some((x) => x.source === 'propagated') ? seg!.recommend({ structure: s.id }) : null };
  }), structureActions, { first: vol!.first, last: vol!.last, current: ui.slice, locked: ui.status === 'busy' || stroke !== null });
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
    if (!seg || !attached || ui.status === 'busy') return;
    const name = ui.structures.find((s) => s.id === id)?.name ?? String(id);
    try {
      seg.removeStructure(id);
    } catch (e) {
      fail(e, `Removing ${name}`, 'ready');
      return render();
    }
    hidden.delete(id);
    afterEdit(`${name} removed with its voxels (Ctrl+Z brings it back).`);
  },
};

/** After a step that changed the session: structures, masks and the status. */
function afterEdit(message: string, css = 'ok'): void {
  maskEpoch++;
  syncStructures();
  say(message, 'ready', css);
  render();
}

function renderMarks(): void {
  if (!vol) return;
  const canvas = $<HTMLCanvasElement>('slice');
  const marks = ui.tool !== 'points' ? [] : points.get(ui.slice).map(([a, b], i) => {
    const s = screenFromVoxel(vol!.orientation, a, b);
    return { col: (s.col + 0.5) * scale.x, row: (s.row + 0.5) * scale.y, selected: i === selected };
  });
  const brush = ui.tool !== 'points' && hoverVoxel ? { ...screenFromVoxel(vol.orientation, hoverVoxel[0], hoverVoxel[1]), radius: ui.brushRadius } : null;
  drawMarks($<HTMLCanvasElement>('marks'), { width: canvas.width, height: canvas.height }, marks, brush && { x: (brush.col + 0.5) * scale.x, y: (brush.row + 0.5) * scale.y, rx: (brush.radius + 0.5) * scale.x, ry: (brush.radius + 0.5) * scale.y });
  ui.points = Object.fromEntries(points.slices().map((z) => [z, points.get(z).map((p) => [p[0], p[1]] as VoxelPoint)]));
}

function renderControls(): void {
  const busy = ui.status === 'busy';
  const z = ui.slice;
  const canRun = !!seg && attached && !busy && !deviceLost && !!vol && z >= vol.first && z <= vol.last;
  const enable = (id: string, on: boolean, why = '') => {
    const b = $<HTMLButtonElement>(id);
    b.disabled = !on;
    if (b.dataset.title === undefined) b.dataset.title = b.title;
    b.title = on || !why ? b.dataset.title : why;
  };
  const n = points.get(z).length;
  const noNets = seg ? (deviceLost ? 'The GPU device was lost: press Reconnect GPU' : '') : ui.status === 'no-webgpu' ? 'Segmentation needs WebGPU' : 'The networks are still loading';
  const fresh = segmentedWith.get(z) !== pointsKey(z);
  const outside = 'Outside the session\'s slices';
  enable('segment', canRun && n === POINTS_PER_SET && fresh, noNets || (n < POINTS_PER_SET ? `Place ${POINTS_PER_SET - n} more point(s)` : !fresh ? 'Already segmented with these points: move one to segment again' : outside));
  enable('propagate', canRun && canPropagate(), noNets || 'Nothing new to propagate');
  enable('cancel', busy && running !== null && !running.signal.aborted);
  $('reconnect').hidden = !deviceLost;
  enable('reconnect', deviceLost && !busy);
  enable('clear', !busy && n > 0);
  const editable = !busy && attached && !!seg && stroke === null;
  enable('undo', editable && !!seg?.canUndo(), 'Nothing to undo');
  enable('redo', editable && !!seg?.canRedo(), 'Nothing to redo');
  const state = attached && seg && vol ? activeStates()[z] : null;
  enable('accept', canRun && state?.source === 'propagated', noNets || (state?.source === 'propagated' || !vol || (z >= vol.first && z <= vol.last) ? `Only a propagated slice of ${activeName()} can be accepted` : outside));
  enable('export', !busy && anyVoxels(), 'The label map is empty: nothing to export yet');
  enable('addstructure', editable, seg ? 'Wait for the running step' : noNets);
  $<HTMLInputElement>('labelfile').disabled = !editable;
  for (const tool of ['points', 'brush', 'eraser'] as const) $<HTMLInputElement>(`tool-${tool}`).checked = ui.tool === tool;
  $('brushtext').textContent = `${2 * ui.brushRadius + 1} voxels across`;
  $<HTMLSelectElement>('netmap').disabled = !vol || busy || segmented();
  $<HTMLSelectElement>('netmap').title = segmented() ? 'Fixed once something is segmented: reopen the volume to change it' : 'How voxel values become the networks\' 8-bit input';
  $<HTMLInputElement>('z').disabled = !vol;
}

/**
 * Something to propagate: an annotation since the last full propagation, or an annotated
 * slice next to an unsegmented one in the session (also when another part of the page
 * set it through the API, or a propagation was cancelled).
 */
function canPropagate(): boolean {
  if (!seg || !vol || !attached) return false;
  if (pendingPropagation) return true;
  // An empty annotation (from the 2D network) has nothing to carry to its neighbours.
  const withVoxels = slicesWithVoxels();
  return [...allStates()].some(([id, states]) => {
    const empty = (z: number) => z >= vol!.first && z <= vol!.last && states[z].source === 'empty';
    return states.some((s, z) => s.source === 'annotated' && !!withVoxels.get(id)?.has(z) && (empty(z - 1) || empty(z + 1)));
  });
}

// ---- geometry --------------------------------------------------------------------

function baseScale(o: SliceOrientation): { x: number; y: number } {
  const mm = Math.min(o.mmPerCol, o.mmPerRow);
  return { x: o.mmPerCol / mm, y: o.mmPerRow / mm };
}

function setZoom(z: number, fit = false): void {
  if (!vol) return;
  fitMode = fit;
  ui.zoom = Math.min(40, Math.max(0.1, Number.isFinite(z) ? z : 1));
  const base = baseScale(vol.orientation);
  scale = { x: ui.zoom * base.x, y: ui.zoom * base.y };
  $<HTMLInputElement>('zoom').value = String(+ui.zoom.toFixed(2));
  render();
}

function fitZoom(): void {
  if (!vol) return;
  const vp = $('viewport');
  const base = baseScale(vol.orientation);
  const o = vol.orientation;
  setZoom(Math.max(0.1, Math.min((vp.clientWidth - 4) / (o.width * base.x), (vp.clientHeight - 4) / (o.height * base.y))), true);
}

function voxelUnder(x: number, y: number): VoxelPoint | null {
  if (!vol) return null;
  const o = vol.orientation;
  const col = Math.floor(x / scale.x);
  const row = Math.floor(y / scale.y);
  if (col < 0 || row < 0 || col >= o.width || row >= o.height) return null;
  return voxelFromScreen(o, col, row);
}

function canvasXY(e: MouseEvent): { x: number; y: number } {
  const r = $('slice').getBoundingClientRect();
  return { x: e.clientX - r.left, y: e.clientY - r.top };
}

// ---- volumes ---------------------------------------------------------------------

function goTo(z: number): void {
  if (!vol) return;
  const clamped = Math.min(vol.depth - 1, Math.max(0, Math.round(z)));
  if (clamped !== ui.slice) selected = -1;
  ui.slice = clamped;
  $<HTMLInputElement>('z').value = String(clamped);
  render();
}

function setWindow(w: DisplayWindow, preset: string): void {
  ui.window = { width: Math.max(w.width, 1e-6), level: w.level };
  $<HTMLInputElement>('win').value = String(+ui.window.width.toPrecision(4));
  $<HTMLInputElement>('lev').value = String(+ui.window.level.toPrecision(4));
  $<HTMLSelectElement>('preset').value = preset;
  render();
}

function applyPreset(name: string): void {
  if (!vol) return;
  const { data, slope, inter } = vol.volume;
  if (name === 'auto') setWindow(percentileWindow(data, slope, inter), name);
  else if (name === 'full') setWindow(percentileWindow(data, slope, inter, 0, 100), name);
  else if (CT_PRESETS[name]) setWindow(CT_PRESETS[name], name);
}

/** ?slices=a-b, limited to this volume's slices; all of them when absent or outside it. */
function sessionRange(depth: number): [number, number] {
  const [a, b] = params.get('slices')?.split('-').map(Number) ?? [];
  const first = Math.max(0, a);
  const last = Math.min(depth - 1, b);
  return Number.isInteger(first) && Number.isInteger(last) && first <= last ? [first, last] : [0, depth - 1];
}

function openVolume(bytes: ArrayBuffer, name: string): void {
  if (ui.status === 'busy') return say('Wait for the running step to finish, or cancel it (Esc), before opening another volume.', 'busy', 'warn');
  let volume: Volume;
  let orientation: SliceOrientation;
  try {
    volume = parseNifti(bytes, name);
    orientation = sliceOrientation(volume.affine, volume.dims, sliceShape(volume, 'axial').axis);
  } catch (e) {
    return fail(e, `Opening ${name}`, idleStatus());
  }
  const { axis, count: depth } = sliceShape(volume, 'axial');
  const [first, last] = sessionRange(depth);
  vol = { volume, name, axis, depth, orientation, first, last };
  points.clearAll();
  segmentedWith.clear();
  hidden.clear();
  stroke = null;
  selected = -1;
  attached = false;
  ui.segmentable = false;
  pendingPropagation = false;
  ui.volume = { width: orientation.sliceCols, height: orientation.sliceRows, depth, first, last, plane: orientation.plane, labels: orientation.labels, obliqueDegrees: orientation.obliqueDegrees };
  $<HTMLInputElement>('z').max = String(depth - 1);
  const notice = obliqueNotice(orientation);
  $('notice').hidden = !notice;
  $('notice').textContent = notice ?? '';
  $('orient').textContent = `${orientation.plane[0].toUpperCase()}${orientation.plane.slice(1)} slices (voxel axis ${'ijk'[axis]}), shown radiologically: ${orientation.plane === 'sagittal' ? 'anterior on the left' : 'patient right on the left'}, ${orientation.plane === 'axial' ? 'anterior' : 'superior'} up.`;
  ui.slice = Math.floor((first + last) / 2);
  $<HTMLInputElement>('z').value = String(ui.slice);
  applyPreset('auto');
  fitZoom();
  attachSession();
}

/** Puts the open volume in a session of the networks, once both are there. */
function attachSession(): void {
  if (!vol || !seg) {
    if (vol) {
      const why = ui.status === 'no-webgpu' ? 'viewing only: segmentation needs WebGPU' : 'the networks are still loading; you can place points meanwhile';
      say(`${vol.name}: ${volSummary()} (${why}).`, idleStatus(), ui.status === 'no-webgpu' ? 'warn' : '');
    }
    return render();
  }
  try {
    const info = seg.loadVolume(vol.volume, { name: vol.name, slices: [vol.first, vol.last], ...intensityOption() });
    $('netmapnow').textContent = describeMapping(info.intensity);
    attached = true;
    maskEpoch++;
    ui.segmentable = true;
    ui.active = 1;
    syncStructures();
    say(`${vol.name}: ${volSummary()}. Click four extreme points of the object, then Segment (Enter); or paint it with the brush (B).`, 'ready');
  } catch (e) {
    attached = false;
    ui.segmentable = false;
    syncStructures();
    fail(e, `Opening ${vol.name} for segmentation`, 'ready');
  }
  render();
}

function volSummary(): string {
  const v = vol!;
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

// ---- the long steps --------------------------------------------------------------

function machineKey(): string {
  return `${seg?.adapter ?? ''} crop ${seg?.cropSize ?? ''}`;
}

/** What a cancel waits for: the GPU work already submitted is not interruptible. */
const CANCELLING = {
  '2D network': 'the 2D network finishes the run it is in (it cannot be stopped half-way), then its result is thrown away.',
  propagation: 'the slice being computed finishes, then the propagated slices are put back as they were.',
} as const;

/** Runs a long step with a status that ticks (stage, slice, elapsed, estimate) and a Cancel that aborts it. */
async function runStep<T>(stage: '2D network' | 'propagation', slice: number, describe: (elapsedMs: number) => string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  running = new AbortController();
  ui.step = { stage, slice, startedMs: performance.now() };
  const prog = $<HTMLProgressElement>('prog');
  prog.hidden = false;
  const tick = () => {
    const ms = performance.now() - ui.step!.startedMs;
    say(running?.signal.aborted ? `Cancelling (${formatDuration(ms)} elapsed): ${CANCELLING[stage]}` : describe(ms), 'busy');
  };
  tick();
  render();
  const timer = setInterval(tick, 250);
  try {
    return await work(running.signal);
  } finally {
    maskEpoch++;
    clearInterval(timer);
    prog.hidden = true;
    running = null;
    ui.step = null;
  }
}

async function segmentSlice(): Promise<void> {
  if (!seg || !vol || !attached || deviceLost || ui.status === 'busy') return;
  const z = ui.slice;
  const pts = points.get(z);
  const structure = ui.active;
  const name = activeName();
  if (pts.length !== POINTS_PER_SET || z < vol.first || z > vol.last) return;
  const prog = $<HTMLProgressElement>('prog');
  prog.removeAttribute('value'); // indeterminate: the 2D network reports no progress
  let mask: Uint8Array;
  try {
    const t0 = performance.now();
    mask = await runStep('2D network', z, (ms) => `Segmenting ${name} on slice ${z} with the 2D network: ${progressLine(ms, times.annotateMs)}. Esc cancels.`, (signal) => seg!.annotate(z, pts, { signal, structure }));
    ui.timings.annotateMs = performance.now() - t0;
    segmentedWith.set(z, pointsKey(z));
    times = { ...times, annotateMs: ui.timings.annotateMs };
    saveTimes(machineKey(), times);
  } catch (e) {
    if (isAbort(e)) say(`Cancelled: slice ${z} and the rest of the label map are as they were.`, 'ready', 'warn');
    else fail(e, `Segmenting slice ${z}`, 'ready');
    return render();
  }
  if (!mask.some((v) => v !== 0)) {
    const small = seg.cropSize < 512;
    say(`The 2D network found no object inside your points on slice ${z}, so nothing was propagated. ${small ? `Likely cause: the network's input crop is ${seg.cropSize} px here, but it was trained at 512 px — reload with ?crop=512.` : 'Likely cause: the points are not on the object\'s outermost edges, or the object looks unlike what the network was trained on (the bundled network knows synthetic phantoms only).'} Move a point and press Segment again.`, 'ready', 'warn');
    return render();
  }
  pendingPropagation = true;
  await propagate(`${name}: slice ${z} segmented in ${formatDuration(ui.timings.annotateMs)}`);
}

async function propagate(prefix = 'Propagation'): Promise<void> {
  if (!seg || !vol || !attached || deviceLost || ui.status === 'busy') return;
  const prog = $<HTMLProgressElement>('prog');
  prog.value = 0;
  let done = 0;
  let total = 0;
  let last = -1;
  const t0 = performance.now();
  try {
    await runStep('propagation', ui.slice, (ms) => {
      const perSlice = done > 0 ? ms / done : times.sliceMs;
      const expected = perSlice !== undefined && total > 0 ? perSlice * total : undefined;
      const where = total > 0 ? `${done} of ${total} slices done${last >= 0 ? ` (last: slice ${last})` : ''}` : 'computing the first slice';
      return `${prefix}; propagating: ${where}, ${progressLine(ms, expected)}. Esc cancels.`;
    }, (signal) => seg!.propagate({
      signal,
      onProgress: (p) => {
        [done, total, last] = [p.done, p.total, p.slice];
        prog.max = p.total;
        prog.value = p.done;
        render();
      },
    }));
  } catch (e) {
    if (isAbort(e)) say('Propagation cancelled: the other slices are as they were before it started. Press Propagate (or Enter) to run it again.', 'ready', 'warn');
    else {
      // A failed propagation keeps what it finished and its work pending (the session resumes it), wherever the kept slices are.
      pendingPropagation = true;
      fail(e, 'Propagating', 'ready');
    }
    return render();
  }
  ui.timings.propagateMs = performance.now() - t0;
  if (done > 0) times = { ...times, sliceMs: ui.timings.propagateMs / done };
  saveTimes(machineKey(), times);
  pendingPropagation = false;
  say(`${prefix} and propagated to ${done} slice(s) in ${formatDuration(ui.timings.propagateMs)}. Check the recommended slice next (correct it with the brush, or accept it), or export the label map.`, 'ready', 'ok');
  render();
}

/** After a lost device: the networks on a new one, the session moved onto them with its masks and annotations. */
async function reconnect(): Promise<void> {
  if (!seg || !deviceLost || ui.status === 'busy') return;
  say('Reconnecting: loading the networks on a new GPU device…', 'busy');
  render();
  try {
    await seg.recover();
  } catch (e) {
    fail(e, 'Reconnecting the GPU', 'ready');
    return render();
  }
  deviceLost = false;
  maskEpoch++;
  $('gpu').title = seg.adapter;
  say(`GPU reconnected: your masks and annotations are kept.${canPropagate() ? ' Press Propagate (or Enter) to finish the propagation.' : ''}`, 'ready', 'ok');
  render();
}

function cancel(): void {
  if (!running || running.signal.aborted) return;
  running.abort(new DOMException('cancelled by the user', 'AbortError'));
  say(`Cancelling: ${CANCELLING[ui.step!.stage]}`, 'busy', 'warn');
  render();
}

/** Undo or redo one step of the session's history (annotate, correct, accept, add or remove a structure, propagate). */
async function undoRedo(which: 'undo' | 'redo'): Promise<void> {
  if (!seg || !attached || ui.status === 'busy' || stroke || !(which === 'undo' ? seg.canUndo() : seg.canRedo())) return;
  try {
    await (which === 'undo' ? seg.undo() : seg.redo());
  } catch (e) {
    fail(e, which === 'undo' ? 'Undoing' : 'Redoing', 'ready');
    return render();
  }
  // What is left to propagate is read from the slices' states again.
  pendingPropagation = false;
  segmentedWith.clear();
  afterEdit(which === 'undo' ? 'Undone: the label map and annotations are back to before the last step (Ctrl+Shift+Z redoes it).' : 'Redone: the step is back.', '');
}

/** The active structure's propagated slice, taken as it is: locked against later propagation. */
function acceptSlice(): void {
  if (!seg || !attached || deviceLost || ui.status === 'busy' || $<HTMLButtonElement>('accept').disabled) return;
  const z = ui.slice;
  try {
    seg.acceptSlice(z, { structure: ui.active });
  } catch (e) {
    fail(e, `Accepting slice ${z}`, 'ready');
    return render();
  }
  afterEdit(`${activeName()}: slice ${z} accepted as it is; propagation will not change it.`);
}

function addStructure(): void {
  if (!seg || !attached || ui.status === 'busy' || stroke) return;
  const input = $<HTMLInputElement>('newname');
  const name = input.value.trim() || `structure ${Math.max(0, ...ui.structures.map((s) => s.id)) + 1}`;
  let added: Structure;
  try {
    added = seg.addStructure(name);
  } catch (e) {
    fail(e, `Adding ${name}`, 'ready');
    return render();
  }
  input.value = '';
  ui.active = added.id;
  afterEdit(`${added.name} added and made active: segment it with four points, or paint it with the brush (B).`);
}

// ---- brush and eraser --------------------------------------------------------------

function setTool(tool: Tool): void {
  ui.tool = tool;
  selected = -1;
  $('slice').style.cursor = tool === 'points' ? 'crosshair' : 'none';
  $('tool').textContent = tool === 'points' ? 'Extreme points: click the object\'s leftmost, rightmost, top and bottom edge' : tool === 'brush' ? 'Brush: paint the active structure on this slice' : 'Eraser: erase the active structure on this slice';
  render();
}

function setBrushRadius(r: number): void {
  ui.brushRadius = Math.min(BRUSH_RADIUS.max, Math.max(BRUSH_RADIUS.min, Math.round(r)));
  $<HTMLInputElement>('brushsize').value = String(ui.brushRadius);
  render();
}

/** A brush or eraser stroke starts at voxel p: on a copy of the active structure's mask of this slice. */
function startStroke(p: VoxelPoint): void {
  if (!vol || !seg || !attached || deviceLost) return;
  const z = ui.slice;
  if (z < vol.first || z > vol.last) return say(`Slice ${z} is outside the session's slices ${vol.first}–${vol.last}: it cannot be painted.`, ui.status, 'warn');
  const o = vol.orientation;
  stroke = { z, structure: ui.active, value: ui.tool === 'brush' ? 1 : 0, mask: { rows: o.sliceRows, cols: o.sliceCols, data: activeMaskImage(z) }, last: p };
  paintStroke(stroke.mask, p, p, ui.brushRadius, stroke.value);
  render();
}

function continueStroke(p: VoxelPoint): void {
  if (!stroke) return;
  paintStroke(stroke.mask, stroke.last, p, ui.brushRadius, stroke.value);
  stroke.last = p;
  render();
}

/** The stroke's mask becomes the structure's hand-corrected annotation of the slice: one undoable step. */
function endStroke(): void {
  if (!stroke || !seg || !vol) return;
  const { z, structure, mask, value } = stroke;
  stroke = null;
  try {
    seg.setSliceMask(z, transposeImage(mask.data, mask.cols, mask.rows), { structure });
  } catch (e) {
    fail(e, `Painting slice ${z}`, 'ready');
    return render();
  }
  pendingPropagation = true;
  const name = ui.structures.find((s) => s.id === structure)?.name ?? String(structure);
  afterEdit(`${name}: slice ${z} ${value ? 'painted' : 'erased'} by hand; it is now an annotation. Propagate (Enter) carries it to the other slices; Ctrl+Z undoes the stroke.`);
}

// ---- mouse -----------------------------------------------------------------------

function markPositions(): { col: number; row: number }[] {
  return points.get(ui.slice).map(([a, b]) => {
    const s = screenFromVoxel(vol!.orientation, a, b);
    return { col: (s.col + 0.5) * scale.x, row: (s.row + 0.5) * scale.y };
  });
}

function wireCanvas(): void {
  const canvas = $<HTMLCanvasElement>('slice');
  let dragging = -1;
  let wlDrag: { x: number; y: number; win: DisplayWindow } | null = null;
  const editable = () => {
    if (ui.status !== 'busy') return true;
    say(`${ui.tool === 'points' ? 'Points' : 'The label map'} cannot change while a step runs: wait, or cancel it (Esc).`, 'busy', 'warn');
    return false;
  };
  canvas.addEventListener('contextmenu', (e) => e.preventDefault());
  canvas.addEventListener('mousedown', (e) => {
    if (!vol) return;
    const { x, y } = canvasXY(e);
    // The points are hidden while the brush or eraser is the tool: nothing to grab then.
    const near = ui.tool === 'points' ? pointNear(markPositions(), x, y, 9) : -1;
    if (e.button === 2) {
      if (near >= 0 && editable()) {
        points.remove(ui.slice, near);
        selected = -1;
        render();
      } else {
        wlDrag = { x: e.clientX, y: e.clientY, win: { ...ui.window } };
      }
      return;
    }
    if (e.button !== 0 || !editable()) return;
    if (ui.tool !== 'points') {
      const p = voxelUnder(x, y);
      if (!p) return;
      if (!seg || !attached) return say(seg ? 'Painting needs the volume in a session.' : 'Painting needs the networks loaded (WebGPU): the brush edits the session\'s masks.', ui.status, 'warn');
      return startStroke(p);
    }
    if (near >= 0) {
      selected = dragging = near;
      return renderMarks();
    }
    const p = voxelUnder(x, y);
    if (!p) return;
    if (!points.add(ui.slice, p)) {
      say(`Slice ${ui.slice} already has its four points: drag one to move it, or right-click it (or select it and press Delete) to remove it.`, ui.status, 'warn');
      return;
    }
    selected = points.get(ui.slice).length - 1;
    render();
  });
  canvas.addEventListener('mousemove', (e) => {
    if (!vol) return;
    if (ui.tool !== 'points') {
      const { x, y } = canvasXY(e);
      hoverVoxel = voxelUnder(x, y);
      if (stroke && hoverVoxel) continueStroke(hoverVoxel);
      else renderMarks();
    }
    if (wlDrag) {
      const k = wlDrag.win.width / 200;
      setWindow({ width: Math.max(1e-6, wlDrag.win.width + (e.clientX - wlDrag.x) * k), level: wlDrag.win.level - (e.clientY - wlDrag.y) * k }, 'custom');
    } else if (dragging >= 0) {
      const { x, y } = canvasXY(e);
      const p = voxelUnder(x, y);
      if (p) points.move(ui.slice, dragging, p);
      render();
    }
  });
  canvas.addEventListener('mouseleave', () => {
    hoverVoxel = null;
    renderMarks();
  });
  window.addEventListener('mouseup', () => {
    dragging = -1;
    wlDrag = null;
    endStroke();
  });
  canvas.addEventListener('wheel', (e) => {
    e.preventDefault();
    if (e.ctrlKey) setZoom(ui.zoom * (e.deltaY < 0 ? 1.15 : 1 / 1.15));
    else goTo(ui.slice - Math.sign(e.deltaY));
  }, { passive: false });
}

// ---- keyboard --------------------------------------------------------------------

function wireKeyboard(): void {
  document.addEventListener('keydown', (e) => {
    const help = $<HTMLDialogElement>('help');
    if (e.key === 'Escape') {
      if (running) {
        e.preventDefault();
        cancel();
      }
      return;
    }
    const target = e.target as HTMLElement;
    // A focused button takes Enter and Space itself; handling them here too would run two actions.
    if ((e.key === 'Enter' || e.key === ' ') && target.tagName === 'BUTTON') return;
    if (help.open || (target.tagName === 'INPUT' && !['range', 'checkbox', 'radio'].includes((target as HTMLInputElement).type)) || target.tagName === 'SELECT') return;
    const ctrl = e.ctrlKey || e.metaKey;
    const keys: Record<string, () => void> = {
      ArrowUp: () => goTo(ui.slice + 1),
      ArrowDown: () => goTo(ui.slice - 1),
      PageUp: () => goTo(ui.slice + 10),
      PageDown: () => goTo(ui.slice - 10),
      Home: () => goTo(0),
      End: () => goTo((vol?.depth ?? 1) - 1),
      Enter: () => void (!$<HTMLButtonElement>('segment').disabled ? segmentSlice() : canPropagate() ? propagate() : undefined),
      Delete: () => deletePoint(),
      Backspace: () => deletePoint(),
      h: () => toggleOverlay(),
      p: () => setTool('points'),
      b: () => setTool('brush'),
      e: () => setTool('eraser'),
      '[': () => setBrushRadius(ui.brushRadius - 1),
      ']': () => setBrushRadius(ui.brushRadius + 1),
      a: () => acceptSlice(),
      o: () => cycleOverlayMode(),
      f: () => fitZoom(),
      '+': () => setZoom(ui.zoom * 1.25),
      '=': () => setZoom(ui.zoom * 1.25),
      '-': () => setZoom(ui.zoom / 1.25),
      '?': () => help.showModal(),
    };
    if (ctrl && (e.key.toLowerCase() === 'z' || e.key.toLowerCase() === 'y')) {
      e.preventDefault();
      void undoRedo(e.key.toLowerCase() === 'y' || e.shiftKey ? 'redo' : 'undo');
      return;
    }
    const action = !ctrl && !e.altKey ? keys[e.key.length === 1 ? e.key.toLowerCase() : e.key] ?? keys[e.key] : undefined;
    if (!action) return;
    e.preventDefault();
    action();
  });
}

function deletePoint(): void {
  const list = points.get(ui.slice);
  if (!list.length || ui.status === 'busy') return;
  points.remove(ui.slice, selected >= 0 && selected < list.length ? selected : list.length - 1);
  selected = -1;
  render();
}

function toggleOverlay(): void {
  overlay.visible = !overlay.visible;
  $<HTMLInputElement>('hideov').checked = !overlay.visible;
  render();
}

function cycleOverlayMode(): void {
  const modes = ['fill+outline', 'fill', 'outline'] as const;
  overlay.mode = modes[(modes.indexOf(overlay.mode) + 1) % modes.length];
  $<HTMLSelectElement>('ovmode').value = overlay.mode;
  render();
}

// ---- controls --------------------------------------------------------------------

function wireControls(): void {
  $('z').addEventListener('input', (e) => goTo(Number((e.target as HTMLInputElement).value)));
  $('zoom').addEventListener('change', (e) => setZoom(Number((e.target as HTMLInputElement).value)));
  $('fit').addEventListener('click', () => fitZoom());
  window.addEventListener('resize', () => fitMode && fitZoom());
  for (const id of ['win', 'lev']) {
    $(id).addEventListener('change', () => setWindow({ width: Number($<HTMLInputElement>('win').value), level: Number($<HTMLInputElement>('lev').value) }, 'custom'));
  }
  $('preset').addEventListener('change', (e) => applyPreset((e.target as HTMLSelectElement).value));
  $('ovmode').addEventListener('change', (e) => {
    overlay.mode = (e.target as HTMLSelectElement).value as OverlayStyle['mode'];
    render();
  });
  $('opacity').addEventListener('input', (e) => {
    overlay.opacity = Number((e.target as HTMLInputElement).value);
    render();
  });
  $('hideov').addEventListener('change', (e) => {
    overlay.visible = !(e.target as HTMLInputElement).checked;
    render();
  });
  $('netmap').addEventListener('change', () => attachSession());
  $('clear').addEventListener('click', () => {
    points.clear(ui.slice);
    selected = -1;
    render();
  });
  $('segment').addEventListener('click', () => void segmentSlice());
  $('propagate').addEventListener('click', () => void propagate());
  $('cancel').addEventListener('click', () => cancel());
  $('reconnect').addEventListener('click', () => void reconnect());
  $('undo').addEventListener('click', () => void undoRedo('undo'));
  $('redo').addEventListener('click', () => void undoRedo('redo'));
  $('accept').addEventListener('click', () => acceptSlice());
  $('addstructure').addEventListener('click', () => addStructure());
  $('newname').addEventListener('keydown', (e) => e.key === 'Enter' && addStructure());
  for (const tool of ['points', 'brush', 'eraser'] as const) $(`tool-${tool}`).addEventListener('change', () => setTool(tool));
  $('brushsize').addEventListener('input', (e) => setBrushRadius(Number((e.target as HTMLInputElement).value)));
  $('helpbtn').addEventListener('click', () => $<HTMLDialogElement>('help').showModal());
  $('export').addEventListener('click', () => exportLabelMap());
  $('labelfile').addEventListener('change', async (e) => {
    const input = e.target as HTMLInputElement;
    await importLabelMap(Array.from(input.files ?? []));
    input.value = '';
  });
  const strip = $<HTMLCanvasElement>('strip');
  const stripSlice = (e: MouseEvent) => {
    const r = strip.getBoundingClientRect();
    return stripSliceAt(strip, vol!.depth, ((e.clientX - r.left) / r.width) * strip.width);
  };
  strip.addEventListener('click', (e) => vol && goTo(stripSlice(e)));
  strip.addEventListener('mousemove', (e) => {
    if (!vol) return;
    hoverSlice = stripSlice(e);
    $('striptip').textContent = stripTip(hoverSlice);
    render();
  });
  strip.addEventListener('mouseleave', () => {
    hoverSlice = null;
    $('striptip').textContent = '';
    render();
  });
  $('file').addEventListener('change', async (e) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (f) openVolume(await f.arrayBuffer(), f.name);
  });
  $('phantom').addEventListener('click', () => void loadPhantom());
  document.addEventListener('dragover', (e) => {
    e.preventDefault();
    document.body.id = 'drop';
  });
  document.addEventListener('dragleave', () => (document.body.id = ''));
  document.addEventListener('drop', async (e) => {
    e.preventDefault();
    document.body.id = '';
    const f = e.dataTransfer?.files[0];
    if (f) openVolume(await f.arrayBuffer(), f.name);
  });
}

/**
 * A label map picked with its sidecar (one .nii / .nii.gz, optionally one .json): its
 * structures replace the list and every slice with their voxels comes in accepted
 * (locked). A map on another grid is refused with what differs. One undoable step.
 */
async function importLabelMap(files: readonly File[]): Promise<void> {
  if (!seg || !attached || ui.status === 'busy' || stroke) return;
  const nifti = files.filter((f) => /\.nii(\.gz)?$/i.test(f.name));
  const json = files.filter((f) => /\.json$/i.test(f.name));
  if (nifti.length !== 1 || json.length > 1 || nifti.length + json.length !== files.length) {
    return say('Pick one label map (.nii or .nii.gz), and optionally its .json sidecar, together.', 'ready', 'warn');
  }
  let imported;
  try {
    imported = seg.importLabelMap(await nifti[0].arrayBuffer(), json.length ? await json[0].text() : undefined, { name: nifti[0].name });
  } catch (e) {
    // The reader's own reason says what does not fit (dims, an affine entry, a label, the sidecar's JSON).
    if ((e as Error).name === 'VolumeError') say(`Opening the label map failed: ${(e as Error).message}`, 'ready', 'error', String(e));
    else fail(e, `Opening the label map ${nifti[0].name}`, 'ready');
    return render();
  }
  pendingPropagation = false;
  segmentedWith.clear();
  hidden.clear();
  afterEdit(`${nifti[0].name}: ${imported.map((s) => s.name).join(', ') || 'no structures'} opened; their slices are accepted as they are (Ctrl+Z undoes the import).`);
}

/** The label map (.nii.gz) and its sidecar (.json, names and colours), downloaded side by side. */
function exportLabelMap(): void {
  if (!seg || !vol || !anyVoxels()) return;
  let files: { nifti: Uint8Array; sidecar: string };
  try {
    files = seg.exportLabelMap();
  } catch (e) {
    return fail(e, 'Exporting the label map', 'ready');
  }
  const base = `${vol.name.replace(/\.nii(\.gz)?$/, '')}_labels`;
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
  say(`Label map exported: ${base}.nii.gz with ${base}.json (each structure's name and colour).`, 'ready', 'ok');
}

function stripTip(z: number): string {
  if (!vol) return '';
  if (z < vol.first || z > vol.last) return `Slice ${z}: outside this session (slices ${vol.first}–${vol.last})`;
  const s = attached && seg ? activeStates()[z] : null;
  if (!s || s.source === 'empty') return `Slice ${z}: ${attached ? `${activeName()} ` : ''}not segmented yet`;
  const q = s.quality === null ? '' : `, quality ${s.quality.toFixed(2)}`;
  return `Slice ${z}: ${activeName()} ${s.source}${q}${seg!.recommend({ structure: ui.active }) === z ? ' (recommended next)' : ''}`;
}

async function loadPhantom(): Promise<void> {
  try {
    const res = await fetch(PHANTOM);
    if (!res.ok) throw new Error(`fetching ${PHANTOM}: HTTP ${res.status}`);
    openVolume(await res.arrayBuffer(), 'phantom.nii.gz');
  } catch (e) {
    fail(e, 'Loading the bundled phantom', idleStatus());
  }
}

// ---- start -----------------------------------------------------------------------

function noWebGpu(text: string, details: string): void {
  const gpu = $('gpu');
  gpu.textContent = text;
  gpu.className = 'error';
  $('phantom').textContent = 'View the bundled phantom';
  $('wtext').textContent = 'Networks: not available in this browser';
  $('wprog').hidden = true;
  say('Segmentation is not available here; volumes can still be opened and viewed.', 'no-webgpu', 'warn', details);
  render();
}

async function main(): Promise<void> {
  wireControls();
  wireCanvas();
  wireKeyboard();
  render();
  const phantomNow = params.has('phantom') ? loadPhantom() : null;
  if (!('gpu' in navigator) || !navigator.gpu) {
    noWebGpu('This browser cannot run the segmentation networks: WebGPU is not available. Use a recent Chrome or Edge (or Firefox/Safari with WebGPU turned on).',
      'navigator.gpu is missing. WebGPU also needs a secure context: https, or http on localhost.');
    await phantomNow;
    return;
  }
  if (!vol) say('Loading the networks… you can open a volume meanwhile.', 'loading-weights');
  else ui.status = 'loading-weights';
  const bar = $<HTMLProgressElement>('wprog');
  let cachedFiles = 0;
  try {
    seg = await createSegmenter({
      weightsBaseUrl: new URL('weights/', location.href).href,
      cropSize: Number(params.get('crop') ?? 512),
      // ?memory=synth-v1: the untrained small memory network, for checking the pipeline quickly.
      memoryWeights: params.get('memory') === 'synth-v1' ? 'synth-v1' : 'qamn-phantom',
      onProgress: (p) => {
        bar.max = Math.max(p.total, 1);
        bar.value = p.loaded;
        cachedFiles = Math.max(cachedFiles, p.cached);
        $('wtext').textContent = `Networks (${p.stage}): ${(p.loaded / 1e6).toFixed(1)} of ${(p.total / 1e6).toFixed(1)} MB${p.cached ? `, ${p.cached} file(s) from the browser cache` : ''}`;
      },
    });
  } catch (e) {
    await phantomNow;
    if ((e as Error).name === 'NoAdapterError') return noWebGpu(userMessage(e, '').text, (e as Error).message);
    fail(e, 'Loading the networks', 'error');
    return;
  }
  ui.segmenter = seg;
  ui.weights = { cachedFiles };
  times = loadTimes(machineKey());
  $('gpu').textContent = `WebGPU: ${seg.adapter.split(';')[0]}. 2D network crop ${seg.cropSize}×${seg.cropSize} px.`;
  if (seg.softwareAdapter) {
    // Chrome without a usable GPU falls back to SwiftShader: say so before the first step, not after minutes of it.
    $('gpu').textContent += ` Software WebGPU (no GPU in use): every step takes seconds to minutes${seg.cropSize > 256 ? `, and a ${seg.cropSize}-px crop may not finish; a smaller one (?crop=128 in the address) is quicker and coarser` : ''}.`;
    $('gpu').classList.add('warn');
  }
  $('gpu').title = seg.adapter;
  $('wtext').textContent += ' (loaded)';
  const note = $('weightsnote');
  note.hidden = false;
  note.textContent = seg.memoryWeightsSynthetic
    ? 'The memory network (propagation and quality) runs with synthetic, untrained weights: propagated masks only show the pipeline working. The 2D network was trained on synthetic phantoms.'
    : 'Both networks were trained on synthetic phantoms: they are for trying the viewer on phantoms. Real CT needs converted Mem3D weights.';
  await phantomNow;
  if (vol) attachSession();
  else say('Ready: open a NIfTI volume or the bundled phantom.', 'ready');
}

void main();
