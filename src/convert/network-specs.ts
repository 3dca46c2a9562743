// The tensor spec of each network a checkpoint can be converted for, taken from the
// network code itself (a dry ParamLoader run), never from a hand-kept list.
import { readFileSync } from 'node:fs';
import { MemoryNetwork } from '../networks/mem3d/memory-network.ts';
import type { TensorSpec } from '../weights/loader.ts';
import type { NetworkSpec } from './convert.ts';

export const CONVERT_MODELS = ['qamn', 'stm', 'iog4', 'iog5'] as const;
export type ConvertModel = (typeof CONVERT_MODELS)[number];

// Until the IOG network lands with its own expectedTensors: the reference manifest
// (the 4-channel network; iog5 differs only in the first conv's input channels).
const IOG_MANIFEST = new URL('../../../shared/reference/iog_manifest.json', import.meta.url);
const IOG_FIRST_CONV = 'backbone.conv1.weight';

function iogTensors(inputChannels: 4 | 5): TensorSpec[] {
  let manifest: { tensors: TensorSpec[] };
  try {
    manifest = JSON.parse(readFileSync(IOG_MANIFEST, 'utf8'));
  } catch (e) {
    throw new Error(`the IOG tensor spec is not available yet (reading ${IOG_MANIFEST.pathname}: ${(e as Error).message})`, { cause: e });
  }
  return manifest.tensors.map(({ name, shape }) => ({ name, shape: name === IOG_FIRST_CONV ? [shape[0], inputChannels, ...shape.slice(2)] : [...shape] }));
}

export function expectedTensorsFor(model: ConvertModel): NetworkSpec {
  switch (model) {
    case 'qamn':
    case 'stm':
      return { model, tensors: MemoryNetwork.expectedTensors(model), unused: [/^Encoder_[MQ]\.(mean|std)$/] };
    case 'iog4':
    case 'iog5':
      return { model, tensors: iogTensors(model === 'iog4' ? 4 : 5), unused: [] };
  }
}
