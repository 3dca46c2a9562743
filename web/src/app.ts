// The viewer's shared state (web/src/main.ts starts the page): what is open, the
// session, the points and overlay settings, what the page publishes for the browser
// tests (window.__mem3d), and the status line. The other modules read and change it
// through `app`; each module calls render() (render.ts) after a change.
import type { VoxelPoint } from '../../src/volume/layout.ts';
import type { AxisIndex } from '../../src/volume/slice.ts';
import type { Segmenter, Structure, Volume } from '../embed.ts';
import { BRUSH_RADIUS, type SliceMaskImage } from './brush.ts';
import type { OverlayStyle, Scale } from './draw.ts';
import { userMessage } from './messages.ts';
import { screenFromVoxel, voxelFromScreen, type SliceOrientation } from './orientation.ts';
import { SlicePoints } from './points.ts';
import type { StepTimes } from './timing.ts';
import type { DisplayWindow } from './window.ts';

export const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
export const params = new URLSearchParams(location.search);

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
export type Tool = 'points' | 'brush' | 'eraser';

/** What a brush or eraser stroke in progress edits: the active structure's mask of slice z (slice image, row a). */
export interface Stroke {
  z: number;
  structure: number;
  value: 0 | 1;
  mask: SliceMaskImage;
  last: VoxelPoint;
}

/** The viewer's mutable state (one object, so that every module sees the same values). */
export interface AppState {
  seg: Segmenter | null;
  vol: OpenVolume | null;
  /** The open volume is in a session of `seg`. */
  attached: boolean;
  /** Canvas pixels per screen pixel of the slice image. */
  scale: Scale;
  /** The zoom follows the window's size (Fit) until the user zooms. */
  fitMode: boolean;
  /** The selected point of the current slice, or -1. */
  selected: number;
  /** The slice under the mouse in the quality strip. */
  hoverSlice: number | null;
  /** The last measured step durations on this machine, for the estimates. */
  times: StepTimes;
  running: AbortController | null;
  /** The GPU device is gone (a DeviceLostError): nothing runs until Reconnect GPU moves the session to a new one. */
  deviceLost: boolean;
  stroke: Stroke | null;
  /** The voxel under the mouse, for the brush outline. */
  hoverVoxel: VoxelPoint | null;
  /** Bumped by every step that may change masks without changing the slices' states (labels.ts's cache). */
  maskEpoch: number;
}

export const app: AppState = {
  seg: null,
  vol: null,
  attached: false,
  scale: { x: 1, y: 1 },
  fitMode: true,
  selected: -1,
  hoverSlice: null,
  times: {},
  running: null,
  deviceLost: false,
  stroke: null,
  hoverVoxel: null,
  maskEpoch: 0,
};

export const points = new SlicePoints();
/** The points each slice was last segmented with: Segment is offered again once one moves. */
export const segmentedWith = new Map<number, string>();
export const pointsKey = (z: number) => JSON.stringify([ui.active, points.get(z)]);
export const overlay: OverlayStyle = { mode: 'fill+outline', opacity: 0.5, visible: true };
/** Structures hidden in the viewer (the session knows nothing of it). */
export const hidden = new Set<number>();

export const ui: ViewerState = {
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
  canvasPoint,
  voxelAt: voxelUnder,
};
window.__mem3d = ui;

// ---- canvas pixels and voxels -------------------------------------------------------

/** Canvas pixel (CSS px from the slice canvas's top-left) at the centre of in-plane voxel (a, b). */
function canvasPoint(a: number, b: number): { x: number; y: number } {
  const s = screenFromVoxel(app.vol!.orientation, a, b);
  return { x: (s.col + 0.5) * app.scale.x, y: (s.row + 0.5) * app.scale.y };
}

/** In-plane voxel (a, b) under a canvas pixel, or null outside the slice. */
export function voxelUnder(x: number, y: number): VoxelPoint | null {
  if (!app.vol) return null;
  const o = app.vol.orientation;
  const col = Math.floor(x / app.scale.x);
  const row = Math.floor(y / app.scale.y);
  if (col < 0 || row < 0 || col >= o.width || row >= o.height) return null;
  return voxelFromScreen(o, col, row);
}

// ---- status ----------------------------------------------------------------------

export function say(text: string, kind: ViewerState['status'] = ui.status, css = '', details = ''): void {
  ui.status = kind;
  ui.message = text;
  ui.details = details;
  const el = $('status');
  el.textContent = text;
  el.className = css;
  $('details').hidden = !details;
  $('detailtext').textContent = details;
}

export function fail(e: unknown, doing: string, kind: ViewerState['status'] = 'error'): void {
  console.error(e);
  if ((e as Error | null)?.name === 'DeviceLostError') app.deviceLost = true;
  const m = userMessage(e, doing);
  say(m.text, kind, 'error', m.details);
}

/** The status the page returns to when nothing runs. */
export function idleStatus(): ViewerState['status'] {
  if (app.seg) return 'ready';
  return ui.status === 'no-webgpu' || ui.status === 'error' ? ui.status : 'loading-weights';
}
