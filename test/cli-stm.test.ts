// Converted STM weights under --memory-weights: the CLI tells them from QAMN's by their
// tensors (before the GPU), loads the STM variant, and refuses to rank slices by a quality
// head they do not have (eval/demo --strategy quality) instead of ranking every slice 1.
// The weights here are STM's every tensor as int8 zeros (the shipped shards' format, a
// quarter of f32's bytes): the variant and its loading are what is checked, not numbers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPlannedMemoryNetwork, planWeights } from '../src/cli/networks.ts';
import { writeSafetensors } from '../src/io/safetensors-node.ts';
import type { TensorToWrite } from '../src/io/safetensors-write.ts';
import { MemoryNetwork, type Variant } from '../src/networks/mem3d/memory-network.ts';
import { writeCaseList, writePngCase } from '../src/volume/png-dataset-node.ts';
import { createVolume } from '../src/volume/volume.ts';
import { mem3d, refused } from './_lib/cli-run.ts';
import { testRuntime } from './_lib/gpu.ts';

const dir = mkdtempSync(join(tmpdir(), 'mem3d-stm-'));

/** Every tensor of `variant` as int8 zeros with unit per-channel scales; the slice layout in the metadata. */
function zeroWeights(variant: Variant): string {
  const tensors: TensorToWrite[] = [];
  for (const { name, shape } of MemoryNetwork.weightSpec(variant).tensors) {
    const count = shape.reduce((a, b) => a * b, 1);
    if (shape.length >= 2) {
      tensors.push({ name, dtype: 'I8', shape, data: new Int8Array(count) });
      tensors.push({ name: `${name}.qscale`, dtype: 'F32', shape: [shape[0]], data: new Float32Array(shape[0]).fill(1) });
    } else {
      tensors.push({ name, dtype: 'F32', shape, data: new Float32Array(count) });
    }
  }
  const path = join(dir, `${variant}.safetensors`);
  writeSafetensors(path, tensors, { format: 'pt', slice_layout: 'rows-first-axis' });
  return path;
}

const stm = zeroWeights('stm');

test('planWeights tells STM from QAMN by the tensors, and says STM has no quality head', () => {
  const plan = planWeights({ 'memory-weights': stm });
  assert.is(plan.memoryVariant, 'stm');
  assert.match(plan.report[0], /stm\.safetensors \(STM, no quality head: slices are ranked by certainty, --strategy quality is refused; rows-first-axis\)/);
  assert.is(planWeights({}).memoryVariant, 'qamn', 'the shipped weights');
});

test('eval and demo refuse --strategy quality with STM weights before the GPU; all runs the other three', async () => {
  const root = join(dir, 'data');
  const dims = [32, 32, 3] as const;
  writePngCase(root, 'a', {
    image: createVolume({ dims, data: new Uint8Array(32 * 32 * 3).map((_, i) => i % 251), source: 'image' }),
    mask: createVolume({ dims, data: new Uint8Array(32 * 32 * 3).map((_, i) => (i % 32 > 10 && i % 32 < 20 ? 1 : 0)), source: 'mask' }),
  });
  writeCaseList(root, 'test', ['a']);
  const message = /--strategy quality ranks slices by the QAMN quality head, which STM weights \(--memory-weights\) do not have: pass --strategy uncertainty, oracle, random or all/;
  refused(await mem3d('eval', root, '--memory-weights', stm, '--out', join(dir, 'eval-out')), 2, message, 'eval, default strategy');
  refused(await mem3d('demo', '--memory-weights', stm, '--strategy', 'quality', '--out', join(dir, 'demo-out')), 2, message, 'demo --strategy quality');
  assert.equal(readdirSync(dir).sort(), ['data', 'stm.safetensors'], 'nothing written');
});

test('the planned STM network loads as STM and segments without a quality score', async () => {
  const rt = await testRuntime();
  const net = loadPlannedMemoryNetwork(rt, planWeights({ 'memory-weights': stm }));
  try {
    assert.is(net.variant, 'stm');
    await rt.scope(async () => {
      const frame = rt.upload([1, 32, 32, 3], new Float32Array(32 * 32 * 3));
      const entry = net.memorize(frame, rt.upload([1, 32, 32, 1], new Float32Array(32 * 32).fill(1)));
      const out = net.segment(frame, [entry]);
      assert.is(out.quality, null);
      const p = await out.foreground.read();
      assert.ok(p.length === 32 * 32 && p.every(Number.isFinite));
      entry.dispose();
    });
  } finally {
    net.dispose();
  }
});

test.run();
