// The weights shipped in the package's weights/ folder (Node): the trained int8
// IOG network and the synth-v1 QAMN weights, or a user's converted checkpoint.
import { existsSync, readFileSync } from 'node:fs';
import { loadSafetensors, readSafetensors } from '../io/safetensors-node.ts';
import { IOGNetwork } from '../networks/iog/network.ts';
import { MemoryNetwork, type Variant } from '../networks/mem3d/memory-network.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { safetensorsWeightSource, synthWeightSource, type SynthManifest } from './safetensors-source.ts';

export const WEIGHTS_DIR = new URL('../../weights/', import.meta.url).pathname;
export const IOG_PHANTOM_INDEX = `${WEIGHTS_DIR}iog-phantom/iog.safetensors.index.json`;

export function loadIOG(rt: Runtime, path = IOG_PHANTOM_INDEX): IOGNetwork {
  if (!existsSync(path)) throw new Error(`IOG weights not found at ${path}`);
  return IOGNetwork.load(rt, safetensorsWeightSource(loadSafetensors(path)));
}

/**
 * The memory network from converted weights (`.safetensors` or an index `.json`),
 * or, without a path, the shipped synth-v1 QAMN weights: `synthetic` tells callers
 * to say so, since their propagated masks mean nothing.
 */
export function loadMemoryNetwork(rt: Runtime, options: { path?: string; variant?: Variant } = {}): { net: MemoryNetwork; synthetic: boolean } {
  const variant = options.variant ?? 'qamn';
  if (options.path) {
    if (!existsSync(options.path)) throw new Error(`memory network weights not found at ${options.path}`);
    return { net: MemoryNetwork.load(rt, safetensorsWeightSource(loadSafetensors(options.path)), { variant }), synthetic: false };
  }
  if (variant !== 'qamn') throw new Error(`only QAMN synth-v1 weights are shipped; give --memory-weights for the '${variant}' variant`);
  const dir = `${WEIGHTS_DIR}qamn-synth-v1/`;
  const manifest = JSON.parse(readFileSync(`${dir}qamn_manifest.json`, 'utf8')) as SynthManifest;
  return { net: MemoryNetwork.load(rt, synthWeightSource(manifest, readSafetensors(`${dir}qamn_small.safetensors`)), { variant }), synthetic: true };
}

export const SYNTHETIC_WEIGHTS_NOTICE =
  'NOTE: the memory network runs with synthetic (synth-v1, untrained) weights, so propagated masks are not meaningful; ' +
  'convert trained QAMN weights with `mem3d convert` and pass them with --memory-weights.';
