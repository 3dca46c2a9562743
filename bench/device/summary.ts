// The issue-16 goal table from a device suite run (bench/device/suite.sh): reads the JSON
// files the suite packs into results.tgz and prints, as markdown, the numbers the goals
// are about side by side, on the matrix units (the tc-* steps) and on the f32 kernels,
// with whether each goal is met and by which (the QAMN step and the IOG forward also
// without WebGPU's bounds checks, the *-nobc steps). The matrix units' numbers meet a goal
// only once their kernel passed its float64 check on this GPU (tc-check) and QAMN its
// conformance on them (tc-conf-qamn). A lent GPU's 15 minutes leave little time to read logs.
//   tar xzf results.tgz -C dir && npx tsx bench/device/summary.ts dir
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The issue's goals on an NVIDIA GPU: PyTorch eager fp32's 512x512 times, and the round. */
export const GOALS = { qamnStepMs: 16.5, iogMs: 13.7, roundS: 1.5 } as const;

/** PyTorch eager with fp16 autocast on the H100 (../shared/reference/README.md): the matrix units' f16 operands' own anchor. */
const TORCH_FP16_MS = { qamn: 21.3, iog: 12.7 } as const;

interface MemnetRow { memory: number; batch?: number; msPerStep: number; msPerSlice?: number }
interface RoundRow { pass: string; lanes?: number; round: number; seconds: number }
interface KernelRow { op: string; case: string; variant: string; ms: number; gpuMs: number | null }
interface ConformanceRow { tensor: string; pass: boolean; relError: number; maxAbsError: number; measure: string }
interface HostFloor { summary: Record<string, { wallMsPerSlice: number; dispatchesPerSlice?: number }>; size: number }

function load<T>(dir: string, name: string): T | null {
  const path = join(dir, `${name}.json`);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : null;
}

const ms = (v: number | undefined): string => (v === undefined ? '-' : `${v.toFixed(1)} ms`);
const s = (v: number | undefined): string => (v === undefined ? '-' : `${v.toFixed(2)} s`);
/**
 * A goal row's verdict from the matrix units' value and the f32 kernels': met by the f32
 * kernels, else by the matrix units where they were checked (`tcChecked`); a matrix-unit
 * value that would meet it unchecked says so instead.
 */
function verdict(tc: number | undefined, f32: number | undefined, limit: number, tcChecked: boolean, strict = false): string {
  const meets = (v: number | undefined) => v !== undefined && (strict ? v < limit : v <= limit);
  if (tc === undefined && f32 === undefined) return '';
  if (meets(f32)) return 'met (f32)';
  if (meets(tc)) return tcChecked ? 'met (matrix units, f16 operands)' : 'not met (the matrix units\' time would, unchecked)';
  return 'not met';
}

/** Whether the matrix units' numbers count: every case of their float64 check passed, and QAMN's conformance on them. */
function matrixUnitsChecked(dir: string): { checked: boolean; why: string } {
  const check = load<{ enabled?: unknown; cases?: { ok?: boolean }[] }>(dir, 'tc-check');
  if (!check?.enabled) return { checked: false, why: 'not on' };
  const cases = check.cases ?? [];
  const [passed, failed] = [cases.filter((c) => c.ok === true).length, cases.filter((c) => c.ok === false).length];
  if (passed === 0 || failed > 0) return { checked: false, why: `their float64 check: ${passed} passed, ${failed} failed` };
  const conf = load<{ rows: ConformanceRow[] }>(dir, 'tc-conf-qamn');
  if (!conf?.rows.length) return { checked: false, why: 'QAMN conformance on them did not run' };
  const bad = conf.rows.filter((r) => !r.pass).map((r) => r.tensor);
  if (bad.length) return { checked: false, why: `QAMN conformance on them failed (${bad.join(', ')})` };
  return { checked: true, why: `their float64 check (${passed} cases) and QAMN conformance passed` };
}

function memnet(dir: string, name: string, batch: number): MemnetRow | undefined {
  return load<{ rows: MemnetRow[] }>(dir, name)?.rows.find((r) => r.memory === 5 && (r.batch ?? 1) === batch);
}

/** Round `round`'s seconds in the pass `pass` with `lanes` lanes (the round bench's second passes run warm). */
function round(dir: string, name: string, pass: string, lanes: number | null, n: number): number | undefined {
  return load<{ rounds: RoundRow[] }>(dir, name)?.rounds.find((r) => r.pass === pass && (lanes === null || (r.lanes ?? 1) === lanes) && r.round === n)?.seconds;
}

/** The slower of the first (after the warm-up) and second passes' round: a verdict on every sample there is, not the luckier one. */
function worstPass(dir: string, name: string, lanes: number, n: number): number | undefined {
  const times = ['first', 'second'].map((pass) => round(dir, name, pass, lanes, n)).filter((v) => v !== undefined);
  return times.length ? Math.max(...times) : undefined;
}

function conformance(dir: string, name: string): string {
  const c = load<{ rows: ConformanceRow[] }>(dir, name);
  if (!c) return '-';
  const passed = c.rows.filter((r) => r.pass).length;
  const failed = c.rows.filter((r) => !r.pass).map((r) => r.tensor);
  return `${passed} of ${c.rows.length} pass${failed.length ? ` (failed: ${failed.join(', ')})` : ''}`;
}

/** The memory read's forms at a 512x512 step's shape (5 frames), GPU time where timed. */
function memoryRead(dir: string, name: string): string {
  const rows = load<{ rows: KernelRow[] }>(dir, name)?.rows.filter((r) => r.op === 'memory read' && r.case.startsWith('Q 1024 (512x512), 5 frames'));
  if (!rows?.length) return '-';
  return rows.map((r) => `${r.variant} ${ms(r.gpuMs ?? r.ms)}`).join(', ');
}

/**
 * Per 3x3 layer of a conv kernel run: the best Winograd GEMM variant's GPU time against the
 * best direct one's (`name` e.g. "res4 3x3 256->256 @32 1.9x"), or '-' without that run.
 */
function winogradGain(dir: string, name: string): string {
  const rows = load<{ rows: KernelRow[] }>(dir, name)?.rows.filter((r) => r.op === 'conv2d');
  if (!rows?.length) return '-';
  const time = (r: KernelRow) => r.gpuMs ?? r.ms;
  const fastest = (rs: KernelRow[]) => rs.reduce<KernelRow | null>((a, r) => (a === null || time(r) < time(a) ? r : a), null);
  return [...new Set(rows.map((r) => r.case))].flatMap((c) => {
    const wino = fastest(rows.filter((r) => r.case === c && r.variant.startsWith('wgemm')));
    const direct = fastest(rows.filter((r) => r.case === c && !r.variant.startsWith('wgemm')));
    return wino && direct ? [`${c} ${(time(direct) / time(wino)).toFixed(2)}x`] : [];
  }).join(', ') || '-';
}

/**
 * The warm start (the issue's first step within 20% of later ones): round 1 of the first
 * pass, run after session.warmup(), over round 1 of the second pass with the same lanes.
 */
function warmStart(dir: string, name: string): string {
  const run = load<{ warmupMs?: number | null; lanes?: number[] }>(dir, name);
  const lanes = run?.lanes?.[0] ?? null;
  const [first, second] = [round(dir, name, 'first', lanes, 1), round(dir, name, 'second', lanes, 1)];
  if (first === undefined || second === undefined) return '-';
  const warmup = typeof run?.warmupMs === 'number' ? ` after ${(run.warmupMs / 1000).toFixed(2)} s` : ', no warm-up recorded';
  return `${(first / second).toFixed(2)}x (${first.toFixed(2)} s${warmup})`;
}

/** The markdown summary of the run in `dir`. */
export function summarize(dir: string): string {
  const lines: string[] = [];
  const row = (cells: string[]) => lines.push(`| ${cells.join(' | ')} |`);
  const tcCheck = load<{ enabled?: unknown; error?: string }>(dir, 'tc-check');
  const tc = matrixUnitsChecked(dir);
  lines.push(`matrix units: ${!tcCheck ? 'not run' : tcCheck.enabled ? `on ${JSON.stringify(tcCheck.enabled)}` : `off (${tcCheck.error ?? 'no reason recorded'})`}`);
  if (tcCheck?.enabled) lines.push(`matrix units' times ${tc.checked ? 'count toward the goals' : 'do not count toward the goals'}: ${tc.why}`);
  const sizes = ['tc-memnet', 'memnet', 'tc-round', 'round'].map((n) => load<{ size: number; depth?: number; adapter?: string }>(dir, n)).filter((x) => x !== null);
  const size = sizes[0]?.size;
  const depth = sizes.find((x) => x.depth !== undefined)?.depth;
  lines.push(`adapter: ${sizes[0]?.adapter ?? '-'}`);
  lines.push(`frames ${size ?? '?'}x${size ?? '?'}, rounds on ${depth ?? '?'} slices${size === 512 && (depth === undefined || depth === 100) ? '' : ': the goals are for 512x512 (rounds of 100 slices), so "met" says nothing here'}`, '');
  row(['work', 'matrix units (tc)', 'f32 kernels', 'goal', '']);
  row(['---', '---', '---', '---', '---']);
  // A step's [matrix units, f32] pair; suffix '-nobc': the runs without bounds checks.
  const step = (batch: number, pick: (r: MemnetRow) => number, suffix = '') => [memnet(dir, `tc-memnet${suffix}`, batch), memnet(dir, `memnet${suffix}`, batch)].map((r) => (r ? pick(r) : undefined));
  const [tcStep, f32Step] = step(1, (r) => r.msPerStep);
  row(['QAMN step, 5 memory frames, one slice', ms(tcStep), ms(f32Step), `<= ${GOALS.qamnStepMs} ms`, verdict(tcStep, f32Step, GOALS.qamnStepMs, tc.checked)]);
  const [tcStepNobc, f32StepNobc] = step(1, (r) => r.msPerStep, '-nobc');
  row(['QAMN step, one slice, bounds checks off', ms(tcStepNobc), ms(f32StepNobc), `<= ${GOALS.qamnStepMs} ms`, verdict(tcStepNobc, f32StepNobc, GOALS.qamnStepMs, tc.checked)]);
  const [tcPair, f32Pair] = step(2, (r) => r.msPerSlice ?? r.msPerStep / 2);
  row(['QAMN step per slice in a batch of two (lanes)', ms(tcPair), ms(f32Pair), '', '']);
  const iog = (suffix = '') => [`tc-iog${suffix}`, `iog${suffix}`].map((name) => load<{ medianMs: number }>(dir, name)?.medianMs);
  const [tcIog, f32Iog] = iog();
  row(['IOG forward', ms(tcIog), ms(f32Iog), `<= ${GOALS.iogMs} ms`, verdict(tcIog, f32Iog, GOALS.iogMs, tc.checked)]);
  const [tcIogNobc, f32IogNobc] = iog('-nobc');
  row(['IOG forward, bounds checks off', ms(tcIogNobc), ms(f32IogNobc), `<= ${GOALS.iogMs} ms`, verdict(tcIogNobc, f32IogNobc, GOALS.iogMs, tc.checked)]);
  for (const n of [1, 2]) {
    for (const lanes of [2, 1]) {
      const [tcRound, f32Round] = [worstPass(dir, 'tc-round', lanes, n), worstPass(dir, 'round', lanes, n)];
      row([`round ${n}, ${lanes} lane${lanes > 1 ? 's' : ''} (the slower of two passes)`, s(tcRound), s(f32Round), n === 1 ? `< ${GOALS.roundS} s` : '', n === 1 ? verdict(tcRound, f32Round, GOALS.roundS, tc.checked, true) : '']);
    }
  }
  row(['round 1, first pass: after the session\'s warm-up, against the second pass', warmStart(dir, 'tc-round'), warmStart(dir, 'round'), '<= 1.2x', '']);
  // Tuned among the matrix tiles (tc), or among the f32 kernels, the Winograd GEMM variants included (f32).
  for (const n of [1, 2]) {
    const [tcRound, f32Round] = [round(dir, 'tc-round', 'tuned', null, n), round(dir, 'round', 'tuned', null, n)];
    row([`round ${n} after autotuning`, s(tcRound), s(f32Round), n === 1 ? `< ${GOALS.roundS} s` : '', n === 1 ? verdict(tcRound, f32Round, GOALS.roundS, tc.checked, true) : '']);
  }
  row(['3x3 convs at 512: Winograd GEMM against the direct GPU kernels (GPU time)', '', winogradGain(dir, 'wgemm-kernels'), '', '']);
  row(['memory read at the step\'s shape (5 frames)', memoryRead(dir, 'tc-memread'), memoryRead(dir, 'memread'), '', '']);
  row(['QAMN conformance', conformance(dir, 'tc-conf-qamn'), conformance(dir, 'conf-qamn'), 'all pass', '']);
  const floor = load<HostFloor>(dir, 'host-floor');
  const lanes = load<HostFloor>(dir, 'host-floor-lanes');
  const perSlice = (h: HostFloor | null, mode: string) => {
    const m = h?.summary[mode];
    return m ? `${m.wallMsPerSlice.toFixed(2)} ms at ${h!.size}x${h!.size}${m.dispatchesPerSlice === undefined ? '' : `, ${m.dispatchesPerSlice.toFixed(0)} dispatches`}` : '-';
  };
  lines.push('', `host work per slice, no GPU time (Dawn's null backend): one lane ${perSlice(floor, 'ahead')}; at 256, one lane ${perSlice(lanes, 'ahead')}, two lanes ${perSlice(lanes, 'lanes')}`);
  lines.push(`The goals are PyTorch eager fp32 (TF32 off) on an H100; the matrix units compute with f16 operands, for which PyTorch's own fp16 autocast takes QAMN ${TORCH_FP16_MS.qamn} ms, IOG ${TORCH_FP16_MS.iog} ms.`);
  return lines.join('\n');
}

// Run as a script (the path through symlinks, as the suite may name it): print the table.
if (process.argv[1] && existsSync(process.argv[1]) && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  const dir = process.argv[2];
  if (!dir || !existsSync(dir)) {
    console.error('usage: npx tsx bench/device/summary.ts DIR   (DIR: a device run\'s results.tgz, extracted)');
    process.exit(2);
  }
  console.log(summarize(dir));
}
