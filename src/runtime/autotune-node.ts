// Node's tuning store: one JSON file (adapter key -> tables), by default
// $XDG_CACHE_HOME/mem3d-webgpu/autotune.json or ~/.cache/mem3d-webgpu/autotune.json.
// Written atomically (writeFileAtomic: temporary file, then rename) so concurrent runs never
// read half a file, and a failed save leaves no temporary file behind.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../volume/safe-write-node.ts';
import type { TuningStore, TuningTables } from './autotune.ts';

export function defaultTuningPath(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'mem3d-webgpu', 'autotune.json');
}

function readAll(path: string): Record<string, TuningTables> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return {};
  }
  try {
    const data = JSON.parse(text) as unknown;
    return data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, TuningTables>) : {};
  } catch {
    // A damaged cache is only lost tuning: start afresh rather than fail the run.
    return {};
  }
}

export function fileTuningStore(path = defaultTuningPath()): TuningStore {
  return {
    load: async (key) => readAll(path)[key] ?? null,
    async save(key, tables) {
      const all = readAll(path);
      all[key] = tables;
      writeFileAtomic(path, JSON.stringify(all, null, 2) + '\n');
    },
  };
}
