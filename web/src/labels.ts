// The embedding API's conventions in one place: the session's voxel-order masks as
// slice images (row a, column b), the structures and their slice states as the page
// shows them, and what there is to propagate.
import type { Labels, SliceState } from '../embed.ts';
import { app, hidden, ui } from './app.ts';
import type { LabelColours } from './draw.ts';

/** Voxel order (a fastest, the embedding API's) -> slice image (row a, column b), keeping the array type. */
function sliceImageOf<T extends Labels>(voxelOrder: T): T {
  const o = app.vol!.orientation;
  const out = new (voxelOrder.constructor as new (n: number) => T)(voxelOrder.length);
  for (let b = 0; b < o.sliceCols; b++) for (let a = 0; a < o.sliceRows; a++) out[a * o.sliceCols + b] = voxelOrder[a + o.sliceRows * b];
  return out;
}

/** The session's labels of slice z as a slice image (row a, column b), or zeros; a stroke in progress drawn over them. */
export function labelImage(z: number): Labels {
  const o = app.vol!.orientation;
  if (!app.attached || !app.seg) return new Uint8Array(o.sliceRows * o.sliceCols);
  const labels = sliceImageOf(app.seg.sliceLabels(z));
  if (app.stroke && app.stroke.z === z) {
    // The active structure wins where painted; where erased it gives the voxel back to the background.
    const { mask, structure } = app.stroke;
    for (let n = 0; n < labels.length; n++) {
      if (mask.data[n]) labels[n] = structure;
      else if (labels[n] === structure) labels[n] = 0;
    }
  }
  return labels;
}

/** The active structure's mask of slice z as a slice image (0 / 1). */
export function activeMaskImage(z: number): Uint8Array {
  return sliceImageOf(app.seg!.sliceMask(z, { structure: ui.active }));
}

/** Colours of the structures shown. */
export function labelColours(): LabelColours {
  return new Map(ui.structures.filter((s) => s.visible).map((s) => [s.id, s.color]));
}

/** The session's structures into the page's state; the active one stays if it still exists. */
export function syncStructures(): void {
  if (!app.attached || !app.seg) {
    ui.structures = [];
    return;
  }
  const structures = app.seg.structures();
  // An id the session no longer has (undone, removed, imported over) is not hidden for the next structure given it.
  for (const id of hidden) if (!structures.some((s) => s.id === id)) hidden.delete(id);
  ui.structures = structures.map((s) => ({ ...s, visible: !hidden.has(s.id) }));
  if (!ui.structures.some((s) => s.id === ui.active)) ui.active = ui.structures[0]?.id ?? 1;
}

/** An edit of the active structure shows it: painting or segmenting a hidden one would look like erasing the others. */
export function showActive(): void {
  if (!hidden.delete(ui.active)) return;
  syncStructures();
}

const EMPTY_STATE: SliceState = { source: 'empty', quality: null, certainty: null };

/** The active structure's slice states (all empty before a session). */
export function activeStates(): SliceState[] {
  return app.attached && app.seg ? app.seg.states({ structure: ui.active }) : Array.from({ length: app.vol?.depth ?? 0 }, () => ({ ...EMPTY_STATE }));
}

export function activeName(): string {
  return ui.structures.find((s) => s.id === ui.active)?.name ?? `structure ${ui.active}`;
}

/** Each structure's slice states, by id. */
export function allStates(): Map<number, SliceState[]> {
  return new Map(app.attached && app.seg ? ui.structures.map((s) => [s.id, app.seg!.states({ structure: s.id })]) : []);
}

export function segmented(): boolean {
  return [...allStates().values()].some((states) => states.some((s) => s.source !== 'empty'));
}

/**
 * The slices holding voxels of each structure, recomputed only when the slices' states
 * change (render runs on every drag) or after a step that may change masks without
 * changing states (a slice segmented or painted again: maskEpoch).
 */
let labelled = { key: '', slices: new Map<number, Set<number>>() };
function slicesWithVoxels(): Map<number, Set<number>> {
  if (!app.attached || !app.seg || !app.vol) return new Map();
  const states = allStates();
  const key = `${app.maskEpoch}:${[...states].map(([id, ss]) => `${id}:${ss.map((s) => `${s.source}${s.quality}`).join()}`).join(';')}`;
  if (key !== labelled.key) {
    const slices = new Map(ui.structures.map((s) => [s.id, new Set<number>()]));
    for (let z = 0; z < app.vol.depth; z++) {
      if (![...states.values()].some((ss) => ss[z].source !== 'empty')) continue;
      for (const id of new Set(app.seg.sliceLabels(z))) if (id) slices.get(id)?.add(z);
    }
    labelled = { key, slices };
  }
  return labelled.slices;
}

/** Something is labelled: the label map has voxels to export. */
/** The session holds edits that opening another volume, changing the networks' input or leaving the page would drop. */
export function unsavedWork(): boolean {
  return !!app.seg && app.attached && (app.seg.canUndo() || segmented());
}

export function anyVoxels(): boolean {
  return [...slicesWithVoxels().values()].some((s) => s.size > 0);
}

/**
 * Something to propagate, as the session counts it: annotations since the last
 * propagation (the page's, the API's, undone and redone ones, or what a cancelled or
 * failed propagation left) with slices to compute.
 */
export function canPropagate(): boolean {
  return !!app.seg && !!app.vol && app.attached && app.seg.pendingSlices > 0;
}
