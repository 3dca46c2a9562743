// npx tsx bench/iog-click-mapping.ts [--seeds 103,104,105] [--size 128] [--depth 20] [--slices 1,2,3]
// Where a click lands in the IOG's 512x512 crop, and what it does to the shipped IOG's
// masks: every tumour slice of held-out generator volumes (seeds 100.., as
// bench/iog-relax.ts; --slices N,..: 512x512 generator slices instead), the same robot
// extreme points mapped three ways, one forward each, Dice at the product's 0.8:
//   centre  pointToCrop: the clicked pixel's centre under the resize's half-pixel mapping;
//   floor   DEXTR's demo, floor(512 (p - bbox_min) / crop_size): the pixel's top-left corner;
//   outer   the reference's recipe (iog_ref.safetensors' extreme_points_xy): the extremes of
//           the ground truth's crop resized with INTER_LINEAR (> 0), i.e. the extreme
//           pixel's outer edge along its axis, its centre across.
// Also the predicted mask's bounding box minus the truth's (x0, x1, y0, y1) in slice pixels.
import { parseArgs } from 'node:util';
import { bboxOfMask, bboxOfPoints, bboxSize, pointToCrop, type BBox, type Point } from '../src/interaction/crop.ts';
import { assembleInput, extremePointHeatmap, INPUT_SIZE, maskFromLogits } from '../src/interaction/extreme-points.ts';
import { defaultRelax } from '../src/interaction/encode.ts';
import { extremePointsOfMask } from '../src/interaction/robot.ts';
import { dice } from '../src/eval/metrics.ts';
import { loadSafetensors } from '../src/io/safetensors-node.ts';
import { IOGNetwork } from '../src/networks/iog/network.ts';
import { phantomSlice, phantomVolume, volumeSlice, type PhantomSlice } from '../src/phantom/phantom.ts';
import { safetensorsWeightSource } from '../src/weights/safetensors-source.ts';
import { createBenchRuntime } from './bench-runtime.ts';

const { values } = parseArgs({ options: { seeds: { type: 'string', default: '103,104,105' }, size: { type: 'string', default: '128' }, depth: { type: 'string', default: '20' }, slices: { type: 'string' } } });
const S = INPUT_SIZE;

const outer = (pts: readonly Point[], bbox: BBox): Point[] => {
  const { width: w, height: h } = bboxSize(bbox);
  const low = (v: number, b: number, n: number) => Math.floor(((v - b - 0.5) * S) / n - 0.5) + 1;
  const high = (v: number, b: number, n: number) => Math.ceil(((v - b + 1.5) * S) / n - 0.5) - 1;
  // Across its axis each point stays at its pixel's centre.
  const [l, r, t, d] = pts.map((p) => pointToCrop(p, bbox, S));
  return [
    { ...l, x: low(pts[0].x, bbox[0], w) },
    { ...r, x: high(pts[1].x, bbox[0], w) },
    { ...t, y: low(pts[2].y, bbox[1], h) },
    { ...d, y: high(pts[3].y, bbox[1], h) },
  ];
};
const mappings: Record<string, (pts: readonly Point[], bbox: BBox) => Point[]> = {
  centre: (pts, bbox) => pts.map((p) => pointToCrop(p, bbox, S)),
  floor: (pts, bbox) => {
    const { width, height } = bboxSize(bbox);
    return pts.map((p) => ({ x: Math.floor((S * (p.x - bbox[0])) / width), y: Math.floor((S * (p.y - bbox[1])) / height) }));
  },
  outer,
};

/** The mask's bounding box as [x0, x1, y0, y1]. */
function boxOf(mask: ArrayLike<number>, width: number, height: number): number[] {
  const [x0, y0, x1, y1] = bboxOfMask({ width, height, data: mask }, 0) ?? [NaN, NaN, NaN, NaN];
  return [x0, x1, y0, y1];
}

const cases: { name: string; slice: PhantomSlice }[] = [];
if (values.slices) {
  for (const seed of values.slices.split(',').map(Number)) cases.push({ name: `512x512 slice ${seed}`, slice: phantomSlice({ seed }) });
} else {
  const [size, depth] = [Number(values.size), Number(values.depth)];
  for (const seed of values.seeds!.split(',').map(Number)) {
    const v = phantomVolume({ seed, width: size, height: size, depth });
    for (let z = 0; z < depth; z++) {
      const slice = volumeSlice(v, z);
      if (slice.mask.some((m) => m > 0)) cases.push({ name: `phantom-${seed} z ${z}`, slice });
    }
  }
}

const rt = await createBenchRuntime();
console.log(`adapter: ${rt.describe()}; ${cases.length} slices`);
const net = IOGNetwork.load(rt, safetensorsWeightSource(loadSafetensors(new URL('../weights/iog-phantom/iog.safetensors.index.json', import.meta.url).pathname)));
const totals: Record<string, number[]> = Object.fromEntries(Object.keys(mappings).map((m) => [m, []]));
for (const { name, slice } of cases) {
  const { width, height } = slice;
  const clicks = extremePointsOfMask({ width, height, data: slice.mask }, { seed: 1 });
  const bbox = bboxOfPoints(clicks, defaultRelax('extreme-points', width, height));
  const truthBox = boxOf(slice.mask, width, height);
  const cells: string[] = [];
  for (const [mapping, map] of Object.entries(mappings)) {
    const input = assembleInput({ width, height, data: slice.image }, bbox, [extremePointHeatmap(map(clicks, bbox))]);
    const x = rt.upload([1, S, S, 4], input.data);
    const out = net.forward(x, { coarse: false });
    const logits = await out.fine.read();
    out.dispose();
    x.dispose();
    const mask = maskFromLogits(logits, S, bbox, width, height);
    const d = dice(mask, slice.mask);
    totals[mapping].push(d);
    cells.push(`${mapping} ${d.toFixed(4)} box ${boxOf(mask, width, height).map((v, i) => v - truthBox[i]).join(',')}`);
  }
  console.log(`${name} (${slice.mask.reduce((a, m) => a + m, 0)} px) | ${cells.join(' | ')}`);
}
for (const [mapping, d] of Object.entries(totals)) console.log(`${mapping}: mean Dice ${(d.reduce((a, v) => a + v, 0) / d.length).toFixed(4)}, min ${Math.min(...d).toFixed(4)}`);
net.dispose();
rt.destroy();
