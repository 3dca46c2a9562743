// The tensor spec of each network a checkpoint can be converted for, taken from the
// network code itself (a dry ParamLoader run), never from a hand-kept list: the
// same spec the loader checks weights against.
import { IOGNetwork } from '../networks/iog/network.ts';
import { MemoryNetwork } from '../networks/mem3d/memory-network.ts';
import type { NetworkSpec } from './convert.ts';

export const CONVERT_MODELS = ['qamn', 'stm', 'iog4', 'iog5'] as const;
export type ConvertModel = (typeof CONVERT_MODELS)[number];

export function expectedTensorsFor(model: ConvertModel): NetworkSpec {
  switch (model) {
    case 'qamn':
    case 'stm':
      return { model, ...MemoryNetwork.weightSpec(model) };
    case 'iog4':
    case 'iog5':
      return { model, ...IOGNetwork.weightSpec(model === 'iog4' ? 4 : 5) };
  }
}
