// The CLI run in process (main(argv, io)): exit code and what it printed, for the CLI tests.
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
