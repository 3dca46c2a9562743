// The tensor runtime: one WebGPU device, a buffer pool, a pipeline cache and a
// command batcher. Ops (src/ops) validate shapes, allocate outputs and call
// `dispatch` with a kernel name from kernels/*.wgsl, its override constants,
// its bindings and its uniforms.
//
// Binding convention for every kernel: @group(0), storage buffers at bindings
// 0..n-1 in the order the op passes them, the uniform struct `Params` at binding n.

import { acquireDevice, describeAdapter, type AdapterSummary } from './device.ts';
import { BufferPool } from './buffer-pool.ts';
import { Tensor, shapeSize, type DType, type TypedArrayOf } from './tensor.ts';
import { kernelEntry } from './kernels.ts';
import { checkOverrides, packUniforms, uniformLayoutFor, type OverrideValues, type UniformValues } from './uniforms.ts';

/** A WebGPU error traced back to the kernels whose commands were in flight. */
export class GpuKernelError extends Error {
  constructor(readonly kind: string, readonly kernels: string[], readonly gpuMessage: string) {
    super(`WebGPU ${kind} error in kernel ${kernels.length ? kernels.map((k) => `'${k}'`).join(', ') : '(none: outside any kernel)'}: ${gpuMessage}`);
    this.name = 'GpuKernelError';
  }
}

export interface DispatchCall {
  /** File name in kernels/ without `.wgsl`. */
  kernel: string;
  /** Name used in errors and labels, e.g. 'conv2d 3x3/2'. Defaults to the kernel name. */
  label?: string;
  entryPoint?: string;
  /** WGSL `override` constants by name, checked against the kernel's declarations; part of the pipeline cache key. */
  constants?: OverrideValues;
  /** Storage bindings 0..n-1. */
  bindings: (Tensor | GPUBuffer)[];
  /** The uniform struct at binding n (n = bindings.length), by field name; packed by its WGSL layout. */
  uniforms: UniformValues;
  workgroups: readonly [number, number?, number?];
}

export interface RuntimeOptions {
  powerPreference?: GPUPowerPreference;
  /** Dispatches encoded before an automatic submit. */
  maxDispatchesPerSubmit?: number;
}

const MAX_WORKGROUPS_PER_DIM = 65535;

/**
 * Spreads `count` workgroups over x and y so that neither exceeds WebGPU's 65535.
 * Kernels recover the linear index as `wid.x + wid.y * nwg.x` and return past `count`.
 */
export function grid1d(count: number): [number, number] {
  if (count <= MAX_WORKGROUPS_PER_DIM) return [Math.max(1, count), 1];
  const y = Math.ceil(count / MAX_WORKGROUPS_PER_DIM);
  return [Math.ceil(count / y), y];
}

export class Runtime {
  readonly pool: BufferPool;
  private readonly uniformPool: BufferPool;
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private batchKernels: string[] = [];
  private pendingChecks: Promise<GpuKernelError | null>[] = [];
  private lostReason: string | null = null;
  private lastKernels: string[] = [];
  private readonly maxDispatches: number;
  dispatchCount = 0;
  submitCount = 0;

  private constructor(readonly device: GPUDevice, readonly adapter: AdapterSummary, options: RuntimeOptions) {
    this.maxDispatches = options.maxDispatchesPerSubmit ?? 96;
    this.pool = new BufferPool(device, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
    this.uniformPool = new BufferPool(device, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    device.lost.then((info) => {
      this.lostReason = `${info.reason}: ${info.message}`;
    });
    device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
      this.pendingChecks.push(Promise.resolve(new GpuKernelError('uncaptured', this.lastKernels, ev.error.message)));
    };
    this.openErrorScope();
  }

  static async create(options: RuntimeOptions = {}): Promise<Runtime> {
    const { device, summary } = await acquireDevice(options);
    return new Runtime(device, summary, options);
  }

  describe(): string {
    return describeAdapter(this.adapter);
  }

  hasFeature(name: string): boolean {
    return this.device.features.has(name as GPUFeatureName);
  }

  // ---- tensors ----------------------------------------------------------------

  empty<D extends DType = 'f32'>(shape: readonly number[], dtype: D = 'f32' as D, label = 'tensor'): Tensor<D> {
    this.assertAlive();
    const bytes = shapeSize(shape) * 4;
    const max = this.device.limits.maxStorageBufferBindingSize;
    if (bytes > max) {
      throw new RangeError(`tensor '${label}' [${shape.join(', ')}] needs ${bytes} bytes, over this adapter's maxStorageBufferBindingSize ${max}`);
    }
    return new Tensor(this, [...shape], dtype, this.pool.acquire(bytes, label), label);
  }

  upload<D extends DType = 'f32'>(shape: readonly number[], data: TypedArrayOf<D> | ArrayLike<number>, dtype: D = 'f32' as D, label = 'tensor'): Tensor<D> {
    const n = shapeSize(shape);
    if (data.length !== n) throw new RangeError(`upload '${label}': shape [${shape.join(', ')}] has ${n} elements, data has ${data.length}`);
    const t = this.empty(shape, dtype, label);
    const typed = toTyped(data, dtype);
    this.device.queue.writeBuffer(t.buffer, 0, typed.buffer, typed.byteOffset, typed.byteLength);
    return t;
  }

  releaseBuffer(buffer: GPUBuffer): void {
    this.pool.release(buffer);
  }

  async read<D extends DType>(t: Tensor<D>): Promise<TypedArrayOf<D>> {
    t.assertLive('read');
    const bytes = t.byteLength;
    const staging = this.device.createBuffer({ size: Math.max(4, bytes), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: `readback ${t.label}` });
    this.ensureEncoder();
    this.endPass();
    if (bytes > 0) this.encoder!.copyBufferToBuffer(t.buffer, 0, staging, 0, bytes);
    this.batchKernels.push(`readback(${t.label})`);
    this.flush();
    try {
      await staging.mapAsync(GPUMapMode.READ);
    } catch (e) {
      await this.sync();
      throw e;
    }
    await this.sync();
    const copy = staging.getMappedRange(0, bytes).slice(0);
    staging.unmap();
    staging.destroy();
    return (t.dtype === 'f32' ? new Float32Array(copy) : t.dtype === 'i32' ? new Int32Array(copy) : new Uint32Array(copy)) as TypedArrayOf<D>;
  }

  // ---- kernels ----------------------------------------------------------------

  dispatch(call: DispatchCall): void {
    this.assertAlive();
    const label = call.label ?? call.kernel;
    const { reflection } = kernelEntry(call.kernel);
    const uniformBytes = packUniforms(call.kernel, uniformLayoutFor(call.kernel, reflection, call.bindings.length), call.uniforms);
    const pipeline = this.pipeline(call.kernel, call.entryPoint ?? 'main', call.constants ?? {});
    const ubuf = this.uniformPool.acquire(uniformBytes.byteLength, `${label} params`);
    this.device.queue.writeBuffer(ubuf, 0, uniformBytes);
    const entries: GPUBindGroupEntry[] = call.bindings.map((b, i) => {
      if (b instanceof Tensor) b.assertLive(label);
      return { binding: i, resource: { buffer: b instanceof Tensor ? b.buffer : b } };
    });
    entries.push({ binding: call.bindings.length, resource: { buffer: ubuf } });
    const bindGroup = this.device.createBindGroup({ label, layout: pipeline.getBindGroupLayout(0), entries });
    this.uniformPool.release(ubuf);
    const pass = this.ensurePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    const [x, y = 1, z = 1] = call.workgroups;
    pass.dispatchWorkgroups(x, y, z);
    this.batchKernels.push(label);
    this.dispatchCount++;
    if (this.batchKernels.length >= this.maxDispatches) this.flush();
  }

  /** Submits everything encoded so far. */
  flush(): void {
    if (!this.encoder) {
      // Nothing encoded is pending, so released buffers are already safe to reuse.
      this.pool.onSubmitted();
      this.uniformPool.onSubmitted();
      return;
    }
    this.endPass();
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.submitCount++;
    this.pool.onSubmitted();
    this.uniformPool.onSubmitted();
    this.closeErrorScope(this.batchKernels);
    this.lastKernels = this.batchKernels;
    this.batchKernels = [];
    this.openErrorScope();
  }

  /** Submits, waits for the GPU to finish, and throws the first WebGPU error seen since the last sync. */
  async sync(): Promise<void> {
    this.flush();
    this.closeErrorScope([]);
    this.openErrorScope();
    await this.device.queue.onSubmittedWorkDone();
    const checks = this.pendingChecks;
    this.pendingChecks = [];
    const errors = (await Promise.all(checks)).filter((e): e is GpuKernelError => e !== null);
    this.assertAlive();
    if (errors.length) throw errors[0];
  }

  memoryStats(): { liveBytes: number; pooledBytes: number; peakBytes: number } {
    return this.pool.stats();
  }

  destroy(): void {
    this.pool.trim();
    this.uniformPool.trim();
    this.device.destroy();
  }

  // ---- internals --------------------------------------------------------------

  private pipeline(kernel: string, entryPoint: string, constants: OverrideValues): GPUComputePipeline {
    const { source: code, reflection } = kernelEntry(kernel);
    const numeric = checkOverrides(kernel, reflection, constants);
    const names = Object.keys(numeric).sort();
    const key = `${kernel}:${entryPoint}:${names.map((n) => `${n}=${numeric[n]}`).join(',')}`;
    let p = this.pipelines.get(key);
    if (p) return p;
    let module = this.modules.get(kernel);
    if (!module) {
      module = this.device.createShaderModule({ code, label: kernel });
      this.modules.set(kernel, module);
    }
    this.batchKernels.push(`compile ${key}`);
    p = this.device.createComputePipeline({ label: key, layout: 'auto', compute: { module, entryPoint, constants: numeric } });
    this.pipelines.set(key, p);
    return p;
  }

  private ensureEncoder(): GPUCommandEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder({ label: 'mem3d batch' });
    return this.encoder;
  }

  private ensurePass(): GPUComputePassEncoder {
    if (!this.pass) this.pass = this.ensureEncoder().beginComputePass();
    return this.pass;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  private openErrorScope(): void {
    this.device.pushErrorScope('validation');
    this.device.pushErrorScope('out-of-memory');
  }

  private closeErrorScope(kernels: string[]): void {
    const names = [...kernels];
    const oom = this.device.popErrorScope();
    const validation = this.device.popErrorScope();
    this.pendingChecks.push(
      Promise.all([validation, oom]).then(([v, o]) => {
        if (v) return new GpuKernelError('validation', names, v.message);
        if (o) return new GpuKernelError('out-of-memory', names, o.message);
        return null;
      }),
    );
  }

  private assertAlive(): void {
    if (this.lostReason !== null) {
      throw new GpuKernelError('device-lost', this.lastKernels, `the GPU device was lost (${this.lostReason})`);
    }
  }
}

function toTyped(data: ArrayLike<number>, dtype: DType): Float32Array | Int32Array | Uint32Array {
  if (dtype === 'f32') return data instanceof Float32Array ? data : Float32Array.from(data);
  if (dtype === 'i32') return data instanceof Int32Array ? data : Int32Array.from(data);
  return data instanceof Uint32Array ? data : Uint32Array.from(data);
}
