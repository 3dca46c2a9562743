// mem3d conformance (also `npm run conformance`, which runs src/cli/conformance.ts itself):
// a reference folder that lacks a file and a --json that would replace a reference file,
// an existing file or land where nothing can be written are refused before the GPU starts.
// The folders here hold empty files of the reference's names: enough for the checks, and
// a run that got past them fails at once on the empty manifest. The full comparison
// runs in test/memory-network.test.ts and test/iog-network.test.ts.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mem3d, type Run } from './_lib/cli-run.ts';

const dir = mkdtempSync(join(tmpdir(), 'mem3d-conformance-'));
/** A reference folder with empty files of the given names. */
function referenceFolder(name: string, files: string[]): string {
  const ref = join(dir, name);
  mkdirSync(ref);
  for (const f of files) writeFileSync(join(ref, f), '');
  return ref;
}
const IOG_FILES = ['iog_manifest.json', 'iog_small.safetensors', 'iog_ref.safetensors'];
const iogRef = referenceFolder('iog', IOG_FILES);

/** A refusal: exit 2, one line naming the problem, printed before any adapter was opened. */
function assertRefusedBeforeGpu(r: Run, message: RegExp): void {
  assert.is(r.code, 2, r.err);
  assert.match(r.err, message);
  assert.is(r.err.split('\n').length, 1, r.err);
  assert.is(r.out, '');
}

test('a missing reference folder or reference file is named before the GPU starts', async () => {
  assertRefusedBeforeGpu(await mem3d('conformance', join(dir, 'nowhere'), '--model', 'qamn'), /nowhere is not a folder/);
  const partial = referenceFolder('partial', ['qamn_manifest.json', 'qamn_small.safetensors', 'phantom_0.png']);
  assertRefusedBeforeGpu(await mem3d('conformance', partial, '--model', 'qamn'),
    /lacks qamn_ref1\.safetensors, qamn_ref2\.safetensors, phantom_1\.png, phantom_2\.png, phantom_mask_0\.png/);
});

test('--json never replaces a reference file, an existing file without --overwrite, or lands where nothing can be written', async () => {
  const manifest = join(iogRef, 'iog_manifest.json');
  writeFileSync(manifest, '{"tensors": []}\n');
  assertRefusedBeforeGpu(await mem3d('conformance', iogRef, '--model', 'iog', '--json', manifest), /refusing to write over the input/);
  assert.is(readFileSync(manifest, 'utf8'), '{"tensors": []}\n');
  writeFileSync(manifest, '');

  const earlier = join(dir, 'earlier.json');
  writeFileSync(earlier, 'an earlier report');
  assertRefusedBeforeGpu(await mem3d('conformance', iogRef, '--model', 'iog', '--json', earlier), /already exists; pass --overwrite/);
  assertRefusedBeforeGpu(await mem3d('conformance', iogRef, '--model', 'iog', '--json', '/proc/x.json'), /cannot write in \/proc/);
  assertRefusedBeforeGpu(await mem3d('conformance', iogRef, '--model', 'iog', '--json', dir), /is a folder/);
  assert.equal(readdirSync(iogRef).sort(), [...IOG_FILES].sort());
});

test('with --overwrite the run starts (adapter line on stderr, as in every command) and a failed run keeps the old report', async () => {
  const earlier = join(dir, 'kept.json');
  writeFileSync(earlier, 'an earlier report');
  const r = await mem3d('conformance', iogRef, '--model', 'iog', '--json', earlier, '--overwrite');
  assert.is(r.code, 2, r.err);
  assert.match(r.err, /^adapter: /m);
  assert.not.match(r.out, /adapter:/);
  assert.match(r.err, /^mem3d conformance: /m, 'the empty manifest fails the run in one line');
  assert.is(readFileSync(earlier, 'utf8'), 'an earlier report');
});

test('a damaged reference JSON is named in the one-line failure', async () => {
  const damaged = referenceFolder('damaged', IOG_FILES);
  writeFileSync(join(damaged, 'iog_manifest.json'), '{"tens');
  const r = await mem3d('conformance', damaged, '--model', 'iog');
  assert.is(r.code, 2, r.err);
  assert.match(r.err, /^mem3d conformance: .*damaged\/iog_manifest\.json: not valid JSON \(/m);
});

test('mem3d conformance --help, and npm run conformance still runs the file itself', async () => {
  const r = await mem3d('conformance', '--help');
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /^usage: mem3d conformance <reference-dir>/);
  const help = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/conformance.ts', '--help'], { encoding: 'utf8' });
  assert.match(help, /^usage: mem3d conformance <reference-dir>/);
  assert.match(help, /--overwrite/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
