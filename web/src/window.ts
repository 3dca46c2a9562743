// Display window/level: the percentile auto-window and the CT presets. Pure functions.
// The same presets can be handed to the networks (embed's loadVolume `intensity`
// option): what the display shows and what the networks see then agree.

export interface DisplayWindow {
  width: number;
  level: number;
}

/** Common CT windows (HU), as radiology workstations ship them. */
export const CT_PRESETS: Readonly<Record<string, DisplayWindow & { label: string }>> = {
  'soft-tissue': { label: 'Soft tissue (W 400, L 40)', width: 400, level: 40 },
  lung: { label: 'Lung (W 1500, L -600)', width: 1500, level: -600 },
  bone: { label: 'Bone (W 1800, L 400)', width: 1800, level: 400 },
  liver: { label: 'Liver (W 150, L 30)', width: 150, level: 30 },
};

/** At most this many voxels are read to find percentiles: enough for 0.1% precision on any volume. */
const SAMPLES = 1 << 20;

/**
 * The window spanning the lo..hi percentiles of the (scaled) voxel values: a few very
 * bright or dark voxels (metal, air outside the body, padding) no longer wash the image
 * out as a min..max window does. Non-finite values are left out.
 */
export function percentileWindow(data: ArrayLike<number>, slope = 1, inter = 0, lo = 0.5, hi = 99.5): DisplayWindow {
  if (!(0 <= lo && lo < hi && hi <= 100)) throw new RangeError(`percentileWindow: percentiles ${lo}..${hi} must satisfy 0 <= lo < hi <= 100`);
  const step = Math.max(1, Math.floor(data.length / SAMPLES));
  const values = new Float64Array(Math.ceil(data.length / step));
  let n = 0;
  for (let i = 0; i < data.length; i += step) {
    const v = data[i] * slope + inter;
    if (Number.isFinite(v)) values[n++] = v;
  }
  if (n === 0) return { width: 1, level: 0.5 };
  const sorted = values.subarray(0, n).sort();
  const at = (p: number) => sorted[Math.min(n - 1, Math.max(0, Math.round((p / 100) * (n - 1))))];
  let [low, high] = [at(lo), at(hi)];
  // A mostly constant image (e.g. a mask): fall back to the full range so something shows.
  if (!(high > low)) [low, high] = [sorted[0], sorted[n - 1]];
  return { width: Math.max(high - low, 1e-6), level: (low + high) / 2 };
}

/** Grey level 0..255 of a value under a window. */
export function windowed(value: number, w: DisplayWindow): number {
  return Math.min(255, Math.max(0, ((value - (w.level - w.width / 2)) * 255) / Math.max(w.width, 1e-6)));
}
