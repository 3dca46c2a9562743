// Finds a WebGPU adapter in a browser (navigator.gpu) or in Node (Dawn through the
// npm `webgpu` package) and opens a device with the limits and optional features
// the kernels can use.

export class NoAdapterError extends Error {
  constructor(detail: string) {
    super(
      `No WebGPU adapter found (${detail}).\n` +
        'On Linux without a GPU, install a CPU Vulkan driver and select it:\n' +
        '  - Mesa lavapipe (Mesa >= 24; Debian bookworm-backports: apt-get install -t bookworm-backports mesa-vulkan-drivers),\n' +
        '    then export VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.json\n' +
        "  - or SwiftShader from Debian's chromium package (apt-get install chromium),\n" +
        '    then export VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json\n' +
        'Run `bash .ci/install-system` to install both. In a browser, enable WebGPU (Chromium: --enable-unsafe-webgpu).',
    );
    this.name = 'NoAdapterError';
  }
}

/** Optional features used when the adapter offers them. */
export const OPTIONAL_FEATURES: GPUFeatureName[] = ['shader-f16', 'subgroups' as GPUFeatureName, 'timestamp-query'];

/** Matrix units (src/ops/conv2d-mma.ts): requested only with the tensorCores option. */
export const SUBGROUP_MATRIX_FEATURE = 'chromium-experimental-subgroup-matrix';

/**
 * Dawn toggles (Node) for the tensorCores option: subgroup matrices are an experimental
 * feature, offered only with allow_unsafe_apis; Dawn turns shader-f16 off on NVIDIA's
 * Vulkan driver unless asked (vulkan_enable_f16_on_nvidia), and the matrix operands are f16.
 * In a browser the same comes from Chromium's flags (--enable-dawn-features=...).
 */
export const TENSOR_CORE_TOGGLES = ['allow_unsafe_apis', 'vulkan_enable_f16_on_nvidia'];

/** One matrix shape an adapter's matrix units multiply (GPUAdapterInfo.subgroupMatrixConfigs). */
export interface SubgroupMatrixConfig {
  componentType: string;
  resultComponentType: string;
  M: number;
  N: number;
  K: number;
}

/**
 * Dawn toggles (Node) for boundsChecks: false. WebGPU makes every array access safe:
 * Dawn's shader compiler clamps each index into workgroup, private and function arrays
 * (a min per access in a matrix kernel's inner loop, which reads its tiles from workgroup
 * memory) and turns on the driver's robust buffer access for storage buffers.
 * disable_robustness drops both; Dawn accepts it only with allow_unsafe_apis. Our kernels
 * stay in bounds by construction and every op case passes without the checks
 * (test/bounds-checks.test.ts); an out-of-bounds access would then read or write
 * whatever memory is there instead of a clamped element. In Chromium the same comes
 * from --enable-dawn-features=allow_unsafe_apis,disable_robustness.
 */
export const NO_BOUNDS_CHECK_TOGGLES = ['allow_unsafe_apis', 'disable_robustness'];

export interface AcquireOptions {
  powerPreference?: GPUPowerPreference;
  /** Request subgroup matrices (and, in Node, create Dawn with TENSOR_CORE_TOGGLES). */
  tensorCores?: boolean;
  /**
   * false: run shaders without WebGPU's bounds checks (NO_BOUNDS_CHECK_TOGGLES), for
   * headless runs and benchmarks in Node; refused where this code does not create Dawn
   * itself (a browser's navigator.gpu). Default true.
   */
  boundsChecks?: boolean;
}

/** The Dawn toggles a Node instance is created with for these options (each once). */
export function dawnToggles(options: AcquireOptions): string[] {
  return [...new Set([...(options.tensorCores ? TENSOR_CORE_TOGGLES : []), ...(options.boundsChecks === false ? NO_BOUNDS_CHECK_TOGGLES : [])])];
}

/** Limits raised to the adapter's maximum: large weights and activations need them. */
const RAISED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxStorageBuffersPerShaderStage',
] as const;

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  features: string[];
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxComputeWorkgroupStorageSize: number;
  /** The adapter's smallest and largest subgroup sizes (0 when it does not report them, e.g. without `subgroups`). */
  subgroupMinSize: number;
  subgroupMaxSize: number;
  /** Matrix shapes of the device's subgroup matrices (empty unless the feature was requested and granted). */
  subgroupMatrixConfigs: SubgroupMatrixConfig[];
  /** false when the device runs shaders without WebGPU's bounds checks (AcquireOptions.boundsChecks). */
  boundsChecks: boolean;
  /**
   * Whether timestamp queries keep the GPU's resolution: true on the Dawn instance this code
   * creates in Node (quantization off); false on a navigator.gpu (a browser, or a peer that
   * installed one), whose timestamps are rounded (Chrome and Dawn: to about 0.1 ms).
   */
  preciseTimestamps: boolean;
}

export interface AcquiredDevice {
  adapter: GPUAdapter;
  device: GPUDevice;
  summary: AdapterSummary;
}

// Dawn's GPU instance must outlive every device made from it: if it were garbage
// collected, Dawn's event processing would run on a destroyed instance and abort
// the process. One instance per set of toggles, held here for the process, serves
// every Runtime.
const dawnGpus = new Map<string, GPU>();

/** navigator.gpu where there is one, else a Dawn instance of this code's (`ours`: its toggles, timestamps unquantized). */
async function getGpu(toggles: string[]): Promise<{ gpu: GPU; ours: boolean }> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) {
    if (toggles.includes('disable_robustness')) {
      throw new Error('boundsChecks: false needs the Dawn instance this code creates in Node, but navigator.gpu is set (a browser, or a peer that installed it): its bounds checks cannot be turned off from here. In Chromium start the browser with --enable-dawn-features=allow_unsafe_apis,disable_robustness instead.');
    }
    return { gpu: nav.gpu, ours: false };
  }
  if (typeof process === 'undefined' || !process.versions?.node) {
    throw new NoAdapterError('this browser has no navigator.gpu');
  }
  // Node: Dawn.
  const key = toggles.join(',');
  let gpu = dawnGpus.get(key);
  if (!gpu) {
    const dawn = await importDawn();
    Object.assign(globalThis, dawn.globals);
    // Dawn rounds timestamps down to 2^16 ns (a browser's guard against timing attacks):
    // profiles and the benchmarks' GPU times would be multiples of 65.5 us, and most layers
    // of a 512x512 step on a discrete GPU take less. Node has nothing to guard.
    gpu = dawn.create([...(toggles.length ? [`enable-dawn-features=${key}`] : []), 'disable-dawn-features=timestamp_quantization']);
    dawnGpus.set(key, gpu);
  }
  return { gpu, ours: true };
}

type DawnModule = { create(o: string[]): GPU; globals: object };

/**
 * npm `webgpu` (Dawn), an optional dependency: browser-only installs may leave it out
 * (`--omit=optional`), and it has no build for some platforms. Without it Node has no
 * WebGPU, and the error says which package to install.
 */
export async function importDawn(load: (name: string) => Promise<unknown> = (name) => import(/* @vite-ignore */ name)): Promise<DawnModule> {
  // The module name is a variable so browser bundles never pull Dawn in.
  const moduleName = 'webgpu';
  try {
    return (await load(moduleName)) as DawnModule;
  } catch (e) {
    // ERR_MODULE_NOT_FOUND: the package is missing; MODULE_NOT_FOUND: its dawn.node for this platform is.
    const code = (e as { code?: unknown }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw e;
    throw new Error(
      `WebGPU in Node needs Dawn, the npm package '${moduleName}', an optional dependency of mem3d-webgpu: it is not installed here ` +
        `(--omit=optional leaves it out) or has no build for ${process.platform}-${process.arch} (${(e as Error).message.split('\n')[0]}). ` +
        `Install it with: npm install ${moduleName}`,
      { cause: e },
    );
  }
}

export async function acquireDevice(options: AcquireOptions = {}): Promise<AcquiredDevice> {
  const { gpu, ours } = await getGpu(dawnToggles(options));
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  } catch (e) {
    throw new NoAdapterError(`requestAdapter failed: ${(e as Error).message}`);
  }
  if (!adapter) {
    const icd = typeof process !== 'undefined' ? process.env?.VK_ICD_FILENAMES : undefined;
    throw new NoAdapterError(icd ? `VK_ICD_FILENAMES=${icd} gave none` : 'requestAdapter returned null');
  }
  const wanted = options.tensorCores ? [...OPTIONAL_FEATURES, SUBGROUP_MATRIX_FEATURE as GPUFeatureName] : OPTIONAL_FEATURES;
  const requiredFeatures = wanted.filter((f) => adapter!.features.has(f));
  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) requiredLimits[name] = adapter.limits[name];
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits, label: 'mem3d' });
  const info = (adapter.info ?? {}) as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number; subgroupMatrixConfigs?: readonly SubgroupMatrixConfig[] };
  const matrices = device.features.has(SUBGROUP_MATRIX_FEATURE as GPUFeatureName) ? [...(info.subgroupMatrixConfigs ?? [])] : [];
  return {
    adapter,
    device,
    summary: {
      vendor: info.vendor ?? '',
      architecture: info.architecture ?? '',
      device: info.device ?? '',
      description: info.description ?? '',
      features: [...device.features].sort(),
      maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
      maxBufferSize: device.limits.maxBufferSize,
      maxComputeWorkgroupStorageSize: device.limits.maxComputeWorkgroupStorageSize,
      subgroupMinSize: device.features.has('subgroups' as GPUFeatureName) ? (info.subgroupMinSize ?? 0) : 0,
      subgroupMaxSize: device.features.has('subgroups' as GPUFeatureName) ? (info.subgroupMaxSize ?? 0) : 0,
      subgroupMatrixConfigs: matrices.map(({ componentType, resultComponentType, M, N, K }) => ({ componentType, resultComponentType, M, N, K })),
      boundsChecks: options.boundsChecks !== false,
      preciseTimestamps: ours,
    },
  };
}

/**
 * A CPU driver (lavapipe, SwiftShader, a fallback adapter), where the "GPU" is threads
 * on the cores the host encodes on. Chromium names its SwiftShader adapter only by
 * vendor and architecture ('google' / 'swiftshader', device and description empty),
 * Dawn in Node by device too.
 */
export function isCpuAdapterSummary(a: Pick<AdapterSummary, 'vendor' | 'architecture' | 'device' | 'description'>): boolean {
  return /llvmpipe|lavapipe|swiftshader|software/i.test(`${a.vendor} ${a.architecture} ${a.device} ${a.description}`);
}

export function describeAdapter(s: AdapterSummary): string {
  const name = [s.vendor, s.architecture, s.device, s.description].filter(Boolean).join(' / ') || 'unnamed adapter';
  const matrices = s.subgroupMatrixConfigs.map((c) => `${c.componentType}->${c.resultComponentType} ${c.M}x${c.N}x${c.K}`);
  return `${name}; features: ${s.features.join(', ') || 'none'}; maxStorageBufferBindingSize ${s.maxStorageBufferBindingSize}; maxComputeWorkgroupStorageSize ${s.maxComputeWorkgroupStorageSize}` +
    (matrices.length ? `; subgroup matrices ${matrices.join(', ')}` : '') + (s.boundsChecks ? '' : '; bounds checks off');
}
