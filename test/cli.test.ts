// The mem3d command line: exit codes and one clear line on bad input (no GPU work:
// every case fails before a network loads).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;

function mem3d(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/mem3d.ts', ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('no command prints the command list and exits 2; --help exits 0', () => {
  const none = mem3d();
  assert.is(none.code, 2);
  assert.match(none.out, /demo.*\n.*segment.*\n.*eval.*\n.*bench.*\n.*convert/s);
  assert.is(mem3d('--help').code, 0);
  for (const cmd of ['demo', 'segment', 'eval', 'bench', 'convert']) {
    const r = mem3d(cmd, '--help');
    assert.is(r.code, 0, `${cmd} --help`);
    assert.match(r.out, new RegExp(`usage: mem3d ${cmd}`));
  }
});

test('an unknown command or option is a usage error (exit 2) naming it', () => {
  const r = mem3d('segmnt');
  assert.is(r.code, 2);
  assert.match(r.err, /unknown command 'segmnt'/);
  const o = mem3d('segment', 'x.nii', '--bogus');
  assert.is(o.code, 2);
  assert.match(o.err, /--bogus/);
});

test('segment checks its arguments before any work', () => {
  const cases: [string[], RegExp][] = [
    [['segment', 'x.nii', '--slice', '2', '--points', '1,2;3,4;5,6;7,8'], /--out is required/],
    [['segment', 'x.nii', '--slice=-1', '--points', '1,2;3,4;5,6;7,8', '--out', 'm.nii.gz'], /--slice must be an integer >= 0/],
    [['segment', 'x.nii', '--slice', '2', '--points', '1,2;3,4', '--out', 'm.nii.gz'], /needs the 4 extreme points, got 2/],
    [['segment', 'x.nii', '--slice', '2', '--points', '1,2;3;5,6;7,8', '--out', 'm.nii.gz'], /point 2 '3' is not 'x,y'/],
    [['segment', 'x.nii', '--slice', '2', '--points', '1,2;3,4;5,6;7,8', '--out', 'm.png'], /--out must end in \.nii or \.nii\.gz/],
    [['segment', 'x.nii', '--slice', '2', '--points', '1,2;3,4;5,6;7,8', '--out', 'm.nii', '--axis', 'up'], /--axis must be axial, coronal or sagittal/],
  ];
  for (const [args, message] of cases) {
    const r = mem3d(...args);
    assert.is(r.code, 2, args.join(' '));
    assert.match(r.err, message);
  }
});

test('segment: a missing volume and an output over the input fail with one line (exit 1)', () => {
  const missing = mem3d('segment', '/nonexistent/ct.nii.gz', '--slice', '0', '--points', '1,2;3,4;5,6;7,8', '--out', '/tmp/m.nii.gz');
  assert.is(missing.code, 1);
  assert.match(missing.err, /\/nonexistent\/ct\.nii\.gz: no such file/);
  const dir = mkdtempSync(join(tmpdir(), 'mem3d-cli-'));
  const input = join(dir, 'ct.nii.gz');
  copyFileSync(join(ROOT, 'examples/phantom/image.nii.gz'), input);
  const over = mem3d('segment', input, '--slice', '0', '--points', '1,2;3,4;5,6;7,8', '--out', input);
  assert.is(over.code, 1);
  assert.match(over.err, /mem3d segment: .*(input|over)/i);
  assert.is(over.err.trim().split('\n').length, 1, 'one line');
});

test('eval: a folder that is not a dataset fails with one line naming it', () => {
  const r = mem3d('eval', '/nonexistent-dataset');
  assert.is(r.code, 1);
  assert.match(r.err, /nonexistent-dataset/);
  assert.is(r.err.trim().split('\n').length, 1, 'one line');
  assert.is(mem3d('eval', '/x', '--strategy', 'best').code, 2);
});

test.run();
