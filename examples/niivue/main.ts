// A NiiVue page segmenting through the embedding API (web/embed.ts): NiiVue draws and
// handles the mouse; the segmenter takes NiiVue's parsed volume as is, clicks (not drags
// or the wheel, which move NiiVue's crosshair too) as world mm (pointFromWorld) and hands
// back masks in NIfTI voxel order, which is the order of a NiiVue overlay's voxels. No
// coordinate or layout code of its own.
// Built by `npm run build:web` into dist/web/niivue.html; `npm run serve`, then open
// http://127.0.0.1:8080/niivue.html (?crop=N as in the viewer).
import { Niivue, NVImage } from '@niivue/niivue';
import { createSegmenter, createVolume, type Segmenter, type VoxelPoint } from '../../web/embed.ts';

const $ = (id: string) => document.getElementById(id)!;
const params = new URLSearchParams(location.search);
const IMAGE = params.get('url') ?? 'examples/phantom/image.nii.gz';

/** What the page publishes for its browser test. */
export interface NiivueExampleState {
  status: 'starting' | 'ready' | 'busy' | 'error';
  message: string;
  nv?: Niivue;
  segmenter?: Segmenter;
  overlay?: NVImage;
  /** Copies the segmenter's mask into the overlay (the test calls it after setSliceMask). */
  showMask?: () => void;
  /** The points clicked so far on `slice`. */
  slice: number | null;
  points: VoxelPoint[];
}
declare global {
  interface Window {
    __niivueExample: NiivueExampleState;
  }
}
const ui: NiivueExampleState = { status: 'starting', message: '', slice: null, points: [] };
window.__niivueExample = ui;

function say(message: string, status: NiivueExampleState['status'] = ui.status): void {
  ui.status = status;
  ui.message = message;
  $('status').textContent = message;
}

async function main(): Promise<void> {
  // Clicks land on voxel centres: the crosshair never sits on a boundary between two slices.
  const nv = new Niivue({ dragAndDropEnabled: false, show3Dcrosshair: false, isRadiologicalConvention: true, isForceMouseClickToVoxelCenters: true });
  ui.nv = nv;
  await nv.attachToCanvas($('gl') as HTMLCanvasElement);
  await nv.loadVolumes([{ url: IMAGE }]);
  nv.setSliceType(nv.sliceTypeAxial);
  const image = nv.volumes[0];
  say('Loading the networks…');
  const seg = await createSegmenter({ weightsBaseUrl: new URL('weights/', location.href).href, cropSize: Number(params.get('crop') ?? 512) });
  ui.segmenter = seg;

  // NiiVue's parsed volume, handed over as is: voxels in file order, dims, affine, scaling.
  const hdr = image.hdr!;
  seg.loadVolume(createVolume({
    dims: [hdr.dims[1], hdr.dims[2], hdr.dims[3]],
    data: image.img as Uint8Array,
    affine: hdr.affine as unknown as Parameters<typeof createVolume>[0]['affine'],
    slope: hdr.scl_slope || 1,
    inter: hdr.scl_inter || 0,
    source: image.name,
  }), { name: image.name });

  // The mask overlay: a copy of the image's grid whose voxels are the segmenter's mask.
  const overlay = nv.cloneVolume(0);
  overlay.img = new (image.img!.constructor as Uint8ArrayConstructor)(image.img!.length);
  // The clone keeps the image's scaling, which NiiVue applies to overlays too: a CT's intercept
  // of -1024 would put the 0/1 mask below cal_min, invisible.
  overlay.hdr!.scl_slope = 1;
  overlay.hdr!.scl_inter = 0;
  overlay.colormap = 'red';
  overlay.opacity = 0.5;
  overlay.cal_min = 0;
  overlay.cal_max = 1;
  nv.addVolume(overlay);
  ui.overlay = overlay;
  const showMask = () => {
    overlay.img!.set(seg.mask());
    nv.updateGLVolume();
  };
  // During a propagation: at most one whole-volume copy and upload per frame.
  let frame = 0;
  const showMaskSoon = () => {
    if (!frame) frame = requestAnimationFrame(() => ((frame = 0), showMask()));
  };

  // A point is a click: NiiVue also moves the crosshair (onLocationChange) while the mouse
  // drags and when the wheel scrolls, which must not add points.
  let crosshair: ArrayLike<number> | null = null;
  nv.onLocationChange = (l: unknown) => {
    crosshair = (l as { mm: ArrayLike<number> }).mm;
  };
  let down: { x: number; y: number } | null = null;
  const canvas = $('gl');
  canvas.addEventListener('pointerdown', (e) => (down = { x: e.clientX, y: e.clientY }));
  canvas.addEventListener('click', (e) => {
    const still = down && Math.hypot(e.clientX - down.x, e.clientY - down.y) <= 3;
    down = null;
    if (!still || !crosshair || ui.status !== 'ready') return;
    const hit = seg.pointFromWorld(crosshair);
    if (!hit) return;
    if (hit.slice !== ui.slice) [ui.slice, ui.points] = [hit.slice, []];
    ui.points = [...ui.points, hit.point].slice(-4);
    say(`Slice ${hit.slice}: ${ui.points.length} of 4 extreme points (${ui.points.map((p) => `(${p[0]}, ${p[1]})`).join(' ')})${ui.points.length === 4 ? ' — press Segment' : ''}`);
    ($('segment') as HTMLButtonElement).disabled = ui.points.length !== 4;
  });

  const button = $('segment') as HTMLButtonElement;
  button.addEventListener('click', async () => {
    if (ui.status !== 'ready' || ui.slice === null || ui.points.length !== 4) return;
    const [z, points] = [ui.slice, ui.points];
    ui.points = [];
    button.disabled = true;
    say(`Segmenting slice ${z}…`, 'busy');
    try {
      await seg.annotate(z, points);
      showMask();
      await seg.propagate({ onProgress: (p) => { say(`Propagating: ${p.done} of ${p.total} steps`, 'busy'); showMaskSoon(); } });
      showMask();
      say('Segmented and propagated. Click four new points to correct a slice.', 'ready');
    } catch (e) {
      // The page stays usable: a lost device is replaced (masks and the pending propagation are kept), anything else said.
      if ((e as Error).name !== 'DeviceLostError') return say(`Error: ${(e as Error).message}. Click four points to try again.`, 'ready');
      say('The GPU device was lost: reconnecting…', 'busy');
      try {
        await seg.recover();
        say('Reconnected: your masks are kept. Click four points to go on.', 'ready');
      } catch (again) {
        say(`Error: ${(again as Error).message}`, 'error');
      }
    }
  });
  ui.showMask = showMask;
  say('Ready: click the object\'s four extreme points on one slice (NiiVue moves the crosshair there), then Segment.', 'ready');
}

main().catch((e) => say(`Error: ${(e as Error).message}`, 'error'));
