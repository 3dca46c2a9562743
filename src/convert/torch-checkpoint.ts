// torch.save files, both serialisations, read without Python:
// - zip (PyTorch >= 1.6 default): `<archive>/data.pkl` and one record `<archive>/data/<key>` per storage;
// - legacy (`_use_new_zipfile_serialization=False`, what Mem3D writes): pickles of the
//   magic number, protocol version and sys_info, the object itself, the list of storage
//   keys, then every storage as an 8-byte little-endian element count and its raw bytes.
// Tensors refer to storages through persistent ids ('storage', type, key, location,
// numel) and are rebuilt by torch._utils._rebuild_tensor_v2 with any strides.
import { DTYPE_BYTES, type SafetensorsDType } from '../io/safetensors.ts';
import { CheckpointError } from './errors.ts';
import { describeValue } from '../io/untrusted.ts';
import { PyGlobal, PyObject, unpickle } from './pickle.ts';
import { isZip, readZip } from './zip.ts';

const STORAGE_DTYPES: Readonly<Record<string, SafetensorsDType>> = {
  DoubleStorage: 'F64', FloatStorage: 'F32', HalfStorage: 'F16', BFloat16Storage: 'BF16',
  LongStorage: 'I64', IntStorage: 'I32', CharStorage: 'I8', ByteStorage: 'U8', BoolStorage: 'BOOL',
};

/** Dimensions of one tensor (torch's own limit is 64). */
export const MAX_TENSOR_RANK = 64;
/**
 * How many bytes a view may add beyond its storage when materialised: an expand()ed
 * tensor (stride 0) is saved as its small storage, and its output is allocated from
 * the shape alone, so a 164-byte file could otherwise ask for gigabytes.
 */
export const MAX_EXPANDED_VIEW_BYTES = 256 * 2 ** 20;

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

class Storage {
  bytes: Uint8Array | null = null;
  constructor(readonly key: string, readonly dtype: SafetensorsDType, readonly numel: number) {}
}

export class TorchTensor {
  constructor(
    private readonly storage: Storage,
    readonly offset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
    private readonly source: string,
  ) {}

  get dtype(): SafetensorsDType {
    return this.storage.dtype;
  }

  get numel(): number {
    return this.shape.reduce((p, d) => p * d, 1);
  }

  /**
   * Why this view cannot be read, or undefined when it can: negative or absurd
   * dimensions, strides or offset, a reach outside its storage, or an expansion
   * past MAX_EXPANDED_VIEW_BYTES. Checked before anything is allocated.
   */
  problem(): string | undefined {
    const { storage, shape, stride, offset } = this;
    const view = () => `(offset ${offset}, shape ${list(shape)}, stride ${list(stride)})`;
    if (shape.length > MAX_TENSOR_RANK) return `has ${shape.length} dimensions, over the limit of ${MAX_TENSOR_RANK}`;
    if (shape.some((d) => d < 0)) return `negative dimension in shape ${list(shape)}`;
    if (stride.some((d) => d < 0)) return `negative stride in ${list(stride)} (shape ${list(shape)})`;
    if (offset < 0) return `negative storage offset ${offset}`;
    const n = this.numel;
    if (n === 0) return undefined;
    const last = offset + shape.reduce((s, d, i) => s + (d - 1) * stride[i], 0);
    if (!(last < storage.numel)) return `view ${view()} reaches outside its storage of ${storage.numel} elements`;
    const bytes = n * DTYPE_BYTES[storage.dtype];
    if (n > storage.numel && bytes > MAX_EXPANDED_VIEW_BYTES) {
      return `view ${view()} expands its storage of ${storage.numel} elements to ${n} (${bytes} bytes), over the limit of ${MAX_EXPANDED_VIEW_BYTES} bytes for expanded views`;
    }
    return undefined;
  }

  /**
   * The elements in row-major order as little-endian bytes (a fresh, aligned copy:
   * views are materialised in time proportional to the output, row by row, with
   * stride-0 dimensions copied as repeated blocks).
   */
  bytes(name: string): Uint8Array {
    const { storage } = this;
    const fail = (msg: string): never => {
      throw new CheckpointError(this.source, `tensor '${name}': ${msg}`);
    };
    const problem = this.problem();
    if (problem) fail(problem);
    if (!storage.bytes) return fail(`storage '${storage.key}' has no data in the file`);
    const size = DTYPE_BYTES[storage.dtype];
    const out = new Uint8Array(this.numel * size);
    if (out.length === 0) return out;
    const { shape, stride } = coalesce(this.shape, this.stride);
    const src = storage.bytes;
    const rank = shape.length;
    // Bytes of one block of dims d.. in the output.
    const block = new Array<number>(rank + 1).fill(size);
    for (let d = rank - 1; d >= 0; d--) block[d] = block[d + 1] * shape[d];
    const fill = (d: number, from: number, at: number): void => {
      const n = shape[d], s = stride[d];
      if (d === rank - 1) {
        if (s === 1 || n === 1) out.set(src.subarray(from * size, (from + n) * size), at);
        else if (s === 0) {
          out.set(src.subarray(from * size, (from + 1) * size), at);
          repeat(out, at, size, n);
        } else {
          for (let i = 0, f = from * size, o = at; i < n; i++, f += s * size) for (let b = 0; b < size; b++) out[o++] = src[f + b];
        }
        return;
      }
      if (s === 0) {
        fill(d + 1, from, at);
        repeat(out, at, block[d + 1], n);
      } else {
        for (let i = 0; i < n; i++) fill(d + 1, from + i * s, at + i * block[d + 1]);
      }
    };
    fill(0, this.offset, 0);
    return out;
  }
}

/** Copies out[at, at + unit) into the next count - 1 slots by doubling (O(unit * count)). */
function repeat(out: Uint8Array, at: number, unit: number, count: number): void {
  const total = unit * count;
  for (let have = unit; have < total; have *= 2) out.copyWithin(at + have, at, at + Math.min(have, total - have));
}

/**
 * The same view with size-1 dimensions dropped and dimensions that are contiguous
 * with the next merged, so rows are as long as the layout allows.
 */
function coalesce(shape: readonly number[], stride: readonly number[]): { shape: number[]; stride: number[] } {
  const outShape: number[] = [];
  const outStride: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    const k = outShape.length - 1;
    if (k >= 0 && outStride[k] === stride[i] * shape[i]) {
      outShape[k] *= shape[i];
      outStride[k] = stride[i];
    } else {
      outShape.push(shape[i]);
      outStride.push(stride[i]);
    }
  }
  if (outShape.length === 0) return { shape: [1], stride: [1] };
  return { shape: outShape, stride: outStride };
}

function list(v: readonly number[]): string {
  return v.length <= 8 ? `[${v.join(', ')}]` : `[${v.slice(0, 8).join(', ')}, ... (${v.length} dimensions)]`;
}

export interface TorchCheckpoint {
  readonly source: string;
  readonly serialization: 'zip' | 'legacy';
  /** The unpickled object: Maps, arrays, numbers, strings, TorchTensors, opaque PyObjects. */
  readonly root: unknown;
}

function isIntList(x: unknown): x is number[] {
  return Array.isArray(x) && x.every((v) => Number.isSafeInteger(v));
}

/** The persistent-id and rebuild handling both serialisations share. */
function torchUnpickler(source: string) {
  const storages = new Map<string, Storage>();
  const fail = (msg: string): never => {
    throw new CheckpointError(source, msg);
  };
  const persistentLoad = (pid: unknown): Storage => {
    if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) {
      return fail(`unknown persistent id (${Array.isArray(pid) ? `${describeValue(pid)} starting with ${describeValue(pid[0])}` : describeValue(pid)}; expected a torch storage)`);
    }
    const [, type, key, , numel, view] = pid;
    if (!(type instanceof PyGlobal) || typeof key !== 'string' || !Number.isSafeInteger(numel) || (numel as number) < 0) fail('malformed storage reference');
    if (view != null) fail(`storage '${describeValue(key).slice(1, -1)}' is a view of another storage (PyTorch < 0.4 files): not supported`);
    const dtype = STORAGE_DTYPES[(type as PyGlobal).name];
    if (!dtype || (type as PyGlobal).module !== 'torch') fail(`storage type ${(type as PyGlobal).qualified} is not supported (${Object.keys(STORAGE_DTYPES).join(', ')} are)`);
    let s = storages.get(key as string);
    if (!s) storages.set(key as string, (s = new Storage(key as string, dtype, numel as number)));
    return s;
  };
  const rebuildTensor = (args: unknown[]): TorchTensor => {
    const [storage, offset, shape, stride] = args;
    if (!(storage instanceof Storage) || !Number.isSafeInteger(offset) || !isIntList(shape) || !isIntList(stride) || shape.length !== stride.length) {
      return fail('torch._utils._rebuild_tensor_v2 with malformed arguments');
    }
    return new TorchTensor(storage, offset as number, shape, stride, source);
  };
  const call = (fn: PyGlobal, args: unknown[]): unknown => {
    switch (fn.qualified) {
      case 'torch._utils._rebuild_tensor_v2': return rebuildTensor(args);
      case 'torch._utils._rebuild_parameter': return args[0] instanceof TorchTensor ? args[0] : undefined;
      case 'collections.OrderedDict': return args.length === 0 ? new Map() : undefined;
      default: return undefined;
    }
  };
  return { storages, hooks: { persistentLoad, call } };
}

function readZipCheckpoint(bytes: Uint8Array, source: string): TorchCheckpoint {
  const entries = readZip(bytes, source);
  const pkl = [...entries.keys()].find((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (!pkl) throw new CheckpointError(source, `zip archive without '<archive>/data.pkl': not a torch.save file (entries: ${[...entries.keys()].slice(0, 8).join(', ') || 'none'})`);
  const prefix = pkl.slice(0, -'data.pkl'.length);
  const byteorder = entries.get(`${prefix}byteorder`);
  if (byteorder && new TextDecoder().decode(byteorder()) !== 'little') throw new CheckpointError(source, 'saved on a big-endian machine: not supported');
  const { storages, hooks } = torchUnpickler(source);
  const { value } = unpickle(entries.get(pkl)!(), 0, `${source} (${pkl})`, hooks);
  for (const s of storages.values()) {
    const record = entries.get(`${prefix}data/${s.key}`);
    if (!record) throw new CheckpointError(source, `storage record '${prefix}data/${s.key}' is missing from the archive`);
    const data = record();
    const need = s.numel * DTYPE_BYTES[s.dtype];
    if (data.length < need) throw new CheckpointError(source, `storage '${s.key}' has ${data.length} bytes, ${need} expected`);
    s.bytes = data;
  }
  return { source, serialization: 'zip', root: value };
}

function readLegacyCheckpoint(bytes: Uint8Array, source: string): TorchCheckpoint {
  const plain = { persistentLoad: () => { throw new CheckpointError(source, 'storage reference outside the main pickle'); }, call: () => undefined };
  const magic = unpickle(bytes, 0, source, plain);
  if (magic.value !== LEGACY_MAGIC) {
    throw new CheckpointError(source, 'a pickle, but not a torch.save file (no legacy magic number)');
  }
  const version = unpickle(bytes, magic.end, source, plain);
  if (version.value !== LEGACY_PROTOCOL) throw new CheckpointError(source, `legacy format protocol ${describeValue(version.value)}, expected ${LEGACY_PROTOCOL}`);
  const sysInfo = unpickle(bytes, version.end, source, plain);
  if (sysInfo.value instanceof Map && sysInfo.value.get('little_endian') === false) throw new CheckpointError(source, 'saved on a big-endian machine: not supported');
  const { storages, hooks } = torchUnpickler(source);
  const main = unpickle(bytes, sysInfo.end, source, hooks);
  const keys = unpickle(bytes, main.end, source, plain);
  if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === 'string')) throw new CheckpointError(source, 'the storage key list is malformed');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = keys.end;
  for (const key of keys.value as string[]) {
    const s = storages.get(key);
    if (!s) throw new CheckpointError(source, `storage '${key}' is listed but never referenced`);
    if (at + 8 > bytes.length) throw new CheckpointError(source, `truncated: storage '${key}' should start at byte ${at} but the file has ${bytes.length}`);
    const numel = Number(view.getBigUint64(at, true));
    if (numel !== s.numel) throw new CheckpointError(source, `storage '${key}' holds ${numel} elements, ${s.numel} expected`);
    const end = at + 8 + numel * DTYPE_BYTES[s.dtype];
    if (end > bytes.length) throw new CheckpointError(source, `truncated: storage '${key}' needs bytes ${at + 8} to ${end} but the file has ${bytes.length}`);
    s.bytes = bytes.subarray(at + 8, end);
    at = end;
  }
  return { source, serialization: 'legacy', root: main.value };
}

/** Parses a torch.save file held in memory; `source` (the file name) starts every error message. */
export function readTorchCheckpoint(bytes: Uint8Array, source: string): TorchCheckpoint {
  if (isZip(bytes)) return readZipCheckpoint(bytes, source);
  if (bytes[0] === 0x80) return readLegacyCheckpoint(bytes, source);
  throw new CheckpointError(source, 'not a PyTorch checkpoint: neither a zip archive nor a legacy torch.save pickle');
}

export interface StateDict {
  /** Where it was found: '' for the top level, else the key ('state_dict' or 'model'). */
  readonly location: string;
  /** 'module.' when DataParallel's prefix was stripped, else ''. */
  readonly strippedPrefix: string;
  /** In the checkpoint's order, names without the prefix. */
  readonly tensors: ReadonlyMap<string, TorchTensor>;
}

const PREFIX = 'module.';

function describe(v: unknown): string {
  if (v instanceof PyObject) return v.describe();
  if (v instanceof Map) return 'a dict';
  if (Array.isArray(v)) return 'a list';
  return v === null ? 'None' : `a ${typeof v}`;
}

/** The state_dict: the top level when it maps names to tensors, else under 'state_dict' or 'model'. */
export function findStateDict(ckpt: TorchCheckpoint): StateDict {
  const fail = (msg: string): never => {
    throw new CheckpointError(ckpt.source, msg);
  };
  const root = ckpt.root;
  if (!(root instanceof Map)) return fail(`holds ${describe(root)}, not a dict of tensors (a state_dict)`);
  const holdsTensors = (m: Map<unknown, unknown>) => [...m.values()].some((v) => v instanceof TorchTensor);
  const location = holdsTensors(root) ? '' : ['state_dict', 'model'].find((k) => root.get(k) instanceof Map && holdsTensors(root.get(k) as Map<unknown, unknown>));
  if (location === undefined) {
    fail(`no state_dict found: the top level holds no tensors and has no 'state_dict' or 'model' dict of tensors (keys: ${[...root.keys()].slice(0, 12).map((k) => (typeof k === 'string' ? k : describeValue(k))).join(', ')})`);
  }
  const dict = (location ? root.get(location) : root) as Map<unknown, unknown>;
  const tensors = new Map<string, TorchTensor>();
  let stripped = false;
  for (const [key, value] of dict) {
    if (typeof key !== 'string') return fail(`state_dict key ${describeValue(key)} is not a string`);
    const where = location ? `${location}['${key}']` : `'${key}'`;
    if (!(value instanceof TorchTensor)) return fail(`${where} is ${describe(value)}, not a tensor`);
    const name = (key as string).startsWith(PREFIX) ? (key as string).slice(PREFIX.length) : (key as string);
    stripped ||= name !== key;
    if (tensors.has(name)) fail(`'${name}' appears both with and without the '${PREFIX}' prefix`);
    tensors.set(name, value as TorchTensor);
  }
  return { location: location as string, strippedPrefix: stripped ? PREFIX : '', tensors };
}
