// Warm start on Mesa's lavapipe: its llvmpipe compiles a pipeline's machine code at the
// pipeline's first dispatch, not at createComputePipeline(Async), one pipeline after
// another on the queue's thread (1-14 CPU-s each; a Winograd conv the most). So
// Runtime.warmupFrom's parallel pipeline creation left a first QAMN step at 64x64 as slow
// as without it: 31 s against 0.9 s for the later ones (bench/RESULTS.md). Mesa keeps
// what it compiled in its on-disk shader cache, keyed by the shader, so a pipeline
// compiled on another device of the same adapter and options is found there by the
// runtime's own first dispatch. primeDriverJit dispatches each recorded pipeline once on
// helper devices, one per core, side by side: one workgroup, the recorded uniforms, and
// storage bindings of at most PRIME_BINDING_BYTES, which bounds checks keep every access
// inside (so it runs only with bounds checks on: the shaders must be the runtime's own).
import { PipelineCache, type PipelineSpec } from './pipelines.ts';

/** A pipeline as one of its dispatches used it: the uniform bytes and each storage binding's size. */
export interface PrimeDispatch {
  spec: PipelineSpec;
  uniform: ArrayBuffer;
  storageBytes: number[];
}

const PRIME_BINDING_BYTES = 1 << 16;

/** Whether this adapter compiles at first dispatch and caches on disk (Mesa's llvmpipe). */
export function compilesAtFirstDispatch(description: string, device: string): boolean {
  return /llvmpipe/i.test(`${description} ${device}`);
}

/**
 * Dispatches every pipeline of `records` (one per pipeline) on up to `helpers` devices
 * from `makeDevice`, in parallel, and destroys them. Throws the first validation error a
 * helper met (a pipeline the runtime could not have run either).
 */
export async function primeDriverJit(records: readonly PrimeDispatch[], makeDevice: () => Promise<GPUDevice>, helpers: number): Promise<void> {
  const lanes = Math.max(1, Math.min(helpers, records.length));
  await Promise.all(Array.from({ length: lanes }, async (_, lane) => {
    const device = await makeDevice();
    try {
      device.pushErrorScope('validation');
      const encoder = device.createCommandEncoder({ label: 'mem3d JIT priming' });
      const pass = encoder.beginComputePass();
      // The runtime's own pipeline construction, so the helpers compile the same shaders.
      const pipelines = new PipelineCache(device);
      for (let i = lane; i < records.length; i += lanes) {
        const r = records[i];
        const pipeline = pipelines.get(r.spec.kernel, r.spec.entryPoint, r.spec.constants);
        const entries: GPUBindGroupEntry[] = r.storageBytes.map((bytes, binding) => ({
          binding,
          resource: { buffer: device.createBuffer({ size: Math.max(16, Math.min(Math.ceil(bytes / 16) * 16, PRIME_BINDING_BYTES)), usage: GPUBufferUsage.STORAGE }) },
        }));
        const uniform = device.createBuffer({ size: r.uniform.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
        device.queue.writeBuffer(uniform, 0, r.uniform);
        entries.push({ binding: r.storageBytes.length, resource: { buffer: uniform } });
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries }));
        pass.dispatchWorkgroups(1);
      }
      pass.end();
      device.queue.submit([encoder.finish()]);
      const [error] = await Promise.all([device.popErrorScope(), device.queue.onSubmittedWorkDone()]);
      if (error) throw new Error(`JIT priming: ${error.message}`);
    } finally {
      device.destroy();
    }
  }));
}
