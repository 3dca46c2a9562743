// Writes held-out phantom volumes as a Mem3D PNG-slice dataset for `mem3d eval` (the
// paper-style table of issue 10: mean volume Dice per round and strategy):
//   npx tsx tools/make-phantom-dataset.ts --out data/phantom-heldout [--first 100] [--count 8] [--size 128] [--depth 20]
//   npx mem3d eval data/phantom-heldout --strategy all --rounds 6 --out eval-heldout
// Seeds 100..139 are the phantom QAMN's held-out seeds (weights/qamn-phantom/README.md; it
// trained on 10000..11499). Volumes are stored as the bundled example is (voxel (x, y, z) =
// generator pixel (x, y) of slice z), slices raw 8-bit, case names phantom-<seed>, split test.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { phantomVolume } from '../src/phantom/phantom.ts';
import { readPngCase, writeCaseList, writePngCase } from '../src/volume/png-dataset-node.ts';
import { createVolume, diagonalAffine } from '../src/volume/volume.ts';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    first: { type: 'string', default: '100' },
    count: { type: 'string', default: '8' },
    size: { type: 'string', default: '128' },
    depth: { type: 'string', default: '20' },
  },
});
const int = (name: string, v: string, min: number) => {
  if (!/^\d+$/.test(v) || Number(v) < min) throw new Error(`--${name} must be an integer >= ${min}, got '${v}'`);
  return Number(v);
};
if (!values.out) throw new Error('--out DIR is required');
if (existsSync(values.out)) throw new Error(`${values.out} exists: refusing to write into it`);
const [first, count, size, depth] = [int('first', values.first!, 0), int('count', values.count!, 1), int('size', values.size!, 32), int('depth', values.depth!, 3)];

// The 8-bit grey as generated: the window [0, 255] maps every value to itself (checked below).
const RAW_8_BIT = { kind: 'window', level: 127.5, width: 255 } as const;

const names: string[] = [];
for (let seed = first; seed < first + count; seed++) {
  const v = phantomVolume({ seed, width: size, height: size, depth });
  const spacing: [number, number, number] = [v.spacing.x, v.spacing.y, v.spacing.z];
  const volume = (data: Uint8Array, what: string) => createVolume({ dims: [size, size, depth], data, spacing, affine: diagonalAffine(spacing), source: `phantom ${seed} ${what}` });
  const name = `phantom-${seed}`;
  writePngCase(values.out, name, { image: volume(v.image, 'image'), mask: volume(v.mask, 'mask') }, { mapping: RAW_8_BIT });
  const back = readPngCase(values.out, name);
  if (back.image.data.some((x, i) => x !== v.image[i]) || back.mask!.data.some((x, i) => (x ? 1 : 0) !== v.mask[i])) throw new Error(`${name}: the PNG slices do not read back as the generator's voxels`);
  names.push(name);
  console.log(`${name}: ${size}x${size}x${depth}, tumour on ${Array.from({ length: depth }, (_, z) => v.mask.subarray(z * size * size, (z + 1) * size * size).some((x) => x > 0)).filter(Boolean).length} slices`);
}
writeCaseList(values.out, 'test', names);
console.log(`wrote ${values.out}: ${names.length} cases (split test)`);
