// The bundled example, examples/phantom/{image,mask}.nii.gz: the generator's volume for
// these parameters, stored voxel (x, y, z) = generator pixel (x, y) of slice z.
// tools/make-example.ts writes it; test/example-phantom.test.ts pins it to the generator.
export const EXAMPLE_PHANTOM = { seed: 7, width: 128, height: 128, depth: 10 } as const;
// The two-structure example, examples/phantom-organ/{image,labels}.nii.gz + labels.json:
// phantomOrganVolume (src/phantom/organ.ts) for these parameters, stored the same way;
// its lesion is on slices 2..7. Written by tools/make-example.ts, pinned by test/phantom-structures.test.ts.
export const EXAMPLE_ORGAN_PHANTOM = { seed: 9, width: 128, height: 128, depth: 10 } as const;
