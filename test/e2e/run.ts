// End-to-end test of segmentation in the browser: headless Chromium (WebGPU on
// SwiftShader) opens the web viewer on the bundled phantom, slice 5 gets its annotation,
// the page propagates with the trained memory network, and the result is checked
// against the truth: Dice on the annotated slice and over the session's slices, the
// overlay the page draws against the mask the embedding API returns, the exported
// NIfTI, undo, and that a reload takes the weights from the Cache Storage.
//
// Budget (SwiftShader runs our kernels several times slower than lavapipe): the 2D
// crop is 512, as trained (at 128, 192 and 256 the network leaves this 20-pixel
// tumour empty, in Node too). `npm test`'s session spans slices 5..6: the annotated
// slice 5 and one propagation step to slice 6, the worse of its neighbours (each step
// costs about 12 s of SwiftShader on 2 cores, 73 s before SwiftShader got the CPU conv rule); `npm run test:full` spans 4..6 (two
// steps; slice 4's Dice is held in `npm test` in Node by test/demo-dice.test.ts, with the
// same trained network). The volume Dice is over the session's slices; outside them the
// mask must stay empty. E2E_CROP and E2E_SLICES (e.g. 2-7, every tumour slice) override both.
//
// Two depths of the annotation step. `npm run test:full` (MEM3D_TEST_TIER=full) or
// E2E_2D=1: a person's four clicks on the tumour's extreme points taken from its
// ground truth, and the page runs the 2D network at crop 512. `npm test`: the truth's
// mask on slice 5 through the embedding API's setSliceMask (a correction drawn in
// another tool): the 2D step at 512 takes about 65 s of SwiftShader on 2 cores, which
// `npm test` cannot spare. (It once seemed never to finish: the page stayed busy after
// a successful 2D step because propagate() refused to start under the step's 'busy'
// status; fixed 2026-12-01, and test/viewer/run.ts checks that chaining in `npm test`
// with the network calls stubbed. E2E_2D=1 then: 2D 64.5 s, propagation 11.9 s, Dice
// 1.000 on slice 5 and 0.928 on slice 6.) The 2D network's Dice at 512 is held in Node
// by test/demo-dice.test.ts and its kernels in Chromium by the browser smoke test.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { extremePointsOfMask } from '../../src/interaction/robot.ts';
import { dice } from '../../src/eval/metrics.ts';
import { getSlice, parseNifti } from '../../src/volume/index.ts';
import { buildWeb } from '../../tools/build-web.ts';
import { serveWeb, serverUrl } from '../../tools/serve-web.ts';
import { CHROMIUM, CHROMIUM_ARGS } from '../browser/chromium.ts';
import { Checklist } from '../_lib/checklist.ts';
import { waitForState } from '../_lib/wait-for.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const ARTIFACTS = join(ROOT, 'test-artifacts');
// Hang guards only: on a quiet 2-core machine the run takes a few minutes; a loaded one can take 10x.
const TIMEOUT_MS = 45 * 60_000;
const CROP = Number(process.env.E2E_CROP ?? 512);
const FULL = process.env.MEM3D_TEST_TIER === 'full';
const [FIRST, LAST] = (process.env.E2E_SLICES ?? (FULL ? '4-6' : '5-6')).split('-').map(Number);
/** The tumour's largest slice: the robot user's first choice, and ours. */
const SLICE = 5;
const QUERY = `?phantom&crop=${CROP}&slices=${FIRST}-${LAST}`;
const WITH_2D = process.env.E2E_2D === '1' || FULL;

// The bars. The 2D result on the annotated slice: the issue's 0.9. The session's
// slices: the trained memory network reaches 0.958 volume Dice on this example in
// PyTorch from one ground-truth slice (../shared/weights/qamn-phantom/README.md), and
// CI holds the Node demo's round 1 to its measured value minus 0.05
// (test/demo-dice.test.ts, ROUND1_MEASURED in test/_lib/demo-rounds.ts). Here the annotation is the 2D network's
// and the slices are the annotated one and its neighbours, which propagation gets
// best; 0.85 leaves the same kind of margin below 0.9-0.95.
const MIN_DICE_2D = 0.9;
const MIN_DICE_VOLUME = 0.85;
// Each propagated neighbour of slice 5: test/demo-dice.test.ts's bar (0.928 measured on
// slice 6, the worse neighbour, minus 0.05).
const MIN_DICE_NEIGHBOUR = 0.878;

const checklist = new Checklist();
const check = checklist.check.bind(checklist);

const state = (page: Page) =>
  page.evaluate(() => {
    const u = window.__mem3d;
    return { status: u.status, message: u.message, slice: u.slice, segmentable: u.segmentable, volume: u.volume, busy: u.step !== null };
  });

async function waitFor(page: Page, what: string, until: (s: Awaited<ReturnType<typeof state>>) => boolean, ms: number) {
  let last = '';
  const onEach = (s: Awaited<ReturnType<typeof state>>) => {
    if (until(s)) return;
    // Once per message, not per tick of its elapsed-time counter.
    const gist = s.message.replace(/\d+(\.\d+)?/g, '#');
    if (gist !== last) {
      last = gist;
      console.log(`  page: ${s.message}`);
    }
    if (s.status === 'error' || s.status === 'no-webgpu') throw new Error(`${what}: page says ${s.status}: ${s.message}`);
  };
  return waitForState(() => state(page), what, until, ms, { everyMs: 250, onEach });
}

/**
 * Every voxel of slice z as the page draws it (red overlay or grey, sampled at the
 * voxel's centre through the page's own voxel -> canvas mapping) against the
 * embedding API's mask of that slice (NIfTI voxel order: a + b * size_a).
 */
function overlayAgainstMask(page: Page, z: number) {
  return page.evaluate((z) => {
    const ui = window.__mem3d;
    const seg = ui.segmenter!;
    const v = ui.volume!;
    const mask = seg.sliceMask(z);
    const canvas = document.getElementById('slice') as HTMLCanvasElement;
    const ratio = canvas.width / canvas.getBoundingClientRect().width;
    const px = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    // ViewerState.volume: height is the extent of a (axial: i), width that of b; the mask is a-fastest.
    const [na, nb] = [v.height, v.width];
    let [wrong, red, grey, masked] = [0, 0, 0, 0];
    for (let b = 0; b < nb; b++) {
      for (let a = 0; a < na; a++) {
        const c = ui.canvasPoint(a, b);
        const o = (Math.floor(c.y * ratio) * canvas.width + Math.floor(c.x * ratio)) * 4;
        const isRed = px[o] - px[o + 1] > 50 && Math.abs(px[o + 1] - px[o + 2]) <= 1;
        const isGrey = px[o] === px[o + 1] && px[o + 1] === px[o + 2];
        const m = mask[a + b * na] === 1;
        red += isRed ? 1 : 0;
        grey += isGrey ? 1 : 0;
        masked += m ? 1 : 0;
        if (isRed !== m) wrong++;
      }
    }
    return { shownSlice: ui.slice, wrong, red, grey, masked, voxels: na * nb };
  }, z);
}

async function goToSlice(page: Page, z: number): Promise<void> {
  await page.locator('#slice').hover();
  await page.keyboard.press('Home');
  for (let i = 0; i < z; i++) await page.keyboard.press('ArrowUp');
}

async function run(page: Page, url: string): Promise<void> {
  const truth = parseNifti(readFileSync(join(ROOT, 'examples/phantom/mask.nii.gz')), 'truth');
  const [ni, nj, nk] = truth.dims;
  const truthData = truth.data as Uint8Array;

  await page.setViewportSize({ width: 1400, height: 1100 });
  const t0 = Date.now();
  await page.goto(url + QUERY);
  const ready = await waitFor(page, 'loading the networks and the phantom', (s) => s.status === 'ready' && s.segmentable, 5 * 60_000);
  console.log(`networks and phantom loaded: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const v = ready.volume!;
  check(`the phantom opens as 128x128x10, session on slices ${FIRST}..${LAST}`, v.height === ni && v.width === nj && v.depth === nk && v.first === FIRST && v.last === LAST, JSON.stringify(v));

  await goToSlice(page, SLICE);
  const truthSliceVoxels = Array.from(truthData.subarray(SLICE * ni * nj, (SLICE + 1) * ni * nj));
  let t1 = Date.now();
  if (WITH_2D) {
    // The truth's extreme points on slice 5, as voxel indices (a, b) = (i, j): the seed's
    // slice image has row a and column b, so a mask point {x, y} is voxel (y, x).
    const truthSlice = getSlice(truth, 'axial', SLICE, new Uint8Array(ni * nj));
    for (const p of extremePointsOfMask(truthSlice)) {
      await page.locator('#slice').click({ position: await page.evaluate(([a, b]) => window.__mem3d.canvasPoint(a, b), [p.y, p.x]) });
    }
    t1 = Date.now();
    await page.locator('#segment').click();
    await waitFor(page, 'the 2D step starting', (s) => s.busy, 30_000);
    // The page propagates right after the 2D step, unless the 2D result is empty.
    await waitFor(page, 'the 2D step and propagation', (s) => !s.busy && s.status === 'ready', 35 * 60_000);
    // Idle on a second look too: nothing left between the 2D step and propagation.
    await new Promise((r) => setTimeout(r, 1000));
    await waitFor(page, 'the 2D step and propagation', (s) => !s.busy && s.status === 'ready', 35 * 60_000);
  } else {
    // The truth's mask on slice 5 (NIfTI voxel order, as the API takes it), then Propagate.
    await page.evaluate(([z, mask]) => window.__mem3d.segmenter!.setSliceMask(z, mask), [SLICE, truthSliceVoxels] as const);
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowDown');
    t1 = Date.now();
    await page.locator('#propagate').click();
    await waitFor(page, 'propagation starting', (s) => s.busy, 30_000);
    await waitFor(page, 'propagation', (s) => !s.busy && s.status === 'ready', 35 * 60_000);
  }
  const seconds = (Date.now() - t1) / 1000;
  const timings = await page.evaluate(() => window.__mem3d.timings);
  console.log(`${WITH_2D ? `2D network (crop ${CROP}) + ` : ''}propagation over ${LAST - FIRST} slices on SwiftShader: ${seconds.toFixed(1)} s ${JSON.stringify(timings)}`);

  const result = await page.evaluate(([first, last]) => {
    const seg = window.__mem3d.segmenter!;
    return {
      states: seg.states().map((s) => s.source),
      volume: Array.from(seg.mask()),
      slices: Array.from({ length: last - first + 1 }, (_, i) => Array.from(seg.sliceMask(first + i))),
    };
  }, [FIRST, LAST]);
  const want = result.states.map((_, z) => (z === SLICE ? 'annotated' : z >= FIRST && z <= LAST ? 'propagated' : 'empty'));
  check(`slice ${SLICE} annotated, ${FIRST}..${LAST} propagated, the rest untouched`, result.states.join() === want.join(), result.states.join());

  // Dice in NIfTI voxel order (i fastest), as mask() and sliceMask() return it.
  const sliceSize = ni * nj;
  const truthOf = (z: number) => truthData.subarray(z * sliceSize, (z + 1) * sliceSize);
  const perSlice = result.slices.map((m, i) => dice(m, truthOf(FIRST + i)));
  console.log(`Dice per slice ${FIRST}..${LAST}: ${perSlice.map((d) => d.toFixed(3)).join(' ')}`);
  const d2 = perSlice[SLICE - FIRST];
  if (WITH_2D) check(`2D result on slice ${SLICE}: Dice against the truth >= ${MIN_DICE_2D}`, d2 >= MIN_DICE_2D, `Dice ${d2.toFixed(4)}`);
  else check(`slice ${SLICE} keeps the mask set through the API, voxel for voxel`, result.slices[SLICE - FIRST].every((x, p) => x === truthSliceVoxels[p]), `Dice ${d2.toFixed(4)}`);
  for (const z of [SLICE - 1, SLICE + 1].filter((z) => z >= FIRST && z <= LAST)) {
    const d = perSlice[z - FIRST];
    check(`propagated slice ${z}: Dice against the truth >= ${MIN_DICE_NEIGHBOUR}`, d >= MIN_DICE_NEIGHBOUR, `Dice ${d.toFixed(4)}`);
  }
  const dv = dice(result.slices.flat(), truthData.subarray(FIRST * sliceSize, (LAST + 1) * sliceSize));
  check(`volume Dice over slices ${FIRST}..${LAST} against the truth >= ${MIN_DICE_VOLUME}`, dv >= MIN_DICE_VOLUME, `Dice ${dv.toFixed(4)}`);
  const outside = result.volume.reduce((n, x, i) => n + (x && (i < FIRST * sliceSize || i >= (LAST + 1) * sliceSize) ? 1 : 0), 0);
  check('mask() holds each sliceMask() at its slice and nothing outside the session', outside === 0 && result.slices.every((m, i) => m.every((x, p) => x === result.volume[(FIRST + i) * sliceSize + p])), `${outside} voxels outside`);

  // What the page draws is what the API returns, on the annotated and a propagated slice.
  for (const z of [SLICE, SLICE + 1]) {
    await goToSlice(page, z);
    const o = await overlayAgainstMask(page, z);
    check(`slice ${z}: every voxel's overlay pixel matches the returned mask`, o.shownSlice === z && o.wrong === 0 && o.red === o.masked && o.masked > 0, JSON.stringify(o));
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'e2e-viewer.png'), fullPage: true });
  console.log(`screenshot: ${join(ARTIFACTS, 'e2e-viewer.png')}`);

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
  const exported = parseNifti(readFileSync((await download.path())!), 'export');
  const exportedData = exported.data as Uint8Array;
  check(
    'the exported NIfTI has the volume geometry and exactly the returned mask',
    exported.dims.join() === truth.dims.join() && exportedData.length === result.volume.length && exportedData.every((x, i) => x === result.volume[i]),
    `${exportedData.reduce((a, b) => a + b, 0)} voxels`,
  );

  // The session's history holds two steps here: the propagation, then the slice mask.
  await page.click('#undo');
  await waitFor(page, 'undo', (s) => s.status === 'ready' && !s.busy, 60_000);
  const firstUndo = await page.evaluate(() => window.__mem3d.segmenter!.states().map((s) => s.source));
  check(`the first undo takes the propagation back: slice ${SLICE} annotated, the others empty`, firstUndo.every((x, z) => x === (z === SLICE ? 'annotated' : 'empty')), firstUndo.join());
  await page.click('#undo');
  await waitFor(page, 'undo', (s) => s.status === 'ready' && !s.busy, 60_000);
  const undone = await page.evaluate(() => {
    const seg = window.__mem3d.segmenter!;
    return { voxels: seg.mask().reduce((a, b) => a + b, 0), sources: seg.states().map((s) => s.source) };
  });
  const oUndo = await overlayAgainstMask(page, FIRST + 1);
  check('undo empties the mask and the states; no overlay left', undone.voxels === 0 && undone.sources.every((s) => s === 'empty') && oUndo.red === 0, JSON.stringify(undone));

  await page.reload();
  await waitFor(page, 'reloading', (s) => s.status === 'ready' && s.segmentable, 5 * 60_000);
  const cached = await page.evaluate(() => window.__mem3d.weights?.cachedFiles ?? 0);
  check('a reload takes the weights from the Cache Storage', cached >= 2, `${cached} files from the cache`);
}

async function main(): Promise<number> {
  await buildWeb();
  const server = await serveWeb({ port: 0 });
  let browser: Browser | null = null;
  const pageErrors: string[] = [];
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
    console.log(`browser: Chromium ${browser.version()} (headless, WebGPU on SwiftShader), page ${serverUrl(server)}${QUERY}`);
    const page = await browser.newPage({ acceptDownloads: true });
    page.on('pageerror', (e) => {
      pageErrors.push(e.message);
      console.error(`page error: ${e.stack ?? e.message}`);
    });
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') console.error(`page console.${m.type()}: ${m.text()}`);
    });
    await run(page, serverUrl(server));
  } catch (e) {
    check('end-to-end run completes', false, (e as Error).message);
  } finally {
    await browser?.close();
    server.close();
  }
  for (const e of pageErrors) check('no uncaught page error', false, e);
  return checklist.finish();
}

setTimeout(() => {
  console.error(`e2e: no result ${TIMEOUT_MS / 1000} s after start, giving up`);
  process.exit(1);
}, TIMEOUT_MS).unref();

process.exitCode = await main();
