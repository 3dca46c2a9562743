// Every reproducer issue 13 lists, as a named case: the input, the target that
// parses it, and what must happen (refused with the typed error mentioning some
// words, or accepted), within 2 s and without a blow-up.
import { gzipSync as nodeGzip } from 'node:zlib';
import { serializeSafetensors, serializeShardedSafetensors } from '../../src/io/safetensors-write.ts';
import { serializeNifti } from '../../src/volume/nifti.ts';
import { createVolume } from '../../src/volume/volume.ts';
import { PickleWriter, torchLegacy, torchZip } from '../../test/_lib/torch-save.ts';
import { BLOWUP_BYTES, HANG_MS } from './engine.ts';
import {
  buildPng, gzipTarget, niftiGzTarget, niftiPathsTarget, niftiTarget, pngTarget, safetensorsTarget,
  shardedTarget, torchTarget, type Files, type FuzzTarget,
} from './targets.ts';
import { pngChunk } from '../../src/volume/png-codec.ts';

export type TargetName = 'nifti' | 'nifti-gz' | 'nifti-paths' | 'gzip' | 'safetensors' | 'sharded' | 'torch-legacy' | 'torch-zip' | 'png-image' | 'png-mask';

export interface Regression {
  readonly name: string;
  readonly target: TargetName;
  readonly input: () => Files;
  readonly expect: 'refused' | 'accepted';
  /** words the error message must contain */
  readonly mention?: readonly string[];
}

const enc = (s: string) => new TextEncoder().encode(s);

/** A safetensors file with this header text and `data` bytes after it. */
function stFile(header: string, data = new Uint8Array(0)): Uint8Array {
  const h = enc(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

const nest = (depth: number, inner = '1') => '['.repeat(depth) + inner + ']'.repeat(depth);

function sharded(indexJson: string): Files {
  const out = serializeShardedSafetensors('m', [{ name: 'a', dtype: 'F32', shape: [1], data: Float32Array.of(1) }], { maxShardBytes: 1 << 20 });
  return [enc(indexJson), ...out.shards.map((s) => s.bytes)];
}

const f32 = (values: number[]) => new Uint8Array(Float32Array.from(values).buffer);

/** A one-tensor torch state_dict {'w': view of a 4-element float storage}. */
function torchView(shape: number[], stride: number[], legacy = false, numel = 4): Uint8Array {
  const p = new PickleWriter().dict([['w', (w) => w.tensor({ type: 'FloatStorage', key: '0', numel, shape, stride, legacy })]]).bytes();
  const data = f32(Array.from({ length: numel }, (_, i) => i));
  return legacy ? torchLegacy(p, [{ key: '0', numel, bytes: data }]) : torchZip(p, { 0: data });
}

/** A protocol-2 pickle of opcodes repeated: [opcode, count] runs (too long for argument spreading). */
function pickleOf(...runs: [number, number][]): Uint8Array {
  const out = new Uint8Array(3 + runs.reduce((s, [, n]) => s + n, 0));
  out.set([0x80, 2]);
  let at = 2;
  for (const [op, n] of runs) {
    out.fill(op, at, at + n);
    at += n;
  }
  out[at] = 0x2e;
  return out;
}

/** A pickle whose main object is BINPERSID of `pid` (written by `pid`). */
function persid(pid: (w: PickleWriter) => PickleWriter): Uint8Array {
  return torchZip(pid(new PickleWriter()).raw(0x51).bytes(), {});
}

function niftiBytes(edit?: (v: DataView) => void): Uint8Array {
  const b = serializeNifti(createVolume({ dims: [4, 3, 2], data: Uint8Array.from({ length: 24 }, (_, i) => i) }));
  if (edit) edit(new DataView(b.buffer));
  return b;
}

/**
 * Raw deflate that inflates to `prefix` then its last byte repeated to about `total`
 * bytes, built without compressing `total` bytes: one fixed-Huffman block of the
 * prefix as literals, then length-258 distance-1 matches (13 bits each). The match
 * bits repeat every 8 matches (13 bytes), so after the first whole byte of matches
 * the stream is that 13-byte period repeated. No end of block: the parser must
 * refuse it long before.
 */
function deflateBomb(prefix: Uint8Array, total: number): Uint8Array {
  const bits: number[] = [];
  const huff = (code: number, n: number) => { for (let i = n - 1; i >= 0; i--) bits.push((code >> i) & 1); };
  bits.push(1, 1, 0); // BFINAL, BTYPE = 01 (fixed Huffman), least significant bit first
  for (const v of prefix) v < 144 ? huff(0x30 + v, 8) : huff(0x190 + v - 144, 9);
  const matchStart = bits.length;
  for (let k = 0; k < 32; k++) { huff(0xc5, 8); huff(0, 5); } // length 258 (code 285), distance 1 (code 0)
  const head = Math.ceil(matchStart / 8);
  const bytes = (Math.ceil((total / 258) * 13 / 8 / 13) + 1) * 13 + head;
  const out = new Uint8Array(bytes);
  for (let i = 0; i < head + 13; i++) for (let b = 0; b < 8; b++) out[i] |= (bits[i * 8 + b] ?? 0) << b;
  for (let i = head + 13; i < bytes; i++) out[i] = out[i - 13];
  return out;
}

/** A .nii.gz whose header declares 4x3x2 uint8 but whose stream inflates to about `size` bytes. */
function niftiBomb(size: number): Uint8Array {
  const d = deflateBomb(niftiBytes(), size);
  const gz = new Uint8Array(10 + d.length);
  gz.set([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
  gz.set(d, 10);
  return gz;
}

/** A 1x1 gray PNG whose IDAT inflates to about `size` bytes. */
function pngBomb(size: number): Uint8Array {
  const z = Uint8Array.from([0x78, 0x01, ...deflateBomb(Uint8Array.of(0, 0), size)]);
  return Uint8Array.from([...buildPng({ width: 1, height: 1, depth: 8, ctype: 0, raw: new Uint8Array(2) }).subarray(0, 33), ...pngChunk('IDAT', z), ...pngChunk('IEND', new Uint8Array(0))]);
}

export const REGRESSIONS: readonly Regression[] = [
  // safetensors
  ...(['shape', 'dtype', 'data_offsets'] as const).map((field): Regression => ({
    name: `safetensors: ${field} nested 20,000 deep`, target: 'safetensors', expect: 'refused', mention: ['nested more than 128'],
    input: () => [stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"${field}":${nest(20000)}}}`, new Uint8Array(4))],
  })),
  { name: 'safetensors: __metadata__ nested 20,000 deep', target: 'safetensors', expect: 'refused', mention: ['nested'], input: () => [stFile(`{"__metadata__":{"k":${nest(20000)}}}`)] },
  { name: 'safetensors: 2 MB header nested 10^6 deep', target: 'safetensors', expect: 'refused', mention: ['nested'], input: () => [stFile(nest(1_000_000))] },
  { name: 'safetensors: header length over 100 MB', target: 'safetensors', expect: 'refused', mention: ['header length'], input: () => {
    const b = serializeSafetensors([{ name: 'a', dtype: 'U8', shape: [1], data: Uint8Array.of(1) }]);
    new DataView(b.buffer).setBigUint64(0, 200_000_000n, true);
    return [b];
  } },
  { name: 'safetensors: unsupported dtype value 20,000 deep', target: 'safetensors', expect: 'refused', input: () => [stFile(`{"a":{"dtype":${nest(120, '"x"')},"shape":[1],"data_offsets":[0,4]}}`, new Uint8Array(4))], mention: ['unsupported dtype', 'a list of 1 item'] },
  { name: 'sharded: weight_map value nested 20,000 deep', target: 'sharded', expect: 'refused', mention: ['nested'], input: () => sharded(`{"metadata":{},"weight_map":{"a":${nest(20000, '"x"')}}}`) },
  { name: 'sharded: metadata nested 100 deep (allowed, printed safely)', target: 'sharded', expect: 'accepted', input: () => sharded(`{"metadata":{"k":${nest(100)}},"weight_map":{"a":"m-00001-of-00001.safetensors"}}`) },
  { name: 'sharded: 10,000 tensors in 10,000 missing shards (was quadratic)', target: 'sharded', expect: 'refused', mention: ['missing', 'and 9995 more'], input: () => [enc(JSON.stringify({ weight_map: Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`t${i}`, `s${i}.safetensors`])) }))] },
  { name: 'sharded: shard name escaping the folder', target: 'sharded', expect: 'refused', mention: ['not a relative shard file name'], input: () => sharded('{"weight_map":{"a":"../m-00001-of-00001.safetensors"}}') },

  // torch
  { name: 'torch: negative dimension', target: 'torch-zip', expect: 'refused', mention: ["tensor 'w'", 'negative dimension'], input: () => [torchView([-4, 4], [4, 1])] },
  { name: 'torch legacy: negative dimension', target: 'torch-legacy', expect: 'refused', mention: ["tensor 'w'", 'negative dimension'], input: () => [torchView([-4, 4], [4, 1], true)] },
  { name: 'torch: [16384, 32768] on a 4-element storage (no 2 GiB allocation)', target: 'torch-zip', expect: 'refused', mention: ["tensor 'w'", 'outside its storage'], input: () => [torchView([16384, 32768], [32768, 1])] },
  { name: 'torch: stride-0 expand to [4096, 4096] (64 MiB, fast)', target: 'torch-zip', expect: 'accepted', input: () => [torchView([4096, 4096], [0, 0])] },
  { name: 'torch: stride-0 expand to [16384, 16384] (1 GiB, over the cap)', target: 'torch-legacy', expect: 'refused', mention: ["tensor 'w'", 'over the limit'], input: () => [torchView([16384, 16384], [0, 0], true)] },
  { name: 'torch: unknown persistent id, cyclic', target: 'torch-zip', expect: 'refused', mention: ['unknown persistent id'], input: () => [persid((w) => w.raw(0x5d, 0x71, 0x00, 0x68, 0x00, 0x61))] },
  { name: 'torch: unknown persistent id, BigInt', target: 'torch-zip', expect: 'refused', mention: ['unknown persistent id'], input: () => [persid((w) => w.raw(0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f))] },
  { name: 'torch: unknown persistent id, 900 deep', target: 'torch-zip', expect: 'refused', mention: ['unknown persistent id'], input: () => [persid((w) => w.raw(...new Array(900).fill(0x5d), ...new Array(899).fill(0x61)))] },
  { name: 'torch: APPENDS of 200,000 items', target: 'torch-zip', expect: 'refused', mention: ['a list'], input: () => {
    const w = new PickleWriter().raw(0x5d, 0x28);
    for (let i = 0; i < 200_000; i++) w.raw(0x4b, i & 0xff);
    return [torchZip(w.raw(0x65).bytes(), {})];
  } },
  { name: 'torch: list nested 10^6 deep', target: 'torch-zip', expect: 'refused', mention: ['nested more than 1000'], input: () => [torchZip(pickleOf([0x5d, 1_000_000], [0x61, 999_999]), {})] },
  { name: 'torch: 10^6 MARKs', target: 'torch-legacy', expect: 'refused', mention: ['MARKs nested'], input: () => [torchLegacy(pickleOf([0x28, 1_000_000]), [])] },

  // PNG
  { name: 'PNG: tEXt without NUL (hung upng-js)', target: 'png-image', expect: 'accepted', input: () => [buildPng({ width: 2, height: 1, depth: 8, ctype: 0, raw: Uint8Array.of(0, 1, 2), extra: [pngChunk('tEXt', enc('NoNulHere'))] })] },
  { name: 'PNG: iTXt without NUL', target: 'png-mask', expect: 'accepted', input: () => [buildPng({ width: 2, height: 1, depth: 8, ctype: 0, raw: Uint8Array.of(0, 1, 0), extra: [pngChunk('iTXt', enc('NoNul'))] })] },
  { name: 'PNG: height near 2^31', target: 'png-image', expect: 'refused', mention: ['limit'], input: () => [buildPng({ width: 1, height: 2 ** 31 - 1, depth: 8, ctype: 0, raw: new Uint8Array(2) })] },
  { name: 'PNG: chunk length 0x7fffffff', target: 'png-image', expect: 'refused', mention: ['chunk 2'], input: () => {
    const png = buildPng({ width: 1, height: 1, depth: 8, ctype: 0, raw: new Uint8Array(2) });
    new DataView(png.buffer).setUint32(33, 0x7fffffff);
    return [png];
  } },
  { name: 'PNG: 65536 x 65536 header', target: 'png-mask', expect: 'refused', mention: ['65536x65536', 'limit'], input: () => [buildPng({ width: 65536, height: 65536, depth: 8, ctype: 0, raw: new Uint8Array(2) })] },
  { name: 'PNG: no IEND', target: 'png-image', expect: 'refused', mention: ['no IEND'], input: () => [buildPng({ width: 1, height: 1, depth: 8, ctype: 0, raw: new Uint8Array(2) }).slice(0, -12)] },
  { name: 'PNG: palette image without PLTE', target: 'png-mask', expect: 'refused', mention: ['without a PLTE'], input: () => [buildPng({ width: 1, height: 1, depth: 8, ctype: 3, raw: new Uint8Array(2) })] },
  { name: 'PNG: acTL without fcTL', target: 'png-image', expect: 'accepted', input: () => [buildPng({ width: 1, height: 1, depth: 8, ctype: 0, raw: new Uint8Array(2), extra: [pngChunk('acTL', Uint8Array.of(0, 0, 0, 1, 0, 0, 0, 0))] })] },
  { name: 'PNG: not a PNG', target: 'png-image', expect: 'refused', mention: ['fuzz.png', 'not a readable PNG'], input: () => [enc('GIF89a')] },
  { name: 'PNG: truncated mid-IDAT', target: 'png-mask', expect: 'refused', mention: ['fuzz-mask.png', 'truncated'], input: () => [buildPng({ width: 8, height: 8, depth: 8, ctype: 0, raw: new Uint8Array(72) }).slice(0, 45)] },
  { name: 'PNG: IDAT bomb (1x1 declared, 64 MiB inflated)', target: 'png-image', expect: 'refused', mention: ['inflates past'], input: () => [pngBomb(2 ** 26)] },

  // gzip and NIfTI
  { name: 'nii.gz: bomb inflating to 1 GiB', target: 'nifti-gz', expect: 'refused', mention: ['inflates past', 'NIfTI header'], input: () => [niftiBomb(2 ** 30)] },
  { name: 'nii.gz: ISIZE claiming 4 GiB', target: 'nifti-gz', expect: 'refused', mention: ['ISIZE'], input: () => {
    const gz = new Uint8Array(nodeGzip(niftiBytes()));
    new DataView(gz.buffer).setUint32(gz.length - 4, 0xffffffff, true);
    return [gz];
  } },
  { name: 'nii.gz: ISIZE too small (was silently truncated)', target: 'nifti-paths', expect: 'refused', mention: ['ISIZE'], input: () => {
    const gz = new Uint8Array(nodeGzip(niftiBytes()));
    new DataView(gz.buffer).setUint32(gz.length - 4, 10, true);
    return [gz];
  } },
  { name: 'nii.gz: CRC mismatch (was skipped)', target: 'nifti-paths', expect: 'refused', mention: ['CRC-32'], input: () => {
    const gz = new Uint8Array(nodeGzip(niftiBytes()));
    gz[gz.length - 8] ^= 0xff;
    return [gz];
  } },
  { name: 'nii.gz: two gzip members (both paths accept)', target: 'nifti-paths', expect: 'accepted', input: () => {
    const b = niftiBytes();
    const a = nodeGzip(b.subarray(0, 200));
    const c = nodeGzip(b.subarray(200));
    return [Uint8Array.from([...a, ...c])];
  } },
  { name: 'nii.gz: garbage after the member (both paths refuse)', target: 'nifti-paths', expect: 'refused', mention: ['neither another gzip member'], input: () => [Uint8Array.from([...nodeGzip(niftiBytes()), 1, 2, 3])] },
  { name: 'NIfTI: NaN in srow_x', target: 'nifti', expect: 'refused', mention: ['srow_x[1]', 'NaN'], input: () => [niftiBytes((v) => { v.setInt16(254, 1, true); v.setFloat32(280, 1, true); v.setFloat32(284, NaN, true); })] },
  { name: 'NIfTI: Inf in quatern_c', target: 'nifti', expect: 'refused', mention: ['quatern_c', 'Infinity'], input: () => [niftiBytes((v) => { v.setInt16(252, 1, true); v.setFloat32(260, Infinity, true); })] },
];

/** The target a regression runs on. */
export function makeTarget(name: TargetName): FuzzTarget {
  switch (name) {
    case 'nifti': return niftiTarget();
    case 'nifti-gz': return niftiGzTarget();
    case 'nifti-paths': return niftiPathsTarget();
    case 'gzip': return gzipTarget();
    case 'safetensors': return safetensorsTarget();
    case 'sharded': return shardedTarget();
    case 'torch-legacy': return torchTarget(true);
    case 'torch-zip': return torchTarget(false);
    case 'png-image': return pngTarget(false);
    case 'png-mask': return pngTarget(true);
  }
}

/** Runs one regression; returns what went wrong, or undefined when it behaved. */
export function checkRegression(reg: Regression, target: FuzzTarget): string | undefined {
  const files = reg.input();
  const before = process.memoryUsage().arrayBuffers;
  const cpu0 = process.cpuUsage();
  let error: unknown;
  let declared = 0;
  let accepted = false;
  try {
    declared = target.run(files);
    accepted = true;
  } catch (e) {
    error = e;
  }
  // CPU time: the loaded test machine can keep a fast parse waiting for a core.
  const cpu = process.cpuUsage(cpu0);
  const ms = (cpu.user + cpu.system) / 1000;
  const grew = process.memoryUsage().arrayBuffers - before;
  if (ms > HANG_MS) return `took ${ms.toFixed(0)} ms of CPU (limit ${HANG_MS})`;
  if (grew > BLOWUP_BYTES + declared) return `ArrayBuffers grew ${(grew / 2 ** 20).toFixed(0)} MiB`;
  if (!accepted && !target.typed(error)) return `crash: ${(error as Error)?.name}: ${String((error as Error)?.message ?? error).slice(0, 300)}`;
  if (reg.expect === 'accepted' && !accepted) return `refused: ${(error as Error).message.slice(0, 300)}`;
  if (reg.expect === 'refused' && accepted) return 'accepted, expected a refusal';
  const msg = accepted ? '' : (error as Error).message;
  const missing = (reg.mention ?? []).filter((m) => !msg.includes(m));
  if (missing.length) return `message '${msg.slice(0, 300)}' lacks ${missing.map((m) => `'${m}'`).join(', ')}`;
  return undefined;
}
