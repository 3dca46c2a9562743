// The fixed conv2d rule on GPUs (no GPU here: the rule reads only the adapter summary
// and the device limits, so a stand-in runtime exercises it): outputs of fewer than
// GPU_KERNEL_BELOW_LARGE_TILES 128x128 tiles go to the split-K discrete-GPU kernel where
// it fits the device's workgroup memory, the rest to the tiled kernel's tiles.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CONV2D_VARIANTS, defaultConv2dVariant, GPU_KERNEL_BELOW_LARGE_TILES, isCpuAdapter } from '../src/ops/conv2d-variants.ts';
import { checkGpuTile } from '../src/ops/conv2d-gpu.ts';
import type { Runtime } from '../src/runtime/runtime.ts';

const H200_LIMITS = { maxComputeWorkgroupStorageSize: 49152, maxComputeInvocationsPerWorkgroup: 1024, maxComputeWorkgroupSizeX: 1024, maxComputeWorkgroupSizeY: 1024 };
function gpu(limits: Partial<GPUSupportedLimits>): Runtime {
  return { adapter: { vendor: 'nvidia', architecture: 'hopper', device: 'nvidia-h200', description: 'NVIDIA H200' }, device: { limits } } as unknown as Runtime;
}
const conv = (M: number, Cout: number, Cin = 256) => ({ KH: 3, KW: 3, M, Cin, Cout });

test('a stand-in GPU runtime is not a CPU driver', () => {
  assert.not.ok(isCpuAdapter(gpu(H200_LIMITS)));
});

test('GPUs: few large tiles -> gpu-64x128; enough -> the tiled kernel (the H200 measurements of the rule)', () => {
  const rt = gpu(H200_LIMITS);
  // res4 / ASPP / key-value heads at 512x512: 32x32 outputs.
  assert.is(defaultConv2dVariant(rt, conv(1024, 256, 1024)), 'gpu-64x128');
  assert.is(defaultConv2dVariant(rt, conv(1024, 1024, 2048)), 'gpu-64x128');
  assert.is(defaultConv2dVariant(rt, conv(1024, 2048, 512)), 'large'); // 128 tiles: large and medium led there
  assert.is(defaultConv2dVariant(rt, conv(4096, 256)), 'gpu-64x128');
  // The boundary: 128 tiles of 128x128 (16384 pixels x 128 channels) stay tiled.
  assert.is(Math.ceil(16384 / 128) * Math.ceil(128 / 128), GPU_KERNEL_BELOW_LARGE_TILES);
  assert.is(defaultConv2dVariant(rt, conv(16384, 128)), 'large');
  assert.is(defaultConv2dVariant(rt, conv(127 * 128, 128)), 'gpu-64x128');
  assert.is(defaultConv2dVariant(rt, conv(16384, 256)), 'large');
  assert.is(defaultConv2dVariant(rt, conv(65536, 64, 8)), 'medium');
  // Heads (Cout <= 16) keep the narrow tile.
  assert.is(defaultConv2dVariant(rt, conv(1024, 2)), 'narrow');
});

test("GPUs whose workgroup memory cannot hold gpu-64x128's double buffers keep the tiles", () => {
  const v = CONV2D_VARIANTS['gpu-64x128'];
  if (v.kind !== 'gpu') throw new Error('gpu-64x128 is not a gpu variant');
  assert.throws(() => checkGpuTile('gpu-64x128', v.gpu, { ...H200_LIMITS, maxComputeWorkgroupStorageSize: 16384 } as GPUSupportedLimits));
  const small = gpu({ ...H200_LIMITS, maxComputeWorkgroupStorageSize: 16384 });
  assert.is(defaultConv2dVariant(small, conv(1024, 256, 1024)), 'large');
  assert.is(defaultConv2dVariant(small, conv(256, 256, 1024)), 'small');
});

test.run();
