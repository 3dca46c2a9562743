import { MemoryNetwork } from '../src/networks/mem3d/memory-network.ts';
for (const v of ['qamn', 'stm'] as const) {
  const spec = MemoryNetwork.weightSpec(v);
  let n = 0; let t = 0;
  for (const s of spec.tensors ?? (spec as any)) { t++; n += (s.shape as number[]).reduce((a, b) => a * b, 1); }
  console.log(v, t, n, (n * 4 / 2 ** 20).toFixed(1), 'MiB');
}
