// Weight sources over safetensors: real checkpoints (f32/f16/bf16, or the
// int8-per-output-channel format: `name` I8 plus `name.qscale` F32 per output
// channel), and the synth-v1 weights (rank >= 2 from the formula, the rest from
// `<model>_small.safetensors`, as listed by `<model>_manifest.json`).
import type { SafetensorsReader } from '../io/safetensors.ts';
import { SLICE_LAYOUT_KEY } from '../volume/layout.ts';
import { synthWeight } from './synth-v1.ts';
import type { WeightSource } from './source.ts';

const QSCALE = '.qscale';

export function safetensorsWeightSource(reader: SafetensorsReader): WeightSource {
  // Only the scale of an int8 tensor is hidden: any other '.qscale' name stays a tensor
  // the weight check sees (a state_dict key that merely ends so is never dropped silently).
  const isScale = (n: string) => {
    const base = n.slice(0, -QSCALE.length);
    return n.endsWith(QSCALE) && reader.has(base) && reader.info(base).dtype === 'I8';
  };
  return {
    description: reader.source,
    metadata: reader.metadata,
    names: () => reader.names().filter((n) => !isScale(n)),
    has: (name) => reader.has(name),
    shape: (name) => [...reader.info(name).shape],
    float32(name) {
      const info = reader.info(name);
      if (info.dtype !== 'I8') return reader.float32(name);
      if (!reader.has(name + QSCALE)) throw new Error(`${reader.source}: int8 tensor '${name}' has no '${name}${QSCALE}' (int8-per-output-channel format)`);
      return dequantizePerOutputChannel(reader.int8(name), reader.float32(name + QSCALE), name, reader.source);
    },
  };
}

/** W[o, ...] = q[o, ...] * qscale[o] */
export function dequantizePerOutputChannel(q: Int8Array, scale: Float32Array, name: string, source: string): Float32Array {
  if (scale.length === 0 || q.length % scale.length !== 0) {
    throw new Error(`${source}: '${name}' has ${q.length} values, not a multiple of its ${scale.length} per-channel scales`);
  }
  const per = q.length / scale.length;
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) out[i] = q[i] * scale[Math.floor(i / per)];
  return out;
}

export interface SynthManifest {
  spec: string;
  model: string;
  tensors: { name: string; shape: number[]; source: 'formula' | 'file'; gain?: number }[];
}

export function synthWeightSource(manifest: SynthManifest, small: SafetensorsReader): WeightSource {
  if (manifest.spec !== 'synth-v1') throw new Error(`weights manifest for '${manifest.model}' has spec '${manifest.spec}'; only synth-v1 is known`);
  const byName = new Map(manifest.tensors.map((t) => [t.name, t]));
  return {
    description: `synth-v1 ${manifest.model} (${small.source})`,
    // The reference runs the seed's numpy slices (rows = the first in-plane axis).
    metadata: { ...small.metadata, [SLICE_LAYOUT_KEY]: 'rows-first-axis' },
    names: () => [...byName.keys()],
    has: (name) => byName.has(name),
    shape: (name) => [...(byName.get(name)?.shape ?? [])],
    float32(name) {
      const t = byName.get(name);
      if (!t) throw new Error(`synth-v1 ${manifest.model}: no tensor '${name}' in the manifest`);
      return t.source === 'formula' ? synthWeight(name, t.shape, t.gain ?? 1) : small.float32(name);
    },
  };
}
