// Browser smoke test driver: bundles page.ts with esbuild, serves it from 127.0.0.1
// (WebGPU needs a secure context, which file:// is not), runs it in headless
// Chromium on WebGPU (SwiftShader) and reports each check against the float64
// CPU references. Exits non-zero on any failure, a missing adapter, or a timeout.
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { CheckResult, SmokeState } from './protocol.ts';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const ARTIFACTS = join(ROOT, 'test-artifacts');
const SCREENSHOT = join(ARTIFACTS, 'browser-smoke.png');
// SwiftShader compiles and runs every kernel on the CPU; the whole run takes well
// under this, which only guards against a hung page or GPU process.
const TIMEOUT_MS = 5 * 60_000;

const HTML = `<!doctype html><html><head><meta charset="utf-8"><title>mem3d smoke</title><link rel="icon" href="data:,"><style>
body { font: 14px sans-serif; margin: 16px; } table { border-collapse: collapse; }
td, th { border: 1px solid #999; padding: 4px 8px; text-align: left; }
tr.pass td { background: #dfd; } tr.fail td { background: #fdd; }
</style></head><body><p>loading…</p><script type="module" src="/page.js"></script></body></html>`;

async function bundle(): Promise<string> {
  const result = await build({
    entryPoints: [join(ROOT, 'test/browser/page.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    // Only Node's device path imports it, through a module name built at run time.
    external: ['webgpu'],
    sourcemap: 'inline',
    write: false,
    logLevel: 'warning',
  });
  return result.outputFiles[0].text;
}

function serve(js: string): Promise<Server> {
  const server = createServer((req, res) => {
    const body = req.url === '/' ? HTML : req.url === '/page.js' ? js : null;
    if (body === null) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': req.url === '/' ? 'text/html; charset=utf-8' : 'text/javascript; charset=utf-8' });
    res.end(body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function line(r: CheckResult): string {
  const num = (x: number): string => (Number.isFinite(x) ? x.toExponential(3) : String(x));
  const detail = r.error ? `  error: ${r.error}` : '';
  return `${r.ok ? 'pass' : 'FAIL'}  ${r.name.padEnd(58)} max abs error ${num(r.maxAbsError)}  tolerance ${num(r.tolerance)}  ${r.ms.toFixed(0)} ms${detail}`;
}

/** Polls the page, printing each result as it lands, until the run ends or the deadline passes. */
async function collect(page: Page, deadline: number, pageErrors: string[]): Promise<SmokeState> {
  let printed = 0;
  let adapterPrinted = false;
  for (;;) {
    const state = await page.evaluate(() => window.__smoke);
    if (state) {
      if (state.adapter && !adapterPrinted) {
        console.log(`adapter: ${state.adapter}`);
        adapterPrinted = true;
      }
      for (; printed < state.results.length; printed++) console.log(line(state.results[printed]));
      if (state.status !== 'running') return state;
    }
    if (pageErrors.length && !state) throw new Error('the page failed to start');
    if (Date.now() > deadline) throw new Error(`timed out after ${TIMEOUT_MS / 1000} s (${printed} checks finished)`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function main(): Promise<number> {
  const deadline = Date.now() + TIMEOUT_MS;
  const server = await serve(await bundle());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  let browser: Browser | null = null;
  let page: Page | null = null;
  const pageErrors: string[] = [];
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
    console.log(`browser: Chromium ${browser.version()} (headless, WebGPU on SwiftShader), timeout ${TIMEOUT_MS / 1000} s`);
    page = await browser.newPage();
    page.on('pageerror', (e) => {
      pageErrors.push(e.message);
      console.error(`page error: ${e.stack ?? e.message}`);
    });
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') console.error(`page console.${m.type()}: ${m.text()}`);
    });
    await page.goto(url);
    const state = await collect(page, deadline, pageErrors);
    if (state.status === 'failed') {
      console.error(`No WebGPU adapter in headless Chromium (flags: ${CHROMIUM_ARGS.join(' ')}):\n${state.error}`);
      return 1;
    }
    const passed = state.results.filter((r) => r.ok).length;
    const failed = state.results.length - passed + pageErrors.length;
    if (pageErrors.length) console.error(`${pageErrors.length} uncaught page error(s), counted as failures`);
    console.log(`${passed} passed, ${failed} failed`);
    return failed === 0 && passed > 0 ? 0 : 1;
  } catch (e) {
    console.error(`browser smoke test aborted: ${(e as Error).message}`);
    return 1;
  } finally {
    if (page) {
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true }).then(
        () => console.log(`screenshot: ${SCREENSHOT}`),
        (e: Error) => console.error(`screenshot failed: ${e.message}`),
      );
    }
    await browser?.close();
    server.close();
  }
}

// Last resort if the browser itself hangs (the polling loop enforces TIMEOUT_MS otherwise);
// Playwright kills the browser it launched when the process exits.
setTimeout(() => {
  console.error(`browser smoke test: no result ${TIMEOUT_MS / 1000 + 60} s after start, giving up`);
  process.exit(1);
}, TIMEOUT_MS + 60_000).unref();

process.exitCode = await main();
