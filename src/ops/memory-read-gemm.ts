// The memory read as two matrix products on the conv2d kernels (kernels/memory_read_gemm.wgsl
// for the operands' layout and the softmax):
//   S = Q K^T                   a 1x1 conv: the queries are its pixels, K^T [Dk, M] its weights
//   P = softmax_rows(S / sqrt(Dk))
//   O = P V                     a 1x1 conv: P's rows are its pixels, V [M, Dv] its weights
// Unlike the fused kernels (memory-read.ts) it writes the affinities (S, then P over it:
// [Q, M4], M4 = M rounded up to 4, zero past M), but the products run where the
// convolutions do, on kernels tuned far more than the fused read's: lavapipe's CPU conv
// kernel (3.8x the fused read at a 512x512 step), on a GPU the split-K tiles (14-16
// TFLOP/s on the H200 against the fused read's 6.5) and the matrix units with
// MEM3D_TENSOR_CORES (f16 operands, as for the convs); the autotuner's conv choices apply.
// memoryRead's default where the affinities fit one binding (gemmFits).
import { grid1d, type Runtime } from '../runtime/runtime.ts';
import { viewOf, type Tensor } from '../runtime/tensor.ts';
import { WGSL_CONSTANTS } from '../runtime/wgsl.generated.ts';
import { conv2d, Conv2dWeights } from './conv2d.ts';
import { padTo4 } from './conv2d-weights.ts';

const { PAD_WG } = WGSL_CONSTANTS.memory_read_gemm;

/** src [rows, cols] (or read transposed) as [outRows, outCols] with zero padding: the conv kernels' weight layout. */
function padMatrix(rt: Runtime, src: Tensor, rows: number, cols: number, outRows: number, outCols: number, transpose: boolean, label: string): Tensor {
  const out = rt.empty([outRows, outCols], 'f32', label);
  rt.dispatch({
    kernel: 'memory_read_gemm',
    entryPoint: 'pad_matrix',
    label,
    constants: { TRANSPOSE: transpose },
    bindings: [src, out],
    uniforms: { srcRows: rows, srcCols: cols, outRows, outCols },
    workgroups: grid1d(Math.ceil((outRows * outCols) / PAD_WG)),
  });
  return out;
}

/**
 * memoryRead's 'gemm' path; the caller (memoryRead) has checked the operands: keys [.., dk]
 * and values [.., dv] hold m rows, the query q rows of dk; `out` is the result [.., dv].
 */
export function memoryReadGemm(rt: Runtime, keys: Tensor, values: Tensor, queryKey: Tensor, dims: { q: number; m: number; dk: number; dv: number }, out: Tensor, label: string): void {
  const { q, m, dk, dv } = dims;
  const m4 = padTo4(m);
  rt.scope(() => {
    const zeros = (n: number) => rt.upload([n], new Float32Array(n), 'f32', `${label} zero bias`);
    // K^T: [Dk4, M4] (the conv's K = Dk rows padded to 4, its Cout = M4 columns).
    const keysT = new Conv2dWeights(m4, dk, 1, 1, padMatrix(rt, keys, m, dk, padTo4(dk), m4, true, `${label} keys^T`), zeros(m4), `${label} keys^T`);
    const query = queryKey.shape.length === 4 ? queryKey : viewOf(queryKey, [1, q, 1, dk]);
    // S, then P written over it.
    const affinities = conv2d(rt, query, keysT, { label: `${label} scores` });
    rt.dispatch({
      kernel: 'memory_read_gemm',
      entryPoint: 'softmax_rows',
      label: `${label} softmax`,
      bindings: [affinities],
      uniforms: { rows: q, cols: m4, valid: m, scale: 1 / Math.sqrt(dk) },
      workgroups: grid1d(q),
    });
    // V: [M4, Dv4] (K = M4 rows, zero past M; Cout = Dv): the values themselves when no padding is needed (a network's frames).
    const padded = m === m4 && dv === padTo4(dv) ? values : padMatrix(rt, values, m, dv, m4, padTo4(dv), false, `${label} values`);
    const valuesW = new Conv2dWeights(dv, m4, 1, 1, padded, zeros(padTo4(dv)), `${label} values`);
    conv2d(rt, affinities, valuesW, { label: `${label} product`, out: { tensor: out.shape.length === 4 ? out : viewOf(out, [1, q, 1, dv]), channelOffset: 0 } });
  });
}
