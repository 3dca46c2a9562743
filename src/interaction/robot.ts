// A robot user: the interactions a person would give, derived from a ground-truth
// mask, for evaluation and tests, deterministic under a seed. Extreme-point ties
// (several pixels share the extreme column or row) are broken by a seeded random
// pick, as the original's random.randint does; inside-outside and two points follow
// helpers.iog_points / helpers2.iog_points (deterministic). The original has no
// scribble simulation (its scribbles are drawn by hand): see scribbleOfMask.
// Masks are slice images in the engine's layout (src/volume/layout.ts); the points a
// robot reports to people (logs, eval.json) are voxel indices: robotVoxelPoints.
import type { Point } from './crop.ts';
import { argmaxPixel, distanceToBackground } from './distance.ts';
import type { Interaction, InteractionKind } from './encode.ts';
import { iogPointsOfMask } from './inside-outside.ts';
import type { Plane } from './resample.ts';
import { drawStroke } from './scribble.ts';
import { twoPointsOfMask } from './two-points.ts';
import { seededRandom } from '../util/seeded-random.ts';
import { voxelFromPixel, type VoxelPoint } from '../volume/layout.ts';

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
  // A loop, not Math.min(...xs): spreading a large object's pixels overflows the stack.
  let [xmin, xmax, ymin, ymax] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const p of fg) [xmin, xmax, ymin, ymax] = [Math.min(xmin, p.x), Math.max(xmax, p.x), Math.min(ymin, p.y), Math.max(ymax, p.y)];
  return [
    pick(fg.filter((p) => p.x <= xmin + pert)),
    pick(fg.filter((p) => p.x >= xmax - pert)),
    pick(fg.filter((p) => p.y <= ymin + pert)),
    pick(fg.filter((p) => p.y >= ymax - pert)),
  ];
}

/**
 * The IOG clicks of helpers.iog_points: the distance-transform maximum inside, and
 * the mask's bounding box (left-top and right-bottom corners) as the outside points;
 * the encoder pushes the corners 10 network pixels outward. Throws on an empty mask.
 */
export function insideOutsideOfMask(mask: Plane): { inside: Point; outside: [Point, Point] } {
  const { inside, corners } = iogPointsOfMask(mask, 0);
  return { inside, outside: [corners[0], corners[3]] };
}

/**
 * A scribble a person might draw: a 3 px wide polyline from a random pixel of one end
 * of the object, through its distance-transform maximum, to a random pixel of the
 * other end ("ends": the outer halves along the principal axis), kept inside the
 * mask eroded to distance >= 40 % of the maximum. A 0 / 1 mask; at least the maximum's
 * pixel. Throws on an empty mask.
 */
export function scribbleOfMask(mask: Plane, options: { seed?: number } = {}): Uint8Array {
  const { width, height } = mask;
  const dist = distanceToBackground(mask);
  const centre = argmaxPixel(dist, width);
  const maxDist = centre ? dist[centre.y * width + centre.x] : 0;
  if (!centre || maxDist === 0) throw new RangeError('scribbleOfMask: the mask is empty; a scribble needs an object');
  const depth = Math.max(1, 0.4 * maxDist);
  const core: Point[] = [];
  for (let i = 0; i < dist.length; i++) if (dist[i] >= depth) core.push({ x: i % width, y: Math.floor(i / width) });
  let [sxx, syy, sxy] = [0, 0, 0];
  for (const p of core) [sxx, syy, sxy] = [sxx + (p.x - centre.x) ** 2, syy + (p.y - centre.y) ** 2, sxy + (p.x - centre.x) * (p.y - centre.y)];
  const angle = 0.5 * Math.atan2(2 * sxy, sxx - syy);
  const along = (p: Point) => (p.x - centre.x) * Math.cos(angle) + (p.y - centre.y) * Math.sin(angle);
  const random = seededRandom(options.seed ?? 0);
  const end = (sign: number): Point[] => {
    const side = core.filter((p) => sign * along(p) > 0);
    const reach = side.reduce((m, p) => Math.max(m, sign * along(p)), 0);
    const far = side.filter((p) => sign * along(p) >= 0.5 * reach);
    return far.length ? [far[Math.floor(random() * far.length)]] : [];
  };
  const stroke = drawStroke([...end(-1), centre, ...end(1)], width, height, 1);
  for (let i = 0; i < stroke.length; i++) if (dist[i] < depth) stroke[i] = 0;
  return stroke;
}

/** The interaction of `kind` a robot user gives for the object in `mask`. Throws on an empty mask. */
export function robotInteraction(kind: InteractionKind, mask: Plane, options: { seed?: number } = {}): Interaction {
  switch (kind) {
    case 'extreme-points':
      return { kind, points: extremePointsOfMask(mask, options) };
    case 'inside-outside':
      return { kind, ...insideOutsideOfMask(mask) };
    case 'scribble':
      return { kind, scribble: { width: mask.width, height: mask.height, data: scribbleOfMask(mask, options) } };
    case 'two-points':
      return { kind, points: twoPointsOfMask(mask) };
    default:
      throw new RangeError(`robotInteraction: unknown interaction kind ${JSON.stringify(kind)}`);
  }
}

/**
 * The clicks of an interaction as in-plane voxel indices (a, b) of its slice, the way
 * users and eval reports give coordinates; a scribble has none (it is a mask).
 */
export function robotVoxelPoints(interaction: Interaction): VoxelPoint[] {
  switch (interaction.kind) {
    case 'extreme-points':
    case 'two-points':
      return interaction.points.map(voxelFromPixel);
    case 'inside-outside':
      return [...(interaction.inside ? [interaction.inside] : []), ...interaction.outside].map(voxelFromPixel);
    case 'scribble':
      return [];
  }
}
