// The bundled example, examples/phantom/{image,mask}.nii.gz: the generator's volume for
// these parameters, stored voxel (x, y, z) = generator pixel (x, y) of slice z.
// tools/make-example.ts writes it; test/example-phantom.test.ts pins it to the generator.
export const EXAMPLE_PHANTOM = { seed: 7, width: 128, height: 128, depth: 10 } as const;
