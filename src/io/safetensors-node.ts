// safetensors files on disk (Node): single files and Hugging Face sharded checkpoints.

import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  MAX_HEADER_BYTES, parseSafetensors, parseSafetensorsHeader, parseSafetensorsIndex, SafetensorsError, ShardedSafetensors,
  type SafetensorsFile, type SafetensorsReader,
} from './safetensors.ts';
import { serializeSafetensors, serializeShardedSafetensors, type ShardOptions, type TensorsToWrite } from './safetensors-write.ts';

function readBytes(path: string, source: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new SafetensorsError(source, `cannot read ${what} ${path} (${(e as Error).message})`, undefined, { cause: e });
  }
}

export function readSafetensors(path: string): SafetensorsFile {
  return parseSafetensors(readBytes(path, path, 'file'), path);
}

/**
 * A file's header alone (parseSafetensorsHeader): its 8-byte length and its JSON, checked
 * against the file's size; the data stays on disk. Checks before loading weights read this.
 */
export function readSafetensorsHeader(path: string): SafetensorsFile {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    const first = new Uint8Array(Math.min(8, size));
    readSync(fd, first, 0, first.length, 0);
    if (first.length < 8) return parseSafetensorsHeader(first, size, path);
    const n = new DataView(first.buffer).getBigUint64(0, true);
    // A length the parse refuses (past the file, over the limit) is not read: the parse names it.
    if (n > BigInt(Math.min(MAX_HEADER_BYTES, size - 8))) return parseSafetensorsHeader(first, size, path);
    const head = new Uint8Array(8 + Number(n));
    head.set(first);
    readSync(fd, head, 8, head.length - 8, 8);
    return parseSafetensorsHeader(head, size, path);
  } catch (e) {
    if (e instanceof SafetensorsError) throw e;
    throw new SafetensorsError(path, `cannot read file ${path} (${(e as Error).message})`, undefined, { cause: e });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Checks that every shard exists now; each is read on first use (with `openShard`
 * readSafetensorsHeader, its header only).
 */
export function loadShardedSafetensors(indexPath: string, openShard: (path: string) => SafetensorsFile = readSafetensors): ShardedSafetensors {
  let size = 0;
  try {
    size = statSync(indexPath).size;
  } catch {
    // readBytes names the problem
  }
  if (size > MAX_HEADER_BYTES) throw new SafetensorsError(indexPath, `index is ${size} bytes, over the limit of ${MAX_HEADER_BYTES}`);
  const index = parseSafetensorsIndex(new TextDecoder().decode(readBytes(indexPath, indexPath, 'index')), indexPath);
  const dir = dirname(indexPath);
  const sharded = new ShardedSafetensors(index, indexPath, (file) => openShard(join(dir, file)));
  const missing = sharded.shardFiles().filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) {
    // One pass over the names (an index may list 10^5 tensors and as many shards).
    const users = new Map<string, string[]>(missing.map((f) => [f, []]));
    for (const n of sharded.names()) users.get(sharded.shardOf(n))?.push(n);
    const shown = missing.slice(0, 5).map((f) => `'${f}' (holds ${users.get(f)!.length} tensors, e.g. '${users.get(f)![0]}')`);
    const list = shown.join(', ') + (missing.length > shown.length ? `, and ${missing.length - shown.length} more` : '');
    throw new SafetensorsError(indexPath, `shard files listed in the index are missing from ${dir}: ${list}`);
  }
  return sharded;
}

/** A `.safetensors` file, or a sharded checkpoint given by its `.json` index. */
export function loadSafetensors(path: string): SafetensorsReader {
  return path.endsWith('.json') ? loadShardedSafetensors(path) : readSafetensors(path);
}

/** loadSafetensors' headers only (readSafetensorsHeader): names, shapes, metadata and extents, no data read. */
export function loadSafetensorsHeaders(path: string): SafetensorsReader {
  return path.endsWith('.json') ? loadShardedSafetensors(path, readSafetensorsHeader) : readSafetensorsHeader(path);
}

export function writeSafetensors(path: string, tensors: TensorsToWrite, metadata?: Readonly<Record<string, string>>): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, serializeSafetensors(tensors, metadata));
}

/** Writes `<prefix>-0000k-of-0000n.safetensors` and `<prefix>.safetensors.index.json` into `dir`; returns their paths. */
export function writeShardedSafetensors(dir: string, prefix: string, tensors: TensorsToWrite, options: ShardOptions): { shards: string[]; index: string } {
  const out = serializeShardedSafetensors(prefix, tensors, options);
  mkdirSync(dir, { recursive: true });
  const shards = out.shards.map(({ fileName, bytes }) => {
    const path = join(dir, fileName);
    writeFileSync(path, bytes);
    return path;
  });
  const index = join(dir, out.indexFileName);
  writeFileSync(index, out.indexJson);
  return { shards, index };
}
