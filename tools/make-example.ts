// Writes the bundled example, examples/phantom/{image,mask}.nii.gz: a small phantom
// CT volume and its tumour mask from src/phantom/phantom.ts (EXAMPLE_PHANTOM). Run it
// after any change to the generator; test/example-phantom.test.ts fails until you do.
import { createVolume, diagonalAffine } from '../src/volume/volume.ts';
import { writeNifti } from '../src/volume/nifti-node.ts';
import { phantomVolume } from '../src/phantom/phantom.ts';
import { EXAMPLE_PHANTOM } from '../src/phantom/example.ts';

const { width, height, depth } = EXAMPLE_PHANTOM;
const v = phantomVolume(EXAMPLE_PHANTOM);
const spacing: [number, number, number] = [v.spacing.x, v.spacing.y, v.spacing.z];
const dir = new URL('../examples/phantom/', import.meta.url).pathname;
for (const [name, data] of [['image', v.image], ['mask', v.mask]] as const) {
  writeNifti(`${dir}${name}.nii.gz`, createVolume({ dims: [width, height, depth], data, spacing, affine: diagonalAffine(spacing), source: `${name}.nii.gz` }));
}
const perSlice = Array.from({ length: depth }, (_, z) => v.mask.subarray(z * width * height, (z + 1) * width * height).reduce((s, x) => s + x, 0));
console.log(`wrote ${dir}{image,mask}.nii.gz: ${width}x${height}x${depth}, tumour pixels per slice ${perSlice.join(' ')}`);
