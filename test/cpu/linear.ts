// Float64 reference for kernels/linear.wgsl: nn.Linear (weight [out, in]) over rows of x.
export function linearRef(x: ArrayLike<number>, w: ArrayLike<number>, bias: ArrayLike<number> | undefined, [outF, inF]: readonly [number, number], act: 'none' | 'relu' | 'sigmoid' = 'none'): Float64Array {
  const rows = x.length / inF;
  const out = new Float64Array(rows * outF);
  for (let n = 0; n < rows; n++) {
    for (let j = 0; j < outF; j++) {
      let y = bias ? bias[j] : 0;
      for (let k = 0; k < inF; k++) y += x[n * inF + k] * w[j * inF + k];
      out[n * outF + j] = act === 'relu' ? Math.max(y, 0) : act === 'sigmoid' ? 1 / (1 + Math.exp(-y)) : y;
    }
  }
  return out;
}
