// Hand-assembled torch.save files for the converter's tests: pickles written opcode by
// opcode (as torch.save's protocol 2 writes them), stored zip archives and the legacy
// stream, so the tests can build cases the real reference files do not have
// (strides, bf16, foreign objects, unsupported opcodes, broken archives).
import { crc32 } from '../../src/convert/zip.ts';
import { concatArrays } from '../../src/util/concat-arrays.ts';

export class PickleWriter {
  private readonly out: number[] = [0x80, 2];

  raw(...bytes: number[]): this {
    this.out.push(...bytes);
    return this;
  }

  private u32(n: number): void {
    this.out.push(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  }

  str(s: string): this {
    const b = new TextEncoder().encode(s);
    this.out.push(0x58);
    this.u32(b.length);
    this.out.push(...b);
    return this;
  }

  int(n: number): this {
    this.out.push(0x4a);
    this.u32(n);
    return this;
  }

  global(module: string, name: string): this {
    this.out.push(0x63, ...new TextEncoder().encode(`${module}\n${name}\n`));
    return this;
  }

  mark(): this { return this.raw(0x28); }
  tuple(): this { return this.raw(0x74); }
  emptyTuple(): this { return this.raw(0x29); }
  emptyDict(): this { return this.raw(0x7d); }
  setItems(): this { return this.raw(0x75); }
  reduce(): this { return this.raw(0x52); }
  build(): this { return this.raw(0x62); }
  newFalse(): this { return this.raw(0x89); }

  ints(values: readonly number[]): this {
    this.mark();
    for (const v of values) this.int(v);
    return this.tuple();
  }

  /** torch._utils._rebuild_tensor_v2(storage, offset, shape, stride, False, OrderedDict()) */
  tensor(t: { type: string; key: string; numel: number; offset?: number; shape: number[]; stride: number[]; legacy?: boolean }): this {
    this.global('torch._utils', '_rebuild_tensor_v2').mark();
    this.mark().str('storage').global('torch', t.type).str(t.key).str('cpu').int(t.numel);
    if (t.legacy) this.raw(0x4e); // the legacy format's view_metadata: None
    this.tuple().raw(0x51); // BINPERSID
    this.int(t.offset ?? 0).ints(t.shape).ints(t.stride).newFalse();
    this.global('collections', 'OrderedDict').emptyTuple().reduce();
    return this.tuple().reduce();
  }

  /** A dict of string keys; each value is written by its callback. */
  dict(entries: [string, (p: this) => unknown][]): this {
    this.emptyDict().mark();
    for (const [k, write] of entries) {
      this.str(k);
      write(this);
    }
    return this.setItems();
  }

  bytes(): Uint8Array {
    return new Uint8Array([...this.out, 0x2e]);
  }
}

/** A zip archive of stored entries laid out as torch writes it. `method` overrides the compression method recorded in the central directory. */
export function storedZip(entries: [string, Uint8Array][], method = 0): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const n = new TextEncoder().encode(name);
    const local = new Uint8Array(30 + n.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint32(14, crc32(data), true);
    lv.setUint32(18, data.length, true);
    lv.setUint32(22, data.length, true);
    lv.setUint16(26, n.length, true);
    local.set(n, 30);
    const c = new Uint8Array(46 + n.length);
    const cv = new DataView(c.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(10, method, true);
    cv.setUint32(16, crc32(data), true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, data.length, true);
    cv.setUint16(28, n.length, true);
    cv.setUint32(42, offset, true);
    c.set(n, 46);
    parts.push(local, data);
    central.push(c);
    offset += local.length + data.length;
  }
  const dirSize = central.reduce((s, c) => s + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, dirSize, true);
  ev.setUint32(16, offset, true);
  return concatArrays(Uint8Array, [...parts, ...central, end]);
}

/** A torch.save zip file: `archive/data.pkl` and `archive/data/<key>` per storage. */
export function torchZip(pickle: Uint8Array, storages: Record<string, Uint8Array>, archive = 'archive'): Uint8Array {
  return storedZip([[`${archive}/data.pkl`, pickle], ...Object.entries(storages).map(([k, v]): [string, Uint8Array] => [`${archive}/data/${k}`, v])]);
}

/** The legacy stream: magic, protocol 1001, sys_info, the object, the storage keys, the storages (element count + bytes). */
export function torchLegacy(pickle: Uint8Array, storages: { key: string; numel: number; bytes: Uint8Array }[]): Uint8Array {
  const magic = new PickleWriter().raw(0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19).bytes();
  const version = new PickleWriter().int(1001).bytes();
  const sysInfo = new PickleWriter().dict([['little_endian', (p) => p.raw(0x88)]]).bytes();
  const keyList = new PickleWriter().raw(0x5d).mark();
  for (const s of storages) keyList.str(s.key);
  keyList.raw(0x65); // APPENDS
  const data = storages.flatMap((s) => {
    const count = new Uint8Array(8);
    new DataView(count.buffer).setBigUint64(0, BigInt(s.numel), true);
    return [count, s.bytes];
  });
  return concatArrays(Uint8Array, [magic, version, sysInfo, pickle, keyList.bytes(), ...data]);
}

export function f32Bytes(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}
