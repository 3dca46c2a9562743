// What the kernel generators (gen-conv2d-cpu.ts, gen-conv2d-winograd.ts) share: the
// region of a kernel file between their begin and end marker lines, and their command
// line (rewrite the file, or --check that it holds the generator's output).
import { readFileSync, writeFileSync } from 'node:fs';

export interface Region {
  /** The kernel file, for messages. */
  path: string;
  begin: string;
  end: string;
}

/** `source` with the region between the markers (markers included) replaced by `body` (which holds them). */
export function withRegion(r: Region, source: string, body: string): string {
  const a = source.indexOf(r.begin);
  const b = source.indexOf(r.end);
  if (a < 0 || b < a) throw new Error(`${r.path}: the generated-body markers are missing`);
  return source.slice(0, a) + body + source.slice(b + r.end.length);
}

/** The generator's command line: rewrite r.path with `generate`'s text, or with --check exit 1 if it differs. */
export function runGenerator(r: Region, tool: string, generate: (source: string) => string): void {
  const source = readFileSync(r.path, 'utf8');
  const next = generate(source);
  if (process.argv.includes('--check')) {
    if (next !== source) {
      console.error(`${r.path} differs from ${tool}'s output: run npx tsx ${tool}`);
      process.exit(1);
    }
  } else if (next !== source) {
    writeFileSync(r.path, next);
  }
}
