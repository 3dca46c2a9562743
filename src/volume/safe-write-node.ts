// The guard every writer of ours runs before touching the disk: nothing is written over an input.

import { existsSync, realpathSync, statSync } from 'node:fs';
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
