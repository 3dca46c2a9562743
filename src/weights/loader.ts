// Uploads a network's parameters from a WeightSource, checking every name and
// shape. Problems are collected, not thrown one at a time, so a user with a
// mismatched checkpoint sees every missing, mis-shaped and unexpected tensor in
// one error (Mem3D's own load_param skips mismatches silently).
import type { Runtime } from '../runtime/runtime.ts';
import { prepareConv2d, type Conv2dWeights } from '../ops/conv2d.ts';
import { prepareLinear, type LinearWeights } from '../ops/linear.ts';
import type { WeightSource } from './source.ts';

export class WeightMismatchError extends Error {
  constructor(readonly source: string, readonly missing: string[], readonly misshaped: string[], readonly unexpected: string[]) {
    const parts: string[] = [];
    const list = (title: string, items: string[]) => items.length && parts.push(`${title} (${items.length}): ${items.slice(0, 40).join(', ')}${items.length > 40 ? ', ...' : ''}`);
    list('missing', missing);
    list('mis-shaped', misshaped);
    list('unexpected', unexpected);
    super(`weights from ${source} do not fit the network:\n  ${parts.join('\n  ')}`);
    this.name = 'WeightMismatchError';
  }
}

/** Buffers PyTorch registers that the forward pass never reads. */
const IGNORED = [/\.num_batches_tracked$/, /^Encoder_[MQ]\.(mean|std)$/];

export interface TensorSpec {
  name: string;
  shape: number[];
}

/** What a dry run hands the modules instead of GPU weights: never used for compute. */
const DRY = { dispose() {} };

export class ParamLoader {
  private readonly used = new Set<string>();
  private readonly missing: string[] = [];
  private readonly misshaped: string[] = [];
  private readonly uploaded: { dispose(): void }[] = [];
  private readonly expected: TensorSpec[] = [];

  /** With `rt` and `source` null, a dry run: records the tensors a network expects, uploads nothing. */
  constructor(readonly rt: Runtime | null, readonly source: WeightSource | null) {}

  /** Every tensor (name and PyTorch shape) that `build` asks for, in order: a network's weight spec. */
  static expectedTensors(build: (p: ParamLoader) => unknown): TensorSpec[] {
    const p = new ParamLoader(null, null);
    build(p);
    return p.expected;
  }

  /** A tensor's data, checked against the shape the network expects; null (and recorded) when absent or mis-shaped. */
  take(name: string, shape: readonly number[]): Float32Array | null {
    this.used.add(name);
    this.expected.push({ name, shape: [...shape] });
    if (!this.source) return null;
    if (!this.source.has(name)) {
      this.missing.push(`${name} [${shape.join(', ')}]`);
      return null;
    }
    const got = this.source.shape(name);
    if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
      this.misshaped.push(`${name}: expected [${shape.join(', ')}], got [${got.join(', ')}]`);
      return null;
    }
    return this.source.float32(name);
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
    const weight = new Float32Array(o * totalIn * kh * kw);
    let offset = 0;
    for (const p of parts) {
      const w = this.take(`${p.name}.weight`, [o, p.channels, kh, kw]);
      const block = p.channels * kh * kw;
      if (w) for (let oc = 0; oc < o; oc++) weight.set(w.subarray(oc * block, (oc + 1) * block), oc * totalIn * kh * kw + offset * kh * kw);
      offset += p.channels;
    }
    const bias = opts.bias ? this.take(`${name}.bias`, [o]) ?? undefined : undefined;
    const bn = opts.bn ? this.batchNorm(opts.bn, o) : undefined;
    if (!this.rt) return DRY as unknown as Conv2dWeights;
    const prepared = prepareConv2d(this.rt, { weight, shape: [o, totalIn, kh, kw], bias, batchNorm: bn, label: name });
    this.uploaded.push(prepared);
    return prepared;
  }

  linear(name: string, shape: [number, number]): LinearWeights {
    const weight = this.take(`${name}.weight`, shape) ?? new Float32Array(shape[0] * shape[1]);
    const bias = this.take(`${name}.bias`, [shape[0]]) ?? undefined;
    if (!this.rt) return DRY as unknown as LinearWeights;
    const prepared = prepareLinear(this.rt, { weight, shape, bias, label: name });
    this.uploaded.push(prepared);
    return prepared;
  }

  /** Throws a WeightMismatchError listing every problem; releases what was uploaded when it does. */
  finish(): void {
    if (!this.source) return;
    const unexpected = this.source.names().filter((n) => !this.used.has(n) && !IGNORED.some((re) => re.test(n)));
    if (this.missing.length || this.misshaped.length || unexpected.length) {
      for (const u of this.uploaded) u.dispose();
      throw new WeightMismatchError(this.source.description, this.missing, this.misshaped, unexpected.sort());
    }
  }

  private batchNorm(prefix: string, channels: number) {
    const get = (field: string) => this.take(`${prefix}.${field}`, [channels]);
    const [weight, bias, runningMean, runningVar] = [get('weight'), get('bias'), get('running_mean'), get('running_var')];
    if (!weight || !bias || !runningMean || !runningVar) return undefined;
    return { weight, bias, runningMean, runningVar, eps: 1e-5 };
  }
}
