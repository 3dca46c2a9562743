// The web viewer: wires the page's controls to the embedding API (../embed.ts).
// Volumes can be opened and browsed while the networks load (and without WebGPU);
// segmenting needs both. URL options: ?crop=N (2D network crop side, default 512),
// ?slices=a-b (session limited to those slices), ?phantom (open the bundled phantom),
// ?memory=synth-v1 (the untrained small memory network: a quick pipeline check).
//
// Several structures: the list on the side picks the active one (what Segment, the
// brush, the eraser and Accept act on) and hides or shows each. A brush or eraser
// stroke edits the active structure's mask of the current slice; when the mouse comes
// up the slice becomes that structure's hand-corrected annotation (setSliceMask), one
// undoable step. Undo and redo are the session's own history.
//
// The page's modules: app.ts (the shared state and the status line), labels.ts (the
// session's masks and states as the page shows them), render.ts (drawing, zoom, slice
// and window), volumes.ts (opening a volume), steps.ts (the session's steps and edits),
// input.ts (tools, mouse, keyboard, controls); this file starts the page.
import { createSegmenter } from '../embed.ts';
import { $, app, fail, params, say, ui } from './app.ts';
import { wireCanvas, wireControls, wireKeyboard } from './input.ts';
import { userMessage } from './messages.ts';
import { render } from './render.ts';
import { showAdapter } from './steps.ts';
import { attachSession, loadPhantom } from './volumes.ts';

function noWebGpu(text: string, details: string): void {
  const gpu = $('gpu');
  gpu.textContent = text;
  gpu.className = 'error';
  $('phantom').textContent = 'View the bundled phantom';
  $('wtext').textContent = 'Networks: not available in this browser';
  $('wprog').hidden = true;
  say('Segmentation is not available here; volumes can still be opened and viewed.', 'no-webgpu', 'warn', details);
  render();
}

async function main(): Promise<void> {
  wireControls();
  wireCanvas();
  wireKeyboard();
  render();
  const phantomNow = params.has('phantom') ? loadPhantom() : null;
  if (!('gpu' in navigator) || !navigator.gpu) {
    noWebGpu('This browser cannot run the segmentation networks: WebGPU is not available. Use a recent Chrome or Edge (or Firefox/Safari with WebGPU turned on).',
      'navigator.gpu is missing. WebGPU also needs a secure context: https, or http on localhost.');
    await phantomNow;
    return;
  }
  if (!app.vol) say('Loading the networks… you can open a volume meanwhile.', 'loading-weights');
  else ui.status = 'loading-weights';
  const bar = $<HTMLProgressElement>('wprog');
  let cachedFiles = 0;
  try {
    app.seg = await createSegmenter({
      weightsBaseUrl: new URL('weights/', location.href).href,
      cropSize: Number(params.get('crop') ?? 512),
      // ?memory=synth-v1: the untrained small memory network, for checking the pipeline quickly.
      memoryWeights: params.get('memory') === 'synth-v1' ? 'synth-v1' : 'qamn-phantom',
      onProgress: (p) => {
        bar.max = Math.max(p.total, 1);
        bar.value = p.loaded;
        cachedFiles = Math.max(cachedFiles, p.cached);
        $('wtext').textContent = `Networks (${p.stage}): ${(p.loaded / 1e6).toFixed(1)} of ${(p.total / 1e6).toFixed(1)} MB${p.cached ? `, ${p.cached} file(s) from the browser cache` : ''}`;
      },
    });
  } catch (e) {
    await phantomNow;
    if ((e as Error).name === 'NoAdapterError') return noWebGpu(userMessage(e, '').text, (e as Error).message);
    fail(e, 'Loading the networks', 'error');
    return;
  }
  ui.segmenter = app.seg;
  ui.weights = { cachedFiles };
  showAdapter();
  $('wtext').textContent += ' (loaded)';
  const note = $('weightsnote');
  note.hidden = false;
  note.textContent = app.seg.memoryWeightsSynthetic
    ? 'The memory network (propagation and quality) runs with synthetic, untrained weights: propagated masks only show the pipeline working. The 2D network was trained on synthetic phantoms.'
    : 'Both networks were trained on synthetic phantoms: they are for trying the viewer on phantoms. Real CT needs converted Mem3D weights.';
  await phantomNow;
  if (app.vol) attachSession();
  else say('Ready: open a NIfTI volume or the bundled phantom.', 'ready');
}

void main();
