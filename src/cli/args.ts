// Shared command-line parsing: node:util parseArgs with one clear line on bad input.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {}

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function integer(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got '${value}'`);
  return n;
}

/** "x,y;x,y;..." to points. */
export function points(value: string): { x: number; y: number }[] {
  return value.split(';').map((pair, i) => {
    const [x, y, extra] = pair.split(',').map((v) => Number(v.trim()));
    if (extra !== undefined || !Number.isFinite(x) || !Number.isFinite(y)) throw new UsageError(`--points: point ${i + 1} '${pair}' is not 'x,y'`);
    return { x, y };
  });
}

/** Runs a command body: usage errors print the usage and exit 2, other errors one line and exit 1. */
export async function runCommand(name: string, usage: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`mem3d ${name}: ${e.message}\n\n${usage}`);
      return 2;
    }
    console.error(`mem3d ${name}: ${(e as Error).message}`);
    return 1;
  }
}
