import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { intensityToUint8, roundHalfEven, sliceToUint8, type IntensityMapping } from '../src/volume/intensity.ts';
import { transposeImage } from '../src/volume/layout.ts';
import { anatomicalAxes, getSlice, getSliceTransposed, resolveAxis, setSlice, sliceShape } from '../src/volume/slice.ts';
import { volumeStack } from '../src/session/volume-stack.ts';
import { createVolume, maskLike, type Affine, type Volume, type VoxelArray } from '../src/volume/volume.ts';

/** 2x3x4, voxel (x, y, z) = 100x + 10y + z: every value tells where it came from. */
function coded(affine?: Affine) {
  const data = new Int16Array(24);
  for (let z = 0; z < 4; z++) for (let y = 0; y < 3; y++) for (let x = 0; x < 2; x++) data[x + 2 * (y + 3 * z)] = 100 * x + 10 * y + z;
  return createVolume({ dims: [2, 3, 4], data, affine, source: 'coded' });
}

test('slices along each axis: rows follow the lower remaining axis, columns the higher', () => {
  const v = coded();
  const x1 = getSlice(v, 0, 1);
  assert.equal([x1.height, x1.width], [3, 4]);
  assert.equal(Array.from(x1.data), [100, 101, 102, 103, 110, 111, 112, 113, 120, 121, 122, 123]);
  const y2 = getSlice(v, 1, 2);
  assert.equal([y2.height, y2.width], [2, 4]);
  assert.equal(Array.from(y2.data), [20, 21, 22, 23, 120, 121, 122, 123]);
  const z3 = getSlice(v, 2, 3);
  assert.equal([z3.height, z3.width], [2, 3]);
  assert.equal(Array.from(z3.data), [3, 13, 23, 103, 113, 123]);
  assert.equal(sliceShape(v, 'axial'), { axis: 2, count: 4, width: 3, height: 2 });
  assert.equal(sliceShape(v, 'sagittal'), { axis: 0, count: 2, width: 4, height: 3 });
  assert.equal(Array.from(getSlice(v, 'coronal', 2).data), Array.from(y2.data));
});

test('slice values are scaled (raw * slope + inter) into f32, f64 or u8 outputs', () => {
  const v = createVolume({ dims: [2, 1, 2], data: new Int16Array([1, -2, 300, 4]), slope: 0.5, inter: -1, source: 's' });
  assert.equal(Array.from(getSlice(v, 2, 1).data), [149, 1]);
  const f64 = getSlice(v, 1, 0, new Float64Array(4));
  assert.instance(f64.data, Float64Array);
  assert.equal(Array.from(f64.data), [-0.5, 149, -2, 1]);
  // Typed-array conversion: truncation toward 0, then modulo 256.
  assert.equal(Array.from(getSlice(v, 2, 0, new Uint8Array(2)).data), [0, 254]);
});

test('getSliceTransposed: each axis, hand-checked and as the transpose of getSlice, scaled into f32, f64 and u8', () => {
  const v = coded();
  const z3 = getSliceTransposed(v, 2, 3);
  assert.equal([z3.height, z3.width], [3, 2], 'rows follow y, columns x');
  assert.equal(Array.from(z3.data), [3, 103, 13, 113, 23, 123]);
  assert.throws(() => getSliceTransposed(v, 2, 3, new Float32Array(5)), /getSliceTransposed coded: a 3x2 slice needs 6 values, the output holds 5/);
  // 37 x 70 x 3 with slope and intercept: odd sides past transposeImage's 32-wide blocks.
  const dims = [37, 70, 3] as const;
  // Unscaled too: rows contiguous in the volume are copied by the typed arrays (negative values wrap into u8 as assigned).
  const values = Int16Array.from({ length: 37 * 70 * 3 }, (_, i) => (i * 7919) % 1000 - 500);
  const big = createVolume({ dims: [...dims], data: values, slope: 0.5, inter: 3, source: 'big' });
  for (const volume of [big, createVolume({ dims: [...dims], data: values, source: 'unscaled' })]) {
    for (const axis of [0, 1, 2] as const) {
      const { width, height, count } = sliceShape(volume, axis);
      for (const index of [0, count - 1]) {
        const s = getSlice(volume, axis, index, new Float64Array(width * height));
        const t = getSliceTransposed(volume, axis, index, new Float64Array(width * height));
        assert.equal([t.width, t.height], [height, width]);
        const naive = new Float64Array(width * height);
        for (let r = 0; r < height; r++) for (let c = 0; c < width; c++) naive[c * height + r] = s.data[r * width + c];
        assert.equal(Array.from(t.data), Array.from(naive), `${volume.source} axis ${axis} slice ${index}`);
        assert.equal(Array.from(getSliceTransposed(volume, axis, index).data), Array.from(Float32Array.from(naive)), 'f32');
        const u8 = getSlice(volume, axis, index, new Uint8Array(width * height));
        assert.equal(Array.from(getSliceTransposed(volume, axis, index, new Uint8Array(width * height)).data), Array.from(transposeImage(u8.data, width, height)), 'u8');
        const minmax = { kind: 'minmax' } as const;
        assert.equal(sliceToUint8(volume, axis, index, minmax, true), { width: height, height: width, data: transposeImage(sliceToUint8(volume, axis, index, minmax).data, width, height) });
      }
    }
  }
  for (const mapping of ['raw', { kind: 'minmax' }] as const) {
    const stack = volumeStack(big, 'axial', mapping);
    assert.equal(Array.from(stack.sliceTransposed!(1)), Array.from(transposeImage(stack.slice(1), stack.width, stack.height)), `volumeStack ${JSON.stringify(mapping)}`);
  }
});

test('transposeImage: the transpose at sides on and off its block size, f32 and u8', () => {
  for (const [w, h] of [[1, 1], [1, 65], [65, 1], [32, 32], [33, 31], [70, 37]]) {
    const data = Float32Array.from({ length: w * h }, (_, i) => i * 1.5);
    const t = transposeImage(data, w, h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (t[x * h + y] !== data[y * w + x]) assert.unreachable(`${w}x${h}: (${y}, ${x})`);
    assert.instance(t, Float32Array);
    const bytes = Uint8Array.from({ length: w * h }, (_, i) => (i * 13) % 256);
    const u8 = transposeImage(bytes, w, h);
    assert.instance(u8, Uint8Array);
    assert.equal(Array.from(transposeImage(u8, h, w)), Array.from(bytes), `${w}x${h} twice is the identity`);
  }
  assert.throws(() => transposeImage(new Float32Array(6), 4, 2), /6 values for 4x2/);
});

test('anatomical names follow the affine: identity, slice-first (KiTS-like) and oblique volumes', () => {
  assert.equal(anatomicalAxes([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]), { sagittal: 0, coronal: 1, axial: 2 });
  const kits: Affine = [[0, 0, -0.78, 0], [0, -0.78, 0, 0], [-5, 0, 0, 0], [0, 0, 0, 1]];
  assert.equal(anatomicalAxes(kits), { axial: 0, coronal: 1, sagittal: 2 });
  const v = coded(kits);
  assert.is(resolveAxis(v, 'axial'), 0);
  assert.equal(Array.from(getSlice(v, 'axial', 1).data), Array.from(getSlice(v, 0, 1).data));
  // Rotated 30 degrees about world z, with unequal voxel sizes: the nearest axis still wins.
  const c = Math.cos(Math.PI / 6), s = Math.sin(Math.PI / 6);
  assert.equal(anatomicalAxes([[0, 0.3 * c, -4 * s, 0], [0, 0.3 * s, 4 * c, 0], [2, 0, 0, 0], [0, 0, 0, 1]]), { sagittal: 1, coronal: 2, axial: 0 });
  assert.throws(() => resolveAxis(v, 'transverse' as 'axial'), /'sagittal', 'coronal' or 'axial'/);
});

test('setSlice writes masks along each axis; getSlice reads the same values back', () => {
  const mask = maskLike(coded());
  const values = { 0: [1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0], 1: [1, 1, 0, 0, 0, 1, 1, 0], 2: [0, 1, 1, 1, 0, 1] };
  for (const axis of [0, 1, 2] as const) {
    const index = sliceShape(mask, axis).count - 1;
    setSlice(mask, axis, index, values[axis]);
    assert.equal(Array.from(getSlice(mask, axis, index, new Uint8Array(values[axis].length)).data), values[axis], `axis ${axis}`);
  }
  // Spot checks against the index formula: x-slice 1, row y = 0, column z = 2 -> voxel (1, 0, 2).
  assert.is(mask.data[1 + 2 * (0 + 3 * 2)], 1);
  // z-slice 3, row x = 1, column y = 0 -> voxel (1, 0, 3) = 1.
  assert.is(mask.data[1 + 2 * (0 + 3 * 3)], 1);
  assert.throws(() => setSlice(mask, 2, 4, values[2]), /setSlice mask of coded: slice 4 is outside 0\.\.3 along axis 2/);
  assert.throws(() => setSlice(mask, 'axial', 0, [1, 2]), /2x3 slice needs 6 values, got 2/);
  assert.throws(() => getSlice(mask, 0, 0.5), /slice 0\.5 is outside/);
  const scaled = createVolume({ dims: [1, 1, 1], data: new Int16Array(1), slope: 2, source: 'ct' });
  assert.throws(() => setSlice(scaled, 2, 0, [1]), /setSlice ct: the volume is scaled/);
});

test('round half to even, as np.rint', () => {
  const cases = [[0.5, 0], [1.5, 2], [2.5, 2], [3.5, 4], [127.5, 128], [128.5, 128], [254.5, 254], [0.49999999, 0], [2.5000001, 3], [-0.5, -0], [-1.5, -2]];
  for (const [v, r] of cases) assert.is(roundHalfEven(v) + 0, r + 0, `rint(${v})`);
});

test('per-slice min-max to 8-bit as the seed: hand-computed values, ties to even, constant slice all 0', () => {
  // min 0, max 510: 255 * (x / 510) = x / 2, so odd x lands exactly on a half.
  const x = [0, 1, 3, 5, 7, 255, 256, 509, 510];
  assert.equal(Array.from(intensityToUint8(x)), [0, 0, 2, 2, 4, 128, 128, 254, 255]);
  // min -1000, max 1000: 255 * (x + 1000) / 2000.
  assert.equal(Array.from(intensityToUint8([-1000, 1000, 0, -500, 24])), [0, 255, 128, 64, 131]);
  assert.equal(Array.from(intensityToUint8([7, 7, 7])), [0, 0, 0]);
  assert.equal(Array.from(intensityToUint8([NaN, 2, 4])), [0, 0, 255]);
  // Infinities take no part in the range (one would blank the slice) and map to its ends; with a clip, clipped values (8 here) are in it.
  assert.equal(Array.from(intensityToUint8([Infinity, 2, 3, 4, -Infinity])), [255, 0, 128, 255, 0]);
  assert.equal(Array.from(intensityToUint8([Infinity, 2, 4], { kind: 'minmax', clip: [0, 8] })), [255, 0, 85]);
  // images_nii2png_z-score.py: clip to [-79, 304] first, then min-max of the clipped slice.
  assert.equal(Array.from(intensityToUint8([-1000, -79, 112.5, 304, 3000], { kind: 'minmax', clip: [-79, 304] })), [0, 0, 128, 255, 255]);
  assert.equal(Array.from(intensityToUint8([0, 50, 100], { kind: 'minmax', clip: [-79, 304] })), [0, 128, 255]);
});

test('CT window (level/width) to 8-bit; bad windows are refused', () => {
  // level 40, width 400: [-160, 240] -> 0..255, 255 * (x + 160) / 400.
  assert.equal(Array.from(intensityToUint8([-1000, -160, 40, 240, 3000, 0, 100], { kind: 'window', level: 40, width: 400 })), [0, 0, 128, 255, 255, 102, 166]);
  assert.equal(Array.from(intensityToUint8([5, 5], { kind: 'window', level: 0, width: 20 })), [191, 191]);
  assert.throws(() => intensityToUint8([1], { kind: 'window', level: 0, width: 0 }), /width > 0/);
  assert.throws(() => intensityToUint8([1], { kind: 'minmax', clip: [5, 1] }), /low <= high/);
});

test('sliceToUint8 works per slice on scaled volumes, in float64', () => {
  // z = 0: raw [0, 1, 5, 1021] * 0.5 - 1024 = [-1024, -1023.5, -1021.5, -513.5]; z = 1 constant.
  const v = createVolume({ dims: [2, 2, 2], data: new Int16Array([0, 1, 5, 1021, 9, 9, 9, 9]), slope: 0.5, inter: -1024, source: 'ct' });
  const s0 = sliceToUint8(v, 2, 0);
  assert.equal([s0.height, s0.width], [2, 2]);
  // 255 * (x + 1024) / 510.5 in slice layout (rows x, columns y): [(0,0), (0,1), (1,0), (1,1)].
  assert.equal(Array.from(s0.data), [0, 1, 0, 255]);
  assert.equal(Array.from(sliceToUint8(v, 2, 1).data), [0, 0, 0, 0]);
  // x = 1, rows y, columns z: [-1023.5, -1019.5, -513.5, -1019.5] in the window [-1025, -975].
  assert.equal(Array.from(sliceToUint8(v, 0, 1, { kind: 'window', level: -1000, width: 50 }).data), [8, 28, 255, 28]);
});

test('sliceToUint8 on integer volumes (a table of stored values) gives the float64 path\'s bytes: every type, scaling, clip, window, axis and layout', () => {
  // The float64 path, written out: getSlice's real values, then intensityToUint8.
  const expected = (v: Volume, axis: 0 | 1 | 2, k: number, m: IntensityMapping, transposed: boolean) => {
    const { width, height } = sliceShape(v, axis);
    const s = (transposed ? getSliceTransposed : getSlice)(v, axis, k, new Float64Array(width * height));
    return { width: s.width, height: s.height, data: intensityToUint8(s.data, m) };
  };
  const dims = [37, 33, 5] as const;
  const count = dims[0] * dims[1] * dims[2];
  // Values spread over each type's range (a fixed pattern), one slice per volume made constant.
  const filled = <T extends VoxelArray>(make: (n: number) => T, lo: number, span: number): T => {
    const d = make(count);
    for (let i = 0; i < count; i++) d[i] = lo + ((i * 7919) % span);
    d.fill(lo + 3, 2 * dims[0] * dims[1], 3 * dims[0] * dims[1]); // axial slice 2
    return d;
  };
  const arrays: [string, VoxelArray][] = [
    ['uint8', filled((n) => new Uint8Array(n), 0, 256)],
    ['int8', filled((n) => new Int8Array(n), -128, 256)],
    ['int16 CT', filled((n) => new Int16Array(n), -1024, 3000)],
    ['uint16', filled((n) => new Uint16Array(n), 0, 65536)],
    ['int32, a wide range (the float64 path)', filled((n) => new Int32Array(n), -5_000_000, 10_000_000)],
    ['int32, a narrow one', filled((n) => new Int32Array(n), 100_000, 700)],
    // A slice's min and max each at one voxel: the first and the last of the volume, on the first and last slices of every axis.
    ['int16, lone extremes', ((d) => ((d[0] = -500), (d[count - 1] = 700), d))(filled((n) => new Int16Array(n), 0, 50))],
  ];
  const scalings = [[1, 0], [0.5, -1024], [-2.5, 7], [1e-3, 0.1]];
  const mappings: IntensityMapping[] = [
    { kind: 'minmax' },
    { kind: 'minmax', clip: [-79, 304] },
    { kind: 'minmax', clip: [1e6, 2e6] }, // every value clipped to one: all 0
    { kind: 'window', level: 40, width: 400 },
    { kind: 'window', level: -0.3, width: 1.7 },
  ];
  let compared = 0;
  for (const [type, data] of arrays) {
    for (const [slope, inter] of scalings) {
      const v = createVolume({ dims: [...dims], data, slope, inter, source: type });
      for (const axis of [0, 1, 2] as const) {
        for (const k of [0, 2, sliceShape(v, axis).count - 1]) {
          for (const m of mappings) {
            for (const transposed of [false, true]) {
              const got = sliceToUint8(v, axis, k, m, transposed);
              const want = expected(v, axis, k, m, transposed);
              assert.equal([got.width, got.height], [want.width, want.height]);
              if (!got.data.every((b, i) => b === want.data[i])) assert.unreachable(`${type} *${slope} +${inter} axis ${axis} slice ${k} ${JSON.stringify(m)} transposed ${transposed}`);
              compared++;
            }
          }
        }
      }
    }
  }
  assert.is(compared, arrays.length * scalings.length * 3 * 3 * mappings.length * 2);
  // A float volume takes the float64 path and gives the same bytes as an integer volume of the same values.
  const f32 = createVolume({ dims: [...dims], data: Float32Array.from(arrays[2][1]), source: 'f32' });
  const i16 = createVolume({ dims: [...dims], data: arrays[2][1], source: 'i16' });
  assert.equal(Array.from(sliceToUint8(f32, 2, 1).data), Array.from(sliceToUint8(i16, 2, 1).data));
});

test.run();
