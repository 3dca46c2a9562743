// The reference folder (laid out like ../shared/reference): which files a conformance run
// reads, and reading them with errors that name the file. The CLI checks the same list
// before the GPU (src/cli/conformance.ts).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SynthManifest } from '../weights/safetensors-source.ts';

export type ReferenceModel = 'qamn' | 'stm' | 'iog';

/** PyTorch's own float32 error per tensor; read where present, else the values built in. */
export const TORCH_LOG = 'torch_reference_log.json';

/** The files a run for `model` needs, and those it reads where present. */
export function referenceFiles(model: ReferenceModel): { required: string[]; optional: string[] } {
  const optional = [TORCH_LOG];
  if (model === 'iog') return { required: ['iog_manifest.json', 'iog_small.safetensors', 'iog_ref.safetensors'], optional };
  const phantom = ['phantom_0.png', 'phantom_1.png', 'phantom_2.png', 'phantom_mask_0.png'];
  return { required: [`${model}_manifest.json`, `${model}_small.safetensors`, `${model}_ref1.safetensors`, `${model}_ref2.safetensors`, ...phantom], optional };
}

/** The path of a file the folder must hold. */
export function need(dir: string, file: string): string {
  const path = join(dir, file);
  if (!existsSync(path)) throw new Error(`${path} is missing (the folder must be laid out like shared/reference)`);
  return path;
}

/** A JSON file of the folder, parsed; a damaged one is named (JSON.parse alone says 'Unexpected end of JSON input'). */
export function readReferenceJson<T>(path: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** `<model>_manifest.json`: how the synth-v1 weights are generated. */
export const readManifest = (dir: string, model: ReferenceModel): SynthManifest => readReferenceJson<SynthManifest>(need(dir, `${model}_manifest.json`));
