// pointFromWorld / worldFromPoint of the embedding API: a viewer that reports clicks in
// world mm (NiiVue) gets the voxel indices annotate takes, for flipped, permuted and
// oblique affines; checked against voxel -> world computed here from the affine.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSegmenter } from '../web/embed.ts';
import { createVolume, type Affine } from '../src/volume/index.ts';
import type { SegmenterNetworks } from '../web/embed.ts';

/** No network runs in this test: loadVolume only builds the session. */
const noNetworks = async () => ({ iog: { dispose() {} }, memory: { dispose() {} }, iogLayout: 'rows-first-axis', memoryLayout: 'rows-first-axis' }) as unknown as SegmenterNetworks;

const t = (25 * Math.PI) / 180;
const AFFINES: Record<string, Affine> = {
  identity: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]],
  lps: [[-0.7, 0, 0, 90], [0, -0.7, 0, 110], [0, 0, 2.5, -40], [0, 0, 0, 1]],
  'slice-first': [[0, 0.8, 0, -20], [0, 0, -0.8, 30], [3, 0, 0, 5], [0, 0, 0, 1]],
  oblique: [[Math.cos(t), -Math.sin(t), 0, 4], [Math.sin(t), Math.cos(t), 0, -6], [0, 0, 2, 1], [0, 0, 0, 1]],
};

test('pointFromWorld inverts voxel -> world for every voxel; worldFromPoint is its inverse; outside is null', async () => {
  const seg = await createSegmenter({ loadNetworks: noNetworks });
  for (const [name, affine] of Object.entries(AFFINES)) {
    const dims = [5, 6, 7] as const;
    const info = seg.loadVolume(createVolume({ dims: [...dims], data: new Uint8Array(210), affine, source: name }));
    const inPlane = [0, 1, 2].filter((n) => n !== info.axis);
    for (let k = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++) {
      const v = [i, j, k];
      const mm = [0, 1, 2].map((r) => affine[r][0] * i + affine[r][1] * j + affine[r][2] * k + affine[r][3]) as [number, number, number];
      // A click a third of a voxel off still lands on the voxel.
      const off = mm.map((x, r) => x + 0.3 * affine[r][0]) as [number, number, number];
      const p = seg.pointFromWorld(off);
      assert.equal(p, { slice: v[info.axis], point: [v[inPlane[0]], v[inPlane[1]]] }, `${name} voxel ${v}`);
      const back = seg.worldFromPoint(p!.slice, p!.point);
      assert.ok(back.every((x, r) => Math.abs(x - mm[r]) < 1e-9), `${name}: worldFromPoint ${back} vs ${mm}`);
    }
    const outside = [0, 1, 2].map((r) => affine[r][0] * -1 + affine[r][3]) as [number, number, number];
    assert.is(seg.pointFromWorld(outside), null, `${name}: voxel i = -1 is outside`);
  }
  seg.dispose();
});

test('world points refuse NaN, a slice or point off the volume, and a disposed segmenter refuses everything but dispose', async () => {
  const seg = await createSegmenter({ loadNetworks: noNetworks });
  seg.loadVolume(createVolume({ dims: [5, 6, 7], data: new Uint8Array(210), affine: AFFINES.lps, source: 'lps' }));
  assert.throws(() => seg.pointFromWorld([Number.NaN, 0, 0]), /pointFromWorld: a world position starts with three finite numbers \(x, y, z in mm\), got \[null,0,0\]/);
  assert.throws(() => seg.pointFromWorld([1, 2]), /three finite numbers/);
  assert.throws(() => seg.pointFromWorld(null as never), /three finite numbers .*, got null/);
  // NiiVue's onLocationChange gives mm as a Float32Array of four, the last a homogeneous 1.
  const niivue = Float32Array.of(...(AFFINES.lps.slice(0, 3).map((row) => row[0] * 2 + row[1] * 3 + row[2] * 4 + row[3])), 1);
  assert.equal(seg.pointFromWorld(niivue), seg.pointFromWorld(Array.from(niivue.subarray(0, 3))));
  assert.ok(seg.pointFromWorld(niivue));
  assert.throws(() => seg.worldFromPoint(7, [0, 0]), /worldFromPoint: slice 7 is outside the volume \(0\.\.6\)/);
  assert.throws(() => seg.worldFromPoint(2, [Number.NaN, 0]), /worldFromPoint: point \[null,0\] is not a voxel index \(i, j\) of the slice \(i 0\.\.4, j 0\.\.5\)/);
  assert.throws(() => seg.worldFromPoint(2, [0, 6]), /point \[0,6\] is not a voxel index/);
  assert.throws(() => seg.worldFromPoint(2, [1.5, 0]), /point \[1\.5,0\] is not a voxel index/);
  assert.equal(seg.worldFromPoint(2, [4, 5]).length, 3);
  let message = '';
  await seg.annotate(2, null as never).catch((e) => (message = (e as Error).message));
  assert.match(message, /annotate: points must be an array of four \[i, j\] voxel indices, got null/);
  await seg.annotate(2, [[0, 0], [1, 1], { x: 2, y: 2 } as never, [3, 3]]).catch((e) => (message = (e as Error).message));
  assert.match(message, /annotate: a point is \[i, j\] \(two voxel indices\), got \{"x":2,"y":2\}/);
  assert.is(seg.canUndo(), false);
  // The session's own check, not the 0/1 conversion, sees the values: NaN would be 0 and a string 1.
  assert.throws(() => seg.setSliceMask(2, Object.assign(new Array(30).fill(0), { 7: Number.NaN })), /setSliceMask: voxel 7 of the mask is NaN/);
  assert.throws(() => seg.setSliceMask(2, Object.assign(new Array(30).fill(0), { 3: '1' })), /voxel 3 of the mask is string/);
  assert.throws(() => seg.setSliceMask(2, null as never), /setSliceMask: the mask must be an array of 30 numbers/);
  assert.is(seg.canUndo(), false);
  // A new volume is refused while a step runs on the loaded one (no networks here: the 2D step fails once it starts).
  const running = seg.annotate(2, [[0, 0], [4, 0], [0, 5], [4, 5]]).then(() => '', (e) => String(e));
  assert.throws(() => seg.loadVolume(createVolume({ dims: [2, 2, 2], data: new Uint8Array(8) })), /loadVolume: a step \(annotate, propagate or warmup\) is running on the loaded volume/);
  await running;
  assert.is(seg.loadVolume(createVolume({ dims: [5, 6, 7], data: new Uint8Array(210), affine: AFFINES.lps, source: 'lps' })).depth, 7, 'once it has settled, a volume loads');
  seg.dispose();
  seg.dispose();
  const calls: [string, () => unknown][] = [
    ['adapter', () => seg.adapter], ['softwareAdapter', () => seg.softwareAdapter], ['canUndo', () => seg.canUndo()],
    ['canRedo', () => seg.canRedo()], ['historyBytes', () => seg.historyBytes], ['session', () => seg.session],
    ['states', () => seg.states()], ['pointFromWorld', () => seg.pointFromWorld([0, 0, 0])],
    ['loadVolume', () => seg.loadVolume(createVolume({ dims: [2, 2, 2], data: new Uint8Array(8) }))],
  ];
  for (const [op, call] of calls) assert.throws(call, new RegExp(`^${op}: the segmenter was disposed$`), op);
});

test.run();
