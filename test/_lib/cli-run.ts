// The CLI run in process (main(argv, io)): exit code and what it printed, for the CLI tests.
import * as assert from 'uvu/assert';
import { main } from '../../src/cli/main.ts';

export interface Run {
  code: number;
  out: string;
  err: string;
}

export async function mem3d(...argv: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { log: (m) => out.push(m), error: (m) => err.push(m) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** A refused run: the exit code, one line on stderr matching `message`, nothing on the GPU (no "adapter:" line). */
export function refused(r: Run, code: number, message: RegExp, what: string): void {
  assert.is(r.code, code, `${what}: exit code (stderr: ${r.err})`);
  assert.match(r.err, message, what);
  assert.is(r.err.trim().split('\n').length, 1, `${what}: one line, got:\n${r.err}`);
  assert.not.match(r.err + r.out, /adapter:/, `${what}: refused before the GPU`);
}
