// Mem3D's per-pixel segmentation head (kernels/soft_aggregation.wgsl): object
// probability, soft-aggregated log-odds, the next memory mask and the quality
// head's argmax / max-probability channels, in one pass over the decoder logits.
import { grid1d, type Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';

const WORKGROUP_SIZE = 256;

export interface SoftAggregation {
  /** softmax(decoder logit)[1]: [N, H, W, 1] */
  ps: Tensor;
  /** Soft_aggregation log-odds: [N, H, W, 2] */
  logits: Tensor;
  /** softmax(logits)[1]: [N, H, W, 1], the mask the original memorizes next */
  foreground: Tensor;
  /** (argmax, max) of softmax(logits): [N, H, W, 2] */
  qualityInput: Tensor;
}

export function softAggregation(rt: Runtime, logit: Tensor): SoftAggregation {
  logit.assertLive('softAggregation');
  if (logit.dtype !== 'f32' || logit.shape.length !== 4 || logit.shape[3] !== 2) {
    throw new RangeError(`softAggregation: expects f32 [N, H, W, 2] decoder logits, got ${logit.dtype} [${logit.shape.join(', ')}]`);
  }
  const [n, h, w] = logit.shape;
  const pixels = n * h * w;
  const out: SoftAggregation = {
    ps: rt.empty([n, h, w, 1], 'f32', 'ps'),
    logits: rt.empty([n, h, w, 2], 'f32', 'aggregated logits'),
    foreground: rt.empty([n, h, w, 1], 'f32', 'foreground'),
    qualityInput: rt.empty([n, h, w, 2], 'f32', 'quality input'),
  };
  rt.dispatch({
    kernel: 'soft_aggregation',
    label: 'soft aggregation',
    constants: { WORKGROUP_SIZE },
    bindings: [logit, out.ps, out.logits, out.foreground, out.qualityInput],
    uniforms: { pixels, lo: Math.fround(1e-7), hi: Math.fround(1 - 1e-7) },
    workgroups: grid1d(Math.ceil(pixels / WORKGROUP_SIZE)),
  });
  return out;
}
