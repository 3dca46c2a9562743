// Entry of the browser smoke page: runs the smoke cases of the op-case registry (one
// small awkward shape per kernel) on the real runtime through navigator.gpu, publishes results on window.__smoke and renders them as a table.
import { Runtime } from '../../src/runtime/runtime.ts';
import { casesOf, checkCase } from '../_lib/op-cases/index.ts';
import type { CheckResult, SmokeState } from './protocol.ts';

const state: SmokeState = { status: 'running', adapter: '', results: [] };
window.__smoke = state;

const fmt = (x: number): string => (Number.isFinite(x) ? x.toExponential(2) : String(x));

function render(): void {
  const rows = state.results.map(
    (r) =>
      `<tr class="${r.ok ? 'pass' : 'fail'}"><td>${escape(r.name)}</td><td>${fmt(r.maxAbsError)}</td><td>${fmt(r.tolerance)}</td>` +
      `<td>${r.ms.toFixed(0)} ms</td><td>${r.ok ? 'pass' : 'FAIL'}</td><td>${escape(r.error ?? '')}</td></tr>`,
  );
  document.body.innerHTML =
    `<h1>mem3d WebGPU smoke test: ${state.status}</h1><p>${escape(state.adapter || state.error || '')}</p>` +
    `<table><tr><th>check</th><th>max abs error</th><th>tolerance</th><th>time</th><th>result</th><th>error</th></tr>${rows.join('')}</table>`;
}

function escape(s: string): string {
  return s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function main(): Promise<void> {
  let rt: Runtime;
  try {
    rt = await Runtime.create();
  } catch (e) {
    state.error = `${(e as Error).name}: ${(e as Error).message}`;
    state.status = 'failed';
    render();
    return;
  }
  state.adapter = rt.describe();
  render();
  for (const c of casesOf(null, ['smoke'])) {
    const t0 = performance.now();
    let result: CheckResult;
    try {
      const r = await checkCase(rt, c);
      const shape = r.shape.join() === r.expectedShape.join() ? undefined : `output shape [${r.shape}], expected [${r.expectedShape}]`;
      result = { name: c.name, maxAbsError: r.maxAbsError, tolerance: r.tolerance, ok: r.ok, ms: performance.now() - t0, error: shape };
    } catch (e) {
      result = { name: c.name, maxAbsError: NaN, tolerance: NaN, ok: false, ms: performance.now() - t0, error: String((e as Error).message ?? e) };
    }
    state.results.push(result);
    render();
  }
  rt.destroy();
  state.status = 'done';
  render();
}

void main();
