// A minimal, inert unpickler for what torch.save writes (protocols 2 to 5, binary
// opcodes). Nothing is ever executed: a class or function reference is a PyGlobal,
// and calling one either goes through the caller's `call` hook (torch's tensor
// rebuild functions) or yields an opaque PyObject. So a checkpoint that also pickles
// foreign objects (argparse namespaces, numpy scalars in the training log) still
// loads, and only what the converter actually reads must be understood.
import { CheckpointError } from './errors.ts';

/** A `module.name` reference (GLOBAL / STACK_GLOBAL). */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}

  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** The result of calling or instantiating something the converter does not interpret. */
export class PyObject {
  state: unknown = undefined;
  constructor(readonly callee: unknown, readonly args: readonly unknown[]) {}

  describe(): string {
    return this.callee instanceof PyGlobal ? `a Python ${this.callee.qualified} object` : 'an opaque Python object';
  }
}

export interface UnpickleHooks {
  /** BINPERSID: torch's storage references. */
  persistentLoad(pid: unknown): unknown;
  /** REDUCE of a global; return undefined to keep the call as an opaque PyObject. */
  call(fn: PyGlobal, args: unknown[]): unknown;
}

// Every standard opcode, so that an unsupported one is named in the error.
const OP = {
  MARK: 0x28, STOP: 0x2e, POP: 0x30, POP_MARK: 0x31, DUP: 0x32, FLOAT: 0x46, INT: 0x49, BININT: 0x4a,
  BININT1: 0x4b, LONG: 0x4c, BININT2: 0x4d, NONE: 0x4e, PERSID: 0x50, BINPERSID: 0x51, REDUCE: 0x52,
  STRING: 0x53, BINSTRING: 0x54, SHORT_BINSTRING: 0x55, UNICODE: 0x56, BINUNICODE: 0x58, APPEND: 0x61,
  BUILD: 0x62, GLOBAL: 0x63, DICT: 0x64, EMPTY_DICT: 0x7d, APPENDS: 0x65, GET: 0x67, BINGET: 0x68,
  INST: 0x69, LONG_BINGET: 0x6a, LIST: 0x6c, EMPTY_LIST: 0x5d, OBJ: 0x6f, PUT: 0x70, BINPUT: 0x71,
  LONG_BINPUT: 0x72, SETITEM: 0x73, TUPLE: 0x74, EMPTY_TUPLE: 0x29, SETITEMS: 0x75, BINFLOAT: 0x47,
  PROTO: 0x80, NEWOBJ: 0x81, EXT1: 0x82, EXT2: 0x83, EXT4: 0x84, TUPLE1: 0x85, TUPLE2: 0x86, TUPLE3: 0x87,
  NEWTRUE: 0x88, NEWFALSE: 0x89, LONG1: 0x8a, LONG4: 0x8b, BINBYTES: 0x42, SHORT_BINBYTES: 0x43,
  SHORT_BINUNICODE: 0x8c, BINUNICODE8: 0x8d, BINBYTES8: 0x8e, EMPTY_SET: 0x8f, ADDITEMS: 0x90,
  FROZENSET: 0x91, NEWOBJ_EX: 0x92, STACK_GLOBAL: 0x93, MEMOIZE: 0x94, FRAME: 0x95, BYTEARRAY8: 0x96,
  NEXT_BUFFER: 0x97, READONLY_BUFFER: 0x98,
} as const;
const OP_NAME = new Map<number, string>(Object.entries(OP).map(([k, v]) => [v, k]));

/**
 * Containers nested deeper than this are refused: Python's pickler recurses once per
 * level and stops at its default recursion limit of 1000, so torch.save never writes
 * deeper, and code walking the result may recurse.
 */
export const MAX_PICKLE_DEPTH = 1000;
/** Items in one list, tuple, dict or MARK frame (a state_dict has thousands). */
export const MAX_PICKLE_ITEMS = 1 << 24;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/** Python's arbitrary-precision little-endian two's complement (LONG1), as a number when it is a safe integer. */
function decodeLong(b: Uint8Array): number | bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  if (b.length > 0 && b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/**
 * Reads one pickle starting at `start`; returns its value and the offset after STOP.
 * Dicts become Maps (keys may be ints or tuples), tuples and lists arrays, ints
 * numbers (bigint beyond 2^53), bytes Uint8Arrays.
 */
export function unpickle(bytes: Uint8Array, start: number, source: string, hooks: UnpickleHooks): { value: unknown; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = start;
  let opAt = start;
  const fail = (msg: string): never => {
    throw new CheckpointError(source, `pickle at byte ${opAt}: ${msg}`);
  };
  const need = (n: number): number => {
    if (pos + n > bytes.length) fail(`unexpected end of data (needs ${n} more bytes, ${bytes.length - pos} left): the file is truncated`);
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = () => bytes[need(1)];
  const u16 = () => view.getUint16(need(2), true);
  const u32 = () => view.getUint32(need(4), true);
  const u64 = () => {
    const v = view.getBigUint64(need(8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`length ${v} is too large`);
    return Number(v);
  };
  const take = (n: number) => bytes.subarray(need(n), pos);
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('unterminated text argument: the file is truncated');
    return latin1.decode(take(end - pos + 1).subarray(0, -1));
  };
  const str = (n: number) => {
    const b = take(n);
    try {
      return utf8.decode(b);
    } catch {
      return fail('invalid UTF-8 in a string');
    }
  };

  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  const memo = new Map<number, unknown>();
  // Nesting depth of each container as it is built (1 + its deepest item's); scalars are 0.
  const depths = new WeakMap<object, number>();
  const depthOf = (v: unknown): number => (typeof v === 'object' && v !== null ? depths.get(v) ?? 0 : 0);
  const nest = <T extends object>(container: T, items: Iterable<unknown>, base = 0): T => {
    let d = base;
    for (const item of items) d = Math.max(d, depthOf(item) + 1);
    if (d > MAX_PICKLE_DEPTH) fail(`containers nested more than ${MAX_PICKLE_DEPTH} deep (the limit; Python's pickler cannot write deeper)`);
    if (d > 0) depths.set(container, d);
    return container;
  };
  const grow = (container: object, item: unknown) => {
    const d = depthOf(item) + 1;
    if (d > depthOf(container)) nest(container, [], d);
  };
  const count = (n: number, what: string) => {
    if (n > MAX_PICKLE_ITEMS) fail(`${what} of more than ${MAX_PICKLE_ITEMS} items (the limit)`);
  };
  const pop = (): unknown => (stack.length ? stack.pop() : fail('stack underflow'));
  const top = (): unknown => (stack.length ? stack[stack.length - 1] : fail('stack underflow'));
  const push = (v: unknown) => {
    if (stack.length >= MAX_PICKLE_ITEMS) count(stack.length + 1, 'a stack frame');
    stack.push(v);
  };
  const popMark = (): unknown[] => {
    const items = stack;
    stack = marks.pop() ?? fail('no MARK to close');
    return items;
  };
  const get = (i: number) => (memo.has(i) ? memo.get(i) : fail(`memo entry ${i} was never stored`));
  const dictOf = (d: unknown): Map<unknown, unknown> => (d instanceof Map ? d : fail('SETITEM(S) on something that is not a dict'));
  const listOf = (l: unknown): unknown[] => (Array.isArray(l) ? l : fail('APPEND(S) on something that is not a list'));
  const setItems = (d: Map<unknown, unknown>, items: unknown[]) => {
    if (items.length % 2) fail('SETITEMS with an odd number of items');
    count(d.size + items.length / 2, 'a dict');
    for (let i = 0; i < items.length; i += 2) {
      d.set(items[i], items[i + 1]);
      grow(d, items[i]);
      grow(d, items[i + 1]);
    }
  };
  const appendAll = (list: unknown[], items: unknown[]) => {
    count(list.length + items.length, 'a list');
    // One by one: push(...items) overflows the call stack beyond ~10^5 items.
    for (const item of items) {
      list.push(item);
      grow(list, item);
    }
  };
  const call = (fn: unknown, args: unknown): unknown => {
    if (!Array.isArray(args)) return fail('REDUCE arguments are not a tuple');
    const result = (fn instanceof PyGlobal ? hooks.call(fn, args) : undefined) ?? new PyObject(fn, args);
    return typeof result === 'object' && result !== null ? nest(result, args) : result;
  };

  for (;;) {
    opAt = pos;
    const op = u8();
    switch (op) {
      case OP.PROTO: {
        const v = u8();
        if (v < 2 || v > 5) fail(`pickle protocol ${v} (only 2 to 5 are supported)`);
        break;
      }
      case OP.FRAME: need(8); break;
      case OP.STOP: return { value: pop(), end: pos };
      case OP.MARK:
        if (marks.length >= MAX_PICKLE_DEPTH) fail(`MARKs nested more than ${MAX_PICKLE_DEPTH} deep (the limit)`);
        marks.push(stack);
        stack = [];
        break;
      case OP.POP: pop(); break;
      case OP.POP_MARK: popMark(); break;
      case OP.DUP: push(top()); break;
      case OP.BINPUT: memo.set(u8(), top()); break;
      case OP.LONG_BINPUT: memo.set(u32(), top()); break;
      case OP.MEMOIZE: memo.set(memo.size, top()); break;
      case OP.BINGET: push(get(u8())); break;
      case OP.LONG_BINGET: push(get(u32())); break;
      case OP.NONE: push(null); break;
      case OP.NEWTRUE: push(true); break;
      case OP.NEWFALSE: push(false); break;
      case OP.BININT: push(view.getInt32(need(4), true)); break;
      case OP.BININT1: push(u8()); break;
      case OP.BININT2: push(u16()); break;
      case OP.LONG1: push(decodeLong(take(u8()))); break;
      case OP.BINFLOAT: push(view.getFloat64(need(8), false)); break;
      case OP.SHORT_BINUNICODE: push(str(u8())); break;
      case OP.BINUNICODE: push(str(u32())); break;
      case OP.BINUNICODE8: push(str(u64())); break;
      case OP.SHORT_BINSTRING: push(latin1.decode(take(u8()))); break;
      case OP.BINSTRING: push(latin1.decode(take(u32()))); break;
      case OP.SHORT_BINBYTES: push(take(u8())); break;
      case OP.BINBYTES: push(take(u32())); break;
      case OP.EMPTY_TUPLE: push([]); break;
      case OP.TUPLE1: { const a = [pop()]; push(nest(a, a)); break; }
      case OP.TUPLE2: { const b = pop(); const t = [pop(), b]; push(nest(t, t)); break; }
      case OP.TUPLE3: { const c = pop(); const b = pop(); const t = [pop(), b, c]; push(nest(t, t)); break; }
      case OP.TUPLE: case OP.LIST: { const items = popMark(); push(nest(items, items)); break; }
      case OP.EMPTY_LIST: push([]); break;
      case OP.APPEND: { const v = pop(); appendAll(listOf(top()), [v]); break; }
      case OP.APPENDS: { const items = popMark(); appendAll(listOf(top()), items); break; }
      case OP.EMPTY_DICT: push(new Map()); break;
      case OP.DICT: { const d = new Map(); setItems(d, popMark()); push(d); break; }
      case OP.SETITEM: { const v = pop(); const k = pop(); setItems(dictOf(top()), [k, v]); break; }
      case OP.SETITEMS: { const items = popMark(); setItems(dictOf(top()), items); break; }
      case OP.GLOBAL: { const module = line(); push(new PyGlobal(module, line())); break; }
      case OP.STACK_GLOBAL: {
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        push(new PyGlobal(module as string, name as string));
        break;
      }
      case OP.REDUCE: { const args = pop(); push(call(pop(), args)); break; }
      case OP.NEWOBJ: {
        const args = pop();
        const cls = pop();
        const a = Array.isArray(args) ? args : [args];
        push(nest(new PyObject(cls, a), a));
        break;
      }
      case OP.BUILD: {
        const state = pop();
        const obj = top();
        if (obj instanceof PyObject) {
          obj.state = state;
          grow(obj, state);
        }
        // An OrderedDict's attributes (a state_dict's `_metadata`) are not items: dropped.
        else if (!(obj instanceof Map)) fail(`BUILD (setting object state) on ${typeof obj}`);
        break;
      }
      case OP.BINPERSID: push(hooks.persistentLoad(pop())); break;
      default: {
        const name = OP_NAME.get(op);
        fail(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')}${name ? ` (${name})` : ''}; this converter reads what torch.save writes`);
      }
    }
  }
}
