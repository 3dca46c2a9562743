// The user's input: the tools (points, brush, eraser) and their strokes, the mouse on the
// slice, the keyboard, and the page's controls.
import { transposeImage, type VoxelPoint } from '../../src/volume/layout.ts';
import { $, app, fail, overlay, points, say, type Tool, ui, voxelUnder } from './app.ts';
import { BRUSH_RADIUS, paintStroke } from './brush.ts';
import { stripSliceAt, type OverlayStyle } from './draw.ts';
import { activeMaskImage, canPropagate, showActive, unsavedWork } from './labels.ts';
import { screenFromVoxel } from './orientation.ts';
import { pointNear } from './points.ts';
import { afterEdit, applyPreset, fitZoom, goTo, render, renderMarks, setWindow, setZoom, stripTip } from './render.ts';
import { acceptSlice, addStructure, cancel, exportLabelMap, importLabelMap, propagate, reconnect, segmentSlice, undoRedo } from './steps.ts';
import { attachSession, loadPhantom, openFile } from './volumes.ts';
import type { DisplayWindow } from './window.ts';

// ---- tools and strokes -------------------------------------------------------------

function setTool(tool: Tool): void {
  ui.tool = tool;
  app.selected = -1;
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
  if (!app.vol || !app.seg || !app.attached) return;
  if (app.deviceLost) return say('The GPU device was lost: press Reconnect GPU, then paint (your masks are kept).', ui.status, 'warn');
  const z = ui.slice;
  if (z < app.vol.first || z > app.vol.last) return say(`Slice ${z} is outside the session's slices ${app.vol.first}–${app.vol.last}: it cannot be painted.`, ui.status, 'warn');
  showActive();
  const o = app.vol.orientation;
  app.stroke = { z, structure: ui.active, value: ui.tool === 'brush' ? 1 : 0, mask: { rows: o.sliceRows, cols: o.sliceCols, data: activeMaskImage(z) }, last: p };
  paintStroke(app.stroke.mask, p, p, ui.brushRadius, app.stroke.value);
  render();
}

function continueStroke(p: VoxelPoint): void {
  if (!app.stroke) return;
  paintStroke(app.stroke.mask, app.stroke.last, p, ui.brushRadius, app.stroke.value);
  app.stroke.last = p;
  render();
}

/** The stroke's mask becomes the structure's hand-corrected annotation of the slice: one undoable step. */
function endStroke(): void {
  if (!app.stroke || !app.seg || !app.vol) return;
  const { z, structure, mask, value } = app.stroke;
  app.stroke = null;
  try {
    app.seg.setSliceMask(z, transposeImage(mask.data, mask.cols, mask.rows), { structure });
  } catch (e) {
    fail(e, `Painting slice ${z}`, 'ready');
    return render();
  }
  const name = ui.structures.find((s) => s.id === structure)?.name ?? String(structure);
  afterEdit(`${name}: slice ${z} ${value ? 'painted' : 'erased'} by hand; it is now an annotation. Propagate (Enter) carries it to the other slices; Ctrl+Z undoes the stroke.`);
}

// ---- mouse -----------------------------------------------------------------------

function markPositions(): { col: number; row: number }[] {
  return points.get(ui.slice).map(([a, b]) => {
    const s = screenFromVoxel(app.vol!.orientation, a, b);
    return { col: (s.col + 0.5) * app.scale.x, row: (s.row + 0.5) * app.scale.y };
  });
}

function canvasXY(e: MouseEvent): { x: number; y: number } {
  const r = $('slice').getBoundingClientRect();
  return { x: e.clientX - r.left, y: e.clientY - r.top };
}

export function wireCanvas(): void {
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
    if (!app.vol) return;
    const { x, y } = canvasXY(e);
    // The points are hidden while the brush or eraser is the tool: nothing to grab then.
    const near = ui.tool === 'points' ? pointNear(markPositions(), x, y, 9) : -1;
    if (e.button === 2) {
      if (near >= 0 && editable()) {
        points.remove(ui.slice, near);
        app.selected = -1;
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
      if (!app.seg || !app.attached) return say(app.seg ? 'Painting needs the volume in a session.' : 'Painting needs the networks loaded (WebGPU): the brush edits the session\'s masks.', ui.status, 'warn');
      return startStroke(p);
    }
    if (near >= 0) {
      app.selected = dragging = near;
      return renderMarks();
    }
    const p = voxelUnder(x, y);
    if (!p) return;
    if (!points.add(ui.slice, p)) {
      say(`Slice ${ui.slice} already has its four points: drag one to move it, or right-click it (or select it and press Delete) to remove it.`, ui.status, 'warn');
      return;
    }
    app.selected = points.get(ui.slice).length - 1;
    render();
  });
  canvas.addEventListener('mousemove', (e) => {
    if (!app.vol) return;
    if (ui.tool !== 'points') {
      const { x, y } = canvasXY(e);
      app.hoverVoxel = voxelUnder(x, y);
      if (app.stroke && app.hoverVoxel) continueStroke(app.hoverVoxel);
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
    app.hoverVoxel = null;
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

export function wireKeyboard(): void {
  document.addEventListener('keydown', (e) => {
    const help = $<HTMLDialogElement>('help');
    if (e.key === 'Escape') {
      if (app.running) {
        e.preventDefault();
        cancel();
      }
      return;
    }
    const target = e.target as HTMLElement;
    // A focused button, link or summary takes Enter and Space itself; handling them here too would run two actions.
    if ((e.key === 'Enter' || e.key === ' ') && ['BUTTON', 'A', 'SUMMARY'].includes(target.tagName)) return;
    // A focused slider other than the slice's (opacity, brush size) takes the arrow, page and home/end keys itself.
    if ((target as HTMLInputElement).type === 'range' && target.id !== 'z' && /^(Arrow|Page|Home$|End$)/.test(e.key)) return;
    if (help.open || (target.tagName === 'INPUT' && !['range', 'checkbox', 'radio'].includes((target as HTMLInputElement).type)) || target.tagName === 'SELECT') return;
    const ctrl = e.ctrlKey || e.metaKey;
    const keys: Record<string, () => void> = {
      ArrowUp: () => goTo(ui.slice + 1),
      ArrowDown: () => goTo(ui.slice - 1),
      PageUp: () => goTo(ui.slice + 10),
      PageDown: () => goTo(ui.slice - 10),
      Home: () => goTo(0),
      End: () => goTo((app.vol?.depth ?? 1) - 1),
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
  // Points are hidden while the brush or eraser is the tool: nothing the user can see is deleted.
  if (!list.length || ui.status === 'busy' || ui.tool !== 'points') return;
  points.remove(ui.slice, app.selected >= 0 && app.selected < list.length ? app.selected : list.length - 1);
  app.selected = -1;
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

export function wireControls(): void {
  $('z').addEventListener('input', (e) => goTo(Number((e.target as HTMLInputElement).value)));
  // A cleared or non-positive entry (Number('') is 0) puts the current value back instead of applying it.
  $('zoom').addEventListener('change', (e) => {
    const z = (e.target as HTMLInputElement).valueAsNumber;
    setZoom(z > 0 ? z : ui.zoom);
  });
  $('fit').addEventListener('click', () => fitZoom());
  window.addEventListener('resize', () => app.fitMode && fitZoom());
  for (const id of ['win', 'lev']) {
    $(id).addEventListener('change', () => {
      const [width, level] = [$<HTMLInputElement>('win').valueAsNumber, $<HTMLInputElement>('lev').valueAsNumber];
      const valid = width > 0 && Number.isFinite(level);
      setWindow(valid ? { width, level } : ui.window, valid ? 'custom' : $<HTMLSelectElement>('preset').value);
    });
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
    app.selected = -1;
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
  // Enter names a structure; on an empty field it adds nothing (a second Enter after adding one would add an unnamed one).
  $('newname').addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || ui.status === 'busy') return;
    if ((e.target as HTMLInputElement).value.trim()) addStructure();
    else say('Type a name for the new structure, or press Add structure for a numbered one.', ui.status, 'warn');
  });
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
    return stripSliceAt(strip, app.vol!.depth, ((e.clientX - r.left) / r.width) * strip.width);
  };
  strip.addEventListener('click', (e) => app.vol && goTo(stripSlice(e)));
  strip.addEventListener('mousemove', (e) => {
    if (!app.vol) return;
    app.hoverSlice = stripSlice(e);
    $('striptip').textContent = stripTip(app.hoverSlice);
    render();
  });
  strip.addEventListener('mouseleave', () => {
    app.hoverSlice = null;
    $('striptip').textContent = '';
    render();
  });
  $('file').addEventListener('change', (e) => {
    const input = e.target as HTMLInputElement;
    const f = input.files?.[0];
    // Cleared, so the same file picked again (after a refusal, or fixed on disk) opens.
    input.value = '';
    if (f) void openFile(f);
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
    if (f) await openFile(f);
  });
  // Leaving drops the session: the browser asks first while it holds edits.
  window.addEventListener('beforeunload', (e) => {
    if (unsavedWork()) e.preventDefault();
  });
}
