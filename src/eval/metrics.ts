// Overlap and agreement measures, written once: the session's oracle ranking, the robot
// rounds, the IOG Dice bench and the tests all score masks here.

/** Dice and IoU of two 0 / non-zero masks; both 1 when both are empty. */
export function overlap(a: ArrayLike<number>, b: ArrayLike<number>): { dice: number; iou: number } {
  if (a.length !== b.length) throw new RangeError(`overlap: masks have ${a.length} and ${b.length} pixels`);
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] !== 0;
    const y = b[i] !== 0;
    if (x && y) inter++;
    if (x || y) union++;
  }
  return union === 0 ? { dice: 1, iou: 1 } : { dice: (2 * inter) / (union + inter), iou: inter / union };
}

/** 2 |A and B| / (|A| + |B|) of two 0 / non-zero masks; 1 when both are empty. */
export function dice(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return overlap(a, b).dice;
}

/** Pearson's correlation coefficient; null with fewer than 2 pairs or no spread in either. */
export function pearson(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length) throw new RangeError(`pearson: ${x.length} and ${y.length} values`);
  const n = x.length;
  if (n < 2) return null;
  const mx = x.reduce((s, v) => s + v, 0) / n;
  const my = y.reduce((s, v) => s + v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxx === 0 || syy === 0 ? null : sxy / Math.sqrt(sxx * syy);
}
