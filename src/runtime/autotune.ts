// Tuning results cached per adapter: a choice made by timing variants on this
// adapter (e.g. src/ops/conv2d-autotune.ts) is stored under a key naming the
// adapter and the engine's kernel sources, so a driver update or a kernel change
// starts afresh. Stores: a JSON file in Node (autotune-node.ts), Cache Storage in
// browsers (cacheStorageTuningStore), or memory.
import type { Runtime } from './runtime.ts';
import { WGSL_SOURCES } from './wgsl.generated.ts';

/** Tuned tables by name (e.g. 'conv2d': shape class -> variant) for one adapter. */
export type TuningTables = Record<string, Record<string, string>>;

export interface TuningStore {
  load(adapterKey: string): Promise<TuningTables | null>;
  save(adapterKey: string, tables: TuningTables): Promise<void>;
}

function hash(text: string): string {
  // FNV-1a, 32 bits: enough to tell kernel sources apart, not a security measure.
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** The adapter (vendor, architecture, device, driver description, features) and a hash of the kernels. */
export function adapterKey(rt: Runtime): string {
  const a = rt.adapter;
  const kernels = hash(Object.keys(WGSL_SOURCES).sort().map((k) => WGSL_SOURCES[k]).join('\0'));
  // Without bounds checks the same kernels run faster by different amounts: tuned apart.
  return `${[a.vendor, a.architecture, a.device, a.description].join(' | ')} | ${a.features.join(',')} | kernels ${kernels}${a.boundsChecks === false ? ' | bounds checks off' : ''}`;
}

export function memoryTuningStore(): TuningStore {
  const data = new Map<string, TuningTables>();
  return {
    load: async (key) => data.get(key) ?? null,
    save: async (key, tables) => void data.set(key, structuredClone(tables)),
  };
}

/** Browsers: one Cache Storage entry per adapter key. */
export function cacheStorageTuningStore(cacheName = 'mem3d-webgpu-autotune'): TuningStore {
  const url = (key: string) => `https://mem3d.invalid/autotune/${encodeURIComponent(key)}`;
  return {
    async load(key) {
      const hit = await (await caches.open(cacheName)).match(url(key));
      return hit ? ((await hit.json()) as TuningTables) : null;
    },
    async save(key, tables) {
      const body = JSON.stringify(tables);
      await (await caches.open(cacheName)).put(url(key), new Response(body, { headers: { 'content-type': 'application/json' } }));
    },
  };
}
