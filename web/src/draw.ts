// Canvas drawing of the viewer: the slice with its label overlay (one colour per
// structure), the point marks and the brush outline (a separate canvas over the slice,
// so marks never change the image's pixels), and the
// per-slice quality strip with its slice axis. Pure functions of what they are given.
import type { Rgb, SliceState } from '../embed.ts';
import { windowed, type DisplayWindow } from './window.ts';

/** The labels to draw (a structure hidden in the viewer is absent) and their colours. */
export type LabelColours = ReadonlyMap<number, Rgb>;

export type OverlayMode = 'fill' | 'outline' | 'fill+outline';

export interface OverlayStyle {
  mode: OverlayMode;
  /** 0..1, the fill's blend toward the label's colour; the outline is always opaque. */
  opacity: number;
  visible: boolean;
}

/** A slice as the screen shows it: width x height, row-major, already reoriented. */
export interface ScreenImage {
  width: number;
  height: number;
  data: Float32Array;
  /** The structure id per screen pixel, 0 = background. */
  labels: Uint8Array | Uint16Array;
}

/** Canvas pixels per screen pixel along x and y: zoom times the voxel's aspect. */
export interface Scale {
  x: number;
  y: number;
}

/** A pixel on its label's border: a 4-neighbour has another label or lies outside the slice. */
function isEdge(labels: Uint8Array | Uint16Array, width: number, height: number, col: number, row: number): boolean {
  const label = labels[row * width + col];
  const same = (c: number, r: number) => c >= 0 && r >= 0 && c < width && r < height && labels[r * width + c] === label;
  return !same(col - 1, row) || !same(col + 1, row) || !same(col, row - 1) || !same(col, row + 1);
}

export function drawSlice(canvas: HTMLCanvasElement, image: ScreenImage, win: DisplayWindow, scale: Scale, overlay: OverlayStyle, colours: LabelColours): void {
  const { width, height, data, labels } = image;
  const pixels = new ImageData(width, height);
  const fill = overlay.visible && overlay.mode !== 'outline' ? overlay.opacity : 0;
  const outline = overlay.visible && overlay.mode !== 'fill';
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      const i = row * width + col;
      const g = windowed(data[i], win);
      const o = i * 4;
      const rgb = labels[i] ? colours.get(labels[i]) : undefined;
      const alpha = !rgb ? 0 : outline && isEdge(labels, width, height, col, row) ? 1 : fill;
      for (let c = 0; c < 3; c++) pixels.data[o + c] = Math.round(g * (1 - alpha) + (rgb ? rgb[c] : 0) * alpha);
      pixels.data[o + 3] = 255;
    }
  }
  canvas.width = Math.max(1, Math.round(width * scale.x));
  canvas.height = Math.max(1, Math.round(height * scale.y));
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const native = new OffscreenCanvas(width, height);
  native.getContext('2d')!.putImageData(pixels, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(native, 0, 0, canvas.width, canvas.height);
}

/** A point to mark, in screen pixels (col, row), numbered from 1. */
export interface Mark {
  col: number;
  row: number;
  selected: boolean;
}

/** The brush's outline under the mouse: an ellipse in canvas pixels (round in voxels). */
export interface BrushOutline {
  x: number;
  y: number;
  rx: number;
  ry: number;
}

export function drawMarks(canvas: HTMLCanvasElement, size: { width: number; height: number }, marks: Mark[], brush: BrushOutline | null = null): void {
  canvas.width = size.width;
  canvas.height = size.height;
  const ctx = canvas.getContext('2d')!;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const sx = size.width / Math.max(1, canvas.clientWidth || size.width);
  if (brush) {
    ctx.beginPath();
    ctx.ellipse(brush.x, brush.y, brush.rx, brush.ry, 0, 0, 2 * Math.PI);
    ctx.lineWidth = sx;
    ctx.strokeStyle = '#ff0';
    ctx.stroke();
  }
  const radius = 6 * sx;
  ctx.font = `bold ${Math.round(11 * sx)}px system-ui, sans-serif`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  marks.forEach((m, i) => {
    ctx.beginPath();
    ctx.arc(m.col, m.row, radius, 0, 2 * Math.PI);
    ctx.fillStyle = m.selected ? '#ff0' : '#0d0';
    ctx.fill();
    ctx.lineWidth = 1.5 * sx;
    ctx.strokeStyle = '#000';
    ctx.stroke();
    ctx.fillStyle = '#000';
    ctx.fillText(String(i + 1), m.col, m.row + 0.5);
  });
}

export const STRIP_COLOURS = { propagated: '#47c', annotated: '#2a2', locked: '#076', recommended: '#e80', current: '#000', outside: '#ddd', pending: '#eee' } as const;
const PAD = 4;

/** Bar geometry of slice z in the strip: the tests read the canvas back with it. */
export function stripBar(canvas: { width: number; height: number }, depth: number, z: number, quality: number): { x0: number; x1: number; top: number; bottom: number } {
  const w = (canvas.width - 2 * PAD) / depth;
  const bottom = canvas.height - PAD;
  return { x0: Math.round(PAD + z * w), x1: Math.round(PAD + (z + 1) * w) - 1, top: Math.round(bottom - quality * (bottom - PAD)), bottom };
}

/**
 * Bars: quality of each segmented slice (green annotated, dark green accepted (locked),
 * blue propagated, orange the recommended one). Slices outside the session are hatched grey; a tick under the
 * current slice; a light band on the hovered one.
 */
export function drawStrip(canvas: HTMLCanvasElement, states: SliceState[], current: number, recommended: number | null, session: { first: number; last: number }, hover: number | null): void {
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const depth = states.length;
  states.forEach((s, z) => {
    const full = stripBar(canvas, depth, z, 1);
    if (z < session.first || z > session.last) {
      ctx.fillStyle = STRIP_COLOURS.outside;
      for (let x = full.x0; x <= full.x1; x++) for (let y = full.top + ((x * 3) % 6); y < full.bottom; y += 6) ctx.fillRect(x, y, 1, 3);
      return;
    }
    if (z === hover) {
      ctx.fillStyle = STRIP_COLOURS.pending;
      ctx.fillRect(full.x0, full.top, full.x1 - full.x0 + 1, full.bottom - full.top);
    }
    if (s.quality === null) return;
    const b = stripBar(canvas, depth, z, s.quality);
    ctx.fillStyle = z === recommended ? STRIP_COLOURS.recommended : s.source === 'empty' ? STRIP_COLOURS.pending : STRIP_COLOURS[s.source];
    ctx.fillRect(b.x0, b.top, b.x1 - b.x0 + 1, b.bottom - b.top);
  });
  const c = stripBar(canvas, depth, current, 0);
  ctx.fillStyle = STRIP_COLOURS.current;
  ctx.fillRect(c.x0, canvas.height - PAD + 1, c.x1 - c.x0 + 1, PAD - 1);
}

/** Slice numbers under the strip: first, last, current and a few round numbers between. */
export function drawStripAxis(canvas: HTMLCanvasElement, strip: { width: number }, depth: number, current: number): void {
  const ctx = canvas.getContext('2d')!;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.font = '11px system-ui, sans-serif';
  ctx.textBaseline = 'top';
  ctx.textAlign = 'center';
  const centre = (z: number) => {
    const b = stripBar({ width: strip.width, height: 10 }, depth, z, 0);
    return (b.x0 + b.x1 + 1) / 2;
  };
  const every = [1, 2, 5, 10, 20, 50, 100, 200, 500].find((e) => depth / e <= 8) ?? 1000;
  ctx.fillStyle = '#666';
  ctx.fillRect(PAD, 0, strip.width - 2 * PAD, 1);
  let lastRight = -Infinity;
  const label = (z: number, bold: boolean) => {
    const x = centre(z);
    const w = ctx.measureText(String(z)).width;
    if (!bold && (x - w / 2 < lastRight + 4 || Math.abs(x - centre(current)) < w + 4)) return;
    ctx.fillStyle = bold ? '#000' : '#666';
    ctx.font = `${bold ? 'bold ' : ''}11px system-ui, sans-serif`;
    ctx.fillRect(Math.round(x), 0, 1, 4);
    ctx.fillText(String(z), x, 5);
    if (!bold) lastRight = x + w / 2;
  };
  for (let z = 0; z < depth; z += every) label(z, false);
  if ((depth - 1) % every !== 0) label(depth - 1, false);
  label(current, true);
}

/** The slice under strip pixel column x. */
export function stripSliceAt(canvas: { width: number }, depth: number, x: number): number {
  return Math.min(depth - 1, Math.max(0, Math.floor(((x - PAD) / (canvas.width - 2 * PAD)) * depth)));
}
