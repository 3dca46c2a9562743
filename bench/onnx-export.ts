// ONNX graphs of our loaded networks, for the peer benchmarks (bench/peer-networks.ts):
// the exporter walks the module objects the engine runs (their conv weights, strides,
// dilations, branches) and mirrors each module's forward() op for op in NCHW, the
// layout ONNX runtimes expect. Weights are read back from the GPU buffers our kernels
// read (BatchNorm already folded, rounded once to f32), so both sides run the same
// numbers; the benchmark checks that the outputs agree.
//
// Module fields are private in TypeScript; the views below name the ones the walk
// reads, and `field()` fails loudly if a module no longer has one (a refactor of the
// networks then breaks this exporter visibly rather than exporting something else).
import type { Conv2dWeights } from '../src/ops/conv2d.ts';
import type { LinearWeights } from '../src/ops/linear.ts';
import { IOG_OUTPUT_SIZE, type IOGNetwork } from '../src/networks/iog/network.ts';
import type { MemoryNetwork } from '../src/networks/mem3d/memory-network.ts';
import { float, OnnxGraph } from './onnx-writer.ts';

/** A value of the graph and its NCHW shape (or any shape for 2-D values). */
export interface V {
  name: string;
  shape: number[];
}

export interface ConvOptions {
  stride?: number;
  padding?: number;
  dilation?: number;
  relu?: boolean;
  residual?: V;
}

/**
 * Input channels of an exported conv: counts above 4 that are not a multiple of 4 are
 * zero-padded to one (a Pad of the input, zero weight columns; the same sums). The
 * reason is a peer's bug: onnxruntime-web 1.30's WebGPU Conv returned wrong values on
 * Dawn/lavapipe for 3x3 convs with 6, 9 or 1026 input channels (QAMN's quality head
 * has 1026) while 1-5, 7, 10-14 and multiples of 4 were right (bench/RESULTS.md). Our
 * kernels pad Cin to 4 the same way; FLOP counts use the real channels.
 */
function exportedChannels(cin: number): number {
  return cin > 4 && cin % 4 !== 0 ? Math.ceil(cin / 4) * 4 : cin;
}

function field<T>(obj: unknown, name: string, owner: string): T {
  const v = (obj as Record<string, unknown> | null)?.[name];
  if (v === undefined) throw new Error(`onnx-export: ${owner} has no field '${name}' (the module changed; update bench/onnx-export.ts)`);
  return v as T;
}

/** Graph building with our ops' semantics (src/ops/*), in NCHW. */
export class Exporter {
  readonly g: OnnxGraph;
  private readonly convs = new Map<Conv2dWeights, { w: string; b: string }>();
  /** Multiply-adds x 2 of the convolutions, matrix products and linear layers exported so far. */
  flops = 0;

  constructor(name: string) {
    this.g = new OnnxGraph(name);
  }

  input(name: string, shape: number[]): V {
    return { name: this.g.input(name, shape), shape };
  }

  /** Our [KH*KW*CinPad, CoutPad] weight matrix and padded bias, back to OIHW and [O]. */
  private async convWeights(w: Conv2dWeights): Promise<{ w: string; b: string }> {
    const known = this.convs.get(w);
    if (known) return known;
    if (w.precision !== 'f32') throw new Error(`onnx-export: conv '${w.label}' holds ${w.precision} weights; load the network with f32 weights`);
    const mat = (await w.weight.read()) as Float32Array;
    const bias = (await w.bias.read()) as Float32Array;
    const { cout: O, cin, kh: KH, kw: KW, cinPad: IP } = w;
    const I = exportedChannels(cin);
    const CP = bias.length;
    // Input channels past `cin` (see exportedChannels) get zero weights.
    const oihw = new Float32Array(O * I * KH * KW);
    for (let o = 0; o < O; o++) for (let i = 0; i < cin; i++) for (let y = 0; y < KH; y++) for (let x = 0; x < KW; x++) oihw[((o * I + i) * KH + y) * KW + x] = mat[((y * KW + x) * IP + i) * CP + o];
    const names = { w: this.g.initializer([O, I, KH, KW], oihw, `${w.label}.weight`), b: this.g.initializer([O], bias.slice(0, O), `${w.label}.bias`) };
    this.convs.set(w, names);
    return names;
  }

  /** conv2d (src/ops/conv2d.ts): bias, then + residual, then ReLU. */
  async conv(x: V, w: Conv2dWeights, o: ConvOptions = {}): Promise<V> {
    const [s, p, d] = [o.stride ?? 1, o.padding ?? 0, o.dilation ?? 1];
    if (x.shape[1] !== w.cin) throw new Error(`onnx-export: conv '${w.label}' takes ${w.cin} channels, the input has ${x.shape[1]}`);
    const { w: W, b } = await this.convWeights(w);
    const extra = exportedChannels(w.cin) - w.cin;
    const input = extra ? this.g.node('Pad', [x.name, this.g.ints([0, 0, 0, 0, 0, extra, 0, 0])]) : x.name;
    const out = (n: number, k: number) => Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;
    let y: V = {
      name: this.g.node('Conv', [input, W, b], { kernel_shape: [w.kh, w.kw], strides: [s, s], pads: [p, p, p, p], dilations: [d, d] }),
      shape: [x.shape[0], w.cout, out(x.shape[2], w.kh), out(x.shape[3], w.kw)],
    };
    this.flops += 2 * y.shape[1] * y.shape[2] * y.shape[3] * w.cin * w.kh * w.kw;
    if (o.residual) y = this.add(y, o.residual);
    return o.relu ? this.relu(y) : y;
  }

  relu(x: V): V {
    return { name: this.g.node('Relu', [x.name]), shape: x.shape };
  }

  add(a: V, b: V): V {
    return { name: this.g.node('Add', [a.name, b.name]), shape: a.shape };
  }

  /** MaxPool2d, ceil_mode=False. */
  maxPool(x: V, kernel: number, stride: number, padding: number): V {
    const out = (n: number) => Math.floor((n + 2 * padding - kernel) / stride) + 1;
    return { name: this.g.node('MaxPool', [x.name], { kernel_shape: [kernel, kernel], strides: [stride, stride], pads: [padding, padding, padding, padding] }), shape: [x.shape[0], x.shape[1], out(x.shape[2]), out(x.shape[3])] };
  }

  concat(parts: V[], axis = 1): V {
    const shape = [...parts[0].shape];
    shape[axis] = parts.reduce((s, p) => s + p.shape[axis], 0);
    return { name: this.g.node('Concat', parts.map((p) => p.name), { axis }), shape };
  }

  /** F.interpolate(mode='bilinear') without antialiasing; align_corners False is ONNX's half_pixel. */
  resize(x: V, size: [number, number], alignCorners: boolean): V {
    const shape = [x.shape[0], x.shape[1], size[0], size[1]];
    const mode = alignCorners ? 'align_corners' : 'half_pixel';
    return { name: this.g.node('Resize', [x.name, '', '', this.g.ints(shape)], { mode: 'linear', coordinate_transformation_mode: mode }), shape };
  }

  /**
   * AdaptiveAvgPool2d: a global pool for 1x1; otherwise PyTorch's bins (start floor(i*h/s),
   * end ceil((i+1)*h/s), possibly uneven, which no ONNX pooling op expresses) as one
   * MatMul with the averaging matrix: the same sums.
   */
  adaptiveAvgPool(x: V, s: number): V {
    const [n, c, h, w] = x.shape;
    if (s === 1) return { name: this.g.node('GlobalAveragePool', [x.name]), shape: [n, c, 1, 1] };
    const pool = new Float32Array(h * w * s * s);
    const bins = (len: number) => Array.from({ length: s }, (_, i) => [Math.floor((i * len) / s), Math.ceil(((i + 1) * len) / s)]);
    bins(h).forEach(([y0, y1], by) =>
      bins(w).forEach(([x0, x1], bx) => {
        for (let y = y0; y < y1; y++) for (let xx = x0; xx < x1; xx++) pool[(y * w + xx) * s * s + by * s + bx] = 1 / ((y1 - y0) * (x1 - x0));
      }),
    );
    const flat = this.reshape(x, [n * c, h * w]);
    const pooled = { name: this.g.node('MatMul', [flat.name, this.g.initializer([h * w, s * s], pool)]), shape: [n * c, s * s] };
    return this.reshape(pooled, [n, c, s, s]);
  }

  reshape(x: V, shape: number[]): V {
    return { name: this.g.node('Reshape', [x.name, this.g.ints(shape)]), shape };
  }

  /** nn.Linear on a [1, C, 1, 1] or [1, C] input, with an optional ReLU or sigmoid. */
  async linear(x: V, l: LinearWeights, act: 'relu' | 'sigmoid' | null): Promise<V> {
    const w = this.g.initializer([l.outFeatures, l.inFeatures], (await l.weight.read()) as Float32Array, `${l.label}.weight`);
    const b = this.g.initializer([l.outFeatures], (await l.bias.read()) as Float32Array, `${l.label}.bias`);
    const flat = this.reshape(x, [1, l.inFeatures]);
    this.flops += 2 * l.outFeatures * l.inFeatures;
    const y: V = { name: this.g.node('Gemm', [flat.name, w, b], { transB: 1 }), shape: [1, l.outFeatures] };
    if (!act) return y;
    return { name: this.g.node(act === 'relu' ? 'Relu' : 'Sigmoid', [y.name]), shape: y.shape };
  }

  output(x: V, name: string): V {
    const named = { name: this.g.node('Identity', [x.name], {}, name), shape: x.shape };
    this.g.output(named.name);
    return named;
  }
}

// ---- shared modules (src/networks/resnet.ts, sequential.ts)

async function bottleneck(e: Exporter, x: V, block: unknown): Promise<V> {
  const f = <T>(n: string) => field<T>(block, n, 'Bottleneck');
  const stride = f<number>('stride'), dilation = f<number>('dilation');
  const out = await e.conv(await e.conv(x, f('conv1'), { relu: true }), f('conv2'), { stride, padding: dilation, dilation, relu: true });
  const ds = (block as { downsample: Conv2dWeights | null }).downsample;
  const identity = ds ? await e.conv(x, ds, { stride }) : x;
  return e.conv(out, f('conv3'), { residual: identity, relu: true });
}

async function resLayer(e: Exporter, x: V, layer: unknown): Promise<V> {
  let h = x;
  for (const b of field<unknown[]>(layer, 'blocks', 'ResLayer')) h = await bottleneck(e, h, b);
  return h;
}

// ---- QAMN (src/networks/mem3d/*)

async function trunk(e: Exporter, input: V, encoder: unknown): Promise<{ r4: V; r3: V; r2: V }> {
  const t = field<unknown>(encoder, 'trunk', 'Encoder');
  const c1 = await e.conv(input, field(t, 'conv1', 'ResNetTrunk'), { stride: 2, padding: 3, relu: true });
  const r2 = await resLayer(e, e.maxPool(c1, 3, 2, 1), field(t, 'res2', 'ResNetTrunk'));
  const r3 = await resLayer(e, r2, field(t, 'res3', 'ResNetTrunk'));
  const r4 = await resLayer(e, r3, field(t, 'res4', 'ResNetTrunk'));
  return { r4, r3, r2 };
}

async function resBlock(e: Exporter, x: V, block: unknown): Promise<V> {
  const r = await e.conv(e.relu(x), field(block, 'conv1', 'ResBlock'), { padding: 1, relu: true });
  return e.conv(r, field(block, 'conv2', 'ResBlock'), { padding: 1, residual: x });
}

async function refine(e: Exporter, f: V, pm: V, block: unknown): Promise<V> {
  const s = await resBlock(e, await e.conv(f, field(block, 'convFS', 'Refine'), { padding: 1 }), field(block, 'ResFS', 'Refine'));
  const m = e.add(s, e.resize(pm, [s.shape[2], s.shape[3]], false));
  return resBlock(e, m, field(block, 'ResMM', 'Refine'));
}

async function aspp(e: Exporter, x: V, m: unknown): Promise<V> {
  const [, , h, w] = x.shape;
  const image = e.resize(await e.conv(e.adaptiveAvgPool(x, 1), field(m, 'conv', 'ASPP'), { relu: true }), [h, w], true);
  const parts = [image];
  for (const b of field<{ conv: Conv2dWeights; dilation: number }[]>(m, 'branches', 'ASPP')) {
    parts.push(await e.conv(x, b.conv, { padding: b.dilation, dilation: Math.max(1, b.dilation), relu: true }));
  }
  return e.conv(e.concat(parts), field(m, 'bottleneck', 'ASPP'), { padding: 1 });
}

async function decoder(e: Exporter, m4: V, r3: V, r2: V, size: [number, number], d: unknown): Promise<V> {
  const layer5 = field<unknown>(d, 'layer5', 'Decoder');
  if (!layer5) throw new Error('onnx-export: only the QAMN decoder (ASPP layer5) is exported');
  let x = await aspp(e, m4, layer5);
  x = await resBlock(e, x, field(d, 'ResMM', 'Decoder'));
  x = await refine(e, r3, x, field(d, 'RF3', 'Decoder'));
  x = await refine(e, r2, x, field(d, 'RF2', 'Decoder'));
  x = await e.conv(e.relu(x), field(d, 'pred2', 'Decoder'), { padding: 1 });
  return e.resize(x, size, false);
}

/**
 * Soft_aggregation of one object's decoder logits [1, 2, H, W] (kernels/soft_aggregation.wgsl,
 * written as the original does it): ps = softmax(logit)[1]; em = clamp(softmax(logit), lo, hi);
 * agg = log(em / (1 - em)); quality input = (argmax, max) of softmax(agg) over channels
 * (argmax of two channels: 1 where channel 1 is strictly larger, as torch.argmax breaks ties).
 */
function softAggregation(e: Exporter, logits: V): { ps: V; qualityInput: V } {
  const g = e.g;
  const [n, , H, W] = logits.shape;
  const one = (x: string): V => ({ name: x, shape: [n, 1, H, W] });
  const prob = g.node('Softmax', [logits.name], { axis: 1 });
  const ps = one(g.node('Slice', [prob, g.ints([1]), g.ints([2]), g.ints([1])]));
  const em = g.node('Clip', [prob, g.floats([], [Math.fround(1e-7)]), g.floats([], [Math.fround(1 - 1e-7)])]);
  const agg = g.node('Log', [g.node('Div', [em, g.node('Sub', [g.floats([], [1]), em])])]);
  const pred = g.node('Softmax', [agg], { axis: 1 });
  const p0 = g.node('Slice', [pred, g.ints([0]), g.ints([1]), g.ints([1])]);
  const p1 = g.node('Slice', [pred, g.ints([1]), g.ints([2]), g.ints([1])]);
  const argmax = one(g.node('Cast', [g.node('Greater', [p1, p0])], { to: 1 }));
  const max = one(g.node('ReduceMax', [pred], { axes: [1], keepdims: 1 }));
  return { ps, qualityInput: e.concat([argmax, max]) };
}

async function qualityHead(e: Exporter, r4: V, qualityInput: V, q: unknown, taps: Record<string, V>): Promise<V> {
  const x = e.concat([r4, e.resize(qualityInput, [r4.shape[2], r4.shape[3]], false)]);
  const r5 = await resLayer(e, await e.conv(x, field(q, 'conv1', 'QualityHead'), { padding: 1 }), field(q, 'res5', 'QualityHead'));
  const fc = await e.linear(e.adaptiveAvgPool(r5, 1), field(q, 'fc', 'QualityHead'), 'relu');
  Object.assign(taps, { tap_quality_in: x, tap_r5: r5, tap_fc: fc });
  return e.linear(fc, field(q, 'fc2', 'QualityHead'), 'sigmoid');
}

/**
 * One QAMN propagation step as bench/memnet.ts times it: memorize(frame, mask), then
 * segment(frame) against `previous` memorized frames plus the new one, with the quality head.
 * Inputs: frame [1, 3, H, W], mask [1, 1, H, W], mem_keys [128, previous*h*w], mem_values
 * [512, previous*h*w] (STM's channels-first memory; h = H/16). Outputs: ps [1, 1, H, W], quality [1, 1];
 * with `taps`, also intermediates (tap_*) for locating a disagreement between runtimes.
 */
export async function exportQamnStep(net: MemoryNetwork, size: number, previous: number, opts: { taps?: boolean } = {}): Promise<{ model: Uint8Array; graph: OnnxGraph; gflop: number }> {
  if (net.variant !== 'qamn') throw new Error('onnx-export: the QAMN step needs the qamn variant');
  const e = new Exporter(`qamn step ${size}x${size}, ${previous + 1} memory frames`);
  const g = e.g;
  const h = size / 16;
  const frame = e.input('frame', [1, 3, size, size]);
  const mask = e.input('mask', [1, 1, size, size]);
  const memKeys = e.input('mem_keys', [128, previous * h * h]);
  const memValues = e.input('mem_values', [512, previous * h * h]);
  const kv = (name: string) => field<unknown>(net, name, 'MemoryNetwork');

  // memorize: Encoder_M on [frame, mask, clamp(1 - mask, 0, 1)], then KV_M_r4.
  const bg: V = { name: g.node('Clip', [g.node('Sub', [g.floats([], [1]), mask.name]), g.floats([], [0]), g.floats([], [1])]), shape: mask.shape };
  const r4m = (await trunk(e, e.concat([frame, mask, bg]), kv('Encoder_M'))).r4;
  const newKey = await e.conv(r4m, field(kv('KV_M_r4'), 'Key', 'KeyValue'), { padding: 1 });
  const newValue = await e.conv(r4m, field(kv('KV_M_r4'), 'Value', 'KeyValue'), { padding: 1 });

  // segment: Encoder_Q, KV_Q_r4, the memory read over every key, the decoder.
  const { r4, r3, r2 } = await trunk(e, frame, kv('Encoder_Q'));
  const qKey = await e.conv(r4, field(kv('KV_Q_r4'), 'Key', 'KeyValue'), { padding: 1 });
  const qValue = await e.conv(r4, field(kv('KV_Q_r4'), 'Value', 'KeyValue'), { padding: 1 });
  const keys = previous > 0 ? e.concat([memKeys, e.reshape(newKey, [128, h * h])]) : e.reshape(newKey, [128, h * h]);
  const values = previous > 0 ? e.concat([memValues, e.reshape(newValue, [512, h * h])]) : e.reshape(newValue, [512, h * h]);
  // affinity [hw, M] = qk^T mk / sqrt(Dk); softmax over the memory; read [512, hw] = mv p^T.
  const memory = (previous + 1) * h * h;
  e.flops += 2 * h * h * memory * (128 + 512);
  const affinity = g.node('Gemm', [e.reshape(qKey, [128, h * h]).name, keys.name], { transA: 1, alpha: float(1 / Math.sqrt(128)) });
  const p = g.node('Softmax', [affinity], { axis: 1 });
  const read = e.reshape({ name: g.node('Gemm', [values.name, p], { transB: 1 }), shape: [512, h * h] }, [1, 512, h, h]);
  const logits = await decoder(e, e.concat([read, qValue]), r3, r2, [size, size], kv('Decoder'));
  const { ps, qualityInput } = softAggregation(e, logits);
  const taps: Record<string, V> = { tap_r4: r4, tap_key: qKey, tap_read: read, tap_logits: logits };
  const quality = await qualityHead(e, r4, qualityInput, kv('quality'), taps);
  if (opts.taps) for (const [name, v] of Object.entries(taps)) e.output(v, name);
  e.output(ps, 'ps');
  e.output(quality, 'quality');
  return { model: g.toBytes(), graph: g, gflop: e.flops / 1e9 };
}

// ---- IOG (src/networks/iog/*)

async function bottleneckII(e: Exporter, x: V, block: unknown): Promise<V> {
  const f = <T>(n: string) => field<T>(block, n, 'BottleneckII');
  const out = await e.conv(await e.conv(x, f('conv1'), { relu: true }), f('conv2'), { padding: 1, relu: true });
  return e.conv(out, f('conv3'), { residual: await e.conv(x, f('downsample')), relu: true });
}

async function psp(e: Exporter, feats: V, m: unknown): Promise<V> {
  const [, , h, w] = feats.shape;
  const parts: V[] = [];
  for (const s of field<{ size: number; conv: Conv2dWeights }[]>(m, 'stages', 'PSPModule')) {
    parts.push(e.resize(await e.conv(e.adaptiveAvgPool(feats, s.size), s.conv, { relu: true }), [h, w], true));
  }
  return e.conv(e.concat([...parts, feats]), field(m, 'bottleneck', 'PSPModule'), { relu: true });
}

/**
 * IOG forward as bench/iog.ts times it (coarse heads off): input [1, C, S, S] (image and
 * guidance), output fine [1, 1, 512, 512] logits (IOG_OUTPUT_SIZE).
 */
export async function exportIog(net: IOGNetwork, size: number): Promise<{ model: Uint8Array; graph: OnnxGraph; gflop: number }> {
  const e = new Exporter(`iog forward ${size}x${size}`);
  const input = e.input('input', [1, net.inputChannels, size, size]);
  const backbone = field<unknown>(net, 'backbone', 'IOGNetwork');
  const layers = field<unknown[]>(backbone, 'layers', 'IOGResNet101');
  const c1 = await e.conv(input, field(backbone, 'conv1', 'IOGResNet101'), { stride: 2, padding: 3, relu: true });
  const x1 = await resLayer(e, e.maxPool(c1, 3, 2, 1), layers[0]);
  const x2 = await resLayer(e, x1, layers[1]);
  const x3 = await resLayer(e, x2, layers[2]);
  const x4 = await resLayer(e, x3, layers[3]);
  const levels = [await psp(e, x4, field(net, 'psp4', 'IOGNetwork')), x3, x2, x1];

  // CoarseNet's feature maps (its predict heads are off, as in bench/iog.ts).
  const coarse = field<unknown>(net, 'Coarse_net', 'IOGNetwork');
  const laterals = field<Conv2dWeights[]>(coarse, 'laterals', 'CoarseNet');
  const upsamples = field<(Conv2dWeights | null)[]>(coarse, 'upsamples', 'CoarseNet');
  const fms: V[] = [];
  for (let i = 0; i < levels.length; i++) {
    const lateral = await e.conv(levels[i], laterals[i], { relu: true });
    const prev = fms[i - 1];
    const top = i === 0 ? null : i === 1 ? prev : await e.conv(e.resize(prev, [2 * prev.shape[2], 2 * prev.shape[3]], true), upsamples[i - 1]!);
    fms.push(top ? e.add(lateral, top) : lateral);
  }

  const fine = field<unknown>(net, 'Fine_net', 'IOGNetwork');
  const s = field<number>(fine, 'outputShape', 'FineNet');
  const parts: V[] = [];
  const cascade = field<unknown[][]>(fine, 'cascade', 'FineNet');
  for (let i = 0; i < cascade.length; i++) {
    let h = fms[i];
    for (const b of cascade[i]) h = await bottleneckII(e, h, b);
    parts.push(h.shape[2] === s && h.shape[3] === s ? h : e.resize(h, [s, s], true));
  }
  const f = await bottleneckII(e, e.concat(parts), field(fine, 'finalBlock', 'FineNet'));
  const logits = await e.conv(f, field(fine, 'finalConv', 'FineNet'), { padding: 1 });
  e.output(e.resize(logits, [IOG_OUTPUT_SIZE, IOG_OUTPUT_SIZE], true), 'fine');
  return { model: e.g.toBytes(), graph: e.g, gflop: e.flops / 1e9 };
}
