// The tensor runtime: one WebGPU device, a buffer pool, a pipeline cache and a
// command batcher. Ops (src/ops) validate shapes, allocate outputs and call
// `dispatch` with a kernel name from kernels/*.wgsl, its override constants,
// its bindings and its uniforms.
//
// Binding convention for every kernel: @group(0), storage buffers at bindings
// 0..n-1 in the order the op passes them, the uniform struct `Params` at binding n.

import { acquireDevice, describeAdapter, isCpuAdapterSummary, type AdapterSummary } from './device.ts';
import { BindGroupCache } from './bind-groups.ts';
import { BufferPool } from './buffer-pool.ts';
import { ScopeStack } from './scope.ts';
import { Tensor, bytesPerElement, shapeSize, type DType, type TensorOwner, type TypedArrayOf } from './tensor.ts';
import { kernelEntry } from './kernels.ts';
import { PipelineCache, type PipelineSpec } from './pipelines.ts';
import { compilesAtFirstDispatch, primeDriverJit, type PrimeDispatch } from './driver-jit.ts';
import { Profiler, type DispatchCost, type ProfileReport } from './profiler.ts';
import { packUniforms, uniformLayoutFor, type OverrideValues, type UniformValues } from './uniforms.ts';

/** A WebGPU error traced back to the kernels whose commands were in flight. */
export class GpuKernelError extends Error {
  constructor(readonly kind: string, readonly kernels: string[], readonly gpuMessage: string) {
    super(`WebGPU ${kind} error in kernel ${kernels.length ? kernels.map((k) => `'${k}'`).join(', ') : '(none: outside any kernel)'}: ${gpuMessage}`);
    this.name = 'GpuKernelError';
  }
}

/**
 * The GPU device is gone (driver reset, out of memory, `destroy()`): every later call
 * says so, naming WebGPU's reason and message, instead of blaming the kernels that
 * happened to be in flight. Nothing on the old device survives; create a new Runtime.
 */
export class DeviceLostError extends Error {
  constructor(readonly reason: string, readonly gpuMessage: string, readonly during: string) {
    super(`the WebGPU device was lost (${reason}${gpuMessage ? `: ${gpuMessage}` : ''}); ${during} cannot run. Tensors and weights on it are gone: create a new Runtime and load again`);
    this.name = 'DeviceLostError';
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
  /** FLOPs and bytes moved, for the profiler (bytes default to the bindings' sizes). */
  cost?: DispatchCost;
}

export interface RuntimeOptions {
  powerPreference?: GPUPowerPreference;
  /** Request the adapter's matrix units (device.ts); conv2d uses them once enableTensorCores (src/ops/conv2d-mma.ts) has checked them. */
  tensorCores?: boolean;
  /** false: shaders without WebGPU's bounds checks (device.ts NO_BOUNDS_CHECK_TOGGLES; Node only). */
  boundsChecks?: boolean;
  /** Dispatches encoded before an automatic submit. */
  maxDispatchesPerSubmit?: number;
  /**
   * Dispatches encoded before the first submit once the GPU has gone idle (after a read
   * or sync); each later submit waits for twice as many, up to maxDispatchesPerSubmit.
   * The GPU starts nothing before a submit, so this is how long it waits at the start of
   * a step while the host encodes. Default FIRST_SUBMIT_DISPATCHES on GPUs; on CPU
   * drivers maxDispatchesPerSubmit (no ramp: their threads share the cores with the
   * encoding, and submitting every 8 dispatches made a lavapipe step no faster).
   */
  firstSubmitDispatches?: number;
  /**
   * Helper devices that compile a step's pipelines side by side in warmupFrom on a driver
   * that compiles at first dispatch (lavapipe; driver-jit.ts). Default the host's cores
   * (navigator.hardwareConcurrency where there is one, else 2); 0 turns it off.
   */
  jitHelpers?: number;
}

/** The default first submit after an idle GPU (RuntimeOptions.firstSubmitDispatches): ~0.25 ms of encoding at ~30 us a dispatch. */
export const FIRST_SUBMIT_DISPATCHES = 8;

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

export class Runtime implements TensorOwner {
  readonly pool: BufferPool;
  private readonly scopes = new ScopeStack();
  /** Bind groups with their uniform buffers, reused across dispatches (bind-groups.ts). */
  readonly bindGroups: BindGroupCache;
  /** Compiled pipelines; `rt.pipelines.specs()` lists them for a later warmup(). */
  readonly pipelines: PipelineCache;
  private profiler: Profiler | null = null;
  /** Set inside warmupFrom(): dispatches record their pipeline (and how they would bind it) instead of running. */
  private recording: PrimeDispatch[] | null = null;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private batchKernels: string[] = [];
  private pendingChecks: Promise<GpuKernelError | null>[] = [];
  private lost: { reason: string; message: string } | null = null;
  private lastKernels: string[] = [];
  private readonly maxDispatches: number;
  private readonly firstSubmit: number;
  /** Dispatches the current batch may reach before it is submitted: firstSubmit after the GPU went idle, doubling per submit up to maxDispatches. */
  private submitAfter: number;
  dispatchCount = 0;
  submitCount = 0;

  private constructor(readonly device: GPUDevice, readonly adapter: AdapterSummary, private readonly options: RuntimeOptions) {
    this.maxDispatches = options.maxDispatchesPerSubmit ?? 96;
    this.firstSubmit = Math.min(options.firstSubmitDispatches ?? (isCpuAdapterSummary(adapter) ? this.maxDispatches : FIRST_SUBMIT_DISPATCHES), this.maxDispatches);
    this.submitAfter = this.firstSubmit;
    this.pipelines = new PipelineCache(device);
    this.pool = new BufferPool(device, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
    this.bindGroups = new BindGroupCache(device);
    device.lost.then((info) => {
      this.lost ??= { reason: String(info.reason), message: info.message };
    });
    device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
      this.pendingChecks.push(Promise.resolve(new GpuKernelError('uncaptured', this.lastKernels, ev.error.message)));
    };
    this.openErrorScope();
  }

  static async create(options: RuntimeOptions = {}): Promise<Runtime> {
    for (const name of ['maxDispatchesPerSubmit', 'firstSubmitDispatches'] as const) {
      const v = options[name];
      if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new RangeError(`Runtime: ${name} must be a positive integer, got ${v}`);
    }
    if (options.jitHelpers !== undefined && !(Number.isInteger(options.jitHelpers) && options.jitHelpers >= 0)) throw new RangeError(`Runtime: jitHelpers must be a whole number, got ${options.jitHelpers}`);
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

  /**
   * Runs `fn` and releases every tensor created inside it that its result (a tensor,
   * or arrays / objects holding tensors) does not contain and that was not `keep`-ed;
   * the result's tensors belong to the enclosing scope. `fn` may be async: the scope
   * closes when its promise settles (see scope.ts for how async scopes share tracking).
   */
  scope<T>(fn: () => T): T {
    return this.scopes.run(fn);
  }

  /** Takes tensors out of every open scope: the caller releases them (weights, memory entries). */
  keep<T>(value: T): T {
    return this.scopes.keep(value);
  }

  /**
   * A tensor for GPU commands to fill; like every tensor-creating call, it joins the
   * innermost open scope. Its buffer may be one that commands still waiting for a submit
   * read: they run first.
   */
  empty<D extends DType = 'f32'>(shape: readonly number[], dtype: D = 'f32' as D, label = 'tensor'): Tensor<D> {
    return this.allocate(shape, dtype, label, false);
  }

  private allocate<D extends DType>(shape: readonly number[], dtype: D, label: string, queueWrite: boolean): Tensor<D> {
    this.assertAlive(`creating tensor '${label}'`);
    const bytes = shapeSize(shape) * bytesPerElement(dtype);
    const max = this.device.limits.maxStorageBufferBindingSize;
    if (bytes > max) {
      throw new RangeError(`tensor '${label}' [${shape.join(', ')}] needs ${bytes} bytes, over this adapter's maxStorageBufferBindingSize ${max}`);
    }
    const t = new Tensor(this, [...shape], dtype, this.pool.acquire(bytes, label, queueWrite), label);
    this.scopes.track(t);
    return t;
  }

  /**
   * f32 data is scanned for NaN and Inf on the way (cheap next to the copy): the tensor
   * records the first such index in `firstNonFinite`, so consumers such as the memory
   * network can refuse non-finite input that came from the CPU.
   */
  upload<D extends DType = 'f32'>(shape: readonly number[], data: TypedArrayOf<D> | ArrayLike<number>, dtype: D = 'f32' as D, label = 'tensor'): Tensor<D> {
    this.assertAlive(`upload '${label}'`);
    const n = shapeSize(shape);
    if (data.length !== n) throw new RangeError(`upload '${label}': shape [${shape.join(', ')}] has ${n} elements, data has ${data.length}`);
    const typed = toTyped(data, dtype, label);
    const t = this.allocate(shape, dtype, label, true);
    // writeBuffer takes whole 4-byte words: an odd count of f16 values goes with one zero pad.
    const padded = typed.byteLength % 4 === 0 ? typed : Uint16Array.from({ length: typed.length + 1 }, (_, i) => (i < typed.length ? typed[i] : 0));
    this.device.queue.writeBuffer(t.buffer, 0, padded.buffer, padded.byteOffset, padded.byteLength);
    if (dtype === 'f32') t.firstNonFinite = firstNonFinite(typed as Float32Array);
    return t;
  }

  /** Called by Tensor.dispose. */
  release(t: Tensor): void {
    this.scopes.forget(t);
    this.pool.release(t.buffer);
  }

  read<D extends DType>(t: Tensor<D>): Promise<TypedArrayOf<D>> {
    return this.readMany([t]).then((values) => values[0] as TypedArrayOf<D>);
  }

  /**
   * Several tensors in one readback: one staging buffer, one submission and one wait,
   * where a read each would wait for the GPU once per tensor (a step's mask and its
   * quality score).
   */
  readMany(ts: readonly Tensor[]): Promise<TypedArrayOf<DType>[]> {
    // Thrown at the call (not as a rejection nobody may await): inside recordDispatches nothing ran.
    if (this.recording && ts.length > 0) throw new Error(`recordDispatches: the recorded function reads ${ts.map((t) => `'${t.label}'`).join(', ')} back, which no recorded dispatch computes`);
    return this.readBack(ts);
  }

  private async readBack(ts: readonly Tensor[]): Promise<TypedArrayOf<DType>[]> {
    if (ts.length === 0) return [];
    for (const t of ts) t.assertLive('read');
    this.assertAlive(`read ${ts.map((t) => `'${t.label}'`).join(', ')}`);
    // Copies move whole 4-byte words (odd f16 counts); each tensor starts on a word.
    const offsets: number[] = [];
    let words = 0;
    for (const t of ts) {
      offsets.push(words);
      words += Math.ceil(t.byteLength / 4) * 4;
    }
    const label = ts.map((t) => t.label).join(', ');
    const staging = this.device.createBuffer({ size: Math.max(4, words), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: `readback ${label}` });
    this.ensureEncoder();
    this.endPass();
    ts.forEach((t, i) => {
      const bytes = Math.ceil(t.byteLength / 4) * 4;
      if (bytes > 0) this.encoder!.copyBufferToBuffer(t.buffer, 0, staging, offsets[i], bytes);
    });
    this.batchKernels.push(`readback(${label})`);
    this.flush();
    // The mapping and the batch's error checks wait for the same GPU work: one wait for both.
    const [mapping, checks] = await Promise.allSettled([staging.mapAsync(GPUMapMode.READ), this.sync()]);
    if (checks.status === 'rejected' || mapping.status === 'rejected') {
      staging.destroy();
      if (checks.status === 'rejected') throw checks.reason;
      if (await this.lostSoon()) this.assertAlive(`read ${label}`);
      throw (mapping as PromiseRejectedResult).reason;
    }
    const mapped = staging.getMappedRange(0, Math.max(4, words));
    const out = ts.map((t, i) => {
      const copy = mapped.slice(offsets[i], offsets[i] + t.byteLength);
      return t.dtype === 'f32' ? new Float32Array(copy) : t.dtype === 'i32' ? new Int32Array(copy) : t.dtype === 'f16' ? new Uint16Array(copy) : new Uint32Array(copy);
    });
    staging.unmap();
    staging.destroy();
    return out;
  }

  // ---- kernels ----------------------------------------------------------------

  dispatch(call: DispatchCall): void {
    this.assertAlive(`kernel '${call.label ?? call.kernel}'`);
    const label = call.label ?? call.kernel;
    const { reflection } = kernelEntry(call.kernel);
    const uniformBytes = packUniforms(call.kernel, uniformLayoutFor(call.kernel, reflection, call.bindings.length), call.uniforms);
    if (this.recording) {
      this.pipelines.check(call.kernel, call.constants ?? {});
      this.recording.push({
        spec: { kernel: call.kernel, entryPoint: call.entryPoint ?? 'main', constants: { ...call.constants } },
        uniform: uniformBytes, storageBytes: call.bindings.map((b) => (b instanceof Tensor ? b.byteLength : b.size)),
      });
      return;
    }
    const pipeline = this.pipelines.get(call.kernel, call.entryPoint ?? 'main', call.constants ?? {}, (key) => this.batchKernels.push(`compile ${key}`));
    const buffers = call.bindings.map((b) => {
      if (b instanceof Tensor) b.assertLive(label);
      return b instanceof Tensor ? b.buffer : b;
    });
    const bindGroup = this.bindGroups.get(pipeline, buffers, uniformBytes, label);
    const pass = this.profiler ? this.profiledPass(label, call) : this.ensurePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    const [x, y = 1, z = 1] = call.workgroups;
    pass.dispatchWorkgroups(x, y, z);
    if (this.profiler) this.endPass();
    this.batchKernels.push(label);
    this.dispatchCount++;
    if (this.batchKernels.length >= this.submitAfter) this.flush();
  }

  /** Submits everything encoded so far. */
  flush(): void {
    if (!this.encoder) {
      // Nothing encoded is pending, so released buffers are already safe to reuse.
      this.pool.onSubmitted();
      this.bindGroups.onSubmitted();
      return;
    }
    this.endPass();
    this.profiler?.resolve(this.encoder);
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.submitCount++;
    this.submitAfter = Math.min(2 * this.submitAfter, this.maxDispatches);
    this.pool.onSubmitted();
    this.bindGroups.onSubmitted();
    this.closeErrorScope(this.batchKernels);
    this.lastKernels = this.batchKernels;
    this.batchKernels = [];
    this.openErrorScope();
  }

  /** Submits, waits for the GPU to finish, and throws the first WebGPU error seen since the last sync. */
  async sync(): Promise<void> {
    this.assertAlive('sync');
    this.flush();
    this.closeErrorScope([]);
    this.openErrorScope();
    const checks = this.pendingChecks;
    this.pendingChecks = [];
    let errors: GpuKernelError[];
    try {
      await this.device.queue.onSubmittedWorkDone();
      // The GPU ran out of work: the next batch goes to it early (firstSubmitDispatches).
      this.submitAfter = this.firstSubmit;
      errors = (await Promise.all(checks)).filter((e): e is GpuKernelError => e !== null);
    } catch (e) {
      if (await this.lostSoon()) this.assertAlive('sync');
      throw e;
    }
    // A lost device fails every pending command: name the loss, not those kernels.
    if (errors.length && (await this.lostSoon())) this.assertAlive('sync');
    this.assertAlive('sync');
    if (errors.length) throw errors[0];
  }

  /** Storage bytes: allocated to live tensors, pooled for reuse, and the peak allocated since creation or `resetPeak`. */
  memoryStats(): { liveBytes: number; pooledBytes: number; peakBytes: number } {
    return this.pool.stats();
  }

  /** Starts a new peak measurement from the bytes allocated now. */
  resetPeak(): void {
    this.pool.resetPeak();
  }

  destroy(): void {
    this.lost ??= { reason: 'destroyed', message: 'Runtime.destroy() was called' };
    this.pool.trim();
    this.device.destroy();
  }

  /** Creates pipelines ahead of their first dispatch, all in parallel (createComputePipelineAsync; see pipelines.ts). */
  warmup(specs: readonly (PipelineSpec | { kernel: string; entryPoint?: string; constants?: OverrideValues })[]): Promise<void> {
    return this.pipelines.warm(specs);
  }

  /**
   * Warm start without a recorded list: runs `fn` (e.g. one network step on inputs of the
   * real size) with dispatching off, so it only records the pipelines it would use, releases
   * every tensor it created, and creates the pipelines not yet compiled, all in parallel;
   * then waits for pending uploads (a network's weights: writeBuffer copies run at the next
   * submit) so the first real step pays for neither. On a driver that compiles at first
   * dispatch (lavapipe) it also runs each new pipeline once on helper devices, side by
   * side, so the compiled code waits in the driver's shader cache (RuntimeOptions.jitHelpers,
   * driver-jit.ts). Returns how many pipelines the step uses. `fn` must not read tensors back.
   */
  async warmupFrom(fn: () => unknown): Promise<number> {
    const recorded = this.recordDispatches(fn);
    const unique = new Map(recorded.map((r) => [JSON.stringify(r.spec), r]));
    // Pipelines created before (by a dispatch, or primed by an earlier warmupFrom) need no priming.
    const existing = new Set(this.pipelines.specs().map((s) => JSON.stringify(s)));
    const toPrime = [...unique].filter(([key]) => !existing.has(key)).map(([, r]) => r);
    await Promise.all([this.pipelines.warm(recorded.map((r) => r.spec)), this.sync(), this.primeJit(toPrime)]);
    return unique.size;
  }

  /**
   * Runs `fn` with dispatching off and returns what it would have dispatched (pipeline,
   * uniforms, binding sizes), releasing every tensor it created. `fn` must not read tensors back.
   */
  recordDispatches(fn: () => unknown): PrimeDispatch[] {
    if (this.recording) throw new Error('recordDispatches: already recording');
    const recorded: PrimeDispatch[] = [];
    this.recording = recorded;
    try {
      this.scope(() => void fn());
    } finally {
      this.recording = null;
    }
    return recorded;
  }

  /** driver-jit.ts on lavapipe with bounds checks on (the helpers must compile the same shaders); nothing elsewhere. */
  private async primeJit(records: PrimeDispatch[]): Promise<void> {
    const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
    const helpers = this.options.jitHelpers ?? nav?.hardwareConcurrency ?? 2;
    if (records.length === 0 || helpers === 0 || !this.adapter.boundsChecks || !compilesAtFirstDispatch(this.adapter.description, this.adapter.device)) return;
    await primeDriverJit(records, async () => (await acquireDevice(this.options)).device, helpers);
  }

  /** Whether dispatches are being timed (startProfiling without stopProfiling yet). */
  get profiling(): boolean {
    return this.profiler !== null;
  }

  /** Times every dispatch from now on with timestamp queries (see profiler.ts); throws without 'timestamp-query'. */
  startProfiling(): void {
    this.flush();
    this.profiler ??= new Profiler(this.device, this.maxDispatches + 1);
  }

  /** Waits for the GPU, stops profiling and returns GPU time, FLOPs and bytes by kernel, module and label. */
  async stopProfiling(): Promise<ProfileReport> {
    const profiler = this.profiler;
    if (!profiler) throw new Error('stopProfiling: startProfiling() was not called');
    await this.sync();
    this.profiler = null;
    return profiler.report(this.describe());
  }

  // ---- internals --------------------------------------------------------------

  private profiledPass(label: string, call: DispatchCall): GPUComputePassEncoder {
    this.endPass();
    const bytes = call.cost?.bytes ?? call.bindings.reduce((s, b) => s + (b instanceof Tensor ? b.byteLength : b.size), 0);
    this.pass = this.ensureEncoder().beginComputePass(this.profiler!.passDescriptor(label, call.kernel, { flop: call.cost?.flop ?? 0, bytes }));
    return this.pass;
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

  private assertAlive(during: string): void {
    if (this.lost) throw new DeviceLostError(this.lost.reason, this.lost.message, during);
  }

  /** Whether the device is lost, giving its `lost` promise a moment to settle (Dawn reports the loss after the failures it causes). */
  private async lostSoon(): Promise<boolean> {
    if (!this.lost) await Promise.race([this.device.lost, new Promise((r) => setTimeout(r, 20))]);
    return this.lost !== null;
  }
}

function firstNonFinite(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}

function toTyped(data: ArrayLike<number>, dtype: DType, label: string): Float32Array | Int32Array | Uint32Array | Uint16Array {
  if (dtype === 'f32') return data instanceof Float32Array ? data : Float32Array.from(data);
  if (dtype === 'i32') return data instanceof Int32Array ? data : Int32Array.from(data);
  if (dtype === 'f16') {
    if (!(data instanceof Uint16Array)) throw new TypeError(`upload '${label}': f16 data must be a Uint16Array of half-precision bits (src/io/float16.ts encodeF16)`);
    return data;
  }
  return data instanceof Uint32Array ? data : Uint32Array.from(data);
}
