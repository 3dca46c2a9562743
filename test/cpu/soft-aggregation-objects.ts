// Float64 reference of kernels/soft_aggregation.wgsl's `objects` entry, written from
// the original STM `Soft_aggregation(ps, K)` for K objects:
//   em[0] = prod_k (1 - ps_k), em[k] = ps_k; em = clamp(em, 1e-7, 1 - 1e-7);
//   logit = log(em / (1 - em)); softmax over the K + 1 channels.
// Per object k: ps_k, foreground_k = softmax(logit)[k], and the quality head's input on
// the object's binary view (1 - foreground_k, foreground_k): (argmax, max).
export interface ObjectsAggregationRef {
  /** [P, K + 1]: (background, object 1, ..., object K) */
  logits: Float64Array;
  objects: { ps: Float64Array; foreground: Float64Array; qualityInput: Float64Array }[];
}

/** `decoderLogits[k]`: object k's decoder logits [P, 2] (background, object), channels-last. */
export function softAggregationObjectsRef(decoderLogits: readonly ArrayLike<number>[]): ObjectsAggregationRef {
  const K = decoderLogits.length;
  const P = decoderLogits[0].length / 2;
  const clamp = (x: number) => Math.min(1 - 1e-7, Math.max(1e-7, x));
  const logits = new Float64Array(P * (K + 1));
  const objects = decoderLogits.map(() => ({ ps: new Float64Array(P), foreground: new Float64Array(P), qualityInput: new Float64Array(2 * P) }));
  for (let i = 0; i < P; i++) {
    const ps = decoderLogits.map((l) => {
      const [l0, l1] = [l[2 * i], l[2 * i + 1]];
      const m = Math.max(l0, l1);
      return Math.exp(l1 - m) / (Math.exp(l0 - m) + Math.exp(l1 - m));
    });
    const em = [ps.reduce((bg, p) => bg * (1 - p), 1), ...ps].map(clamp);
    const a = em.map((e) => Math.log(e / (1 - e)));
    const am = Math.max(...a);
    const e = a.map((x) => Math.exp(x - am));
    const sum = e.reduce((s, x) => s + x, 0);
    for (let c = 0; c <= K; c++) logits[i * (K + 1) + c] = a[c];
    for (let k = 0; k < K; k++) {
      const f = e[k + 1] / sum;
      const o = objects[k];
      o.ps[i] = ps[k];
      o.foreground[i] = f;
      o.qualityInput[2 * i] = f > 1 - f ? 1 : 0;
      o.qualityInput[2 * i + 1] = Math.max(f, 1 - f);
    }
  }
  return { logits, objects };
}
