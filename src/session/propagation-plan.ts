// Which slices the next propagation computes, and in what order (pure; session.ts runs it).
//
// A structure's runs are the single-structure session's (eval_SAQ.py): from each of its
// slices annotated since the last propagation, in both directions, up to its next
// annotated or locked slice or the window's end; a gap between two new annotations is
// split at its middle, so each slice reads from the nearer one. Runs of one structure
// never overlap.
//
// Runs of different structures in the same direction that cover common slices form one
// sweep: the sweep walks its slices in that direction and, at each slice, segments all
// structures whose run covers it in one joint step (the original's multi-object scheme:
// each object reads its own memory, Soft_aggregation over background and objects).
// Sweeps are independent of each other; they run ordered by their first source slice,
// downwards before upwards, which with one structure is the single-structure order.

export interface PlanStructure {
  id: number;
  /** Annotated or locked on slice z: a run stops there. */
  fixed(z: number): boolean;
  /** Fixed slices to propagate from (annotated since the last propagation). */
  pending: ReadonlySet<number>;
}

export interface Run {
  structure: number;
  /** The fixed slice the run starts from (memorized first). */
  from: number;
  dir: -1 | 1;
  /** The slices it computes, in order. */
  slices: number[];
}

export interface Sweep {
  dir: -1 | 1;
  /** Runs in structure id order, then source order. */
  runs: Run[];
  /** Every slice some run covers, in the sweep's direction. */
  slices: number[];
  /** Same runs, same masks: a sweep finished before a failure is skipped by this key. */
  key: string;
}

function run(s: PlanStructure, from: number, dir: -1 | 1, [first, last]: readonly [number, number]): Run {
  let end = from + dir;
  while (end >= first && end <= last && !s.fixed(end)) end += dir;
  if (s.pending.has(end) && end >= first && end <= last) end = dir > 0 ? Math.floor((from + end) / 2) + 1 : Math.floor((from + end) / 2);
  const slices: number[] = [];
  for (let z = from + dir; z !== end; z += dir) slices.push(z);
  return { structure: s.id, from, dir, slices };
}

/** Every run the next propagation makes, grouped into sweeps. */
export function planSweeps(structures: readonly PlanStructure[], window: readonly [number, number]): Sweep[] {
  const runs: Run[] = [];
  for (const s of structures) {
    const sources = [...s.pending].filter((z) => z >= window[0] && z <= window[1] && s.fixed(z)).sort((a, b) => a - b);
    for (const z of sources) for (const dir of [-1, 1] as const) {
      const r = run(s, z, dir, window);
      if (r.slices.length > 0) runs.push(r);
    }
  }
  const sweeps: Sweep[] = [];
  for (const dir of [-1, 1] as const) {
    // Overlapping ranges of one direction join, transitively: sort by the low end and merge.
    const ranges = runs
      .filter((r) => r.dir === dir)
      .map((r) => ({ r, lo: Math.min(r.slices[0], r.slices[r.slices.length - 1]), hi: Math.max(r.slices[0], r.slices[r.slices.length - 1]) }))
      .sort((a, b) => a.lo - b.lo || a.r.structure - b.r.structure);
    let current: { runs: Run[]; lo: number; hi: number } | null = null;
    const groups: { runs: Run[]; lo: number; hi: number }[] = [];
    for (const { r, lo, hi } of ranges) {
      if (current && lo <= current.hi) {
        current.runs.push(r);
        current.hi = Math.max(current.hi, hi);
      } else {
        current = { runs: [r], lo, hi };
        groups.push(current);
      }
    }
    for (const g of groups) {
      const slices: number[] = [];
      for (let z = dir > 0 ? g.lo : g.hi; z >= g.lo && z <= g.hi; z += dir) slices.push(z);
      const ordered = g.runs.sort((a, b) => a.structure - b.structure || a.from - b.from);
      sweeps.push({ dir, runs: ordered, slices, key: ordered.map((r) => `${r.structure}:${r.from}:${r.slices.join(',')}`).join('|') });
    }
  }
  const start = (s: Sweep) => Math.min(...s.runs.map((r) => r.from));
  return sweeps.sort((a, b) => start(a) - start(b) || a.dir - b.dir);
}
