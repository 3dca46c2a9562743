// The bundled example is exactly what the generator produces for its parameters
// (regenerate with `npx tsx tools/make-example.ts` after changing the generator).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EXAMPLE_PHANTOM } from '../src/phantom/example.ts';
import { phantomVolume } from '../src/phantom/phantom.ts';
import { readNifti } from '../src/volume/nifti-node.ts';

const DIR = new URL('../examples/phantom/', import.meta.url).pathname;

test('examples/phantom holds the generator volume and mask, voxel for voxel', () => {
  const { width, height, depth } = EXAMPLE_PHANTOM;
  const v = phantomVolume(EXAMPLE_PHANTOM);
  for (const [name, expected] of [['image', v.image], ['mask', v.mask]] as const) {
    const file = readNifti(`${DIR}${name}.nii.gz`);
    assert.equal([...file.dims], [width, height, depth], `${name} dims`);
    assert.equal([file.slope, file.inter], [1, 0], `${name} scaling`);
    let differ = 0;
    for (let i = 0; i < expected.length; i++) if (file.data[i] !== expected[i]) differ++;
    assert.is(differ, 0, `${name}: ${differ} voxels differ from the generator (run tools/make-example.ts)`);
  }
});

test.run();
