// --profile / --profile-json on mem3d segment: the GPU work of the run is timed by
// timestamp queries and printed by kernel and module; the JSON is checked like every
// output (never an input, never over a file without --overwrite). The networks are
// scripted but run one real GPU op per call (a clamp labelled by network), so the
// profile has known dispatches.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Networks } from '../src/cli/networks.ts';
import { segmentCommand } from '../src/cli/segment.ts';
import { clamp } from '../src/ops/elementwise.ts';
import type { Runtime } from '../src/runtime/runtime.ts';
import type { ProfileReport } from '../src/runtime/profiler.ts';
import type { MemorySlot, SliceMemoryNetwork } from '../src/session/memory.ts';
import type { SliceImage, SliceSegmenter } from '../src/session/slice-segmenter.ts';
import { serializeNifti } from '../src/volume/nifti.ts';
import { createVolume } from '../src/volume/volume.ts';

const [W, H, D] = [24, 20, 4];
const dir = mkdtempSync(join(tmpdir(), 'mem3d-profile-'));
const input = join(dir, 'box.nii');
const grey = new Uint8Array(W * H * D);
for (let k = 0; k < D; k++) for (let j = 5; j < 15; j++) for (let i = 6; i < 18; i++) grey[i + W * (j + H * k)] = 200;
writeFileSync(input, serializeNifti(createVolume({ dims: [W, H, D], data: grey, spacing: [1, 1, 1], source: input })));

/** One GPU op per call, so the profile has a dispatch per network call. */
async function onGpu(rt: Runtime, data: Float32Array): Promise<Float32Array> {
  return rt.scope(async () => (await clamp(rt, rt.upload([1, 1, data.length, 1], data), 0, 1).read()) as Float32Array);
}
const bright = (img: SliceImage) => Float32Array.from(img.data, (v) => (v > 128 ? 1 : 0));

function networks(rt: Runtime): Networks {
  const segmenter: SliceSegmenter = { segment: async (img) => Uint8Array.from(await onGpu(rt, bright(img))) };
  const memory: SliceMemoryNetwork = {
    memorize: (): MemorySlot => ({ dispose() {} }),
    segment: async (frame) => ({ foreground: await onGpu(rt, bright(frame)), quality: 1 }),
  };
  return { segmenter, memory, memoryLayout: 'rows-second-axis', dispose() {} };
}

async function segment(...extra: string[]) {
  const log: string[] = [];
  const argv = [input, '--slice', '1', '--points', '6,9;17,9;11,5;11,14', '--intensity', 'raw', ...extra];
  const code = await segmentCommand(argv, { log: (m) => log.push(m), error: (m) => log.push(m) }, { loadNetworks: ((rt: Runtime) => networks(rt)) as never });
  return { code, log: log.join('\n') };
}

test('segment --profile-json prints the GPU profile and writes it as JSON', async () => {
  const out = join(dir, 'mask.nii');
  const json = join(dir, 'profile.json');
  const r = await segment('--out', out, '--profile-json', json);
  assert.is(r.code, 0, r.log);
  assert.ok(existsSync(out));
  assert.match(r.log, /by kernel[\s\S]*elementwise/);
  const report = JSON.parse(readFileSync(json, 'utf8')) as ProfileReport;
  // The 2D step and one memory-network step per other slice, one clamp each.
  assert.is(report.dispatches, D);
  assert.equal(report.byKernel.map((k) => [k.name, k.dispatches]), [['elementwise', D]]);
  assert.ok(report.gpuMs > 0);
});

test('--profile-json is checked before any work like every output', async () => {
  const out = join(dir, 'mask2.nii');
  const existing = join(dir, 'taken.json');
  writeFileSync(existing, '{}');
  const taken = await segment('--out', out, '--profile-json', existing);
  assert.is(taken.code, 1);
  assert.match(taken.log, /taken\.json: already exists; pass --overwrite/);
  const onInput = await segment('--out', out, '--profile-json', input);
  assert.is(onInput.code, 1);
  assert.match(onInput.log, /box\.nii/);
  const onOut = await segment('--out', out, '--profile-json', out);
  assert.is(onOut.code, 2);
  assert.match(onOut.log, /--profile-json .*mask2\.nii is also the run.s output/);
  assert.not.ok(existsSync(out), 'nothing written');
  assert.is(readFileSync(existing, 'utf8'), '{}');
});

test.run();
