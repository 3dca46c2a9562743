// The CPU-driver conv2d variants (kernels/conv2d_cpu.wgsl; 'cpu-*' in CONV2D_VARIANTS,
// which test/conv2d-variants.test.ts also runs on its shapes) against the float64
// reference where this kernel has its own edges: input channels in blocks of 16 with
// a 4-channel tail (the rows past a tap's channels belong to the next tap and must meet
// x = 0), Cin not a multiple of 4 (scalar x loads), Cout not a multiple of the 16 or 32
// channels an invocation owns, M not a multiple of the 64 or 128 pixels a workgroup
// owns, stride / padding / dilation, N = 2, residual + ReLU, a channel-window output,
// f16 weights; weights spread over 4 lanes (SG 4, SwiftShader's form: it runs on any
// subgroup of at least 4, so lavapipe checks it too); the adapter and shape
// checks and the fixed rule (for SwiftShader and for CPU drivers without subgroups on
// stand-in runtimes, as test/conv2d-gpu-rule.test.ts does for GPUs).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeF16, f16BitsToF32 } from '../src/io/float16.ts';
import { CONV2D_VARIANTS, conv2d, CPU_CONV_SMALL_M, defaultConv2dVariant, isCpuAdapter, prepareConv2d, type Conv2dVariant, type Conv2dVariantName } from '../src/ops/conv2d.ts';
import { checkCpuShape, conv2dCpuSupported, CPU_CONV_MIN_SUBGROUP } from '../src/ops/conv2d-cpu.ts';
import type { Runtime } from '../src/runtime/runtime.ts';
import { testRuntime } from './_lib/gpu.ts';
import { uniform } from './_lib/random.ts';
import { assertClose } from './_lib/tolerance.ts';
import { conv2dRef } from './cpu/conv2d.ts';
import { channelWindow } from './_lib/channel-window.ts';
import { convCaseOnGpu, type ConvCase, type Shape4 } from './_lib/conv-case.ts';


const CPU_VARIANTS = (Object.keys(CONV2D_VARIANTS) as Conv2dVariantName[]).filter((n) => CONV2D_VARIANTS[n].kind === 'cpu');

/**
 * The named shapes as the adapter runs them, plus one with SG 4 on the first two cases
 * (p2c32: PX 2, CB4 8, 16-row blocks with a tail, residual + ReLU; p1c16: PX 1, CB4 4,
 * scalar x loads, stride 2, N 2). Only there: an SG-4 pipeline costs lavapipe about 5
 * CPU-s to compile on a cold cache, and npm test stays near its 12 minutes; the store
 * path and the f16 weight loads are the same code for both SG.
 */
function withSg4(names: readonly Conv2dVariantName[], caseIndex: number): [string, Conv2dVariantName | Conv2dVariant][] {
  const named = names.map((n): [string, Conv2dVariantName] => [n, n]);
  if (caseIndex > 1) return named;
  const sg4 = caseIndex === 0 ? 'cpu-p2c32' : 'cpu-p1c16';
  const v = CONV2D_VARIANTS[sg4];
  if (v.kind !== 'cpu') throw new Error(`${sg4} is not a CPU variant`);
  return [...named, [`${sg4} SG 4`, { kind: 'cpu', cpu: { ...v.cpu, SG: 4 } }]];
}

const CASES: ConvCase[] = [
  { name: 'Cin 36 (two blocks of 16 + 4), Cout 70, 3x3 pad 1 on 9x7 (M 63), residual + ReLU', x: [1, 9, 7, 36], w: [70, 36, 3, 3], padding: [1, 1], residual: true, relu: true },
  { name: 'Cin 18 (scalar loads, pads to 20), Cout 40, 3x3/2 pad 1 on 13x11, N 2', x: [2, 13, 11, 18], w: [40, 18, 3, 3], stride: [2, 2], padding: [1, 1] },
  { name: 'Cin 16, Cout 33, 3x5 dilation 2, stride (2, 1), padding (2, 3) on 12x15', x: [1, 12, 15, 16], w: [33, 16, 3, 5], stride: [2, 1], padding: [2, 3], dilation: [2, 2], relu: true },
  { name: 'Cin 64, Cout 24, 1x1 on 17x9 (M 153)', x: [1, 17, 9, 64], w: [24, 64, 1, 1] },
  { name: 'Cin 3, Cout 16, 7x7/2 pad 3 on 19x21 (a stem)', x: [1, 19, 21, 3], w: [16, 3, 7, 7], stride: [2, 2], padding: [3, 3] },
];

function requireCpuKernel(rt: Awaited<ReturnType<typeof testRuntime>>): void {
  assert.ok(conv2dCpuSupported(rt), `this adapter (${rt.describe()}) lacks subgroups of ${CPU_CONV_MIN_SUBGROUP}; the CPU conv cases need them`);
}

test('the CPU variants are registered', () => {
  assert.equal(CPU_VARIANTS, ['cpu-p1c16', 'cpu-p2c16', 'cpu-p2c32']);
});

for (const [i, c] of CASES.entries()) {
  test(`cpu conv variants: ${c.name}`, async () => {
    const rt = await testRuntime();
    requireCpuKernel(rt);
    const k = convCaseOnGpu(rt, c, 41);
    for (const [label, variant] of withSg4(CPU_VARIANTS, i)) {
      const y = conv2d(rt, k.x, k.w, { ...k.options, variant });
      assert.equal(y.shape, k.ref.shape);
      assertClose(await y.read(), k.ref.out, { k: k.k, label: `${label}: ${c.name}` });
      y.dispose();
    }
    k.dispose();
  });
}

test('cpu conv variants write a channel window at a vec4-aligned offset and leave the rest', async () => {
  const rt = await testRuntime();
  requireCpuKernel(rt);
  const xShape: Shape4 = [1, 6, 5, 20];
  const xs = uniform(6 * 5 * 20, 51);
  const ws = uniform(20 * 20 * 9, 52);
  const ref = conv2dRef({ x: xs, xShape, weight: ws, wShape: [20, 20, 3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1] });
  const w = prepareConv2d(rt, { weight: ws, shape: [20, 20, 3, 3] });
  const x = rt.upload(xShape, xs);
  for (const variant of CPU_VARIANTS) {
    const before = uniform(30 * 28, 53, 5, 6);
    const out = rt.upload([1, 6, 5, 28], before);
    conv2d(rt, x, w, { padding: 1, out: { tensor: out, channelOffset: 4 }, variant });
    const got = await out.read();
    const window = channelWindow(got, before, { pixels: 30, channels: 28, offset: 4, count: 20, label: variant });
    assertClose(window, ref.out, { k: 180, label: `${variant} window` });
    out.dispose();
  }
  x.dispose();
  w.dispose();
});

test('cpu conv variants, f16 weights: f32 accuracy against the f16-rounded weights', async () => {
  const rt = await testRuntime();
  requireCpuKernel(rt);
  assert.ok(rt.hasFeature('shader-f16'), `this adapter lacks shader-f16 (${rt.describe()}); the f16 case needs it`);
  const xShape: Shape4 = [1, 7, 6, 36];
  const wShape: Shape4 = [40, 36, 3, 3];
  const xs = uniform(7 * 6 * 36, 61);
  const ws = uniform(40 * 36 * 9, 62);
  const wh = Float32Array.from(encodeF16(ws), f16BitsToF32);
  const ref = conv2dRef({ x: xs, xShape, weight: wh, wShape, stride: [1, 1], padding: [1, 1], dilation: [1, 1], relu: true });
  const w = prepareConv2d(rt, { weight: ws, shape: wShape }, 'f16');
  const x = rt.upload(xShape, xs);
  for (const variant of ['cpu-p1c16', 'cpu-p2c32'] as const) {
    const y = conv2d(rt, x, w, { padding: 1, relu: true, variant });
    assertClose(await y.read(), ref.out, { k: 9 * 36, label: `${variant} f16` });
    y.dispose();
  }
  x.dispose();
  w.dispose();
});

test('the CPU conv shape check refuses what the kernel cannot run', async () => {
  const rt = await testRuntime();
  requireCpuKernel(rt);
  checkCpuShape('ok', rt, { WG: 64, PX: 2, CB4: 8 });
  assert.throws(() => checkCpuShape('px', rt, { WG: 64, PX: 3, CB4: 4 }), /unsupported CPU conv shape/);
  assert.throws(() => checkCpuShape('cb4', rt, { WG: 64, PX: 1, CB4: 6 }), /unsupported CPU conv shape/);
  assert.throws(() => checkCpuShape('wg', rt, { WG: rt.adapter.subgroupMaxSize + 1, PX: 1, CB4: 4 }), /multiple of the subgroup size/);
  checkCpuShape('sg4', rt, { WG: 64, PX: 2, CB4: 8, SG: 4 });
  assert.throws(() => checkCpuShape('sg2', rt, { WG: 64, PX: 2, CB4: 8, SG: 2 as 4 }), /SG 4\|8/);
  // SG 8 on subgroups of 4 would broadcast from lanes that do not exist.
  const narrow = { adapter: { ...rt.adapter, subgroupMinSize: 4, subgroupMaxSize: 4 }, device: rt.device } as unknown as Runtime;
  assert.throws(() => checkCpuShape('sg8', narrow, { WG: 64, PX: 2, CB4: 8, SG: 8 }), /within the smallest subgroup 4/);
  checkCpuShape('sg4 on 4', narrow, { WG: 64, PX: 2, CB4: 8, SG: 4 });
});

const RULE_SHAPE = { KH: 3, KW: 3, M: 4096, Cin: 256, Cout: 256, stride: [2, 2] as const }; // 3x3 stride 1: Winograd (test/conv2d-winograd.test.ts)
/** The rule's picks for a large output, a small one and a head. */
const rulePicks = (rt: Runtime) => [RULE_SHAPE, { ...RULE_SHAPE, M: CPU_CONV_SMALL_M - 1 }, { ...RULE_SHAPE, Cout: 16 }].map((s) => defaultConv2dVariant(rt, s));

test('the fixed rule on CPU drivers with subgroups: the CPU kernel by output size, the direct one for heads', async () => {
  const rt = await testRuntime();
  assert.ok(isCpuAdapter(rt) && conv2dCpuSupported(rt), `this adapter (${rt.describe()}) is not a CPU driver with subgroups`);
  assert.equal(rulePicks(rt), ['cpu-p2c32', 'cpu-p1c16', 'direct-p2c4']);
  // GPUs: test/conv2d-gpu-rule.test.ts.
});

/**
 * A stand-in runtime with SwiftShader's adapter summary (the rule reads only that, the
 * features and limits): as Dawn in Node names it, or as Chromium does (vendor and
 * architecture only).
 */
function swiftShader(features: string[], as: 'node' | 'chromium' = 'node'): Runtime {
  const names = as === 'node' ? { device: 'swiftshader-device-subzero-', description: 'SwiftShader driver 5.0.0' } : { device: '', description: '' };
  const adapter = { vendor: 'google', architecture: 'swiftshader', ...names, subgroupMinSize: 4, subgroupMaxSize: 4 };
  return { adapter, device: { features: new Set(features), limits: { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256 } } } as unknown as Runtime;
}

test('the fixed rule on SwiftShader (subgroups of 4): the CPU kernel with SG 4, no Winograd; without subgroups the direct kernel', () => {
  const ss = swiftShader(['subgroups']);
  assert.ok(isCpuAdapter(ss) && conv2dCpuSupported(ss));
  assert.equal(rulePicks(ss), ['cpu-p2c32', 'cpu-p1c16', 'direct-p2c4']);
  // A 3x3 stride-1 conv that lavapipe runs as Winograd stays on the CPU kernel (SwiftShader cannot compile Winograd).
  assert.is(defaultConv2dVariant(ss, { ...RULE_SHAPE, stride: [1, 1] }), 'cpu-p2c32');
  const plain = swiftShader([]);
  assert.not.ok(conv2dCpuSupported(plain));
  assert.equal(rulePicks(plain), ['direct-p2c8', 'direct-p2c8', 'direct-p2c4']);
});

test("Chromium's SwiftShader (named by vendor and architecture only) is a CPU driver and gets the same rule", () => {
  const chromium = swiftShader(['subgroups'], 'chromium');
  assert.ok(isCpuAdapter(chromium));
  assert.equal(rulePicks(chromium), ['cpu-p2c32', 'cpu-p1c16', 'direct-p2c4']);
});

test.run();
