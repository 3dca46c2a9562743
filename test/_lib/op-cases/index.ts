// The op-case registry: every kernel's cases in one list (see case.ts).
//   unit tests:         casesOf('conv2d', ['smoke', 'unit', 'big'])
//   selfcheck:          casesOf(null, ['smoke', 'unit'])
//   browser smoke test: casesOf(null, ['smoke'])
//   bench (perf mode):  casesOf('conv2d', ['perf'])
import type { OpCase, Tier } from './case.ts';
import { CHANNELS_CASES } from './channels.ts';
import { CONV2D_CASES } from './conv2d.ts';
import { ELEMENTWISE_CASES } from './elementwise.ts';
import { FRAME_CASES } from './frame.ts';
import { LINEAR_CASES } from './linear.ts';
import { MEMORY_READ_CASES } from './memory-read.ts';
import { POOL_CASES } from './pool.ts';
import { RESIZE_CASES } from './resize.ts';
import { SOFT_AGGREGATION_CASES } from './soft-aggregation.ts';

export { assertCase, checkCase, type CaseResult, type OpCase, type Tier } from './case.ts';

export const OP_CASES: readonly OpCase[] = [
  ...ELEMENTWISE_CASES,
  ...CONV2D_CASES,
  ...MEMORY_READ_CASES,
  ...POOL_CASES,
  ...RESIZE_CASES,
  ...CHANNELS_CASES,
  ...LINEAR_CASES,
  ...SOFT_AGGREGATION_CASES,
  ...FRAME_CASES,
];

export const OPS: readonly string[] = [...new Set(OP_CASES.map((c) => c.op))];

/** The cases of one op family (or all with null) in the given tiers; an unknown op is an error. */
export function casesOf(op: string | null, tiers: readonly Tier[]): OpCase[] {
  if (op !== null && !OPS.includes(op)) throw new Error(`unknown op '${op}' (ops: ${OPS.join(', ')})`);
  return OP_CASES.filter((c) => (op === null || c.op === op) && tiers.includes(c.tier));
}

/** Every tier the unit tests run. */
export const UNIT_TIERS: readonly Tier[] = ['smoke', 'unit', 'big'];
