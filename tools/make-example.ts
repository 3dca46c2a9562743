// Writes the bundled examples from the phantom generators (run it after any change to
// them; test/example-phantom.test.ts and test/phantom-structures.test.ts fail until you do):
//   examples/phantom/{image,mask}.nii.gz: a small phantom CT volume and its tumour mask
//     (src/phantom/phantom.ts, EXAMPLE_PHANTOM);
//   examples/phantom-organ/{image,labels}.nii.gz + labels.json: an organ with a lesion
//     inside it as a label map with its sidecar (src/phantom/organ.ts, EXAMPLE_ORGAN_PHANTOM),
//     for several structures in the viewer and `mem3d segment --labels`.
import { mkdirSync } from 'node:fs';
import { createVolume, diagonalAffine } from '../src/volume/volume.ts';
import { writeNifti } from '../src/volume/nifti-node.ts';
import { writeLabelMap } from '../src/volume/label-map-node.ts';
import { defaultColor } from '../src/session/structures.ts';
import { phantomVolume } from '../src/phantom/phantom.ts';
import { phantomOrganVolume } from '../src/phantom/organ.ts';
import { EXAMPLE_ORGAN_PHANTOM, EXAMPLE_PHANTOM } from '../src/phantom/example.ts';

const perSlice = (mask: Uint8Array, plane: number, depth: number, id: number) =>
  Array.from({ length: depth }, (_, z) => mask.subarray(z * plane, (z + 1) * plane).reduce((s, x) => s + (x === id ? 1 : 0), 0));

{
  const { width, height, depth } = EXAMPLE_PHANTOM;
  const v = phantomVolume(EXAMPLE_PHANTOM);
  const spacing: [number, number, number] = [v.spacing.x, v.spacing.y, v.spacing.z];
  const dir = new URL('../examples/phantom/', import.meta.url).pathname;
  for (const [name, data] of [['image', v.image], ['mask', v.mask]] as const) {
    writeNifti(`${dir}${name}.nii.gz`, createVolume({ dims: [width, height, depth], data, spacing, affine: diagonalAffine(spacing), source: `${name}.nii.gz` }));
  }
  console.log(`wrote ${dir}{image,mask}.nii.gz: ${width}x${height}x${depth}, tumour pixels per slice ${perSlice(v.mask, width * height, depth, 1).join(' ')}`);
}

{
  const { width, height, depth } = EXAMPLE_ORGAN_PHANTOM;
  const v = phantomOrganVolume(EXAMPLE_ORGAN_PHANTOM);
  const spacing: [number, number, number] = [v.spacing.x, v.spacing.y, v.spacing.z];
  const dir = new URL('../examples/phantom-organ/', import.meta.url).pathname;
  mkdirSync(dir, { recursive: true });
  const image = createVolume({ dims: [width, height, depth], data: v.image, spacing, affine: diagonalAffine(spacing), source: `${dir}image.nii.gz` });
  writeNifti(image.source, image);
  writeLabelMap(`${dir}labels.nii.gz`, v.labels, image, v.structures.map((s) => ({ ...s, color: defaultColor(s.id) })), { inputs: [], overwrite: true });
  const counts = v.structures.map((s) => `${s.name} ${perSlice(v.labels, width * height, depth, s.id).join(' ')}`);
  console.log(`wrote ${dir}{image,labels}.nii.gz and labels.json: ${width}x${height}x${depth}, pixels per slice: ${counts.join('; ')}`);
}
