// Shared command-line parsing: node:util parseArgs, strict number fields, one clear
// line on bad input. Commands print through a ConsoleLike so tests run them in process.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { VoxelPoint } from '../volume/layout.ts';

export class UsageError extends Error {}

/** Where a command prints: `console` from the executable, a recorder in tests. */
export interface ConsoleLike {
  log(message: string): void;
  error(message: string): void;
}

/**
 * parseArgs, strict, with -h/--help; a flag that takes one value given twice is refused
 * (parseArgs keeps the last: '--slice 5 --slice 99' would run slice 99 without a word).
 */
export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true, tokens: true });
  } catch (e) {
    // One line: parseArgs explains a value starting with '-' ('--slice -1') over three.
    throw new UsageError((e as Error).message.replace(/\s*\n\s*/g, ' '));
  }
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option' || (options[token.name] as { multiple?: boolean } | undefined)?.multiple) continue;
    if (seen.has(token.name)) throw new UsageError(`--${token.name} is given more than once`);
    seen.add(token.name);
  }
  return parsed;
}

const DECIMAL_INTEGER = /^\d+$/;
const DECIMAL_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
/** Shown in messages: user text, cut short and without control characters. */
const shown = (value: string) => `'${value.length > 40 ? `${value.slice(0, 40)}...` : value}'`.replace(/[\x00-\x1f\x7f]/g, '?');

/** A decimal integer >= min (no '', '0x10', '1e3', '2.0'). */
export function integer(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  const n = Number(text);
  if (!DECIMAL_INTEGER.test(text) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be a decimal integer >= ${min}, got ${shown(value)}`);
  return n;
}

/** A finite decimal number (no '', hex, 'Infinity'). */
export function decimal(name: string, value: string): number {
  const text = value.trim();
  // '1e999' is decimal notation but no finite number.
  if (!DECIMAL_NUMBER.test(text) || !Number.isFinite(Number(text))) throw new UsageError(`--${name}: ${shown(value)} is not a finite decimal number`);
  return Number(text);
}

/**
 * "a,b;a,b;..." to in-plane voxel indices (src/volume/layout.ts): every field a
 * decimal integer >= 0, so empty fields, signs, hex and fractions are refused.
 */
export function voxelPoints(name: string, value: string): VoxelPoint[] {
  return value.split(';').map((pair, i) => {
    const fields = pair.split(',').map((v) => v.trim());
    if (fields.length !== 2 || !fields.every((f) => DECIMAL_INTEGER.test(f) && Number.isSafeInteger(Number(f)))) {
      throw new UsageError(`--${name}: point ${i + 1} ${shown(pair)} is not 'a,b' (two voxel indices, decimal integers >= 0)`);
    }
    return [Number(fields[0]), Number(fields[1])] as const;
  });
}

/** Runs a command body: usage errors print the message and a pointer to --help and return 2, other errors one line and 1. */
export async function runCommand(name: string, io: ConsoleLike, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (e instanceof UsageError) {
      io.error(`mem3d ${name}: ${message} (see mem3d ${name} --help)`);
      return 2;
    }
    io.error(`mem3d ${name}: ${message}`);
    return 1;
  }
}
