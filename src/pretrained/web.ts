// Pretrained models for browsers (node.ts is the Node side): the shipped weights
// fetched over HTTP from a base URL that serves the package's weights/ folder, kept in
// the Cache Storage API so the next visit loads them without the network (53 MB for
// IOG, 74 MB for the phantom QAMN).
import { fetchShardedSafetensors, parseSafetensors } from '../io/safetensors.ts';
import { IOGNetwork } from '../networks/iog/network.ts';
import { MemoryNetwork } from '../networks/mem3d/memory-network.ts';
import { assertF16Weights, checkWeightPrecision, type WeightPrecision } from '../ops/conv2d-f16.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { safetensorsWeightSource, synthWeightSource, type SynthManifest } from '../weights/safetensors-source.ts';

import { IOG_PHANTOM_SLICE_LAYOUT, SHIPPED_MEMORY_WEIGHTS } from './shipped.ts';

export { defaultIntensity, IOG_PHANTOM_SLICE_LAYOUT, PHANTOM_WEIGHTS_NOTICE, SHIPPED_MEMORY_WEIGHTS, SYNTHETIC_WEIGHTS_NOTICE } from './shipped.ts';

/** Bytes received so far over all files of one load; `total` grows as response headers arrive. */
export interface DownloadProgress {
  loaded: number;
  total: number;
  /** Files answered from the Cache Storage so far. */
  cached: number;
}

export interface WebLoadOptions {
  onProgress?: (p: DownloadProgress) => void;
  /** Cache Storage name; null skips the cache (also skipped where `caches` is missing: non-secure contexts). */
  cacheName?: string | null;
  /** Conv weights on the GPU as 'f16' (half the memory; needs shader-f16) or 'f32' (default). */
  weightPrecision?: WeightPrecision;
}

export const WEIGHTS_CACHE = 'mem3d-weights-v1';

/** Fetches every url (in parallel), from the cache when there, storing what came from the network. */
export async function fetchAllCached(urls: string[], options: WebLoadOptions = {}): Promise<Uint8Array[]> {
  const name = options.cacheName === undefined ? WEIGHTS_CACHE : options.cacheName;
  const cache = name !== null && typeof caches !== 'undefined' ? await caches.open(name) : null;
  const progress: DownloadProgress = { loaded: 0, total: 0, cached: 0 };
  const report = () => options.onProgress?.({ ...progress });
  return Promise.all(urls.map(async (url) => {
    const hit = await cache?.match(url);
    const res = hit ?? (await fetch(url));
    if (!res.ok) throw new Error(`fetching ${url}: HTTP ${res.status} ${res.statusText}`);
    if (hit) progress.cached++;
    const length = Number(res.headers.get('content-length') ?? 0);
    progress.total += length;
    report();
    const bytes = await readWithProgress(res, (n) => {
      progress.loaded += n;
      report();
    });
    if (!length) progress.total += bytes.length;
    // The body was consumed: the cache gets a fresh response over the same bytes.
    if (cache && !hit) await cache.put(url, new Response(bytes, { headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) } }));
    return bytes;
  }));
}

async function readWithProgress(res: Response, onChunk: (n: number) => void): Promise<Uint8Array<ArrayBuffer>> {
  if (!res.body) {
    const bytes = new Uint8Array(await res.arrayBuffer());
    onChunk(bytes.length);
    return bytes;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    onChunk(value.length);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const join = (base: string, path: string) => `${base.replace(/\/?$/, '/')}${path}`;

/** A sharded checkpoint `<dir>/<indexName>`: the index, then every shard it names (progress counts the shards). */
/** Refuses a bad or unsupported weight precision before anything is downloaded. */
function checkPrecision(rt: Runtime, what: string, options: WebLoadOptions): void {
  if (checkWeightPrecision(what, options.weightPrecision ?? 'f32') === 'f16') assertF16Weights(rt, what);
}

async function fetchShardedCheckpoint(dir: string, indexName: string, options: WebLoadOptions) {
  const [indexBytes] = await fetchAllCached([join(dir, indexName)], { ...options, onProgress: undefined });
  const index = JSON.parse(new TextDecoder().decode(indexBytes)) as { weight_map: Record<string, string> };
  const files = [...new Set(Object.values(index.weight_map))];
  const shards = await fetchAllCached(files.map((f) => join(dir, f)), options);
  const byFile = new Map(files.map((f, i) => [f, shards[i]]));
  return fetchShardedSafetensors(index, async (file) => byFile.get(file)!, join(dir, indexName));
}

/** The shipped int8 IOG network (`<base>/iog-phantom/`). */
export async function loadIOGWeb(rt: Runtime, weightsBaseUrl: string, options: WebLoadOptions = {}): Promise<IOGNetwork> {
  checkPrecision(rt, 'loadIOGWeb', options);
  const reader = await fetchShardedCheckpoint(join(weightsBaseUrl, 'iog-phantom/'), 'iog.safetensors.index.json', options);
  return IOGNetwork.load(rt, safetensorsWeightSource(reader), { sliceLayout: IOG_PHANTOM_SLICE_LAYOUT, weightPrecision: options.weightPrecision });
}

/**
 * The shipped int8 QAMN trained on phantoms (`<base>/qamn-phantom/`), the default memory
 * network: for phantoms only (say so with PHANTOM_WEIGHTS_NOTICE).
 */
export async function loadQAMNPhantomWeb(rt: Runtime, weightsBaseUrl: string, options: WebLoadOptions = {}): Promise<MemoryNetwork> {
  checkPrecision(rt, 'loadQAMNPhantomWeb', options);
  const reader = await fetchShardedCheckpoint(join(weightsBaseUrl, 'qamn-phantom/'), 'qamn.safetensors.index.json', options);
  return MemoryNetwork.load(rt, safetensorsWeightSource(reader), { variant: 'qamn', sliceLayout: SHIPPED_MEMORY_WEIGHTS['qamn-phantom'].sliceLayout, weightPrecision: options.weightPrecision });
}

/** The shipped synth-v1 QAMN (`<base>/qamn-synth-v1/`): untrained, so callers must say its masks mean nothing. */
export async function loadSynthQAMNWeb(rt: Runtime, weightsBaseUrl: string, options: WebLoadOptions = {}): Promise<MemoryNetwork> {
  checkPrecision(rt, 'loadSynthQAMNWeb', options);
  const dir = join(weightsBaseUrl, 'qamn-synth-v1/');
  const [manifest, small] = await fetchAllCached([join(dir, 'qamn_manifest.json'), join(dir, 'qamn_small.safetensors')], options);
  const source = synthWeightSource(JSON.parse(new TextDecoder().decode(manifest)) as SynthManifest, parseSafetensors(small, 'qamn_small.safetensors'));
  return MemoryNetwork.load(rt, source, { variant: 'qamn', sliceLayout: SHIPPED_MEMORY_WEIGHTS['synth-v1'].sliceLayout, weightPrecision: options.weightPrecision });
}
