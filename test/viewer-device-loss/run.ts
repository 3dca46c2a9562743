// Browser test of the viewer's answer to a lost GPU device (issue 13), in headless
// Chromium with WebGPU on SwiftShader: the page's device is destroyed while a
// propagation runs; the viewer says so plainly and offers Reconnect GPU, which moves the
// session to a new device (the embedding API's recover()) keeping the slice already
// propagated; Propagate then finishes the rest. Prints 'N passed, N failed'.
// Run: tsx test/viewer-device-loss/run.ts (minutes on SwiftShader: two network steps).
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildWeb } from '../../tools/build-web.ts';
import { serveWeb, serverUrl } from '../../tools/serve-web.ts';
import { CHROMIUM, CHROMIUM_ARGS } from '../browser/chromium.ts';
import { Checklist } from '../_lib/checklist.ts';
import { waitForState } from '../_lib/wait-for.ts';

const TIMEOUT_MS = 20 * 60_000;
const checklist = new Checklist();
const check = checklist.check.bind(checklist);

const state = (page: Page) => page.evaluate(() => ({ status: window.__mem3d.status, message: window.__mem3d.message }));

async function waitFor(page: Page, what: string, until: (s: { status: string; message: string }) => boolean, ms: number) {
  return waitForState(() => state(page), what, until, ms);
}

// Keeps every GPUDevice the page asks for, so the test can destroy the one in use.
const RECORD_DEVICES = `
window.__name = (f) => f;
window.__devices = [];
const request = GPUAdapter.prototype.requestDevice;
GPUAdapter.prototype.requestDevice = async function (...args) {
  const device = await request.apply(this, args);
  window.__devices.push(device);
  return device;
};`;

async function run(page: Page, url: string): Promise<void> {
  const [SLICE, N] = [5, 128 * 128];
  // Slices 4..6 with the untrained memory network and a 32 px 2D crop: only the plumbing is under test.
  await page.goto(`${url}?phantom&slices=4-6&crop=32&memory=synth-v1`);
  await waitFor(page, 'loading the networks', (s) => s.status === 'ready' && /Click four extreme points/.test(s.message), 300_000);
  await page.evaluate(([z, n]) => window.__mem3d.segmenter!.setSliceMask(z, Array.from({ length: n }, (_, v) => (Math.hypot((v % 128) - 64, Math.floor(v / 128) - 64) < 20 ? 1 : 0))), [SLICE, N] as const);
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('ArrowDown');
  await page.locator('#propagate').click();
  // Runs: 5 down (slice 4), then 5 up (slice 6). The device goes once slice 4 is done.
  await page.waitForFunction(() => window.__mem3d.segmenter!.states()[4].source === 'propagated', null, { timeout: 600_000, polling: 100 });
  const devices = await page.evaluate(() => {
    const all = (window as unknown as { __devices: GPUDevice[] }).__devices;
    for (const d of all) d.destroy();
    return all.length;
  });
  check('the page made one GPU device, destroyed mid-propagation', devices === 1, `${devices}`);
  const kept = await page.evaluate(() => Array.from(window.__mem3d.segmenter!.sliceMask(4)));
  let s = await waitFor(page, 'the propagation failing', (s) => s.status !== 'busy', 600_000);
  check('the status says the device was lost and that the work is kept', /graphics device was lost/.test(s.message) && /masks and annotations are kept/.test(s.message), s.message);
  const offered = await page.locator('#reconnect').isVisible() && !(await page.locator('#reconnect').isDisabled());
  const blocked = (await page.locator('#propagate').isDisabled()) && (await page.locator('#propagate').getAttribute('title')) === 'The GPU device was lost: press Reconnect GPU';
  check('Reconnect GPU is offered; Propagate waits for it', offered && blocked, JSON.stringify({ offered, blocked }));
  await page.locator('#reconnect').click();
  s = await waitFor(page, 'reconnecting', (s) => s.status !== 'busy' && !/Reconnecting/.test(s.message), 300_000);
  const after = await page.evaluate(() => ({ sources: window.__mem3d.segmenter!.states().map((x) => x.source), devices: (window as unknown as { __devices: GPUDevice[] }).__devices.length, mask4: Array.from(window.__mem3d.segmenter!.sliceMask(4)) }));
  check('reconnected on a new device, slice 4 and the annotation kept', /GPU reconnected/.test(s.message) && after.devices === 2 && after.sources.slice(4, 7).join() === 'propagated,annotated,empty' && after.mask4.join('') === kept.join(''), `${s.message} ${JSON.stringify({ ...after, mask4: undefined })}`);
  check('Reconnect GPU is hidden again', !(await page.locator('#reconnect').isVisible()));
  await page.locator('#propagate').click();
  s = await waitFor(page, 'the resumed propagation', (s) => s.status !== 'busy', 600_000);
  const sources = await page.evaluate(() => window.__mem3d.segmenter!.states().map((x) => x.source).slice(4, 7).join());
  check('Propagate resumes: slice 6 is propagated, only it was computed', sources === 'propagated,annotated,propagated' && /propagated to 1 slice/.test(s.message), `${sources}: ${s.message}`);
}

async function main(): Promise<number> {
  await buildWeb();
  const server = await serveWeb({ port: 0 });
  let browser: Browser | null = null;
  try {
    const t0 = Date.now();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.addInitScript({ content: RECORD_DEVICES });
    await run(page, serverUrl(server));
    for (const e of errors) check('no uncaught page error', false, e);
    console.log(`viewer device loss: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } catch (e) {
    check('viewer device-loss test completes', false, (e as Error).stack ?? String(e));
  } finally {
    await browser?.close();
    server.close();
  }
  return checklist.finish();
}

setTimeout(() => {
  console.error(`viewer device-loss test: no result ${TIMEOUT_MS / 1000} s after start, giving up`);
  process.exit(1);
}, TIMEOUT_MS).unref();

process.exit(await main());
