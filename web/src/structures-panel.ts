// The viewer's structure list: one row per structure with a radio to make it the
// active one (what Segment, the brush and Accept act on), its colour swatch and name,
// a visibility toggle (a viewer concern: the session knows nothing of it), a remove
// button and its own quality strip. Rows are rebuilt only when the structures change;
// selection and visibility are set in place and the strips redrawn on every render, so a
// control being clicked is never replaced under the pointer.
import type { Rgb, SliceState } from '../embed.ts';
import { drawStrip } from './draw.ts';

export interface StructureRow {
  id: number;
  name: string;
  color: Rgb;
  visible: boolean;
  active: boolean;
  states: SliceState[];
  recommended: number | null;
}

export interface StructureActions {
  select(id: number): void;
  setVisible(id: number, visible: boolean): void;
  remove(id: number): void;
}

const css = (c: Rgb) => `rgb(${c[0]}, ${c[1]}, ${c[2]})`;

export function renderStructureList(list: HTMLElement, rows: readonly StructureRow[], actions: StructureActions, view: { first: number; last: number; current: number; locked: boolean }): void {
  const key = JSON.stringify([rows.map((r) => [r.id, r.name, r.color]), view.locked]);
  if (list.dataset.key !== key) {
    list.dataset.key = key;
    list.replaceChildren(...rows.map((r) => row(r, actions, rows.length > 1 && !view.locked, view.locked)));
  }
  rows.forEach((r, n) => {
    const li = list.children[n] as HTMLLIElement;
    li.className = r.active ? 'structure active' : 'structure';
    li.querySelector<HTMLInputElement>('input[type=radio]')!.checked = r.active;
    li.querySelector<HTMLInputElement>('input.visible')!.checked = r.visible;
    drawStrip(li.querySelector('canvas')!, r.states, view.current, r.recommended, view, null);
  });
}

function row(r: StructureRow, actions: StructureActions, removable: boolean, locked: boolean): HTMLLIElement {
  const li = document.createElement('li');
  li.dataset.id = String(r.id);
  const pick = document.createElement('label');
  pick.title = 'Make it the active structure: Segment, the brush, the eraser and Accept act on it';
  const radio = Object.assign(document.createElement('input'), { type: 'radio', name: 'active', value: String(r.id), disabled: locked });
  radio.addEventListener('change', () => actions.select(r.id));
  const swatch = Object.assign(document.createElement('span'), { className: 'swatch' });
  swatch.style.background = css(r.color);
  const name = Object.assign(document.createElement('span'), { className: 'name', textContent: `${r.id}. ${r.name}` });
  pick.append(radio, swatch, name);
  const show = document.createElement('label');
  show.title = 'Show or hide this structure on the slice';
  const box = Object.assign(document.createElement('input'), { type: 'checkbox', className: 'visible' });
  box.addEventListener('change', () => actions.setVisible(r.id, box.checked));
  show.append(box, ' show');
  const remove = Object.assign(document.createElement('button'), { className: 'remove', textContent: 'Remove', disabled: !removable });
  remove.title = removable ? `Remove ${r.name} and its voxels (undo brings it back)` : locked ? 'Wait for the running step' : 'The last structure stays';
  remove.addEventListener('click', () => actions.remove(r.id));
  const strip = Object.assign(document.createElement('canvas'), { className: 'ministrip', width: 340, height: 26 });
  strip.title = `Quality per slice of ${r.name}`;
  li.append(pick, show, remove, strip);
  return li;
}
