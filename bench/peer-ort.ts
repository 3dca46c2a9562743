// The onnxruntime peers of bench/peers.ts, in the same process as our runtime:
//  - onnxruntime-web's WebGPU execution provider on Dawn (npm `webgpu`), the same
//    Dawn instance and adapter as our engine and tfjs-webgpu (navigator.gpu);
//  - onnxruntime-node's CPU provider: what a user without a GPU would run.
// Models are ONNX bytes built in-repo (bench/onnx-writer.ts); ort-web is given bytes,
// never a path (it would try to fetch one).
import { availableParallelism } from 'node:os';
import { create, globals } from 'webgpu';

type OrtWeb = typeof import('onnxruntime-web');
type OrtNode = typeof import('onnxruntime-node');

let ortWeb: OrtWeb | null = null;
let ortNode: OrtNode | null = null;

/**
 * Dawn's GPUQueue.writeBuffer refuses views of a SharedArrayBuffer ("Invalid
 * argument"), and ort-web's WebAssembly memory is shared (its threaded build):
 * such writes go through an ArrayBuffer copy. Anything else is passed through.
 */
function copySharedWrites(): void {
  const proto = (globals as unknown as { GPUQueue: { prototype: GPUQueue } }).GPUQueue.prototype;
  const write = proto.writeBuffer;
  proto.writeBuffer = function (this: GPUQueue, buffer: GPUBuffer, offset: number, data: BufferSource | SharedArrayBuffer, dataOffset = 0, size?: number) {
    if (ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer) {
      // Offsets and sizes count elements of a typed array, bytes of a DataView.
      const unit = 'BYTES_PER_ELEMENT' in data ? (data as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT : 1;
      const bytes = (size ?? data.byteLength / unit - dataOffset) * unit;
      const copy = new Uint8Array(bytes);
      copy.set(new Uint8Array(data.buffer, data.byteOffset + dataOffset * unit, bytes));
      return write.call(this, buffer, offset, copy.buffer, 0, bytes);
    }
    return write.call(this, buffer, offset, data as BufferSource, dataOffset, size);
  } as GPUQueue['writeBuffer'];
}

/** Dawn as navigator.gpu (reusing one already installed, e.g. by bench/peer-tfjs.ts). Call before Runtime.create(). */
function installNavigatorGpu(): void {
  if ((globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu) return;
  Object.assign(globalThis, globals);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: create([]) }, configurable: true, writable: true });
}

/** onnxruntime-web with its WebGPU EP on this process's Dawn. Call before Runtime.create() (after tfjs's initPeer if both run). */
export async function initOrtWeb(): Promise<OrtWeb> {
  if (ortWeb) return ortWeb;
  installNavigatorGpu();
  copySharedWrites();
  ortWeb = (await import('onnxruntime-web/webgpu')) as unknown as OrtWeb;
  // The WebGPU EP runs the graph on the GPU; one wasm thread keeps its CPU-side work
  // from competing with a CPU Vulkan driver's workers.
  ortWeb.env.wasm.numThreads = 1;
  // ort-web's asyncify build awaits GPU callbacks that do not keep Node's event loop
  // alive on their own: a timer does, for the life of the process.
  setInterval(() => {}, 1 << 30);
  return ortWeb;
}

export async function initOrtNode(): Promise<OrtNode> {
  try {
    // A computed name: bundlers leave the native addon out (no --external needed) and load it at run time.
    const name = 'onnxruntime-node';
    ortNode ??= (await import(/* @vite-ignore */ name)) as OrtNode;
  } catch (e) {
    // A bundle carried to another machine has no native addon next to it.
    throw new Error(`onnxruntime-node cannot be loaded (${e instanceof Error ? e.message.split('\n')[0] : e}); leave ort-node out of --peers`);
  }
  return ortNode;
}

export type Feeds = Record<string, { data: Float32Array; dims: readonly number[] }>;

/** One session of either runtime: `run` feeds CPU tensors and returns every output as float32, awaited. */
export interface PeerSession {
  readonly name: string;
  run(feeds: Feeds): Promise<Record<string, Float32Array>>;
  release(): Promise<void>;
}

interface OrtLike {
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;
}
interface SessionLike {
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown; getData?: () => Promise<unknown> }>>;
  release(): Promise<void>;
}

function wrap(name: string, ort: OrtLike, session: SessionLike): PeerSession {
  return {
    name,
    async run(feeds) {
      const inputs: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(feeds)) inputs[k] = new ort.Tensor('float32', v.data, v.dims);
      const out = await session.run(inputs);
      const result: Record<string, Float32Array> = {};
      for (const [k, t] of Object.entries(out)) result[k] = (t.getData ? await t.getData() : t.data) as Float32Array;
      return result;
    },
    release: () => session.release(),
  };
}

export async function ortWebSession(model: Uint8Array): Promise<PeerSession> {
  const ort = await initOrtWeb();
  const session = await ort.InferenceSession.create(model, { executionProviders: ['webgpu'] });
  return wrap('ort-web WebGPU', ort as unknown as OrtLike, session as unknown as SessionLike);
}

/** ort-node CPU with `threads` intra-op threads (default: every core this process may use). */
export async function ortNodeSession(model: Uint8Array, threads = availableParallelism()): Promise<PeerSession> {
  const ort = await initOrtNode();
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], intraOpNumThreads: threads });
  return wrap(`ort-node CPU (${threads} threads)`, ort as unknown as OrtLike, session as unknown as SessionLike);
}
