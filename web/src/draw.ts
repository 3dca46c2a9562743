// Canvas drawing of the viewer: the slice with its mask overlay and marks, and the
// per-slice quality strip. Pure functions of what they are given.
import type { Point, SliceState } from '../embed.ts';

/** Mask pixels are blended half-way to this colour: red minus green is then ~97 on any grey. */
export const OVERLAY_RGB = [255, 60, 60] as const;
const ALPHA = 0.5;

export interface Marks {
  points: Point[];
  /** Inside / outside clicks of that tool (drawn only: the bundled network takes extreme points). */
  outside: Point[];
  strokes: Point[][];
}

export function drawSlice(canvas: HTMLCanvasElement, image: { width: number; height: number; data: Float32Array }, mask: Uint8Array, win: { width: number; level: number }, zoom: number, marks: Marks): void {
  const { width, height, data } = image;
  const pixels = new ImageData(width, height);
  const low = win.level - win.width / 2;
  const scale = 255 / Math.max(win.width, 1e-6);
  for (let i = 0; i < width * height; i++) {
    const g = Math.min(255, Math.max(0, (data[i] - low) * scale));
    const o = i * 4;
    if (mask[i]) for (let c = 0; c < 3; c++) pixels.data[o + c] = Math.round(g * (1 - ALPHA) + OVERLAY_RGB[c] * ALPHA);
    else pixels.data[o] = pixels.data[o + 1] = pixels.data[o + 2] = Math.round(g);
    pixels.data[o + 3] = 255;
  }
  canvas.width = width * zoom;
  canvas.height = height * zoom;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const native = new OffscreenCanvas(width, height);
  native.getContext('2d')!.putImageData(pixels, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(native, 0, 0, width * zoom, height * zoom);
  const at = (p: Point) => [(p.x + 0.5) * zoom, (p.y + 0.5) * zoom] as const;
  const dot = (p: Point, colour: string) => {
    ctx.fillStyle = colour;
    ctx.beginPath();
    ctx.arc(...at(p), Math.max(3, zoom), 0, 2 * Math.PI);
    ctx.fill();
  };
  for (const p of marks.points) dot(p, '#0f0');
  for (const p of marks.outside) dot(p, '#f0f');
  ctx.strokeStyle = '#0ff';
  ctx.lineWidth = Math.max(2, zoom / 2);
  for (const s of marks.strokes) {
    ctx.beginPath();
    s.forEach((p, i) => (i ? ctx.lineTo(...at(p)) : ctx.moveTo(...at(p))));
    ctx.stroke();
  }
}

export const STRIP_COLOURS = { propagated: '#47c', annotated: '#2a2', recommended: '#e80', current: '#000' } as const;
const PAD = 4;

/** Bar geometry of slice z in the strip: the test reads the canvas back with it. */
export function stripBar(canvas: { width: number; height: number }, depth: number, z: number, quality: number): { x0: number; x1: number; top: number; bottom: number } {
  const w = (canvas.width - 2 * PAD) / depth;
  const bottom = canvas.height - PAD;
  return { x0: Math.round(PAD + z * w), x1: Math.round(PAD + (z + 1) * w) - 1, top: Math.round(bottom - quality * (bottom - PAD)), bottom };
}

export function drawStrip(canvas: HTMLCanvasElement, states: SliceState[], current: number, recommended: number | null): void {
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  states.forEach((s, z) => {
    if (s.quality === null) return;
    const b = stripBar(canvas, states.length, z, s.quality);
    ctx.fillStyle = z === recommended ? STRIP_COLOURS.recommended : s.source === 'annotated' ? STRIP_COLOURS.annotated : STRIP_COLOURS.propagated;
    ctx.fillRect(b.x0, b.top, b.x1 - b.x0 + 1, b.bottom - b.top);
  });
  const c = stripBar(canvas, states.length, current, 0);
  ctx.fillStyle = STRIP_COLOURS.current;
  ctx.fillRect(c.x0, canvas.height - PAD + 1, c.x1 - c.x0 + 1, PAD - 1);
}

/** The slice under strip pixel column x. */
export function stripSliceAt(canvas: { width: number }, depth: number, x: number): number {
  return Math.min(depth - 1, Math.max(0, Math.floor(((x - PAD) / (canvas.width - 2 * PAD)) * depth)));
}
