// Float64 reference of kernels/soft_aggregation.wgsl, written from the original
// `Soft_aggregation` and QAMN forward (models_SAQ.py).
export function softAggregationRef(logit: ArrayLike<number>): { ps: Float64Array; logits: Float64Array; foreground: Float64Array; qualityInput: Float64Array } {
  const p = logit.length / 2;
  const ps = new Float64Array(p);
  const logits = new Float64Array(2 * p);
  const foreground = new Float64Array(p);
  const qualityInput = new Float64Array(2 * p);
  const clamp = (x: number) => Math.min(1 - 1e-7, Math.max(1e-7, x));
  for (let i = 0; i < p; i++) {
    const l0 = logit[2 * i];
    const l1 = logit[2 * i + 1];
    const m = Math.max(l0, l1);
    const prob = Math.exp(l1 - m) / (Math.exp(l0 - m) + Math.exp(l1 - m));
    const em = [clamp(1 - prob), clamp(prob)];
    const a = em.map((e) => Math.log(e / (1 - e)));
    const am = Math.max(a[0], a[1]);
    const f = Math.exp(a[1] - am) / (Math.exp(a[0] - am) + Math.exp(a[1] - am));
    ps[i] = prob;
    logits[2 * i] = a[0];
    logits[2 * i + 1] = a[1];
    foreground[i] = f;
    qualityInput[2 * i] = a[1] > a[0] ? 1 : 0;
    qualityInput[2 * i + 1] = Math.max(f, 1 - f);
  }
  return { ps, logits, foreground, qualityInput };
}
