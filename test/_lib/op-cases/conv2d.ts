// conv2d cases: every padding / stride / dilation / channel-tile edge the kernel has,
// the tiles the autotuner may pick, a dispatch over 65,535 pixel tiles, and the
// networks' shapes for perf mode.
import { CONV2D_TILES, conv2d, prepareConv2d, type BatchNormParams, type Conv2dVariantName } from '../../../src/ops/conv2d.ts';
import { conv2dRef } from '../../cpu/conv2d.ts';
import { uniform } from '../random.ts';
import { count, inputs, type OpCase, type Tier } from './case.ts';

type Pair = [number, number];
type Shape4 = [number, number, number, number];
interface ConvSpec {
  name: string;
  tier: Tier;
  x: Shape4;
  w: Shape4;
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  bias?: boolean;
  bn?: boolean;
  residual?: boolean;
  relu?: boolean;
  tile?: keyof typeof CONV2D_TILES;
  /** Forces a variant the fixed rule does not pick (checked where the tests never run: the device's selfcheck). */
  variant?: Conv2dVariantName;
  /** Input range; weights are uniform in [-w, w]. */
  range?: Pair;
  weightRange?: number;
}

/** Random BatchNorm parameters for `c` channels (the cases' and the error tests' shared draw). */
export function batchNorm(c: number, seed: number): BatchNormParams {
  return {
    weight: uniform(c, seed, 0.5, 1.5),
    bias: uniform(c, seed + 1, -0.5, 0.5),
    runningMean: uniform(c, seed + 2, -0.3, 0.3),
    runningVar: uniform(c, seed + 3, 0.5, 2),
    eps: 1e-5,
  };
}

const SPECS: ConvSpec[] = [
  // 3x3 stride 2 pad 1 on an odd 13x11 input: outputs on all four edges read padding;
  // 5 and 7 channels take the non-vec4 load and store paths.
  { name: '3x3/2 pad 1 bias relu', tier: 'smoke', x: [1, 13, 11, 5], w: [7, 5, 3, 3], stride: [2, 2], padding: [1, 1], bias: true, relu: true },
  { name: '1x1', tier: 'unit', x: [1, 5, 7, 4], w: [8, 4, 1, 1], bias: true },
  { name: '3x3 pad 1, Cin 5, Cout 65 (two channel tiles), N=2', tier: 'unit', x: [2, 9, 11, 5], w: [65, 5, 3, 3], padding: [1, 1], bias: true },
  { name: 'ResNet stem 7x7/2 pad 3 on 37x41, BN + ReLU', tier: 'unit', x: [1, 37, 41, 3], w: [16, 3, 7, 7], stride: [2, 2], padding: [3, 3], bn: true, relu: true },
  { name: '3x3/2 on odd 13x15, residual + ReLU', tier: 'unit', x: [1, 13, 15, 4], w: [8, 4, 3, 3], stride: [2, 2], padding: [1, 1], bias: true, residual: true, relu: true },
  { name: 'bottleneck 1x1, BN + residual + ReLU, Cout 65', tier: 'unit', x: [1, 6, 5, 24], w: [65, 24, 1, 1], bn: true, residual: true, relu: true },
  { name: 'dilation 2 pad 2', tier: 'unit', x: [1, 19, 17, 8], w: [12, 8, 3, 3], padding: [2, 2], dilation: [2, 2], bias: true },
  { name: 'dilation 4 pad 4', tier: 'unit', x: [1, 19, 17, 8], w: [12, 8, 3, 3], padding: [4, 4], dilation: [4, 4], bn: true },
  { name: 'dilation 8 pad 8', tier: 'unit', x: [1, 19, 17, 8], w: [12, 8, 3, 3], padding: [8, 8], dilation: [8, 8], bias: true },
  { name: 'Cin 1, Cout 1', tier: 'unit', x: [1, 11, 9, 1], w: [1, 1, 3, 3], padding: [1, 1], bias: true },
  { name: 'Cin 3, Cout 2, stride 2 odd', tier: 'unit', x: [2, 9, 7, 3], w: [2, 3, 3, 3], stride: [2, 2], bias: true },
  { name: 'Cin 5, Cout 1, 5x5', tier: 'unit', x: [1, 10, 8, 5], w: [1, 5, 5, 5], padding: [2, 2], bn: true },
  { name: 'Cin 20: K tiles straddle taps', tier: 'unit', x: [1, 7, 9, 20], w: [36, 20, 3, 3], padding: [1, 1], bias: true, relu: true },
  { name: 'asymmetric stride/pad/dilation, 3x5 kernel', tier: 'unit', x: [1, 12, 15, 4], w: [6, 4, 3, 5], stride: [2, 1], padding: [0, 3], dilation: [1, 2], bias: true, residual: true, relu: true },
  { name: 'padding wider than the kernel reach', tier: 'unit', x: [1, 3, 4, 4], w: [4, 4, 3, 3], padding: [3, 2], bias: true },
  // Small problems pick small tiles, so the large ones are forced here: partial tiles
  // in both dimensions, K tiles straddling taps, vec4 and scalar paths.
  { name: "'large' tile, Cin 20, Cout 136, residual + ReLU", tier: 'unit', x: [1, 13, 11, 20], w: [136, 20, 3, 3], padding: [1, 1], bias: true, residual: true, relu: true, tile: 'large' },
  { name: "'large' tile, Cin 5, Cout 130, residual + ReLU", tier: 'unit', x: [1, 13, 11, 5], w: [130, 5, 3, 3], padding: [1, 1], bias: true, residual: true, relu: true, tile: 'large' },
  { name: "'medium' tile, Cin 20, Cout 136, residual + ReLU", tier: 'unit', x: [1, 13, 11, 20], w: [136, 20, 3, 3], padding: [1, 1], bias: true, residual: true, relu: true, tile: 'medium' },
  // Winograd's GEMM forms (the autotuner may pick them on GPUs): tiles straddling the edges
  // and the dil phases, K slices past Cin (37 -> 48), Cout past a GEMM tile, residual + ReLU.
  { name: "'wgemm-128x128', Cin 37, Cout 132, dilation 2, residual + ReLU", tier: 'unit', x: [1, 13, 11, 37], w: [132, 37, 3, 3], padding: [2, 2], dilation: [2, 2], bias: true, residual: true, relu: true, variant: 'wgemm-128x128' },
  { name: "'wgemm-64x64', Cin 8, Cout 20, N 2, BN", tier: 'unit', x: [2, 9, 7, 8], w: [20, 8, 3, 3], padding: [1, 1], bn: true, variant: 'wgemm-64x64' },
  // F(4x4, 3x3): 4x4 tiles past both edges and over the dil phases, within the direct conv's tolerance at this K.
  { name: "'wgemm4-64x64', Cin 12, Cout 36, dilation 2", tier: 'unit', x: [1, 19, 17, 12], w: [36, 12, 3, 3], padding: [2, 2], dilation: [2, 2], bias: true, relu: true, variant: 'wgemm4-64x64' },
  // 2049 x 2048 pixels in 64-pixel tiles: 65568, more than one grid dimension's 65535, so the
  // tiles spread over its third (forced: the fixed rule takes a direct kernel of half as many).
  { name: "'narrow' tile, 1x1 over more than 65535 pixel tiles", tier: 'big', x: [1, 2049, 2048, 1], w: [1, 1, 1, 1], bias: true, tile: 'narrow' },
  // The networks' convolutions: ResNet layer3 3x3, a 1x1 projection, the decoder's 1/4-resolution 3x3.
  { name: '3x3 256->256 @64x64', tier: 'perf', x: [1, 64, 64, 256], w: [256, 256, 3, 3], padding: [1, 1], range: [-0.5, 0.5], weightRange: 0.05 },
  { name: '1x1 1024->256 @32x32', tier: 'perf', x: [1, 32, 32, 1024], w: [256, 1024, 1, 1], range: [-0.5, 0.5], weightRange: 0.05 },
  { name: '3x3 64->64 @128x128', tier: 'perf', x: [1, 128, 128, 64], w: [64, 64, 3, 3], padding: [1, 1], range: [-0.5, 0.5], weightRange: 0.05 },
];

function outputShape([n, h, w]: Shape4, [o, , kh, kw]: Shape4, [sh, sw]: Pair, [ph, pw]: Pair, [dh, dw]: Pair): Shape4 {
  const out = (size: number, k: number, s: number, p: number, d: number) => Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;
  return [n, out(h, kh, sh, ph, dh), out(w, kw, sw, pw, dw), o];
}

function convCase(s: ConvSpec, seed: number): OpCase {
  return {
    op: 'conv2d',
    name: `conv2d ${s.name}: x [${s.x}], w [${s.w}]`,
    tier: s.tier,
    prepare(rt) {
      const [O, I, KH, KW] = s.w;
      const [lo, hi] = s.range ?? [-1, 1];
      const wr = s.weightRange ?? 1;
      const xs = uniform(count(s.x), seed, lo, hi);
      const ws = uniform(O * I * KH * KW, seed + 1, -wr, wr);
      const bias = s.bias || s.bn ? uniform(O, seed + 2, -1, 1) : undefined;
      const bn = s.bn ? batchNorm(O, seed + 3) : undefined;
      const stride = s.stride ?? [1, 1];
      const padding = s.padding ?? [0, 0];
      const dilation = s.dilation ?? [1, 1];
      const geometry = { xShape: s.x, wShape: s.w, stride, padding, dilation };
      const outShape = outputShape(s.x, s.w, stride, padding, dilation);
      const res = s.residual ? uniform(count(outShape), seed + 4, -2, 2) : undefined;
      const io = inputs(rt);
      const w = io.own(prepareConv2d(rt, { weight: ws, shape: s.w, bias, batchNorm: bn, label: s.name }));
      const x = io.upload(s.x, xs);
      const r = res ? io.upload(outShape, res) : undefined;
      return {
        run: () => conv2d(rt, x, w, { stride, padding, dilation, residual: r, relu: s.relu, tile: s.tile ? CONV2D_TILES[s.tile] : undefined, variant: s.variant }),
        expected: () => ({
          shape: outShape,
          data: conv2dRef({ ...geometry, x: xs, weight: ws, bias, batchNorm: bn, residual: res, relu: s.relu }).out,
          opts: { k: KH * KW * I },
        }),
        flop: 2 * count(outShape) * I * KH * KW,
        dispose: () => io.dispose(),
      };
    },
  };
}

export const CONV2D_CASES: OpCase[] = SPECS.map((s, i) => convCase(s, 100 * i));
