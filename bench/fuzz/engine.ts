// Runs one target on seeded mutated inputs, in process, and classifies each input:
// accepted, refused (the parser's typed error), crash (any other throw), hang
// (longer than hangMs, measured), blow-up (ArrayBuffer memory grew past what the input
// legitimately declares plus blowupBytes). Input i of seed s is always the same bytes.
import { seededRandom } from '../../src/util/seeded-random.ts';
import type { Files, FuzzTarget } from './targets.ts';

export interface FuzzOptions {
  /** stop after this many inputs */
  count: number;
  /** or after this many seconds, whichever comes first */
  seconds: number;
  seed: number;
  /** first input index (to resume after a killed run) */
  start?: number;
  hangMs?: number;
  blowupBytes?: number;
  /** called before each input with the stats so far (a watchdog in a child process reports them) */
  onInput?: (index: number, stats: FuzzStats) => void;
}

export interface Finding {
  /** stall: killed on the loaded machine but fine when run again alone (not a finding) */
  readonly kind: 'crash' | 'hang' | 'blow-up' | 'stall';
  readonly index: number;
  readonly detail: string;
}

export interface FuzzStats {
  readonly target: string;
  inputs: number;
  accepted: number;
  refused: number;
  crashes: number;
  hangs: number;
  blowups: number;
  /** the most CPU time one input took */
  slowestMs: number;
  ms: number;
  findings: Finding[];
}

export const HANG_MS = 2000;
export const BLOWUP_BYTES = 256 * 2 ** 20;

/** The rng of input `index` under `seed`. */
export function inputRng(seed: number, index: number): () => number {
  return seededRandom((Math.imul(seed, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
}

export function generateInput(target: FuzzTarget, seed: number, index: number): Files {
  return target.generate(inputRng(seed, index));
}

const gc = (globalThis as { gc?: () => void }).gc;

export function runTarget(target: FuzzTarget, options: FuzzOptions): FuzzStats {
  const hangMs = options.hangMs ?? HANG_MS;
  const blowupBytes = options.blowupBytes ?? BLOWUP_BYTES;
  const stats: FuzzStats = { target: target.name, inputs: 0, accepted: 0, refused: 0, crashes: 0, hangs: 0, blowups: 0, slowestMs: 0, ms: 0, findings: [] };
  const started = performance.now();
  let baseline = process.memoryUsage().arrayBuffers;
  for (let i = options.start ?? 0; stats.inputs < options.count && performance.now() - started < options.seconds * 1000; i++) {
    const files = generateInput(target, options.seed, i);
    options.onInput?.(i, stats);
    const before = process.memoryUsage().arrayBuffers;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    let declared = 0;
    try {
      declared = target.run(files);
      stats.accepted++;
    } catch (e) {
      if (target.typed(e)) stats.refused++;
      else {
        stats.crashes++;
        stats.findings.push({ kind: 'crash', index: i, detail: `${(e as Error)?.name}: ${String((e as Error)?.message ?? e).slice(0, 300)}` });
      }
    }
    const ms = performance.now() - t0;
    // CPU time, not wall time: on a loaded machine a 2 ms input can wait seconds for a core.
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    stats.inputs++;
    stats.slowestMs = Math.max(stats.slowestMs, cpuMs);
    if (cpuMs > hangMs) {
      stats.hangs++;
      stats.findings.push({ kind: 'hang', index: i, detail: `${cpuMs.toFixed(0)} ms of CPU (${ms.toFixed(0)} ms wall)` });
    }
    const grew = process.memoryUsage().arrayBuffers - before;
    if (grew > blowupBytes + declared) {
      stats.blowups++;
      stats.findings.push({ kind: 'blow-up', index: i, detail: `ArrayBuffers grew ${(grew / 2 ** 20).toFixed(0)} MiB, ${(declared / 2 ** 20).toFixed(1)} MiB declared` });
    }
    // Unreferenced buffers are only freed by a GC: collect before they mask the next input's growth.
    if (gc && process.memoryUsage().arrayBuffers - baseline > 128 * 2 ** 20) {
      gc();
      baseline = process.memoryUsage().arrayBuffers;
    }
  }
  stats.ms = performance.now() - started;
  return stats;
}
