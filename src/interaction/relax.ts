// The context around a person's marks that the 2D crop keeps (the "relax", slice
// pixels on every side). The original's values (DEXTR's 50 px for extreme points and
// scribbles, IOG's 30 px for inside-outside) are for the 512x512 slices its networks
// were trained on, as are the shipped phantom IOG's (weights/iog-phantom/README.md).
// On a smaller frame the same pixel count is more context relative to the anatomy, and
// the object shrinks to a speck of the 512 network input, outside what the network saw
// in training: on held-out 128x128 phantom slices the shipped IOG's 2D Dice was 0.22 /
// 0.30 / 0.27 / 0.66 with 50 px and 0.78 / 0.82 / 0.86 / 0.91 with 13 px (tumours of 38,
// 42, 29 and 170 pixels; issue 10, bench/iog-relax.ts). So the relax is
// scaled with the frame: relax at 512 x side / 512, side = sqrt(width x height) (the
// side of the square of the same area), rounded; a 512x512 slice keeps the original's.
export const TRAINED_FRAME_SIDE = 512;

/** The crop relax for a width x height slice: `relaxAt512` (the original's, in pixels of a 512x512 slice) scaled with the frame. */
export function frameRelax(relaxAt512: number, width: number, height: number): number {
  if (!(relaxAt512 >= 0 && width > 0 && height > 0)) throw new RangeError(`frameRelax: needs relax >= 0 and a positive frame, got relax ${relaxAt512} on ${width}x${height}`);
  return Math.round((relaxAt512 * Math.sqrt(width * height)) / TRAINED_FRAME_SIDE);
}
