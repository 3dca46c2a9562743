// Deterministic test data from the robot user's seeded stream (mulberry32), so a
// failing case reruns identically.
import { seededRandom as rng } from '../../src/util/seeded-random.ts';

export { rng };

/** n values uniform in [lo, hi), rounded to f32 so the CPU reference sees exactly what the GPU sees. */
export function uniform(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}
