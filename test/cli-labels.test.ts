// `mem3d segment --object NAME:SLICE:POINTS ... / --labels` in process: label maps and
// their sidecars from scripted networks (no weights), and every refusal before the
// GPU with nothing written. The scripted 2D network thresholds the slice inside the
// box of the extreme points it gets; the scripted memory network thresholds the frame
// inside the (slightly grown) box of the masks each object memorized, so two objects
// far apart propagate independently and the expected label map is the scene itself,
// worked out here from voxel coordinates.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mem3d, refused } from './_lib/cli-run.ts';
import type { Networks } from '../src/cli/networks.ts';
import { segmentCommand } from '../src/cli/segment.ts';
import type { MemorySlot, SliceMemoryNetwork } from '../src/session/memory.ts';
import type { SliceImage, SliceSegmenter } from '../src/session/slice-segmenter.ts';
import { defaultColor } from '../src/session/structures.ts';
import { defaultLabel, labelSidecarPath } from '../src/volume/label-map.ts';
import { readLabelMap, writeLabelMap } from '../src/volume/label-map-node.ts';
import { serializeNifti } from '../src/volume/nifti.ts';
import { readNifti } from '../src/volume/nifti-node.ts';
import { createVolume, type Vec3 } from '../src/volume/volume.ts';

const DIMS: Vec3 = [40, 32, 6];
type Box = readonly [readonly [number, number], readonly [number, number], readonly [number, number]];
/** Half-open voxel ranges along i, j, k: an organ on every slice and a lesion far from it on slices 1..4. */
const ORGAN: Box = [[4, 14], [4, 12], [0, 6]];
const LESION: Box = [[22, 34], [16, 28], [1, 5]];
const ORGAN_POINTS = (k: number) => `organ:${k}:4,8;13,8;9,4;9,11`;
const LESION_POINTS = (k: number) => `lesion:${k}:22,20;33,20;28,16;28,27`;

const inBox = (b: Box, i: number, j: number, k: number) => i >= b[0][0] && i < b[0][1] && j >= b[1][0] && j < b[1][1] && k >= b[2][0] && k < b[2][1];

/** The scene's ids per voxel (file order): 1 organ, 2 lesion. */
function sceneLabels(organ = 1, lesion = 2): number[] {
  const out: number[] = [];
  for (let k = 0; k < DIMS[2]; k++) for (let j = 0; j < DIMS[1]; j++) for (let i = 0; i < DIMS[0]; i++) out.push(inBox(ORGAN, i, j, k) ? organ : inBox(LESION, i, j, k) ? lesion : 0);
  return out;
}

function writeVolume(dir: string): string {
  const path = join(dir, 'ct.nii.gz');
  const grey = Uint8Array.from(sceneLabels(), (v, n) => (v ? 200 : 20 + (n % 5)));
  const affine = [[-0.8, 0, 0, 30], [0, -0.8, 0, 20], [0, 0, 2.5, -10], [0, 0, 0, 1]] as const;
  writeFileSync(path, serializeNifti(createVolume({ dims: DIMS, data: grey, spacing: [0.8, 0.8, 2.5], affine, source: path }), { gzip: true }));
  return path;
}

/** Bright pixels inside a box (inclusive bounds, clipped to the image). */
function threshold(img: SliceImage, box: { x0: number; x1: number; y0: number; y1: number }): Float32Array {
  const out = new Float32Array(img.width * img.height);
  for (let y = Math.max(0, box.y0); y <= Math.min(img.height - 1, box.y1); y++) {
    for (let x = Math.max(0, box.x0); x <= Math.min(img.width - 1, box.x1); x++) out[y * img.width + x] = img.data[y * img.width + x] > 128 ? 1 : 0;
  }
  return out;
}

interface Slot extends MemorySlot {
  box: { x0: number; x1: number; y0: number; y1: number } | null;
}

/** The box of a mask's pixels grown by 2, or null for an empty mask. */
function boxOf(mask: Float32Array, width: number): Slot['box'] {
  let x0 = Infinity, x1 = -1, y0 = Infinity, y1 = -1;
  mask.forEach((v, n) => {
    if (v > 0.5) {
      const x = n % width, y = Math.floor(n / width);
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    }
  });
  return x1 < 0 ? null : { x0: x0 - 2, x1: x1 + 2, y0: y0 - 2, y1: y1 + 2 };
}

function scripted(calls: { twoD: number; memory: number }): () => Networks {
  const segmenter: SliceSegmenter = {
    async segment(img, interaction) {
      calls.twoD++;
      if (interaction.kind !== 'extreme-points') throw new Error(`expected extreme points, got ${interaction.kind}`);
      const xs = interaction.points.map((p) => p.x);
      const ys = interaction.points.map((p) => p.y);
      return Uint8Array.from(threshold(img, { x0: Math.min(...xs), x1: Math.max(...xs), y0: Math.min(...ys), y1: Math.max(...ys) }));
    },
  };
  const one = (frame: SliceImage, memory: readonly Slot[]) => {
    calls.memory++;
    const boxes = memory.map((s) => s.box).filter((b) => b !== null);
    const out = new Float32Array(frame.width * frame.height);
    for (const b of boxes) threshold(frame, b).forEach((v, n) => (out[n] = Math.max(out[n], v)));
    return out;
  };
  const memory: SliceMemoryNetwork<Slot> = {
    sliceLayout: 'rows-first-axis',
    memorize: (frame, mask) => ({ box: boxOf(mask, frame.width), dispose() {} }),
    async segment(frame, memory) {
      return { foreground: one(frame, memory), quality: 0.9 };
    },
    async segmentObjects(frame, memories) {
      const objects = memories.map((m) => one(frame, m));
      // Soft aggregation of hard 0/1 maps: the first object with a pixel takes it.
      const taken = new Uint8Array(frame.width * frame.height);
      return {
        objects: objects.map((p) => ({
          probability: p,
          foreground: p.map((v, n) => (v > 0.5 && !taken[n] ? ((taken[n] = 1), 1) : 0)),
          quality: 0.9,
        })),
      };
    },
  };
  return () => ({ segmenter, memory: memory as SliceMemoryNetwork, memoryLayout: 'rows-first-axis', dispose() {} });
}

/** Scripted networks need no device: a runtime that only names itself. */
const NO_GPU = async () => ({ describe: () => 'none (scripted networks)', destroy() {} }) as never;

async function segment(argv: string[], calls = { twoD: 0, memory: 0 }) {
  const log: string[] = [];
  const code = await segmentCommand(argv, { log: (m) => log.push(m), error: (m) => log.push(m) }, { loadNetworks: scripted(calls) as never, createRuntime: NO_GPU });
  return { code, log: log.join('\n'), calls };
}

const scratch = () => mkdtempSync(join(tmpdir(), 'mem3d-cli-labels-'));
const dirs: string[] = [];
function setup(): { dir: string; input: string } {
  const dir = scratch();
  dirs.push(dir);
  return { dir, input: writeVolume(dir) };
}

test('segment --help documents --object and --labels with examples', async () => {
  const r = await mem3d('segment', '--help');
  assert.is(r.code, 0);
  assert.match(r.out, /--object NAME:SLICE:POINTS \[--object \.\.\.\] \[--labels <in\.nii\.gz>\] --out <labels\.nii\.gz>/);
  assert.match(r.out, /--object "kidney:40:210,300;260,305;236,280;240,330"/);
  assert.match(r.out, /--labels labels\.nii\.gz --object "tumour:50:/);
  assert.match(r.out, /labels\.nii\.gz ->\s+labels\.json/);
  assert.match(r.out, /"labels": \{"1": \{"name": "liver", "color": \[r, g, b\]\}/);
});

test('two --object flags: one label map with both ids where the scene has them, no overlap, and its JSON (in a folder made for them)', async () => {
  const { dir, input } = setup();
  const out = join(dir, 'results', 'labels.nii.gz');
  const r = await segment([input, '--object', ORGAN_POINTS(2), '--object', LESION_POINTS(3), '--intensity', 'raw', '--out', out]);
  assert.is(r.code, 0, r.log);
  assert.is(r.calls.twoD, 2, 'the 2D network once per structure');
  const volume = readNifti(input);
  const map = readLabelMap(out, volume);
  assert.equal(Array.from(map.labels), sceneLabels(), 'organ 1, lesion 2, voxel for voxel');
  assert.equal(JSON.parse(readFileSync(labelSidecarPath(out), 'utf8')), {
    labels: { 1: { name: 'organ', color: [...defaultColor(1)] }, 2: { name: 'lesion', color: [...defaultColor(2)] } },
  });
  assert.equal(readNifti(out).affine, volume.affine, 'the volume\'s geometry');
  assert.match(r.log, /1 organ: 480 voxels/);
  assert.match(r.log, /2 lesion: 576 voxels/);
  assert.match(r.log, /wrote .*labels\.nii\.gz and .*labels\.json/);
});

test('--axis coronal: points (i,k) on coronal slices j, the same label map back in file order', async () => {
  const { dir, input } = setup();
  const out = join(dir, 'coronal.nii.gz');
  const r = await segment([input, '--axis', 'coronal', '--object', 'organ:6:4,2;13,2;9,0;9,5', '--object', 'lesion:20:22,2;33,2;28,1;28,4', '--intensity', 'raw', '--out', out]);
  assert.is(r.code, 0, r.log);
  assert.equal(Array.from(readLabelMap(out, readNifti(input)).labels), sceneLabels());
});

test('--labels: imported structures kept (names, colours, voxels), an --object adds one', async () => {
  const { dir, input } = setup();
  const volume = readNifti(input);
  const organOnly = Uint8Array.from(sceneLabels(1, 0));
  const start = join(dir, 'start.nii.gz');
  const organ = { id: 1, name: 'organ', color: [10, 20, 30] as const };
  writeLabelMap(start, organOnly, volume, [organ], { inputs: [], overwrite: false });
  const startBytes = readFileSync(start);

  const out = join(dir, 'more.nii.gz');
  const r = await segment([input, '--labels', start, '--object', LESION_POINTS(2), '--intensity', 'raw', '--out', out]);
  assert.is(r.code, 0, r.log);
  assert.is(r.calls.twoD, 1, 'only the new structure is annotated');
  const map = readLabelMap(out, volume);
  assert.equal(Array.from(map.labels), sceneLabels());
  assert.equal(map.structures, [organ, { ...defaultLabel(2), name: 'lesion' }]);
  assert.ok(readFileSync(start).equals(startBytes), 'the input map untouched');
});

test('--labels --propagate-labels completes a map drawn on one slice per structure; --labels alone is refused', async () => {
  const { dir, input } = setup();
  const volume = readNifti(input);
  const start = join(dir, 'sparse.nii');
  const sliceOf = (n: number) => Math.floor(n / (DIMS[0] * DIMS[1]));
  // The organ drawn on slice 2 only, the lesion on slice 3 only; no sidecar.
  const sparse = Uint8Array.from(sceneLabels(), (v, n) => ((v === 1 && sliceOf(n) === 2) || (v === 2 && sliceOf(n) === 3) ? v : 0));
  writeFileSync(start, serializeNifti(createVolume({ dims: DIMS, data: sparse, affine: volume.affine, spacing: volume.spacing })));
  refused(await mem3d('segment', input, '--labels', start, '--out', join(dir, 'copy.nii.gz')), 2, /--labels alone changes nothing: add --object NAME:SLICE:POINTS, or --propagate-labels/, '--labels alone');
  const out = join(dir, 'full.nii.gz');
  const r = await segment([input, '--labels', start, '--propagate-labels', '--intensity', 'raw', '--out', out]);
  assert.is(r.code, 0, r.log);
  assert.is(r.calls.twoD, 0);
  const map = readLabelMap(out, volume);
  assert.equal(Array.from(map.labels), sceneLabels());
  assert.equal(map.structures, [defaultLabel(1), defaultLabel(2)]);
});

test('--labels with an --object naming an imported structure refines it under its own id', async () => {
  const { dir, input } = setup();
  const volume = readNifti(input);
  const start = join(dir, 'start.nii.gz');
  // The lesion only on slice 1 (id 7), the organ absent.
  const partial = Uint8Array.from(sceneLabels(0, 7), (v, n) => (Math.floor(n / (DIMS[0] * DIMS[1])) === 1 ? v : 0));
  writeLabelMap(start, partial, volume, [{ id: 7, name: 'lesion', color: [1, 2, 3] }], { inputs: [], overwrite: false });
  const out = join(dir, 'refined.nii.gz');
  const r = await segment([input, '--labels', start, '--object', LESION_POINTS(3), '--object', ORGAN_POINTS(0), '--intensity', 'raw', '--out', out]);
  assert.is(r.code, 0, r.log);
  const map = readLabelMap(out, volume);
  assert.equal(map.structures, [{ id: 7, name: 'lesion', color: [1, 2, 3] }, { ...defaultLabel(8), name: 'organ' }]);
  assert.equal(Array.from(map.labels), sceneLabels(8, 7));
});

test('--slice/--points still writes a 0/1 mask and no sidecar (in a folder made for it)', async () => {
  const { dir, input } = setup();
  const out = join(dir, 'results', 'mask.nii.gz');
  const r = await segment([input, '--slice', '2', '--points', '4,8;13,8;9,4;9,11', '--intensity', 'raw', '--out', out]);
  assert.is(r.code, 0, r.log);
  const mask = readNifti(out);
  assert.ok(mask.data instanceof Uint8Array);
  assert.equal(Array.from(mask.data), sceneLabels(1, 0));
  assert.not.ok(existsSync(join(dir, 'results', 'mask.json')));
});

test('segment refuses bad --object / --labels flags before touching any file', async () => {
  const base = ['segment', 'x.nii', '--out', 'm.nii.gz'];
  const cases: [string[], RegExp][] = [
    [[...base, '--object', 'liver:4'], /--object 'liver:4' is not NAME:SLICE:POINTS/],
    [[...base, '--object', 'liver'], /--object 'liver' is not NAME:SLICE:POINTS/],
    [[...base, '--object', ':4:1,2;3,4;5,6;7,8'], /--object ':4:1,2;3,4;5,6;7,8': the name must be a non-empty string/],
    [[...base, '--object', ' :4:1,2;3,4;5,6;7,8'], /the name must be a non-empty string/],
    [[...base, '--object', 'liver:x:1,2;3,4;5,6;7,8'], /--object liver: slice must be a decimal integer >= 0, got 'x'/],
    [[...base, '--object', 'liver:-1:1,2;3,4;5,6;7,8'], /--object liver: slice must be a decimal integer >= 0, got '-1'/],
    [[...base, '--object', 'liver:4:1,2;3,4;5,6'], /--object liver: needs exactly the 4 extreme points, got 3/],
    [[...base, '--object', 'liver:4:1,2;3,4;5,6;7'], /--object liver: points: point 4 '7' is not 'a,b'/],
    [[...base, '--object', 'liver:4:1,2;3,4;5,6;7,8', '--object', 'liver:6:1,2;3,4;5,6;7,8'], /--object liver is given twice \(one --object per structure\)/],
    [[...base, '--object', 'liver:4:1,2;3,4;5,6;7,8', '--slice', '4'], /give --slice\/--points .* or --object\/--labels .*, not both/],
    [[...base, '--labels', 'l.nii.gz', '--points', '1,2;3,4;5,6;7,8'], /not both/],
    [[...base, '--labels', 'l.png'], /--labels must end in \.nii or \.nii\.gz, got 'l\.png'/],
    [[...base, '--labels', ''], /--labels is empty/],
    [[...base, '--object', 'liver:4:1,2;3,4;5,6;7,8', '--propagate-labels'], /--propagate-labels needs --labels/],
  ];
  for (const [args, message] of cases) refused(await mem3d(...args), 2, message, args.join(' '));
});

test('segment refuses bad label outputs and inputs before the GPU, and writes nothing', async () => {
  const { dir, input } = setup();
  const volume = readNifti(input);
  const out = join(dir, 'labels.nii.gz');
  const obj = ['--object', ORGAN_POINTS(2)];
  const listing = () => readdirSync(dir).sort();
  const before = listing();

  refused(await mem3d('segment', input, '--object', 'organ:6:4,8;13,8;9,4;9,11', '--out', out), 2, /--object organ: slice 6 is outside the volume: 6 axial slices \(0\.\.5\)/, 'slice out of range');
  refused(await mem3d('segment', input, '--object', 'organ:2:4,8;40,8;9,4;9,11', '--out', out), 2, /--object organ: point 2 \(40,8\) is outside the axial slice \(along voxel axis k\): i,j must be within 0\.\.39, 0\.\.31/, 'point outside');
  refused(await mem3d('segment', input, '--labels', join(dir, 'none.nii.gz'), ...obj, '--out', out), 1, /none\.nii\.gz: no such file/, 'missing label map');
  refused(await mem3d('segment', input, ...obj, '--out', input, '--overwrite'), 1, /refusing to write over the input/, 'output = volume');
  assert.equal(listing(), before, 'nothing written');

  // An existing output, or only its sidecar, without --overwrite.
  writeFileSync(join(dir, 'labels.json'), '{}');
  refused(await mem3d('segment', input, ...obj, '--out', out), 1, /labels\.json: already exists; pass --overwrite to replace it/, 'sidecar there');
  rmSync(join(dir, 'labels.json'));

  // A label map input: neither the map nor its sidecar may be written over, even with --overwrite.
  const start = join(dir, 'start.nii.gz');
  writeLabelMap(start, Uint8Array.from(sceneLabels(1, 0)), volume, [{ id: 1, name: 'organ', color: [1, 1, 1] }], { inputs: [], overwrite: false });
  const after = listing();
  refused(await mem3d('segment', input, '--labels', start, '--propagate-labels', '--out', start, '--overwrite'), 1, /start\.nii\.gz: refusing to write over the input/, 'output = label map');
  refused(await mem3d('segment', input, '--labels', start, '--propagate-labels', '--out', join(dir, 'start.nii'), '--overwrite'), 1, /start\.json: refusing to write over the input/, 'output sidecar = the label map\'s sidecar');

  // Label maps that do not belong to the volume, or are not label maps.
  const other = join(dir, 'other.nii.gz');
  writeFileSync(other, serializeNifti(createVolume({ dims: [40, 32, 5], data: new Uint8Array(40 * 32 * 5), affine: volume.affine, spacing: volume.spacing }), { gzip: true }));
  refused(await mem3d('segment', input, '--labels', other, '--propagate-labels', '--out', out), 1, /other\.nii\.gz: does not fit .*ct\.nii\.gz: dims 40x32x5, the volume's 40x32x6/, 'another grid');
  const moved = join(dir, 'moved.nii.gz');
  const shifted = volume.affine.map((row, r) => row.map((v, c) => (r === 2 && c === 3 ? v + 2.5 : v)));
  writeFileSync(moved, serializeNifti(createVolume({ dims: DIMS, data: new Uint8Array(volume.data.length), affine: shifted as never, spacing: volume.spacing }), { gzip: true }));
  refused(await mem3d('segment', input, '--labels', moved, '--propagate-labels', '--out', out), 1, /moved\.nii\.gz: does not fit .*: affine row 2 column 3, the origin \(z\), is -7\.5 in the label map and -10 in the volume/, 'shifted origin');
  const float = join(dir, 'float.nii.gz');
  writeFileSync(float, serializeNifti(createVolume({ dims: DIMS, data: new Float32Array(volume.data.length), affine: volume.affine, spacing: volume.spacing }), { gzip: true }));
  refused(await mem3d('segment', input, '--labels', float, '--propagate-labels', '--out', out), 1, /float\.nii\.gz: holds float32 voxels/, 'float labels');
  const negative = join(dir, 'negative.nii');
  const data = new Int16Array(volume.data.length);
  data[5] = -2;
  writeFileSync(negative, serializeNifti(createVolume({ dims: DIMS, data, affine: volume.affine, spacing: volume.spacing })));
  refused(await mem3d('segment', input, '--labels', negative, '--propagate-labels', '--out', out), 1, /negative\.nii: voxel \(5, 0, 0\) holds -2/, 'negative labels');
  writeFileSync(join(dir, 'start.json'), '{"labels": {"1": {"name": "organ", "colour": [1, 1, 1]}}}');
  refused(await mem3d('segment', input, '--labels', start, '--propagate-labels', '--out', out), 1, /start\.json: label 1: unexpected key "colour"/, 'bad sidecar');
  assert.not.ok(existsSync(out) || existsSync(join(dir, 'labels.json')), 'no output written');
  assert.equal(listing().filter((f) => !after.includes(f)), ['float.nii.gz', 'moved.nii.gz', 'negative.nii', 'other.nii.gz'], 'only the test\'s own files');
});

test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test.run();
