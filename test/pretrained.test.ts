// The shipped weights state the slice layout they were trained with, in their index
// metadata and in src/pretrained/shipped.ts, and the two agree; weights folders resolve
// to their index. (Loading them is exercised by the session, CLI and network tests.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSafetensors } from '../src/io/safetensors-node.ts';
import { IOG_PHANTOM_INDEX, IOG_PHANTOM_SLICE_LAYOUT, QAMN_PHANTOM_INDEX, requireSliceLayout, resolveWeightsPath, SHIPPED_MEMORY_WEIGHTS, WEIGHTS_DIR } from '../src/pretrained/node.ts';
import { SLICE_LAYOUT_KEY } from '../src/volume/layout.ts';

test('shipped weights: index metadata and the shipped table agree on slice layouts', () => {
  assert.is(loadSafetensors(QAMN_PHANTOM_INDEX).metadata[SLICE_LAYOUT_KEY], SHIPPED_MEMORY_WEIGHTS['qamn-phantom'].sliceLayout);
  assert.is(loadSafetensors(IOG_PHANTOM_INDEX).metadata[SLICE_LAYOUT_KEY], IOG_PHANTOM_SLICE_LAYOUT);
  // The phantom IOG learned slices with rows along y; NIfTI files store x first (weights/iog-phantom/README.md).
  assert.is(IOG_PHANTOM_SLICE_LAYOUT, 'rows-second-axis');
  assert.is(SHIPPED_MEMORY_WEIGHTS['qamn-phantom'].sliceLayout, 'rows-first-axis');
});

test('requireSliceLayout: metadata, else the given layout; neither or a contradiction is refused', () => {
  const reader = (metadata: Record<string, string>) => ({ source: 'w.safetensors', metadata }) as never;
  assert.is(requireSliceLayout(reader({ slice_layout: 'rows-second-axis' })), 'rows-second-axis');
  assert.is(requireSliceLayout(reader({}), 'rows-first-axis'), 'rows-first-axis');
  assert.throws(() => requireSliceLayout(reader({})), /w\.safetensors: the weights do not say .* pass --slice-layout rows-first-axis\|rows-second-axis/);
  assert.throws(() => requireSliceLayout(reader({ slice_layout: 'rows-first-axis' }), 'rows-second-axis'), /state slice layout rows-first-axis, --slice-layout says rows-second-axis/);
  assert.throws(() => requireSliceLayout(reader({ slice_layout: 'sideways' })), /slice layout 'sideways' is not one of/);
});

test('resolveWeightsPath: a folder gives its one index or its one .safetensors file; anything else is refused', () => {
  assert.is(resolveWeightsPath(`${WEIGHTS_DIR}qamn-phantom`), join(`${WEIGHTS_DIR}qamn-phantom`, 'qamn.safetensors.index.json'));
  assert.is(resolveWeightsPath(QAMN_PHANTOM_INDEX), QAMN_PHANTOM_INDEX);
  const dir = mkdtempSync(join(tmpdir(), 'mem3d-weights-'));
  assert.throws(() => resolveWeightsPath(join(dir, 'none')), /weights not found at/);
  assert.throws(() => resolveWeightsPath(dir), /found no \.safetensors file/);
  writeFileSync(join(dir, 'a.safetensors'), '');
  assert.is(resolveWeightsPath(dir), join(dir, 'a.safetensors'));
  writeFileSync(join(dir, 'b.safetensors'), '');
  assert.throws(() => resolveWeightsPath(dir), /2 \.safetensors files and no index/);
  mkdirSync(join(dir, 'two'));
  writeFileSync(join(dir, 'two', 'x.safetensors.index.json'), '{}');
  writeFileSync(join(dir, 'two', 'y.safetensors.index.json'), '{}');
  assert.throws(() => resolveWeightsPath(join(dir, 'two')), /2 index files/);
});

test.run();
