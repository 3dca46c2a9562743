// Two-structure phantoms: an abdominal CT-like volume with an organ (a kidney- or
// liver-like ellipsoid of enhanced soft tissue) and a lesion inside it, for
// multi-structure sessions, label maps and their tests. Deterministic from a seed;
// a separate generator, so phantom.ts (the shipped weights' training data and the
// bundled example) keeps its output byte for byte.
//
//   phantomOrganVolume({ seed, width = 512, height = 512, depth = 32 }): PhantomLabelVolume
//     { width, height, depth, image, labels (0 background, 1 organ without the lesion,
//       2 lesion; slice-major like PhantomVolume), spacing, structures }
//   structureMask(volume, id): the 0 / 1 mask of one label
//
// A slice: black air, a body ellipse (grey 95..135), a bright spine disc (160..240) and
// the organ on one side of it (semi-axes 55..85 by 70..100 px at 512x512, grey body +30..60).
// The organ is an ellipsoid longer than the volume in z (it tapers towards both ends
// but is on every slice: a crop of a larger organ, as a kidney or liver in a few slices).
// The lesion is the tumour model of phantom.ts scaled to the organ: 1..3 overlapping
// ellipsoids centred inside the organ, cut off at its wall, hypo- (70 %) or hyperdense
// by 35..70 grey with a sinusoidal texture, stay clear of the first and last slice when
// the volume has more than a few; Gaussian noise sigma 4..14. Sizes other than 512x512
// scale the geometry.
import { seededRandom } from '../util/seeded-random.ts';
import { checkSize, drawBody, drawSpine, gaussianStream, inside, PHANTOM_SPACING, type Ellipse, type Ellipsoid } from './phantom.ts';

export const ORGAN_LABEL = 1;
export const LESION_LABEL = 2;

export interface PhantomLabelVolume {
  width: number;
  height: number;
  depth: number;
  image: Uint8Array;
  /** 0 background, 1 organ (without the lesion), 2 lesion; index (z*H + y)*W + x. */
  labels: Uint8Array;
  spacing: { x: number; y: number; z: number };
  /** The labels' names, id order. */
  structures: readonly { id: number; name: string }[];
}

export const PHANTOM_STRUCTURES = [
  { id: ORGAN_LABEL, name: 'organ' },
  { id: LESION_LABEL, name: 'lesion' },
] as const;

/** One ellipsoid's cross-section at slice z (semi-axes shrunk by sqrt(1 - ((z - cz) / az)^2)), or null off its z range. */
function section(e: Ellipsoid, z: number, depth: number): Ellipse | null {
  if (depth === 1) return e;
  const r = 1 - ((z - e.cz) / e.az) ** 2;
  return r > 0 ? { cx: e.cx, cy: e.cy, ax: e.ax * Math.sqrt(r), ay: e.ay * Math.sqrt(r) } : null;
}

export function phantomOrganVolume(options: { seed: number; width?: number; height?: number; depth?: number }): PhantomLabelVolume {
  const { seed, width = 512, height = 512, depth = 32 } = options;
  checkSize('phantomOrganVolume', { width, height, depth });
  const random = seededRandom(seed);
  const { u, sx, sy, s, body, bodyGrey } = drawBody(random, width, height);
  const { spine, spineGrey } = drawSpine(u, body, sx, sy, s);

  const zMid = (depth - 1) / 2;
  const side = random() < 0.5 ? -1 : 1;
  const organ: Ellipsoid = {
    cx: body.cx + side * u(60, 100) * sx,
    cy: body.cy + u(-40, 10) * sy,
    ax: u(55, 85) * sx,
    ay: u(70, 100) * sy,
    cz: depth === 1 ? 0 : zMid + u(-0.1, 0.1) * depth,
    // Past both ends (max |z - cz| is 0.6 * depth - 0.5): the organ is on every slice.
    az: u(0.6, 0.9) * depth + 1,
  };
  const organGrey = bodyGrey + u(30, 60);

  // The lesion: phantom.ts's tumour model, sized to the organ, later ellipsoids centred inside the first.
  const zScale = PHANTOM_SPACING.x / PHANTOM_SPACING.z;
  const fitZ = (cz: number, az: number) => (depth === 1 ? 1 : Math.max(0.5, Math.min(az, cz - 1, depth - 2 - cz)));
  const axisAt512 = (a: number, scale: number) => a / scale;
  const first: Ellipsoid = { cx: organ.cx + u(-0.35, 0.35) * organ.ax, cy: organ.cy + u(-0.35, 0.35) * organ.ay, ax: u(0.3, 0.6) * organ.ax, ay: u(0.3, 0.6) * organ.ay, cz: depth === 1 ? 0 : zMid + u(-0.1, 0.1) * depth, az: 0 };
  first.az = fitZ(first.cz, Math.max(axisAt512(first.ax, sx), axisAt512(first.ay, sy)) * zScale);
  const lesion: Ellipsoid[] = [first];
  const extra = Math.floor(random() * 3);
  for (let k = 0; k < extra; k++) {
    const cz = depth === 1 ? 0 : first.cz + u(-0.6, 0.6) * first.az;
    const e = { cx: first.cx + u(-0.6, 0.6) * first.ax, cy: first.cy + u(-0.6, 0.6) * first.ay, ax: u(0.2, 0.5) * organ.ax, ay: u(0.2, 0.5) * organ.ay, cz, az: 0 };
    e.az = fitZ(cz, Math.max(axisAt512(e.ax, sx), axisAt512(e.ay, sy)) * zScale);
    lesion.push(e);
  }
  const lesionGrey = organGrey + (random() < 0.7 ? -1 : 1) * u(35, 70);
  const texture = { amp: u(0, 12), px: u(18, 40) * s, py: u(18, 40) * s, phx: u(0, 2 * Math.PI), phy: u(0, 2 * Math.PI), pz: u(6, 16) };
  const sigma = u(4, 14);

  const plane = width * height;
  const image = new Uint8Array(depth * plane);
  const labels = new Uint8Array(depth * plane);
  const gauss = gaussianStream(random);
  for (let z = 0; z < depth; z++) {
    const organSection = section(organ, z, depth);
    const lesionSections = lesion.map((e) => section(e, z, depth)).filter((e): e is Ellipse => e !== null);
    const phz = (2 * Math.PI * z) / texture.pz;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const [px, py] = [x + 0.5, y + 0.5];
        let v = 0;
        let label = 0;
        if (inside(body, px, py)) {
          v = bodyGrey;
          if (inside(spine, px, py)) v = spineGrey;
          if (organSection && inside(organSection, px, py)) {
            v = organGrey;
            label = ORGAN_LABEL;
            if (lesionSections.some((e) => inside(e, px, py))) {
              v = lesionGrey + texture.amp * Math.sin((2 * Math.PI * px) / texture.px + texture.phx + phz) * Math.sin((2 * Math.PI * py) / texture.py + texture.phy);
              label = LESION_LABEL;
            }
          }
        }
        const i = z * plane + y * width + x;
        image[i] = Math.min(255, Math.max(0, Math.round(v + sigma * gauss())));
        labels[i] = label;
      }
    }
  }
  return { width, height, depth, image, labels, spacing: { ...PHANTOM_SPACING }, structures: PHANTOM_STRUCTURES.map((st) => ({ ...st })) };
}

/** The 0 / 1 mask of label `id` (slice-major like the volume). */
export function structureMask(volume: { labels: Uint8Array }, id: number): Uint8Array {
  return Uint8Array.from(volume.labels, (v) => (v === id ? 1 : 0));
}
