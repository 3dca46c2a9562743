// safetensors files on disk (Node): single files and Hugging Face sharded checkpoints.

import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  MAX_HEADER_BYTES, parseSafetensors, parseSafetensorsIndex, SafetensorsError, ShardedSafetensors,
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

/** Checks that every shard exists now; each is read on first use. */
export function loadShardedSafetensors(indexPath: string): ShardedSafetensors {
  let size = 0;
  try {
    size = statSync(indexPath).size;
  } catch {
    // readBytes names the problem
  }
  if (size > MAX_HEADER_BYTES) throw new SafetensorsError(indexPath, `index is ${size} bytes, over the limit of ${MAX_HEADER_BYTES}`);
  const index = parseSafetensorsIndex(new TextDecoder().decode(readBytes(indexPath, indexPath, 'index')), indexPath);
  const dir = dirname(indexPath);
  const sharded = new ShardedSafetensors(index, indexPath, (file) => readSafetensors(join(dir, file)));
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
