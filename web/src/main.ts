// The web viewer: wires the page's controls to the embedding API (../embed.ts).
// Volumes can be opened and browsed while the networks load (and without WebGPU);
// segmenting needs both. URL options: ?crop=N (2D network crop side, default 512),
// ?slices=a-b (session limited to those slices), ?phantom (open the bundled phantom),
// ?memory=synth-v1 (the untrained small memory network: a quick pipeline check).
import { createSegmenter, getSlice, parseNifti, type IntensityMapping, type Segmenter, type Volume } from '../embed.ts';
import { transposeImage, type VoxelPoint } from '../../src/volume/layout.ts';
import { sliceShape, type AxisIndex } from '../../src/volume/slice.ts';
import { drawMarks, drawSlice, drawStrip, drawStripAxis, stripSliceAt, type OverlayStyle, type Scale } from './draw.ts';
import { isAbort, userMessage } from './messages.ts';
import { obliqueNotice, screenFromVoxel, sliceOrientation, toScreen, voxelFromScreen, type SliceOrientation } from './orientation.ts';
import { pointNear, SlicePoints, POINTS_PER_SET } from './points.ts';
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
const pointsKey = (z: number) => JSON.stringify(points.get(z));
const overlay: OverlayStyle = { mode: 'fill+outline', opacity: 0.5, visible: true };

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

/** The session's mask of slice z as a slice image (row a, column b), or zeros. */
function maskImage(z: number): Uint8Array {
  const o = vol!.orientation;
  if (!attached || !seg) return new Uint8Array(o.sliceRows * o.sliceCols);
  // sliceMask is in NIfTI voxel order (a fastest): the transpose of the slice image.
  return transposeImage(seg.sliceMask(z), o.sliceRows, o.sliceCols);
}

// ---- drawing ---------------------------------------------------------------------

function screenImage(z: number) {
  const { volume, axis, orientation: o } = vol!;
  return { width: o.width, height: o.height, data: toScreen(o, getSlice(volume, axis, z).data), mask: toScreen(o, maskImage(z)) };
}

function segmented(): boolean {
  return attached && !!seg && seg.states().some((s) => s.source !== 'empty');
}

/** Slices whose mask has voxels, recomputed only when the slices' states change (render runs on every drag). */
let nonEmpty = { key: '', slices: new Set<number>() };
/** Bumped after every step that may change masks without changing states (a slice segmented again). */
let maskEpoch = 0;
function slicesWithMask(): Set<number> {
  if (!attached || !seg) return new Set();
  const states = seg.states();
  const key = `${maskEpoch}:${states.map((s) => `${s.source}${s.quality}`).join()}`;
  if (key !== nonEmpty.key) {
    const slices = new Set<number>();
    states.forEach((s, z) => s.source !== 'empty' && seg!.sliceMask(z).some((v) => v !== 0) && slices.add(z));
    nonEmpty = { key, slices };
  }
  return nonEmpty.slices;
}

function render(): void {
  renderControls();
  if (!vol) return;
  const z = ui.slice;
  const o = vol.orientation;
  const canvas = $<HTMLCanvasElement>('slice');
  drawSlice(canvas, screenImage(z), ui.window, scale, overlay);
  renderMarks();
  const inSession = z >= vol.first && z <= vol.last;
  const state = attached && seg ? seg.states()[z] : null;
  $('ztext').textContent = `${z} of 0–${vol.depth - 1}${!inSession ? ' (outside the session)' : state && state.source !== 'empty' ? ` (${state.source})` : ''}`;
  for (const side of ['left', 'right', 'top', 'bottom'] as const) $(`edge-${side}`).textContent = o.labels[side];
  const states = attached && seg ? seg.states() : Array.from({ length: vol.depth }, () => ({ source: 'empty' as const, quality: null, certainty: null }));
  const recommended = segmented() ? seg!.recommend() : null;
  drawStrip($<HTMLCanvasElement>('strip'), states, z, recommended, vol, hoverSlice);
  drawStripAxis($<HTMLCanvasElement>('stripaxis'), $<HTMLCanvasElement>('strip'), vol.depth, z);
  $('recommend').textContent = recommended === null ? '' : `Recommended next: slice ${recommended} (lowest quality score; click its bar to go there)`;
}

function renderMarks(): void {
  if (!vol) return;
  const canvas = $<HTMLCanvasElement>('slice');
  const marks = points.get(ui.slice).map(([a, b], i) => {
    const s = screenFromVoxel(vol!.orientation, a, b);
    return { col: (s.col + 0.5) * scale.x, row: (s.row + 0.5) * scale.y, selected: i === selected };
  });
  drawMarks($<HTMLCanvasElement>('marks'), { width: canvas.width, height: canvas.height }, marks);
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
  enable('segment', canRun && n === POINTS_PER_SET && fresh, noNets || (n < POINTS_PER_SET ? `Place ${POINTS_PER_SET - n} more point(s)` : !fresh ? 'Already segmented with these points: move one to segment again' : 'Outside the session\'s slices'));
  enable('propagate', canRun && canPropagate(), noNets || 'Nothing new to propagate');
  enable('cancel', busy && running !== null && !running.signal.aborted);
  $('reconnect').hidden = !deviceLost;
  enable('reconnect', deviceLost && !busy);
  enable('clear', !busy && n > 0);
  enable('undo', !busy && attached && !!seg?.canUndo(), 'Nothing to undo');
  enable('export', !busy && slicesWithMask().size > 0, 'The mask is empty: nothing to export yet');
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
  // An empty annotation has nothing to carry to its neighbours.
  const states = seg.states();
  const empty = (z: number) => z >= vol!.first && z <= vol!.last && states[z].source === 'empty';
  const withMask = slicesWithMask();
  return states.some((s, z) => s.source === 'annotated' && withMask.has(z) && (empty(z - 1) || empty(z + 1)));
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
    say(`${vol.name}: ${volSummary()}. Click four extreme points of the object, then Segment (Enter).`, 'ready');
  } catch (e) {
    attached = false;
    ui.segmentable = false;
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
  if (pts.length !== POINTS_PER_SET || z < vol.first || z > vol.last) return;
  const prog = $<HTMLProgressElement>('prog');
  prog.removeAttribute('value'); // indeterminate: the 2D network reports no progress
  let mask: Uint8Array;
  try {
    const t0 = performance.now();
    mask = await runStep('2D network', z, (ms) => `Segmenting slice ${z} with the 2D network: ${progressLine(ms, times.annotateMs)}. Esc cancels.`, (signal) => seg!.annotate(z, pts, { signal }));
    ui.timings.annotateMs = performance.now() - t0;
    segmentedWith.set(z, pointsKey(z));
    times = { ...times, annotateMs: ui.timings.annotateMs };
    saveTimes(machineKey(), times);
  } catch (e) {
    if (isAbort(e)) say(`Cancelled: slice ${z} and the rest of the mask are as they were.`, 'ready', 'warn');
    else fail(e, `Segmenting slice ${z}`, 'ready');
    return render();
  }
  if (!mask.some((v) => v !== 0)) {
    const small = seg.cropSize < 512;
    say(`The 2D network found no object inside your points on slice ${z}, so nothing was propagated. ${small ? `Likely cause: the network's input crop is ${seg.cropSize} px here, but it was trained at 512 px — reload with ?crop=512.` : 'Likely cause: the points are not on the object\'s outermost edges, or the object looks unlike what the network was trained on (the bundled network knows synthetic phantoms only).'} Move a point and press Segment again.`, 'ready', 'warn');
    return render();
  }
  pendingPropagation = true;
  await propagate(`Slice ${z} segmented in ${formatDuration(ui.timings.annotateMs)}`);
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
    else fail(e, 'Propagating', 'ready');
    return render();
  }
  ui.timings.propagateMs = performance.now() - t0;
  if (done > 0) times = { ...times, sliceMs: ui.timings.propagateMs / done };
  saveTimes(machineKey(), times);
  pendingPropagation = false;
  say(`${prefix} and propagated to ${done} slice(s) in ${formatDuration(ui.timings.propagateMs)}. Check the recommended slice next, or export the mask.`, 'ready', 'ok');
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

async function undo(): Promise<void> {
  if (!seg || !attached || ui.status === 'busy' || !seg.canUndo()) return;
  try {
    await seg.undo();
    maskEpoch++;
    pendingPropagation = false;
    segmentedWith.clear();
    say('Undone: the mask and annotations are back to before the last segmentation.', 'ready');
  } catch (e) {
    fail(e, 'Undoing', 'ready');
  }
  render();
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
    say('Points cannot change while a step runs: wait, or cancel it (Esc).', 'busy', 'warn');
    return false;
  };
  canvas.addEventListener('contextmenu', (e) => e.preventDefault());
  canvas.addEventListener('mousedown', (e) => {
    if (!vol) return;
    const { x, y } = canvasXY(e);
    const near = pointNear(markPositions(), x, y, 9);
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
  window.addEventListener('mouseup', () => {
    dragging = -1;
    wlDrag = null;
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
    if (help.open || (target.tagName === 'INPUT' && (target as HTMLInputElement).type !== 'range' && (target as HTMLInputElement).type !== 'checkbox') || target.tagName === 'SELECT') return;
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
      o: () => cycleOverlayMode(),
      f: () => fitZoom(),
      '+': () => setZoom(ui.zoom * 1.25),
      '=': () => setZoom(ui.zoom * 1.25),
      '-': () => setZoom(ui.zoom / 1.25),
      '?': () => help.showModal(),
    };
    if (ctrl && e.key.toLowerCase() === 'z') {
      e.preventDefault();
      void undo();
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
  $('undo').addEventListener('click', () => void undo());
  $('helpbtn').addEventListener('click', () => $<HTMLDialogElement>('help').showModal());
  $('export').addEventListener('click', () => {
    if (!seg || !vol || slicesWithMask().size === 0) return;
    const a = $<HTMLAnchorElement>('download');
    URL.revokeObjectURL(a.href);
    a.href = URL.createObjectURL(new Blob([seg.exportNifti() as Uint8Array<ArrayBuffer>], { type: 'application/gzip' }));
    a.download = `${vol.name.replace(/\.nii(\.gz)?$/, '')}_mask.nii.gz`;
    a.textContent = a.download;
    a.hidden = false;
    a.click();
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

function stripTip(z: number): string {
  if (!vol) return '';
  if (z < vol.first || z > vol.last) return `Slice ${z}: outside this session (slices ${vol.first}–${vol.last})`;
  const s = attached && seg ? seg.states()[z] : null;
  if (!s || s.source === 'empty') return `Slice ${z}: not segmented yet`;
  const q = s.quality === null ? '' : `, quality ${s.quality.toFixed(2)}`;
  return `Slice ${z}: ${s.source}${q}${segmented() && seg!.recommend() === z ? ' (recommended next)' : ''}`;
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
