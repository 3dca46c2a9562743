// Browser test of the viewer's answer to a lost GPU device (issue 13), in headless
// Chromium with WebGPU on SwiftShader: the page's device is destroyed while a
// propagation runs; the viewer says so plainly and offers Reconnect GPU, which moves the
// session to a new device (the embedding API's recover()) keeping the slice already
// propagated; Propagate then finishes the rest. Prints 'N passed, N failed'.
// Run: tsx test/viewer-device-loss/run.ts (minutes on SwiftShader: network steps on a
// 32x32x5 volume, on two devices that each compile their pipelines afresh).
import { chromium, type Browser, type Page } from 'playwright-core';
import { createVolume, serializeNifti } from '../../src/volume/index.ts';
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

/** A 32x32x5 volume (a bright disc on grey, axial, RAS), opened through the file input: each network step costs far less than on the 128x128 phantom. */
const [NX, NY, NZ] = [32, 32, 5];
const disc = (i: number, j: number) => Math.hypot(i - 16, j - 15) < 8;
function smallVolume(): { name: string; mimeType: string; buffer: Buffer } {
  const data = new Uint8Array(NX * NY * NZ);
  for (let k = 0; k < NZ; k++) for (let j = 0; j < NY; j++) for (let i = 0; i < NX; i++) data[i + NX * (j + NY * k)] = disc(i, j) ? 200 : 40 + ((i * 7 + j * 13 + k) % 23);
  const v = createVolume({ dims: [NX, NY, NZ], data, spacing: [1, 1, 1], source: 'disc.nii' });
  return { name: 'disc.nii', mimeType: 'application/octet-stream', buffer: Buffer.from(serializeNifti(v)) };
}

async function run(page: Page, url: string): Promise<void> {
  const SLICE = 1;
  // The untrained memory network and a 32 px 2D crop: only the plumbing is under test.
  await page.goto(`${url}?crop=32&memory=synth-v1`);
  await waitFor(page, 'loading the networks', (s) => s.status === 'ready' && /open a NIfTI volume/.test(s.message), 300_000);
  await page.setInputFiles('#file', smallVolume());
  await waitFor(page, 'opening the volume', (s) => s.status === 'ready' && /Click four extreme points/.test(s.message), 60_000);
  await page.evaluate(([z, mask]) => window.__mem3d.segmenter!.setSliceMask(z, mask), [SLICE, Array.from({ length: NX * NY }, (_, v) => (disc(v % NX, Math.floor(v / NX)) ? 1 : 0))] as const);
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('ArrowDown');
  await page.locator('#propagate').click();
  // Sweeps: down slice 0, up slices 2-4, side by side (two lanes: 0 and 2 in one batch,
  // then 3 and 4). The device goes once slice 0 is done: the upward sweep is unfinished.
  await page.waitForFunction(() => window.__mem3d.segmenter!.states()[0].source === 'propagated', null, { timeout: 600_000, polling: 100 });
  const devices = await page.evaluate(() => {
    const all = (window as unknown as { __devices: GPUDevice[] }).__devices;
    for (const d of all) d.destroy();
    return all.length;
  });
  check('the page made one GPU device, destroyed mid-propagation', devices === 1, `${devices}`);
  const kept = await page.evaluate(() => Array.from(window.__mem3d.segmenter!.sliceMask(0)));
  let s = await waitFor(page, 'the propagation failing', (s) => s.status !== 'busy', 600_000);
  check('the status says the device was lost and that the work is kept', /graphics device was lost/.test(s.message) && /masks and annotations are kept/.test(s.message), s.message);
  const offered = await page.locator('#reconnect').isVisible() && !(await page.locator('#reconnect').isDisabled());
  const blocked = (await page.locator('#propagate').isDisabled()) && (await page.locator('#propagate').getAttribute('title')) === 'The GPU device was lost: press Reconnect GPU';
  check('Reconnect GPU is offered; Propagate waits for it', offered && blocked, JSON.stringify({ offered, blocked }));
  await page.locator('#reconnect').click();
  s = await waitFor(page, 'reconnecting', (s) => s.status !== 'busy' && !/Reconnecting/.test(s.message), 300_000);
  const after = await page.evaluate(() => ({ sources: window.__mem3d.segmenter!.states().map((x) => x.source), devices: (window as unknown as { __devices: GPUDevice[] }).__devices.length, mask0: Array.from(window.__mem3d.segmenter!.sliceMask(0)) }));
  const unfinished = after.sources.slice(2).includes('empty');
  check('reconnected on a new device, slice 0 and the annotation kept, the upward sweep unfinished', /GPU reconnected/.test(s.message) && after.devices === 2 && after.sources.slice(0, 2).join() === 'propagated,annotated' && unfinished && after.mask0.join('') === kept.join(''), `${s.message} ${JSON.stringify({ ...after, mask0: undefined })}`);
  check('Reconnect GPU is hidden again', !(await page.locator('#reconnect').isVisible()));
  await page.locator('#propagate').click();
  s = await waitFor(page, 'the resumed propagation', (s) => s.status !== 'busy', 600_000);
  const sources = await page.evaluate(() => window.__mem3d.segmenter!.states().map((x) => x.source).join());
  check('Propagate resumes: the upward sweep runs again from its start (slices 2-4), the finished downward one does not', sources === 'propagated,annotated,propagated,propagated,propagated' && /^Propagated to 3 slice/.test(s.message), `${sources}: ${s.message}`);
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
