// mem3d bench [--size 512] [--depth 100] [--rounds 2] [--json out.json]
// Seconds per interactive round on a phantom volume: round 1 annotates the largest
// tumour slice and propagates through the whole volume, later rounds correct the
// lowest-quality slice and re-propagate between annotated neighbours (the paper
// reports 5.13 s per round on an RTX 2080 Ti for 512x512 slices).
import { writeFileSync } from 'node:fs';
import { integer, parse, runCommand } from '../src/cli/args.ts';
import { Runtime } from '../src/runtime/runtime.ts';
import { runRobotRounds } from '../src/session/evaluate.ts';
import { Interactive3DSession } from '../src/session/session.ts';
import { IOGSliceSegmenter } from '../src/session/slice-segmenter.ts';
import { loadIOG, loadMemoryNetwork } from '../src/pretrained/node.ts';
import { phantomVolume } from '../src/phantom/phantom.ts';

const USAGE = 'usage: mem3d bench [--size 512] [--depth 100] [--rounds 2] [--json out.json]';

export function benchCommand(argv: string[]): Promise<number> {
  return runCommand('bench', USAGE, async () => {
    const { values } = parse(argv, { size: { type: 'string', default: '512' }, depth: { type: 'string', default: '100' }, rounds: { type: 'string', default: '2' }, json: { type: 'string' } });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const size = integer('size', values.size, 32)!;
    const depth = integer('depth', values.depth, 2)!;
    const rounds = integer('rounds', values.rounds, 1)!;
    const v = phantomVolume({ seed: 11, width: size, height: size, depth });
    const rt = await Runtime.create();
    console.log(`adapter: ${rt.describe()}`);
    const { net } = loadMemoryNetwork(rt);
    const session = new Interactive3DSession(rt, { width: size, height: size, depth, slice: (z) => v.image.subarray(z * size * size, (z + 1) * size * size) }, { segmenter: new IOGSliceSegmenter(rt, loadIOG(rt)), memory: net });
    const results = await runRobotRounds(session, v.mask, { rounds, strategy: 'quality', onProgress: (m) => console.error(m) });
    for (const r of results) console.log(`round ${r.round}: slice ${r.slice}, ${r.seconds.toFixed(2)} s`);
    const result = { adapter: rt.describe(), size, depth, rounds: results.map((r) => ({ round: r.round, slice: r.slice, seconds: r.seconds })) };
    if (values.json) writeFileSync(values.json, JSON.stringify(result, null, 2) + '\n');
    net.dispose();
    rt.destroy();
    return 0;
  });
}
