// Pretrained models (Node): the weights shipped in the package's weights/ folder, or
// a user's converted checkpoint, loaded into networks. A room above networks/ (it
// builds them) and below the CLI and the session users.
//
// Shipped: the int8 IOG network and the int8 QAMN, both trained on phantoms of
// src/phantom (the default), and the untrained synth-v1 QAMN (conformance only).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadSafetensors, readSafetensors } from '../io/safetensors-node.ts';
import { IOGNetwork } from '../networks/iog/network.ts';
import { MemoryNetwork, type Variant } from '../networks/mem3d/memory-network.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { safetensorsWeightSource, synthWeightSource, type SynthManifest } from '../weights/safetensors-source.ts';
import { SHIPPED_MEMORY_WEIGHTS, type ShippedMemoryWeights } from './shipped.ts';

export { PHANTOM_WEIGHTS_NOTICE, SHIPPED_MEMORY_WEIGHTS, SYNTHETIC_WEIGHTS_NOTICE, type ShippedMemoryWeights } from './shipped.ts';

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

export function loadIOG(rt: Runtime, path = IOG_PHANTOM_INDEX): IOGNetwork {
  return IOGNetwork.load(rt, safetensorsWeightSource(loadSafetensors(resolveWeightsPath(path))));
}

export interface LoadedMemoryNetwork {
  net: MemoryNetwork;
  /** true for synth-v1: its propagated masks mean nothing, callers must say so. */
  synthetic: boolean;
  /** The shipped weights loaded, or null for a user's file. */
  shipped: ShippedMemoryWeights | null;
  /** What was loaded, for a one-line "memory network: ..." report. */
  description: string;
}

/**
 * The memory network from a user's converted weights (`path`: `.safetensors`, index
 * `.json` or their folder) or shipped weights: by default the QAMN trained on phantoms
 * (`weights/qamn-phantom`); `{ weights: 'synth-v1' }` gives the untrained weights the
 * conformance reference uses.
 */
export function loadMemoryNetwork(rt: Runtime, options: { path?: string; weights?: ShippedMemoryWeights; variant?: Variant } = {}): LoadedMemoryNetwork {
  const variant = options.variant ?? 'qamn';
  if (options.path) {
    const file = resolveWeightsPath(options.path);
    const net = MemoryNetwork.load(rt, safetensorsWeightSource(loadSafetensors(file)), { variant });
    return { net, synthetic: false, shipped: null, description: `${variant} from ${file}` };
  }
  if (variant !== 'qamn') throw new Error(`only QAMN weights are shipped; give --memory-weights for the '${variant}' variant`);
  const weights = options.weights ?? 'qamn-phantom';
  const about = SHIPPED_MEMORY_WEIGHTS[weights];
  if (weights === 'synth-v1') {
    const dir = `${WEIGHTS_DIR}qamn-synth-v1/`;
    const manifest = JSON.parse(readFileSync(`${dir}qamn_manifest.json`, 'utf8')) as SynthManifest;
    const net = MemoryNetwork.load(rt, synthWeightSource(manifest, readSafetensors(`${dir}qamn_small.safetensors`)), { variant });
    return { net, synthetic: true, shipped: weights, description: `${about.summary} (${dir})` };
  }
  const net = MemoryNetwork.load(rt, safetensorsWeightSource(loadSafetensors(QAMN_PHANTOM_INDEX)), { variant });
  return { net, synthetic: false, shipped: weights, description: `${about.summary} (${WEIGHTS_DIR}qamn-phantom)` };
}
