// Float64 reference for kernels/memory_read.wgsl: the full M x Q softmax, as the
// PyTorch STM `Memory` module computes it (max-subtracted, in double precision).

/** mk [M, Dk], mv [M, Dv], q [Q, Dk] (row-major) -> out [Q, Dv]. */
export function memoryReadRef(mk: ArrayLike<number>, mv: ArrayLike<number>, q: ArrayLike<number>, dk: number, dv: number): Float64Array {
  const m = mk.length / dk;
  const nq = q.length / dk;
  const scale = 1 / Math.sqrt(dk);
  const out = new Float64Array(nq * dv);
  const s = new Float64Array(m);
  for (let qi = 0; qi < nq; qi++) {
    let mx = -Infinity;
    for (let j = 0; j < m; j++) {
      let dot = 0;
      for (let d = 0; d < dk; d++) dot += mk[j * dk + d] * q[qi * dk + d];
      s[j] = dot * scale;
      mx = Math.max(mx, s[j]);
    }
    let sum = 0;
    for (let j = 0; j < m; j++) {
      s[j] = Math.exp(s[j] - mx);
      sum += s[j];
    }
    for (let j = 0; j < m; j++) {
      const p = s[j] / sum;
      for (let c = 0; c < dv; c++) out[qi * dv + c] += p * mv[j * dv + c];
    }
  }
  return out;
}

/** Largest score magnitude bound max_{q,m} sum_d |mk[m,d] q[q,d]| / sqrt(Dk): the scale of score rounding errors. */
export function maxAbsScore(mk: ArrayLike<number>, q: ArrayLike<number>, dk: number): number {
  const m = mk.length / dk;
  const nq = q.length / dk;
  let best = 0;
  for (let qi = 0; qi < nq; qi++) {
    for (let j = 0; j < m; j++) {
      let a = 0;
      for (let d = 0; d < dk; d++) a += Math.abs(mk[j * dk + d] * q[qi * dk + d]);
      best = Math.max(best, a);
    }
  }
  return best / Math.sqrt(dk);
}
