// The one weight check: a network's spec (the tensors its code asks for, from a dry
// run of its constructors) against what a checkpoint or weight file holds. Used by
// the loader before anything touches the GPU and by `mem3d convert` before anything
// is written. Problems are collected, not thrown one at a time, so a user with a
// mismatched checkpoint sees every missing, mis-shaped and unexpected tensor at once
// (Mem3D's own load_param skips mismatches silently).

export interface TensorSpec {
  name: string;
  shape: number[];
}

/** What a network reads, and the buffers PyTorch registers that it never reads (accepted, never uploaded or written). */
export interface WeightSpec {
  readonly tensors: readonly TensorSpec[];
  readonly unused: readonly RegExp[];
}

export interface WeightReport {
  readonly missing: TensorSpec[];
  readonly misshaped: { name: string; expected: number[]; got: number[] }[];
  readonly unexpected: TensorSpec[];
  /** Present, accepted and never read: BatchNorm's num_batches_tracked and the spec's `unused`. */
  readonly ignored: string[];
}

/** BatchNorm's step counter: in every state_dict, never read at inference. */
const ALWAYS_UNUSED = /\.num_batches_tracked$/;

export function checkWeights(shapes: ReadonlyMap<string, readonly number[]>, spec: WeightSpec): WeightReport {
  const expected = new Map(spec.tensors.map((t) => [t.name, t.shape]));
  const report: WeightReport = { missing: [], misshaped: [], unexpected: [], ignored: [] };
  for (const t of spec.tensors) {
    const got = shapes.get(t.name);
    if (!got) report.missing.push({ name: t.name, shape: [...t.shape] });
    else if (got.length !== t.shape.length || got.some((d, i) => d !== t.shape[i])) report.misshaped.push({ name: t.name, expected: [...t.shape], got: [...got] });
  }
  for (const [name, shape] of shapes) {
    if (expected.has(name)) continue;
    if (ALWAYS_UNUSED.test(name) || spec.unused.some((re) => re.test(name))) report.ignored.push(name);
    else report.unexpected.push({ name, shape: [...shape] });
  }
  return report;
}

export const hasProblems = (r: WeightReport): boolean => r.missing.length + r.misshaped.length + r.unexpected.length > 0;

const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;

export class WeightMismatchError extends Error {
  readonly missing: string[];
  readonly misshaped: string[];
  readonly unexpected: string[];

  constructor(readonly source: string, readonly report: WeightReport) {
    const missing = report.missing.map((t) => `${t.name} ${shapeText(t.shape)}`);
    const misshaped = report.misshaped.map((t) => `${t.name}: expected ${shapeText(t.expected)}, got ${shapeText(t.got)}`);
    const unexpected = report.unexpected.map((t) => t.name).sort();
    const parts: string[] = [];
    const list = (title: string, items: string[]) => items.length && parts.push(`${title} (${items.length}): ${items.slice(0, 40).join(', ')}${items.length > 40 ? ', ...' : ''}`);
    list('missing', missing);
    list('mis-shaped', misshaped);
    list('unexpected', unexpected);
    super(`weights from ${source} do not fit the network:\n  ${parts.join('\n  ')}`);
    this.name = 'WeightMismatchError';
    this.missing = missing;
    this.misshaped = misshaped;
    this.unexpected = unexpected;
  }
}
