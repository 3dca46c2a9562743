// A conv written into a channel window of a wider output (ASPP/PSP concatenations):
// the window's values, after checking that every channel outside it kept its value.
import * as assert from 'uvu/assert';

export function channelWindow(
  got: ArrayLike<number>,
  before: ArrayLike<number>,
  { pixels, channels, offset, count, label }: { pixels: number; channels: number; offset: number; count: number; label: string },
): Float32Array {
  const window = new Float32Array(pixels * count);
  for (let p = 0; p < pixels; p++) {
    for (let ch = 0; ch < channels; ch++) {
      const v = got[p * channels + ch];
      if (ch >= offset && ch < offset + count) window[p * count + ch - offset] = v;
      else if (v !== before[p * channels + ch]) assert.unreachable(`${label}: pixel ${p} channel ${ch} changed`);
    }
  }
  return window;
}
