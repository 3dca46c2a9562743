// Mem3D's per-pixel segmentation head (kernels/soft_aggregation.wgsl): object
// probability, soft-aggregated log-odds, the next memory mask and the quality
// head's argmax / max-probability channels, in one pass over the decoder logits;
// for one object (`softAggregation`) or K objects at once (`softAggregationObjects`,
// the original Soft_aggregation over background and K objects).
import { concatChannels } from './channels.ts';
import { grid1d, type Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';

const WORKGROUP_SIZE = 256;
const BOUNDS = { lo: Math.fround(1e-7), hi: Math.fround(1 - 1e-7) };

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

/** One object's view of a K-object aggregation. */
export interface ObjectView {
  /** softmax(the object's decoder logit)[1]: [N, H, W, 1] */
  ps: Tensor;
  /** softmax(logits)[k + 1]: [N, H, W, 1], what the object memorizes next */
  foreground: Tensor;
  /** (argmax, max) of the object's binary view (1 - foreground, foreground): [N, H, W, 2] */
  qualityInput: Tensor;
}

export interface ObjectsAggregation {
  /** Soft_aggregation log-odds over (background, object 1, ..., object K): [N, H, W, K + 1] */
  logits: Tensor;
  objects: ObjectView[];
}

function checkLogits(op: string, t: Tensor, shape: readonly number[] | null): void {
  t.assertLive(op);
  if (t.dtype !== 'f32' || t.shape.length !== 4 || t.shape[3] !== 2 || (shape && t.shape.some((d, i) => i < 3 && d !== shape[i]))) {
    throw new RangeError(`${op}: expects f32 [N, H, W, 2] decoder logits${shape ? ` of [${shape.slice(0, 3).join(', ')}, 2]` : ''}, got ${t.dtype} [${t.shape.join(', ')}]`);
  }
}

export function softAggregation(rt: Runtime, logit: Tensor): SoftAggregation {
  checkLogits('softAggregation', logit, null);
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
    uniforms: { pixels, ...BOUNDS, objects: 1, object: 0 },
    workgroups: grid1d(Math.ceil(pixels / WORKGROUP_SIZE)),
  });
  return out;
}

/**
 * Soft_aggregation of K objects' decoder logits (each f32 [N, H, W, 2], K >= 1): the
 * joint log-odds and every object's view. One pipeline serves every K (K is a
 * uniform); one dispatch per object. With K = 1 the numbers are `softAggregation`'s.
 */
export function softAggregationObjects(rt: Runtime, decoderLogits: readonly Tensor[]): ObjectsAggregation {
  const op = 'softAggregationObjects';
  if (decoderLogits.length === 0) throw new RangeError(`${op}: needs at least one object's decoder logits`);
  checkLogits(op, decoderLogits[0], null);
  for (const t of decoderLogits) checkLogits(op, t, decoderLogits[0].shape);
  const K = decoderLogits.length;
  const [n, h, w] = decoderLogits[0].shape;
  const pixels = n * h * w;
  const logits = rt.empty([n, h, w, K + 1], 'f32', 'aggregated logits');
  const objects = rt.scope(() => {
    // Object j's logits at channels (2j, 2j + 1); the concatenation is released with this scope.
    const stacked = K === 1 ? decoderLogits[0] : concatChannels(rt, decoderLogits);
    return decoderLogits.map((_, k): ObjectView => {
      const view: ObjectView = {
        ps: rt.empty([n, h, w, 1], 'f32', `ps ${k + 1}`),
        foreground: rt.empty([n, h, w, 1], 'f32', `foreground ${k + 1}`),
        qualityInput: rt.empty([n, h, w, 2], 'f32', `quality input ${k + 1}`),
      };
      rt.dispatch({
        kernel: 'soft_aggregation',
        entryPoint: 'objects',
        label: `soft aggregation, object ${k + 1} of ${K}`,
        constants: { WORKGROUP_SIZE },
        bindings: [stacked, view.ps, logits, view.foreground, view.qualityInput],
        uniforms: { pixels, ...BOUNDS, objects: K, object: k },
        workgroups: grid1d(Math.ceil(pixels / WORKGROUP_SIZE)),
      });
      return view;
    });
  });
  return { logits, objects };
}
