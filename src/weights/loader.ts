// Builds a network's modules from a WeightSource. A network describes its
// parameters once, in its constructors (`p.conv(...)`, `p.linear(...)`); the same
// constructors run twice: first as a dry run that only records the tensors asked
// for (the network's weight spec, also what `mem3d convert` checks against), then,
// once the source has passed `checkWeights`, for real, uploading into a WeightSet
// that the network holds and releases in its `dispose()`.
import type { Runtime } from '../runtime/runtime.ts';
import { tensorsIn } from '../runtime/scope.ts';
import { prepareConv2d, type Conv2dWeights, type Conv2dWeightSpec, type WeightPrecision } from '../ops/conv2d.ts';
import { assertF16Weights, checkWeightPrecision } from '../ops/conv2d-f16.ts';
import { prepareLinear, type LinearWeights } from '../ops/linear.ts';
import { parseSliceLayout, SLICE_LAYOUT_KEY, type SliceLayout } from '../volume/layout.ts';
import { checkWeights, hasProblems, WeightMismatchError, type TensorSpec, type WeightSpec } from './check.ts';
import type { WeightSource } from './source.ts';

export { WeightMismatchError, type TensorSpec, type WeightSpec } from './check.ts';
export type { WeightPrecision } from '../ops/conv2d.ts';

export interface LoadOptions {
  /**
   * How conv weights are stored on the GPU: 'f32' (default) or 'f16' (half the
   * memory and weight bandwidth; needs the adapter's shader-f16). Biases, linear
   * layers and activations stay f32, and accumulation is f32 either way.
   */
  weightPrecision?: WeightPrecision;
}

/** Every GPU weight of one loaded network: released together, by the network's `dispose()`. */
export class WeightSet {
  private readonly items: { dispose(): void }[] = [];
  private released = false;
  /** Allocated storage bytes (buffer sizes): what `dispose()` gives back. */
  bytes = 0;

  constructor(private readonly rt: Runtime) {}

  /** Takes ownership of prepared weights: out of any open scope, released with the set. */
  add<T extends { dispose(): void }>(weights: T): T {
    this.rt.keep(weights);
    for (const t of tensorsIn(weights)) this.bytes += t.buffer.size;
    this.items.push(weights);
    return weights;
  }

  get disposed(): boolean {
    return this.released;
  }

  dispose(): void {
    if (this.released) return;
    this.released = true;
    for (const w of this.items) w.dispose();
  }
}

/** What a dry run hands the modules instead of GPU weights: never used for compute. */
const DRY = { dispose() {} };

export class ParamLoader {
  private readonly expected: TensorSpec[] = [];

  /** Without a target: a dry run that records the tensors asked for and uploads nothing. */
  private constructor(private readonly target: { source: WeightSource; weights: WeightSet; rt: Runtime; precision: WeightPrecision } | null) {}

  /** The dry run: every tensor (name and PyTorch shape) `build` asks for, in order. */
  static expectedTensors(build: (p: ParamLoader) => unknown): TensorSpec[] {
    const p = new ParamLoader(null);
    build(p);
    return p.expected;
  }

  /**
   * Checks `source` against the dry run's spec before anything touches the GPU (a
   * WeightMismatchError names every problem), then builds the modules for real. A
   * failure while uploading releases everything uploaded so far. f16 weights on an
   * adapter without shader-f16 are refused before the source is even checked.
   */
  static load<M>(rt: Runtime, source: WeightSource, build: (p: ParamLoader) => M, unused: readonly RegExp[], options: LoadOptions = {}): { modules: M; weights: WeightSet } {
    const precision = checkWeightPrecision(`loading ${source.description}`, options.weightPrecision ?? 'f32');
    if (precision === 'f16') assertF16Weights(rt, `loading ${source.description}`);
    const spec: WeightSpec = { tensors: ParamLoader.expectedTensors(build), unused };
    const report = checkWeights(new Map(source.names().map((n) => [n, source.shape(n)])), spec);
    if (hasProblems(report)) throw new WeightMismatchError(source.description, report);
    const weights = new WeightSet(rt);
    try {
      return { modules: build(new ParamLoader({ source, weights, rt, precision })), weights };
    } catch (e) {
      weights.dispose();
      throw e;
    }
  }

  /** A tensor's data; null in a dry run. */
  take(name: string, shape: readonly number[]): Float32Array | null {
    this.expected.push({ name, shape: [...shape] });
    return this.target ? this.target.source.float32(name) : null;
  }

  /**
   * A conv `name` (weight [O, I, KH, KW], optional bias) with the BatchNorm `bn`
   * folded in. `extraInputs` are convs whose weights are concatenated along the
   * input channels (Encoder_M sums conv1(frame) + conv1_m(mask) + conv1_bg(bg)).
   */
  conv(name: string, shape: [number, number, number, number], opts: { bias?: boolean; bn?: string; extraInputs?: { name: string; channels: number }[] } = {}): Conv2dWeights {
    const [o, i, kh, kw] = shape;
    const parts = [{ name, channels: i }, ...(opts.extraInputs ?? [])];
    const totalIn = parts.reduce((s, p) => s + p.channels, 0);
    const weight = new Float32Array(this.target ? o * totalIn * kh * kw : 0);
    let offset = 0;
    for (const p of parts) {
      const w = this.take(`${p.name}.weight`, [o, p.channels, kh, kw]);
      const block = p.channels * kh * kw;
      if (w) for (let oc = 0; oc < o; oc++) weight.set(w.subarray(oc * block, (oc + 1) * block), oc * totalIn * kh * kw + offset * kh * kw);
      offset += p.channels;
    }
    const bias = opts.bias ? this.take(`${name}.bias`, [o]) ?? undefined : undefined;
    const batchNorm = opts.bn ? this.batchNorm(opts.bn, o) : undefined;
    return this.constantConv({ weight, shape: [o, totalIn, kh, kw], bias, batchNorm, label: name });
  }

  /** A conv whose weights the network defines itself (not in the state_dict), owned with the rest. */
  constantConv(spec: Conv2dWeightSpec): Conv2dWeights {
    if (!this.target) return DRY as unknown as Conv2dWeights;
    return this.target.weights.add(prepareConv2d(this.target.rt, spec, this.target.precision));
  }

  linear(name: string, shape: [number, number]): LinearWeights {
    const weight = this.take(`${name}.weight`, shape);
    const bias = this.take(`${name}.bias`, [shape[0]]) ?? undefined;
    if (!this.target || !weight) return DRY as unknown as LinearWeights;
    return this.target.weights.add(prepareLinear(this.target.rt, { weight, shape, bias, label: name }));
  }

  private batchNorm(prefix: string, channels: number) {
    const get = (field: string) => this.take(`${prefix}.${field}`, [channels]);
    const [weight, bias, runningMean, runningVar] = [get('weight'), get('bias'), get('running_mean'), get('running_var')];
    if (!weight || !bias || !runningMean || !runningVar) return undefined;
    return { weight, bias, runningMean, runningVar, eps: 1e-5 };
  }
}

/**
 * The slice layout a network's weights were trained with: `override` if given, else
 * the source's `slice_layout` metadata, else undefined (the caller refuses or asks).
 */
export function weightsSliceLayout(source: WeightSource, override: SliceLayout | undefined): SliceLayout | undefined {
  if (override !== undefined) return parseSliceLayout(override, 'sliceLayout option');
  const stated = source.metadata?.[SLICE_LAYOUT_KEY];
  return stated === undefined ? undefined : parseSliceLayout(stated, `${source.description} metadata '${SLICE_LAYOUT_KEY}'`);
}
