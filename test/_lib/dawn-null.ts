// Dawn's null backend: a device that runs Dawn's and Tint's checks of shaders and
// pipelines and executes nothing. Created with allow_unsafe_apis it offers the
// experimental subgroup matrices, which no CI adapter has (lavapipe and SwiftShader lack
// Vulkan cooperative matrices), so kernels written for matrix units are compiled here by
// the WGSL compiler a GPU's Dawn runs. It reports no matrix shapes and 16 KiB of
// workgroup memory: pipelines that need more cannot be created on it, modules can.
import { create, globals } from 'webgpu';

// The instance must outlive its devices (see src/runtime/device.ts): held for the process.
let instance: GPU | null = null;
let device: Promise<GPUDevice> | null = null;

const NULL_BACKEND_FEATURES = ['shader-f16', 'subgroups', 'chromium-experimental-subgroup-matrix'];

/** The null backend's GPU instance, held for the process (a Runtime can be created on it through navigator.gpu). */
export function nullBackendGpu(): GPU {
  Object.assign(globalThis, globals);
  instance ??= create(['backend=null', 'enable-dawn-features=allow_unsafe_apis']);
  return instance;
}

export function nullBackendDevice(): Promise<GPUDevice> {
  device ??= (async () => {
    const adapter = await nullBackendGpu().requestAdapter();
    if (!adapter) throw new Error("Dawn's null backend gave no adapter");
    const missing = NULL_BACKEND_FEATURES.filter((f) => !adapter.features.has(f as GPUFeatureName));
    if (missing.length) throw new Error(`Dawn's null backend does not offer ${missing.join(', ')} (this webgpu build)`);
    return adapter.requestDevice({ requiredFeatures: NULL_BACKEND_FEATURES as GPUFeatureName[], label: 'null backend' });
  })();
  return device;
}

/** A shader module and the compiler's messages for it, as `type line:col message`. */
export async function compile(device: GPUDevice, code: string): Promise<{ module: GPUShaderModule; messages: { type: string; text: string }[] }> {
  device.pushErrorScope('validation'); // the errors are in the messages; kept off the console
  const module = device.createShaderModule({ code });
  const info = await module.getCompilationInfo();
  await device.popErrorScope();
  return { module, messages: info.messages.map((m) => ({ type: m.type, text: `${m.type} ${m.lineNum}:${m.linePos} ${m.message}` })) };
}

/** Creates a compute pipeline from a module; returns Dawn's error ('' when it was created). */
export async function pipelineError(device: GPUDevice, module: GPUShaderModule, constants: Record<string, number> = {}): Promise<string> {
  device.pushErrorScope('validation');
  let error = '';
  try {
    await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main', constants } });
  } catch (e) {
    error = (e as Error).message;
  }
  const scoped = await device.popErrorScope();
  return error || scoped?.message || '';
}
