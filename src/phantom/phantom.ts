// Synthetic lung-CT-like phantoms: the distribution the bundled IOG weights were
// trained on (weights/iog-phantom/README.md), rendered deterministically from a seed,
// for tests, benchmarks and the bundled example.
//
//   phantomSlice({ seed, width = 512, height = 512 }): PhantomSlice
//     { width, height, image: Uint8Array (H*W grey 0..255), mask: Uint8Array (0 / 1 tumour) }
//   phantomVolume({ seed, width = 512, height = 512, depth = 32 }): PhantomVolume
//     { width, height, depth, image, mask (depth*H*W, slice-major: index (z*H + y)*W + x),
//       spacing: { x, y, z } in mm }
//   volumeSlice(volume, z): PhantomSlice, one slice of a volume as its own plane
//
// A slice: black air, a body ellipse (grey 95..135), two dark lungs (20..60), a bright
// spine disc (160..240), a tumour inside one lung made of 1..3 overlapping ellipsoids
// (radius 10..60 px at 512x512, grey from body-15 up to 230, sinusoidal texture up to
// +-20; cut off at the lung's wall, so a tumour as grey as the body never runs into
// it unseen), Gaussian noise sigma 4..14, clipped and rounded to 0..255. Sizes other than
// 512x512 scale the geometry. A volume keeps the anatomy smooth along z (the lungs
// taper towards both ends) and its tumour is a union of 3D ellipsoids that overlap,
// so it covers one contiguous run of slices and stays clear of the first and last
// slice when the volume has more than a few. phantomSlice is the centre slice of a
// one-slice volume: the tumour's full cross-section.
//
// Run `npx tsx src/phantom/phantom.ts --seed 3 [--width 512 --height 512] [--depth 1] [--out dir]`
// to write phantom_<seed>[_z<z>].png and phantom_mask_<seed>[_z<z>].png (mask 0 / 255).
import { seededRandom } from '../util/seeded-random.ts';

export interface PhantomSlice {
  width: number;
  height: number;
  image: Uint8Array;
  mask: Uint8Array;
}

export interface PhantomVolume {
  width: number;
  height: number;
  depth: number;
  image: Uint8Array;
  mask: Uint8Array;
  spacing: { x: number; y: number; z: number };
}

/** Pixel and slice spacing of every phantom volume, in mm. */
export const PHANTOM_SPACING = { x: 0.8, y: 0.8, z: 2.5 } as const;

/** An axis-aligned ellipse in pixels (shared with the two-structure generator, organ.ts). */
export interface Ellipse {
  cx: number;
  cy: number;
  ax: number;
  ay: number;
}

export interface Ellipsoid extends Ellipse {
  cz: number;
  /** z semi-axis in slices */
  az: number;
}

export const inside = (e: Ellipse, x: number, y: number, scale = 1) => ((x - e.cx) / (e.ax * scale)) ** 2 + ((y - e.cy) / (e.ay * scale)) ** 2 <= 1;

export function checkSize(op: string, sizes: Record<string, number>): void {
  for (const [name, v] of Object.entries(sizes)) {
    if (!(Number.isInteger(v) && v >= 1)) throw new RangeError(`${op}: ${name} must be a positive integer, got ${v}`);
  }
}

/**
 * The generators' opening draws (this file's and organ.ts's, in this order): the scale
 * from the 512x512 reference frame the geometry is drawn on, the body outline and grey.
 */
export function drawBody(random: () => number, width: number, height: number) {
  const u = (lo: number, hi: number) => lo + (hi - lo) * random();
  const [sx, sy] = [width / 512, height / 512];
  const s = Math.min(sx, sy);
  const body: Ellipse = { cx: width / 2 + u(-8, 8) * sx, cy: height / 2 + u(-4, 12) * sy, ax: u(190, 215) * sx, ay: u(150, 175) * sy };
  const bodyGrey = u(95, 135);
  return { u, sx, sy, s, body, bodyGrey };
}

/** The spine behind the body's centre, and its grey. */
export function drawSpine(u: (lo: number, hi: number) => number, body: Ellipse, sx: number, sy: number, s: number): { spine: Ellipse; spineGrey: number } {
  const spineR = u(20, 30) * s;
  const spine: Ellipse = { cx: body.cx + u(-6, 6) * sx, cy: body.cy + Math.min(u(105, 130) * sy, body.ay - spineR - 10 * sy), ax: spineR, ay: spineR };
  return { spine, spineGrey: u(160, 240) };
}

export function phantomVolume(options: { seed: number; width?: number; height?: number; depth?: number }): PhantomVolume {
  const { seed, width = 512, height = 512, depth = 32 } = options;
  checkSize('phantomVolume', { width, height, depth });
  const random = seededRandom(seed);
  const { u, sx, sy, s, body, bodyGrey } = drawBody(random, width, height);
  const lungs = [-1, 1].map((side) => ({
    shape: { cx: body.cx + side * u(70, 90) * sx, cy: body.cy + u(-30, -10) * sy, ax: u(55, 72) * sx, ay: u(85, 110) * sy },
    grey: u(20, 60),
  }));
  const { spine, spineGrey } = drawSpine(u, body, sx, sy, s);

  // The tumour: 1..3 ellipsoids, the later ones centred inside the first so the union is connected.
  const lung = lungs[random() < 0.5 ? 0 : 1].shape;
  const zScale = PHANTOM_SPACING.x / PHANTOM_SPACING.z;
  const zMid = (depth - 1) / 2;
  const fitZ = (cz: number, az: number) => (depth === 1 ? 1 : Math.max(0.5, Math.min(az, cz - 1, depth - 2 - cz)));
  const first = { cx: lung.cx + u(-0.4, 0.4) * lung.ax, cy: lung.cy + u(-0.4, 0.4) * lung.ay, ax: u(10, 60) * s, ay: u(10, 60) * s, cz: depth === 1 ? 0 : zMid + u(-0.1, 0.1) * depth, az: 0 };
  first.az = fitZ(first.cz, u(10, 60) * zScale);
  const tumour: Ellipsoid[] = [first];
  const extra = Math.floor(random() * 3);
  for (let k = 0; k < extra; k++) {
    const cz = depth === 1 ? 0 : first.cz + u(-0.6, 0.6) * first.az;
    tumour.push({ cx: first.cx + u(-0.6, 0.6) * first.ax, cy: first.cy + u(-0.6, 0.6) * first.ay, ax: u(10, 60) * s, ay: u(10, 60) * s, cz, az: fitZ(cz, u(10, 60) * zScale) });
  }
  const tumourGrey = u(bodyGrey - 15, 230);
  const texture = { amp: u(0, 20), px: u(18, 40) * s, py: u(18, 40) * s, phx: u(0, 2 * Math.PI), phy: u(0, 2 * Math.PI), pz: u(6, 16) };
  const sigma = u(4, 14);

  const plane = width * height;
  const image = new Uint8Array(depth * plane);
  const mask = new Uint8Array(depth * plane);
  const gauss = gaussianStream(random);
  for (let z = 0; z < depth; z++) {
    // Lungs are largest mid-volume and taper smoothly (by up to 20 %) towards the ends.
    const t = depth === 1 ? 0 : (z - zMid) / Math.max(zMid, 1);
    const lungScale = 1 - 0.2 * t * t;
    const sections = tumour.map((e) => {
      const r = depth === 1 ? 1 : 1 - ((z - e.cz) / e.az) ** 2;
      return r > 0 ? { ...e, ax: e.ax * Math.sqrt(r), ay: e.ay * Math.sqrt(r) } : null;
    }).filter((e): e is Ellipsoid => e !== null);
    const phz = (2 * Math.PI * z) / texture.pz;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const [px, py] = [x + 0.5, y + 0.5];
        let v = 0;
        let fg = false;
        if (inside(body, px, py)) {
          v = bodyGrey;
          for (const l of lungs) if (inside(l.shape, px, py, lungScale)) v = l.grey;
          if (inside(spine, px, py)) v = spineGrey;
          if (inside(lung, px, py, lungScale) && sections.some((e) => inside(e, px, py))) {
            fg = true;
            v = tumourGrey + texture.amp * Math.sin((2 * Math.PI * px) / texture.px + texture.phx + phz) * Math.sin((2 * Math.PI * py) / texture.py + texture.phy);
          }
        }
        const i = z * plane + y * width + x;
        image[i] = Math.min(255, Math.max(0, Math.round(v + sigma * gauss())));
        mask[i] = fg ? 1 : 0;
      }
    }
  }
  return { width, height, depth, image, mask, spacing: { ...PHANTOM_SPACING } };
}

export function phantomSlice(options: { seed: number; width?: number; height?: number }): PhantomSlice {
  return volumeSlice(phantomVolume({ ...options, depth: 1 }), 0);
}

export function volumeSlice(volume: PhantomVolume, z: number): PhantomSlice {
  if (!(Number.isInteger(z) && z >= 0 && z < volume.depth)) throw new RangeError(`volumeSlice: slice ${z} is outside 0..${volume.depth - 1}`);
  const n = volume.width * volume.height;
  return { width: volume.width, height: volume.height, image: volume.image.slice(z * n, (z + 1) * n), mask: volume.mask.slice(z * n, (z + 1) * n) };
}

/** Standard normal samples (Box-Muller, both values used) from a uniform stream. */
export function gaussianStream(random: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const v = spare;
      spare = null;
      return v;
    }
    const r = Math.sqrt(-2 * Math.log(1 - random()));
    const a = 2 * Math.PI * random();
    spare = r * Math.sin(a);
    return r * Math.cos(a);
  };
}

async function main(): Promise<void> {
  const { parseArgs } = await import('node:util');
  const { writeFileSync, mkdirSync } = await import('node:fs');
  const { default: UPNG } = await import('upng-js');
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: '0' },
      width: { type: 'string', default: '512' },
      height: { type: 'string', default: '512' },
      depth: { type: 'string', default: '1' },
      out: { type: 'string', default: '.' },
    },
  });
  const vol = phantomVolume({ seed: Number(values.seed), width: Number(values.width), height: Number(values.height), depth: Number(values.depth) });
  mkdirSync(values.out!, { recursive: true });
  const png = (grey: Uint8Array, scale: number) => {
    const rgba = new Uint8Array(grey.length * 4);
    for (let i = 0; i < grey.length; i++) {
      rgba.fill(grey[i] * scale, 4 * i, 4 * i + 3);
      rgba[4 * i + 3] = 255;
    }
    return new Uint8Array(UPNG.encode([rgba.buffer], vol.width, vol.height, 0));
  };
  for (let z = 0; z < vol.depth; z++) {
    const slice = volumeSlice(vol, z);
    const suffix = vol.depth === 1 ? '' : `_z${z}`;
    writeFileSync(`${values.out}/phantom_${values.seed}${suffix}.png`, png(slice.image, 1));
    writeFileSync(`${values.out}/phantom_mask_${values.seed}${suffix}.png`, png(slice.mask, 255));
  }
  console.log(`wrote ${vol.depth} slice(s) of ${vol.width}x${vol.height} to ${values.out}`);
}

// Run as a script (not when imported, nor in browsers, which have no process). The
// file name is checked too: inside an esbuild bundle every module's import.meta.url
// is the bundle's, which is argv[1] when the bundle runs.
const scriptPath = typeof process !== 'undefined' ? process.argv[1] : undefined;
if (scriptPath && /phantom\.[cm]?[jt]s$/.test(scriptPath) && decodeURIComponent(new URL(import.meta.url).pathname) === scriptPath) {
  main().catch((e: unknown) => {
    console.error((e as Error).message);
    process.exit(1);
  });
}
