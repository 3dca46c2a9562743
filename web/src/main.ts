// The web viewer: wires the page's controls to the embedding API (../embed.ts).
// URL options: ?crop=N (2D network crop side, default 512), ?slices=a-b (session
// limited to those slices), ?phantom (load the bundled phantom at once).
import { createSegmenter, getSlice, type Point, type Segmenter, type VolumeInfo } from '../embed.ts';
import { drawSlice, drawStrip, stripSliceAt, type Marks } from './draw.ts';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const PHANTOM = 'examples/phantom/image.nii.gz';

/** What the page publishes for the end-to-end test (test/e2e/run.ts). */
export interface ViewerState {
  status: 'starting' | 'no-webgpu' | 'loading-weights' | 'ready' | 'busy' | 'error';
  message: string;
  weights?: { cachedFiles: number };
  volume?: { width: number; height: number; depth: number; first: number; last: number };
  slice: number;
  zoom: number;
  segmenter?: Segmenter;
  timings: Record<string, number>;
}
declare global {
  interface Window {
    __mem3d: ViewerState;
  }
}
const ui: ViewerState = { status: 'starting', message: '', slice: 0, zoom: Number($<HTMLInputElement>('zoom').value), timings: {} };
window.__mem3d = ui;

let seg: Segmenter | null = null;
let info: VolumeInfo | null = null;
let win = { width: 1, level: 0.5 };
const marks: Marks = { points: [], outside: [], strokes: [] };

function status(text: string, kind: ViewerState['status'] = ui.status, css = ''): void {
  ui.status = kind;
  ui.message = text;
  const el = $('status');
  el.textContent = text;
  el.className = css;
}

function fail(e: unknown): void {
  console.error(e);
  status(`Error: ${(e as Error).message ?? e}`, 'error', 'error');
}

function render(): void {
  if (!seg || !info) return;
  const z = ui.slice;
  drawSlice($<HTMLCanvasElement>('slice'), getSlice(info.volume, info.axis, z), seg.sliceMask(z), win, ui.zoom, marks);
  const recommended = seg.recommend();
  drawStrip($<HTMLCanvasElement>('strip'), seg.states(), z, recommended);
  $('ztext').textContent = `${z} / ${info.depth - 1} (${seg.states()[z].source})`;
  $('recommend').textContent = recommended === null ? '' : `Recommended next: slice ${recommended}`;
  $<HTMLButtonElement>('undo').disabled = !seg.canUndo() || ui.status === 'busy';
  $<HTMLButtonElement>('export').disabled = ui.status === 'busy';
  $<HTMLButtonElement>('segment').disabled = ui.status !== 'ready' || !tool().ready();
}

function goTo(z: number): void {
  if (!info) return;
  const clamped = Math.min(info.depth - 1, Math.max(0, Math.round(z)));
  if (clamped !== ui.slice) clearMarks();
  ui.slice = clamped;
  $<HTMLInputElement>('z').value = String(clamped);
  render();
}

function clearMarks(): void {
  marks.points = [];
  marks.outside = [];
  marks.strokes = [];
}

function autoWindow(): void {
  if (!info) return;
  let [lo, hi] = [Infinity, -Infinity];
  const { slope, inter, data } = info.volume;
  for (const v of data) [lo, hi] = [Math.min(lo, v * slope + inter), Math.max(hi, v * slope + inter)];
  win = { width: Math.max(hi - lo, 1e-6), level: (lo + hi) / 2 };
  $<HTMLInputElement>('win').value = String(+win.width.toPrecision(4));
  $<HTMLInputElement>('lev').value = String(+win.level.toPrecision(4));
}

function openVolume(bytes: ArrayBuffer, name: string): void {
  if (!seg) return status('The networks are not loaded yet.');
  try {
    const range = params.get('slices')?.split('-').map(Number) as [number, number] | undefined;
    info = seg.loadVolume(bytes, { name, slices: range });
    ui.volume = { width: info.width, height: info.height, depth: info.depth, first: info.first, last: info.last };
    const slider = $<HTMLInputElement>('z');
    slider.max = String(info.depth - 1);
    autoWindow();
    clearMarks();
    ui.slice = -1;
    goTo(Math.floor((info.first + info.last) / 2));
    status(`${name}: ${info.width}x${info.height}x${info.depth}${range ? `, session on slices ${info.first}..${info.last}` : ''}. Place four extreme points on the object.`, 'ready');
    render();
  } catch (e) {
    fail(e);
  }
}

// ---- tools ----------------------------------------------------------------------

function tool() {
  const kind = document.querySelector<HTMLInputElement>('input[name=tool]:checked')!.value;
  return {
    kind,
    ready: () => (kind === 'extreme' ? marks.points.length === 4 : marks.points.length + marks.strokes.length > 0),
  };
}

function pixelAt(e: MouseEvent): Point | null {
  if (!info) return null;
  const canvas = $<HTMLCanvasElement>('slice');
  const r = canvas.getBoundingClientRect();
  const x = Math.floor(((e.clientX - r.left) / r.width) * info.width);
  const y = Math.floor(((e.clientY - r.top) / r.height) * info.height);
  return x >= 0 && y >= 0 && x < info.width && y < info.height ? { x, y } : null;
}

async function segmentSlice(): Promise<void> {
  if (!seg || !info || ui.status !== 'ready') return;
  if (tool().kind !== 'extreme') {
    return status('Scribbles and inside/outside points need IOG weights trained for them; the bundled network only takes extreme points.', 'ready', 'warn');
  }
  const z = ui.slice;
  const prog = $<HTMLProgressElement>('prog');
  try {
    status(`Running the 2D network on slice ${z}…`, 'busy');
    render();
    let t0 = performance.now();
    await seg.annotate(z, marks.points);
    ui.timings.annotateMs = performance.now() - t0;
    clearMarks();
    render();
    prog.hidden = false;
    prog.value = 0;
    t0 = performance.now();
    await seg.propagate({
      onProgress: (p) => {
        prog.max = p.total;
        prog.value = p.done;
        status(`Propagating: ${p.done} / ${p.total} slices (last: ${p.slice})`, 'busy');
        render();
      },
    });
    ui.timings.propagateMs = performance.now() - t0;
    prog.hidden = true;
    status(`Slice ${z} segmented and propagated (2D ${(ui.timings.annotateMs / 1000).toFixed(1)} s, propagation ${(ui.timings.propagateMs / 1000).toFixed(1)} s).`, 'ready');
  } catch (e) {
    prog.hidden = true;
    fail(e);
  }
  render();
}

function wireCanvas(): void {
  const canvas = $<HTMLCanvasElement>('slice');
  let drawing: Point[] | null = null;
  let wlDrag: { x: number; y: number; win: typeof win } | null = null;
  canvas.addEventListener('contextmenu', (e) => e.preventDefault());
  canvas.addEventListener('mousedown', (e) => {
    if (e.button === 2) {
      wlDrag = { x: e.clientX, y: e.clientY, win: { ...win } };
      return;
    }
    const p = pixelAt(e);
    if (!p || ui.status !== 'ready') return;
    const kind = tool().kind;
    if (kind === 'extreme') marks.points = marks.points.length >= 4 ? [p] : [...marks.points, p];
    else if (kind === 'inout') (e.shiftKey ? marks.outside : marks.points).push(p);
    else marks.strokes.push((drawing = [p]));
    render();
  });
  canvas.addEventListener('mousemove', (e) => {
    if (wlDrag) {
      const scale = wlDrag.win.width / 200;
      win = { width: Math.max(1e-6, wlDrag.win.width + (e.clientX - wlDrag.x) * scale), level: wlDrag.win.level - (e.clientY - wlDrag.y) * scale };
      $<HTMLInputElement>('win').value = String(+win.width.toPrecision(4));
      $<HTMLInputElement>('lev').value = String(+win.level.toPrecision(4));
      render();
    } else if (drawing) {
      const p = pixelAt(e);
      if (p) drawing.push(p);
      render();
    }
  });
  window.addEventListener('mouseup', () => {
    drawing = null;
    wlDrag = null;
  });
  canvas.addEventListener('wheel', (e) => {
    e.preventDefault();
    if (e.ctrlKey) setZoom(ui.zoom + (e.deltaY < 0 ? 1 : -1));
    else goTo(ui.slice + Math.sign(e.deltaY));
  }, { passive: false });
}

function setZoom(z: number): void {
  ui.zoom = Math.min(12, Math.max(1, Math.round(z) || 1));
  $<HTMLInputElement>('zoom').value = String(ui.zoom);
  render();
}

function wireControls(): void {
  $('z').addEventListener('input', (e) => goTo(Number((e.target as HTMLInputElement).value)));
  $('zoom').addEventListener('change', (e) => setZoom(Number((e.target as HTMLInputElement).value)));
  for (const id of ['win', 'lev']) {
    $(id).addEventListener('change', () => {
      win = { width: Math.max(1e-6, Number($<HTMLInputElement>('win').value)), level: Number($<HTMLInputElement>('lev').value) };
      render();
    });
  }
  $('auto').addEventListener('click', () => {
    autoWindow();
    render();
  });
  document.querySelectorAll('input[name=tool]').forEach((r) => r.addEventListener('change', () => { clearMarks(); render(); }));
  $('clear').addEventListener('click', () => { clearMarks(); render(); });
  $('segment').addEventListener('click', () => void segmentSlice());
  $('undo').addEventListener('click', async () => {
    if (!seg || ui.status === 'busy') return;
    try {
      await seg.undo();
      status('Undone: the previous mask and annotations are back (the next propagation re-runs from every annotated slice).', 'ready');
    } catch (e) {
      fail(e);
    }
    render();
  });
  $('export').addEventListener('click', () => {
    if (!seg || !info) return;
    const a = $<HTMLAnchorElement>('download');
    URL.revokeObjectURL(a.href);
    a.href = URL.createObjectURL(new Blob([seg.exportNifti() as Uint8Array<ArrayBuffer>], { type: 'application/gzip' }));
    a.download = `${info.volume.source.replace(/\.nii(\.gz)?$/, '')}_mask.nii.gz`;
    a.textContent = a.download;
    a.hidden = false;
    a.click();
  });
  $<HTMLCanvasElement>('strip').addEventListener('click', (e) => {
    if (!info) return;
    const canvas = e.currentTarget as HTMLCanvasElement;
    const r = canvas.getBoundingClientRect();
    goTo(stripSliceAt(canvas, info.depth, ((e.clientX - r.left) / r.width) * canvas.width));
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

async function loadPhantom(): Promise<void> {
  try {
    const res = await fetch(PHANTOM);
    if (!res.ok) throw new Error(`fetching ${PHANTOM}: HTTP ${res.status}`);
    openVolume(await res.arrayBuffer(), 'phantom.nii.gz');
  } catch (e) {
    fail(e);
  }
}

async function main(): Promise<void> {
  wireControls();
  wireCanvas();
  const gpu = $('gpu');
  if (!('gpu' in navigator) || !navigator.gpu) {
    gpu.textContent = 'WebGPU is not available in this browser (navigator.gpu is missing): use a recent Chrome or Edge, or Firefox/Safari with WebGPU enabled, over https or localhost.';
    gpu.className = 'error';
    return status('No WebGPU: nothing can run.', 'no-webgpu', 'error');
  }
  status('Loading the networks…', 'loading-weights');
  const bar = $<HTMLProgressElement>('wprog');
  let cachedFiles = 0;
  try {
    seg = await createSegmenter({
      weightsBaseUrl: new URL('weights/', location.href).href,
      cropSize: Number(params.get('crop') ?? 512),
      onProgress: (p) => {
        bar.max = Math.max(p.total, 1);
        bar.value = p.loaded;
        cachedFiles = Math.max(cachedFiles, p.cached);
        $('wtext').textContent = `Weights (${p.stage}): ${(p.loaded / 1e6).toFixed(1)} / ${(p.total / 1e6).toFixed(1)} MB${p.cached ? `, ${p.cached} file(s) from the browser cache` : ''}`;
      },
    });
  } catch (e) {
    const noAdapter = (e as Error).name === 'NoAdapterError';
    gpu.textContent = noAdapter ? `WebGPU is present but no adapter was found: ${(e as Error).message}` : gpu.textContent;
    gpu.className = noAdapter ? 'error' : '';
    return noAdapter ? status('No WebGPU adapter: nothing can run.', 'no-webgpu', 'error') : fail(e);
  }
  ui.segmenter = seg;
  ui.weights = { cachedFiles };
  gpu.textContent = `WebGPU adapter: ${seg.adapter}. 2D network crop ${seg.cropSize}x${seg.cropSize}.`;
  $('wtext').textContent += ' (loaded)';
  status('Ready: open a NIfTI volume or the bundled phantom.', 'ready');
  if (params.has('phantom')) await loadPhantom();
}

void main();
