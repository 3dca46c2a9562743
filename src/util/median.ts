// The median the benchmarks and the autotuner report: the middle value, or the mean of
// the two middle values of an even count (taking the upper one made a median of two the
// maximum).
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of no values');
  const s = [...xs].sort((a, b) => a - b);
  const h = Math.floor(s.length / 2);
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}
