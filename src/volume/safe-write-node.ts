// The guards every writer of ours runs before touching the disk: nothing is written
// over an input, an existing output only when asked, and a file appears whole or not
// at all (temporary file in the same folder, then rename).

import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { VolumeError } from './volume.ts';

/** The canonical path, symlinks resolved, also for a file that does not exist yet. */
function canonical(path: string): string {
  const abs = resolve(path);
  if (existsSync(abs)) return realpathSync(abs);
  const parent = dirname(abs);
  return parent === abs ? abs : join(canonical(parent), basename(abs));
}

/**
 * Throws when writing `output` would overwrite an input: the same file (also through
 * a symlink or a hard link), or a path inside an input that is a directory (a dataset
 * root). With `folder` (output is a directory whose files get replaced), an input
 * inside it is refused too. Inputs that do not exist are ignored.
 */
export function assertNotInput(output: string, inputs: readonly string[], options: { folder?: boolean } = {}): void {
  const out = canonical(output);
  const outStat = existsSync(out) ? statSync(out) : undefined;
  for (const input of inputs) {
    if (!existsSync(input)) continue;
    const inp = canonical(input);
    const inStat = statSync(inp);
    const sameFile = out === inp || (outStat !== undefined && outStat.dev === inStat.dev && outStat.ino === inStat.ino);
    if (sameFile) throw new VolumeError(output, `refusing to write over the input ${input}`);
    if (inStat.isDirectory() && out.startsWith(inp + sep)) throw new VolumeError(output, `refusing to write inside the input directory ${input}`);
    if (options.folder && inp.startsWith(out + sep)) throw new VolumeError(output, `refusing to write into a folder that holds the input ${input}`);
  }
}

/** The nearest existing ancestor of a path (the folder `mkdir -p` would start from). */
function existingAncestor(path: string): string {
  let dir = resolve(path);
  while (!existsSync(dir)) {
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return dir;
}

/**
 * Proves a folder (or the existing folder it would be created under) takes files: a
 * temporary file is created and removed. Access bits alone would miss read-only mounts
 * and ACLs.
 */
export function assertWritableFolder(dir: string, what = dir): void {
  const at = existingAncestor(dir);
  if (!statSync(at).isDirectory()) throw new VolumeError(what, `${at} is a file, not a folder`);
  const probe = join(at, `.mem3d-write-test-${process.pid}-${Date.now()}`);
  try {
    closeSync(openSync(probe, 'wx'));
  } catch (e) {
    throw new VolumeError(what, `cannot write in ${at} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
  rmSync(probe, { force: true });
}

export interface OutputCheck {
  /** Inputs the output must not replace (see assertNotInput). */
  inputs: readonly string[];
  /** Replace an existing output; refused without it. */
  overwrite: boolean;
}

/** Everything that can be known about an output file before any work: not an input, not a folder, not there unless overwrite, its folder writable. */
export function checkOutputFile(path: string, check: OutputCheck): void {
  // '' and 'dir/' name no file: writing them fails only after the work (ENOENT, ENOTDIR).
  if (path === '') throw new VolumeError("''", 'an empty output path; give a file name');
  if (/[\\/]$/.test(path)) throw new VolumeError(path, 'names a folder (it ends in a separator); give a file name');
  assertNotInput(path, check.inputs);
  if (existsSync(path)) {
    if (statSync(path).isDirectory()) throw new VolumeError(path, 'is a folder; give a file name');
    if (!check.overwrite) throw new VolumeError(path, 'already exists; pass --overwrite to replace it');
  }
  assertWritableFolder(dirname(resolve(path)), path);
}

/** The same for an output folder and the file names a command writes into it. */
export function checkOutputFolder(dir: string, files: readonly string[], check: OutputCheck): void {
  assertNotInput(dir, check.inputs, { folder: true });
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new VolumeError(dir, 'is a file; give a folder');
  for (const f of files) {
    const path = join(dir, f);
    assertNotInput(path, check.inputs);
    if (existsSync(path) && statSync(path).isDirectory()) throw new VolumeError(path, 'is a folder; --overwrite replaces files only');
    if (existsSync(path) && !check.overwrite) throw new VolumeError(path, 'already exists; pass --overwrite to replace it');
  }
  assertWritableFolder(dir);
}

/**
 * Writes `bytes` to `path` whole or not at all: a temporary file in the same folder
 * (same file system, so the rename is atomic), flushed, then renamed over the target.
 * An interrupted run leaves at most a `.<name>.tmp-*` file, never a half-written output.
 * Missing folders on the way are created.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const folder = dirname(resolve(path));
  const temp = join(folder, `.${basename(path)}.tmp-${process.pid}-${Date.now()}`);
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  let fd: number | undefined;
  try {
    // Folders still missing are made here: checkOutputFile accepted them at their nearest existing ancestor.
    mkdirSync(folder, { recursive: true });
    fd = openSync(temp, 'wx');
    for (let at = 0; at < data.length; ) at += writeSync(fd, data, at, data.length - at);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(temp, { force: true });
    throw new VolumeError(path, `cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
}
