// Pretrained models (Node): the weights shipped in the package's weights/ folder, or
// a user's converted checkpoint, loaded into networks. A room above networks/ (it
// builds them) and below the CLI and the session users.
//
// Shipped: the int8 IOG network and the int8 QAMN, both trained on phantoms of
// src/phantom (the default), and the untrained synth-v1 QAMN (conformance only).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ShardedSafetensors, type SafetensorsReader } from '../io/safetensors.ts';
import { loadSafetensors, loadSafetensorsHeaders, loadShardedSafetensors, readSafetensors } from '../io/safetensors-node.ts';
import { IOGNetwork } from '../networks/iog/network.ts';
import { MemoryNetwork, type Variant } from '../networks/mem3d/memory-network.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { safetensorsWeightSource, synthWeightSource, type SynthManifest } from '../weights/safetensors-source.ts';
import type { LoadOptions } from '../weights/loader.ts';
import { parseSliceLayout, SLICE_LAYOUT_KEY, SLICE_LAYOUTS, type SliceLayout } from '../volume/layout.ts';
import { IOG_PHANTOM_SLICE_LAYOUT, SHIPPED_MEMORY_WEIGHTS, type ShippedMemoryWeights } from './shipped.ts';

export { defaultIntensity, IOG_PHANTOM_SLICE_LAYOUT, PHANTOM_WEIGHTS_NOTICE, SHIPPED_MEMORY_WEIGHTS, SYNTHETIC_WEIGHTS_NOTICE, type ShippedMemoryWeights } from './shipped.ts';

export const WEIGHTS_DIR = new URL('../../weights/', import.meta.url).pathname;
export const IOG_PHANTOM_INDEX = `${WEIGHTS_DIR}iog-phantom/iog.safetensors.index.json`;
export const QAMN_PHANTOM_INDEX = `${WEIGHTS_DIR}qamn-phantom/qamn.safetensors.index.json`;

/**
 * A weights path as a user gives it: a `.safetensors` file, a sharded checkpoint's
 * `.safetensors.index.json`, or the folder holding either (what `mem3d convert --out` wrote).
 */
export function resolveWeightsPath(path: string): string {
  if (!existsSync(path)) throw new Error(`weights not found at ${path}`);
  if (!statSync(path).isDirectory()) return path;
  const files = readdirSync(path);
  const indexes = files.filter((f) => f.endsWith('.safetensors.index.json'));
  if (indexes.length === 1) return join(path, indexes[0]);
  const singles = files.filter((f) => f.endsWith('.safetensors'));
  if (indexes.length === 0 && singles.length === 1) return join(path, singles[0]);
  const found = indexes.length > 1 ? `${indexes.length} index files (${indexes.join(', ')})` : indexes.length === 0 && singles.length === 0 ? 'no .safetensors file' : `${singles.length} .safetensors files and no index`;
  throw new Error(`${path}: a weights folder needs one .safetensors.index.json or one .safetensors file, found ${found}; give the file itself`);
}

/**
 * The files a resolved weights path reads: the file, or an index and every shard it names
 * (outputs must not replace any); `opened`, its reader if one is at hand, spares parsing
 * the index again.
 */
export function weightFiles(file: string, opened?: SafetensorsReader): string[] {
  if (!file.endsWith('.json')) return [file];
  const index = opened instanceof ShardedSafetensors ? opened : loadShardedSafetensors(file);
  return [file, ...index.shardFiles().map((shard) => join(dirname(file), shard))];
}

/**
 * The slice layout a user's weights were trained with: their `slice_layout` metadata,
 * else `given` (the --slice-layout flag, the API's sliceLayout option); refused when
 * neither says, or when they disagree. Guessing would silently transpose every slice.
 */
export function requireSliceLayout(reader: SafetensorsReader, given?: SliceLayout): SliceLayout {
  const stated = reader.metadata[SLICE_LAYOUT_KEY];
  if (stated === undefined) {
    if (given) return given;
    throw new Error(`${reader.source}: the weights do not say which slice layout they were trained with (no '${SLICE_LAYOUT_KEY}' metadata); ` +
      `pass --slice-layout ${SLICE_LAYOUTS.join('|')} (API: the sliceLayout option; converted Mem3D/STM checkpoints are rows-first-axis)`);
  }
  const layout = parseSliceLayout(stated, `${reader.source} metadata '${SLICE_LAYOUT_KEY}'`);
  if (given && given !== layout) throw new Error(`${reader.source}: the weights state slice layout ${layout}, --slice-layout says ${given}; drop the flag or fix the weights`);
  return layout;
}

/**
 * A user's memory-network weights' headers (names, shapes, metadata, each tensor's extent
 * against its file's size; no data read) and their slice layout settled: everything
 * checkable before the GPU. `headers` reads no tensor data: load `file` for that.
 */
export function openMemoryWeights(path: string, sliceLayout?: SliceLayout): { file: string; headers: SafetensorsReader; sliceLayout: SliceLayout } {
  const file = resolveWeightsPath(path);
  const headers = loadSafetensorsHeaders(file);
  return { file, headers, sliceLayout: requireSliceLayout(headers, sliceLayout) };
}

/** The shipped phantom IOG, or a user's converted IOG weights (their layout from metadata or `sliceLayout`). */
export function loadIOG(rt: Runtime, path?: string, sliceLayout?: SliceLayout, options: LoadOptions = {}): IOGNetwork {
  const weightPrecision = options.weightPrecision;
  if (path === undefined) {
    if (sliceLayout) throw new Error('a slice layout is given for user weights only; the shipped weights state theirs');
    return IOGNetwork.load(rt, safetensorsWeightSource(loadSafetensors(IOG_PHANTOM_INDEX)), { sliceLayout: IOG_PHANTOM_SLICE_LAYOUT, weightPrecision });
  }
  const file = resolveWeightsPath(path);
  const reader = loadSafetensors(file);
  return IOGNetwork.load(rt, safetensorsWeightSource(reader), { sliceLayout: requireSliceLayout(reader, sliceLayout), weightPrecision });
}

export interface LoadedMemoryNetwork {
  net: MemoryNetwork;
  /** true for synth-v1: its propagated masks mean nothing, callers must say so. */
  synthetic: boolean;
  /** The shipped weights loaded, or null for a user's file. */
  shipped: ShippedMemoryWeights | null;
  /** What was loaded, for a one-line "memory network: ..." report. */
  description: string;
  /** The slice layout the weights were trained with (src/volume/layout.ts). */
  sliceLayout: SliceLayout;
}

/**
 * The memory network from a user's converted weights (`path`: `.safetensors`, index
 * `.json` or their folder) or shipped weights: by default the QAMN trained on phantoms
 * (`weights/qamn-phantom`); `{ weights: 'synth-v1' }` gives the untrained weights the
 * conformance reference uses.
 */
export function loadMemoryNetwork(
  rt: Runtime,
  options: { path?: string; weights?: ShippedMemoryWeights; variant?: Variant; sliceLayout?: SliceLayout } & LoadOptions = {},
): LoadedMemoryNetwork {
  const variant = options.variant ?? 'qamn';
  const weightPrecision = options.weightPrecision;
  if (options.path) {
    const { file, sliceLayout } = openMemoryWeights(options.path, options.sliceLayout);
    const net = MemoryNetwork.load(rt, safetensorsWeightSource(loadSafetensors(file)), { variant, sliceLayout, weightPrecision });
    return { net, synthetic: false, shipped: null, description: `${variant} from ${file} (${sliceLayout})`, sliceLayout };
  }
  if (options.sliceLayout) throw new Error('a slice layout is given for user weights only; the shipped weights state theirs');
  if (variant !== 'qamn') throw new Error(`only QAMN weights are shipped; give --memory-weights for the '${variant}' variant`);
  const weights = options.weights ?? 'qamn-phantom';
  const about = SHIPPED_MEMORY_WEIGHTS[weights];
  if (weights === 'synth-v1') {
    const dir = `${WEIGHTS_DIR}qamn-synth-v1/`;
    const manifest = JSON.parse(readFileSync(`${dir}qamn_manifest.json`, 'utf8')) as SynthManifest;
    const net = MemoryNetwork.load(rt, synthWeightSource(manifest, readSafetensors(`${dir}qamn_small.safetensors`)), { variant, sliceLayout: about.sliceLayout, weightPrecision });
    return { net, synthetic: true, shipped: weights, description: `${about.summary} (${dir})`, sliceLayout: about.sliceLayout };
  }
  const net = MemoryNetwork.load(rt, safetensorsWeightSource(loadSafetensors(QAMN_PHANTOM_INDEX)), { variant, sliceLayout: about.sliceLayout, weightPrecision });
  return { net, synthetic: false, shipped: weights, description: `${about.summary} (${WEIGHTS_DIR}qamn-phantom)`, sliceLayout: about.sliceLayout };
}
