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
}

export interface AcquiredDevice {
  adapter: GPUAdapter;
  device: GPUDevice;
  summary: AdapterSummary;
}

// Dawn's GPU instance must outlive every device made from it: if it were garbage
// collected, Dawn's event processing would run on a destroyed instance and abort
// the process. One instance per process, held here, serves every Runtime.
let dawnGpu: GPU | null = null;

async function getGpu(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (typeof process === 'undefined' || !process.versions?.node) {
    throw new NoAdapterError('this browser has no navigator.gpu');
  }
  // Node: Dawn. The module name is built at run time so browser bundles never pull it in.
  if (!dawnGpu) {
    const moduleName = 'webgpu';
    const dawn = (await import(/* @vite-ignore */ moduleName)) as { create(o: string[]): GPU; globals: object };
    Object.assign(globalThis, dawn.globals);
    dawnGpu = dawn.create([]);
  }
  return dawnGpu;
}

export async function acquireDevice(options: { powerPreference?: GPUPowerPreference } = {}): Promise<AcquiredDevice> {
  const gpu = await getGpu();
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
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter!.features.has(f));
  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) requiredLimits[name] = adapter.limits[name];
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits, label: 'mem3d' });
  const info = (adapter.info ?? {}) as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
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
    },
  };
}

export function describeAdapter(s: AdapterSummary): string {
  const name = [s.vendor, s.architecture, s.device, s.description].filter(Boolean).join(' / ') || 'unnamed adapter';
  return `${name}; features: ${s.features.join(', ') || 'none'}; maxStorageBufferBindingSize ${s.maxStorageBufferBindingSize}; maxComputeWorkgroupStorageSize ${s.maxComputeWorkgroupStorageSize}`;
}
