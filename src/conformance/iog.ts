// Conformance of the IOG / DEXTR network against a folder laid out like
// ../shared/reference: runs the network with the synth-v1 weights on the stored
// `input`, compares fine_out and the coarse outputs present, and pastes
// sigmoid(fine_out) back into the slice (crop2fullmask, threshold 0.8) to compare
// with `full_mask`.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { maskFromLogits } from '../interaction/extreme-points.ts';
import type { BBox } from '../interaction/crop.ts';
import { readSafetensors } from '../io/safetensors-node.ts';
import { IOGNetwork } from '../networks/iog/network.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { tensorCores } from '../ops/conv2d-mma.ts';
import { synthWeightSource } from '../weights/safetensors-source.ts';
import { compareTensor, nhwcToNchw, type ConformanceRow } from './compare.ts';
import { need, readManifest, readReferenceJson, TORCH_LOG } from './reference-files.ts';

/** ../shared/reference/torch_reference_log.json -> iog.torch_fp32_vs_f64 (relative), used when the folder has no log. */
const TORCH_FP32: Record<string, number> = { fine_out: 5.06e-4, coarse0: 5.35e-4 };
/** The allowance for the pasted mask: pixels that differ, as a fraction of the reference's foreground. */
export const FULL_MASK_TOLERANCE = 0.005;

export interface IOGConformanceReport {
  model: 'iog';
  adapter: string;
  rows: ConformanceRow[];
  skipped: string[];
  pass: boolean;
  seconds: number;
}

function readTorchErrors(dir: string): Record<string, number> {
  const path = join(dir, TORCH_LOG);
  if (!existsSync(path)) return TORCH_FP32;
  const table = readReferenceJson<{ iog?: { torch_fp32_vs_f64?: Record<string, { rel: number }> } }>(path)?.iog?.torch_fp32_vs_f64;
  if (!table) return TORCH_FP32;
  return Object.fromEntries(Object.entries(table).map(([k, v]) => [k, v.rel]));
}

/** 3x PyTorch's own float32 error; coarse outputs without a logged error take coarse0's. */
function tolerance(name: string, torch: Record<string, number>): number {
  const t = torch[name] ?? (name.startsWith('coarse') ? torch.coarse0 : undefined) ?? TORCH_FP32.coarse0;
  return 3 * t;
}

/** The pasted mask row: "error" = pixels that differ, "ref" = foreground pixels of the reference. */
function maskRow(actual: Uint8Array, expected: Uint8Array): ConformanceRow {
  let diff = 0;
  let fg = 0;
  for (let i = 0; i < expected.length; i++) {
    if ((actual[i] !== 0) !== (expected[i] !== 0)) diff++;
    if (expected[i] !== 0) fg++;
  }
  const relError = diff / Math.max(fg, 1);
  return { tensor: 'full_mask', maxAbsError: diff, maxAbsRef: fg, relError, tolerance: FULL_MASK_TOLERANCE, measure: 'relative', pass: relError <= FULL_MASK_TOLERANCE };
}

export async function iogConformance(rt: Runtime, dir: string, progress: (msg: string) => void = () => {}): Promise<IOGConformanceReport> {
  // synth-v1's IOG moves 24-67% with f16 weights alone (README, Numerical conformance): no useful bound for f16 operands either.
  if (tensorCores(rt)) throw new Error('no tolerances for iog with convs on matrix units (f16 operands): synth-v1 IOG has none even for f16 weights; the trained IOG\'s Dice is its check');
  const start = performance.now();
  const manifest = readManifest(dir, 'iog');
  const small = readSafetensors(need(dir, 'iog_small.safetensors'));
  const ref = readSafetensors(need(dir, 'iog_ref.safetensors'));
  const torch = readTorchErrors(dir);
  const [n, c, h, w] = ref.info('input').shape;
  if (n !== 1 || h !== w) throw new Error(`iog_ref.safetensors: input must be [1, C, S, S], got [${ref.info('input').shape.join(', ')}]`);

  progress(`loading iog synth-v1 weights (${c} input channels)`);
  const net = IOGNetwork.load(rt, synthWeightSource(manifest, small), { inputChannels: c });
  const nchw = ref.float32('input');
  const nhwc = new Float32Array(nchw.length);
  for (let k = 0; k < c; k++) for (let p = 0; p < h * w; p++) nhwc[p * c + k] = nchw[k * h * w + p];
  const input = rt.upload([1, h, w, c], nhwc, 'f32', 'iog input');

  progress('forward');
  const out = net.forward(input);
  input.dispose();
  const rows: ConformanceRow[] = [];
  const skipped: string[] = [];
  const fine = await out.fine.read();
  const outputs: [string, ArrayLike<number>][] = [['fine_out', fine]];
  for (const [i, t] of out.coarse.entries()) outputs.push([`coarse${i}`, await t.read()]);
  for (const [name, data] of outputs) {
    if (!ref.has(name)) {
      if (name === 'fine_out') throw new Error(`iog_ref.safetensors has no fine_out`);
      skipped.push(name);
      continue;
    }
    rows.push(compareTensor(name, nhwcToNchw(data, h, w, 1), ref.float32(name), 'relative', tolerance(name, torch)));
  }
  if (ref.has('full_mask')) {
    if (!ref.has('bbox_xyxy')) throw new Error('iog_ref.safetensors has full_mask but no bbox_xyxy to paste with');
    const [mh, mw] = ref.info('full_mask').shape;
    const bbox = Array.from(ref.int32('bbox_xyxy')) as unknown as BBox;
    rows.push(maskRow(maskFromLogits(fine, h, bbox, mw, mh), ref.uint8('full_mask')));
  } else skipped.push('full_mask');

  out.dispose();
  net.dispose();
  return { model: 'iog', adapter: rt.describe(), rows, skipped, pass: rows.every((r) => r.pass), seconds: (performance.now() - start) / 1000 };
}
