// A robot user: the interactions a person would give, derived from a ground-truth
// mask, for evaluation and tests. Ties (several pixels share the extreme column or
// row) are broken by a seeded random pick, as the original's random.randint does.
import type { Point } from './crop.ts';
import type { Plane } from './resample.ts';

/** mulberry32: a small seeded stream in [0, 1). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * helpers.extreme_points(mask, pert): the left-, right-, top- and bottom-most
 * foreground (> 0.5) pixels, each picked among those within `pert` px of the extreme.
 * Throws on an empty mask (there is nothing to click).
 */
export function extremePointsOfMask(mask: Plane, options: { seed?: number; pert?: number } = {}): [Point, Point, Point, Point] {
  const { seed = 0, pert = 0 } = options;
  if (mask.data.length !== mask.width * mask.height) throw new RangeError(`extremePointsOfMask: mask has ${mask.data.length} values, ${mask.width}x${mask.height} needs ${mask.width * mask.height}`);
  const fg: Point[] = [];
  for (let y = 0; y < mask.height; y++) for (let x = 0; x < mask.width; x++) if (mask.data[y * mask.width + x] > 0.5) fg.push({ x, y });
  if (fg.length === 0) throw new RangeError('extremePointsOfMask: the mask is empty; an extreme-point interaction needs an object');
  const random = seededRandom(seed);
  const pick = (candidates: Point[]) => candidates[Math.floor(random() * candidates.length)];
  const xs = fg.map((p) => p.x);
  const ys = fg.map((p) => p.y);
  const [xmin, xmax, ymin, ymax] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  return [
    pick(fg.filter((p) => p.x <= xmin + pert)),
    pick(fg.filter((p) => p.x >= xmax - pert)),
    pick(fg.filter((p) => p.y <= ymin + pert)),
    pick(fg.filter((p) => p.y >= ymax - pert)),
  ];
}

/** 2 |A and B| / (|A| + |B|) of two 0 / non-zero masks; 1 when both are empty. */
export function dice(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`dice: masks have ${a.length} and ${b.length} pixels`);
  let inter = 0;
  let total = 0;
  for (let i = 0; i < a.length; i++) {
    const [x, y] = [a[i] !== 0, b[i] !== 0];
    if (x && y) inter++;
    total += Number(x) + Number(y);
  }
  return total === 0 ? 1 : (2 * inter) / total;
}
