// The NIfTI-1 header (nifti1.h): 348 bytes, one table of (field, kind, offset) that
// both the reader and the writer walk, so they cannot disagree about the layout.
// Field names are nifti1.h's. Browser-safe.

import { diagonalAffine, type Affine, type Vec3, type VoxelType } from './geometry.ts';

export interface NiftiHeader {
  readonly data_type: string;
  readonly db_name: string;
  readonly extents: number;
  readonly session_error: number;
  readonly regular: number;
  readonly dim_info: number;
  /** dim[0] = number of dimensions, dim[1..] = sizes */
  readonly dim: readonly number[];
  readonly intent_p1: number;
  readonly intent_p2: number;
  readonly intent_p3: number;
  readonly intent_code: number;
  readonly datatype: number;
  readonly bitpix: number;
  readonly slice_start: number;
  /** pixdim[0] = qfac (the sign of the qform's third axis), pixdim[1..3] = voxel size */
  readonly pixdim: readonly number[];
  readonly vox_offset: number;
  readonly scl_slope: number;
  readonly scl_inter: number;
  readonly slice_end: number;
  readonly slice_code: number;
  readonly xyzt_units: number;
  readonly cal_max: number;
  readonly cal_min: number;
  readonly slice_duration: number;
  readonly toffset: number;
  readonly glmax: number;
  readonly glmin: number;
  readonly descrip: string;
  readonly aux_file: string;
  readonly qform_code: number;
  readonly sform_code: number;
  readonly quatern_b: number;
  readonly quatern_c: number;
  readonly quatern_d: number;
  readonly qoffset_x: number;
  readonly qoffset_y: number;
  readonly qoffset_z: number;
  readonly srow_x: readonly number[];
  readonly srow_y: readonly number[];
  readonly srow_z: readonly number[];
  readonly intent_name: string;
  /** 'n+1' for a single .nii file, 'ni1' for a .hdr/.img pair */
  readonly magic: string;
}

export const HEADER_SIZE = 348;
/** header plus the 4-byte extension flag: where a file without extensions puts its voxels */
export const DATA_OFFSET = 352;

type Kind = 'u8' | 'i16' | 'i32' | 'f32' | 'chars';
const KIND_BYTES: Readonly<Record<Kind, number>> = { u8: 1, i16: 2, i32: 4, f32: 4, chars: 1 };

/** [field, kind, byte offset, count (array length, or string bytes)] */
const LAYOUT: readonly (readonly [keyof NiftiHeader, Kind, number, number?])[] = [
  ['data_type', 'chars', 4, 10], ['db_name', 'chars', 14, 18], ['extents', 'i32', 32], ['session_error', 'i16', 36],
  ['regular', 'u8', 38], ['dim_info', 'u8', 39], ['dim', 'i16', 40, 8], ['intent_p1', 'f32', 56],
  ['intent_p2', 'f32', 60], ['intent_p3', 'f32', 64], ['intent_code', 'i16', 68], ['datatype', 'i16', 70],
  ['bitpix', 'i16', 72], ['slice_start', 'i16', 74], ['pixdim', 'f32', 76, 8], ['vox_offset', 'f32', 108],
  ['scl_slope', 'f32', 112], ['scl_inter', 'f32', 116], ['slice_end', 'i16', 120], ['slice_code', 'u8', 122],
  ['xyzt_units', 'u8', 123], ['cal_max', 'f32', 124], ['cal_min', 'f32', 128], ['slice_duration', 'f32', 132],
  ['toffset', 'f32', 136], ['glmax', 'i32', 140], ['glmin', 'i32', 144], ['descrip', 'chars', 148, 80],
  ['aux_file', 'chars', 228, 24], ['qform_code', 'i16', 252], ['sform_code', 'i16', 254], ['quatern_b', 'f32', 256],
  ['quatern_c', 'f32', 260], ['quatern_d', 'f32', 264], ['qoffset_x', 'f32', 268], ['qoffset_y', 'f32', 272],
  ['qoffset_z', 'f32', 276], ['srow_x', 'f32', 280, 4], ['srow_y', 'f32', 296, 4], ['srow_z', 'f32', 312, 4],
  ['intent_name', 'chars', 328, 16], ['magic', 'chars', 344, 4],
];

function readNumber(view: DataView, kind: Kind, offset: number, le: boolean): number {
  switch (kind) {
    case 'u8': return view.getUint8(offset);
    case 'i16': return view.getInt16(offset, le);
    case 'i32': return view.getInt32(offset, le);
    default: return view.getFloat32(offset, le);
  }
}

function writeNumber(view: DataView, kind: Kind, offset: number, value: number): void {
  switch (kind) {
    case 'u8': view.setUint8(offset, value); break;
    case 'i16': view.setInt16(offset, value, true); break;
    case 'i32': view.setInt32(offset, value, true); break;
    default: view.setFloat32(offset, value, true);
  }
}

/** Reads every field; `view` starts at the header's first byte and holds at least 348 bytes. */
export function readHeaderFields(view: DataView, littleEndian: boolean): NiftiHeader {
  const h: Record<string, unknown> = {};
  for (const [key, kind, offset, count] of LAYOUT) {
    if (kind === 'chars') {
      let s = '';
      for (let i = 0; i < count!; i++) {
        const c = view.getUint8(offset + i);
        if (c === 0) break;
        s += String.fromCharCode(c);
      }
      h[key] = s;
    } else if (count === undefined) {
      h[key] = readNumber(view, kind, offset, littleEndian);
    } else {
      h[key] = Array.from({ length: count }, (_, i) => readNumber(view, kind, offset + i * KIND_BYTES[kind], littleEndian));
    }
  }
  return h as unknown as NiftiHeader;
}

/** Writes sizeof_hdr and every field, little endian, into the first 348 bytes of `view`. */
export function writeHeaderFields(view: DataView, h: NiftiHeader): void {
  view.setInt32(0, HEADER_SIZE, true);
  for (const [key, kind, offset, count] of LAYOUT) {
    const value = h[key];
    if (kind === 'chars') {
      const s = value as string;
      // Longer strings are cut to the field, as nifti1_io does; characters past latin-1 become '?'.
      for (let i = 0; i < count!; i++) view.setUint8(offset + i, i < s.length ? (s.charCodeAt(i) > 255 ? 63 : s.charCodeAt(i)) : 0);
    } else if (count === undefined) {
      writeNumber(view, kind, offset, value as number);
    } else {
      const arr = value as readonly number[];
      if (arr.length !== count) throw new RangeError(`NIfTI header field ${key} needs ${count} values, got ${arr.length}`);
      arr.forEach((v, i) => writeNumber(view, kind, offset + i * KIND_BYTES[kind], v));
    }
  }
}

/** Datatype codes we read and write, and their typed arrays. */
export const DATATYPE_CODES: Readonly<Record<VoxelType, number>> = {
  uint8: 2, int16: 4, int32: 8, float32: 16, float64: 64, int8: 256, uint16: 512,
};

export const VOXEL_BYTES: Readonly<Record<VoxelType, number>> = {
  uint8: 1, int8: 1, int16: 2, uint16: 2, int32: 4, float32: 4, float64: 8,
};

/** The other nifti1.h codes, so an unsupported file is named precisely. */
export const OTHER_DATATYPES: Readonly<Record<number, string>> = {
  0: 'unknown', 1: 'binary', 32: 'complex64', 128: 'RGB24', 768: 'uint32', 1024: 'int64', 1280: 'uint64',
  1536: 'float128', 1792: 'complex128', 2048: 'complex256', 2304: 'RGBA32',
};

export function voxelTypeOfCode(code: number): VoxelType | undefined {
  return (Object.keys(DATATYPE_CODES) as VoxelType[]).find((t) => DATATYPE_CODES[t] === code);
}

function positiveOr1(v: number): number {
  return Number.isFinite(v) && v > 0 ? v : 1;
}

/** pixdim[1..3], with 1 where a size is missing, zero or negative. */
export function headerSpacing(h: NiftiHeader): Vec3 {
  return [positiveOr1(h.pixdim[1]), positiveOr1(h.pixdim[2]), positiveOr1(h.pixdim[3])];
}

/**
 * The qform matrix as nifti1_io's quatern_to_mat44 builds it: a = sqrt(1 - b²-c²-d²)
 * (a 180° turn when that is below 1e-7), voxel sizes <= 0 taken as 1, and the third
 * column negated when pixdim[0] (qfac) < 0.
 */
export function qformAffine(h: NiftiHeader): Affine {
  let b = h.quatern_b, c = h.quatern_c, d = h.quatern_d;
  let a = 1 - (b * b + c * c + d * d);
  if (a < 1e-7) {
    const n = 1 / Math.sqrt(b * b + c * c + d * d);
    b *= n; c *= n; d *= n;
    a = 0;
  } else {
    a = Math.sqrt(a);
  }
  const [xd, yd, zd0] = headerSpacing(h);
  const zd = h.pixdim[0] < 0 ? -zd0 : zd0;
  return [
    [(a * a + b * b - c * c - d * d) * xd, 2 * (b * c - a * d) * yd, 2 * (b * d + a * c) * zd, h.qoffset_x],
    [2 * (b * c + a * d) * xd, (a * a + c * c - b * b - d * d) * yd, 2 * (c * d - a * b) * zd, h.qoffset_y],
    [2 * (b * d - a * c) * xd, 2 * (c * d + a * b) * yd, (a * a + d * d - c * c - b * b) * zd, h.qoffset_z],
    [0, 0, 0, 1],
  ];
}

/**
 * Voxel-to-world matrix: the sform when sform_code > 0 (as nibabel's get_best_affine),
 * else the qform when qform_code > 0, else diag(pixdim) (nifti1.h's method 1).
 */
export function headerAffine(h: NiftiHeader): Affine {
  if (h.sform_code > 0) {
    const row = (r: readonly number[]) => [r[0], r[1], r[2], r[3]] as const;
    return [row(h.srow_x), row(h.srow_y), row(h.srow_z), [0, 0, 0, 1]];
  }
  if (h.qform_code > 0) return qformAffine(h);
  return diagonalAffine(headerSpacing(h));
}

/** A header with no extras for a volume that has none: its affine becomes the sform unless it is diag(spacing). */
export function defaultHeader(dims: Vec3, spacing: Vec3, affine: Affine): NiftiHeader {
  const plain = diagonalAffine(spacing).every((row, r) => row.every((v, c) => v === affine[r][c]));
  return {
    data_type: '', db_name: '', extents: 0, session_error: 0, regular: 0, dim_info: 0,
    dim: [3, dims[0], dims[1], dims[2], 1, 1, 1, 1], intent_p1: 0, intent_p2: 0, intent_p3: 0, intent_code: 0,
    datatype: DATATYPE_CODES.uint8, bitpix: 8, slice_start: 0, pixdim: [1, spacing[0], spacing[1], spacing[2], 0, 0, 0, 0],
    vox_offset: DATA_OFFSET, scl_slope: 1, scl_inter: 0, slice_end: 0, slice_code: 0, xyzt_units: 0,
    cal_max: 0, cal_min: 0, slice_duration: 0, toffset: 0, glmax: 0, glmin: 0, descrip: '', aux_file: '',
    qform_code: 0, sform_code: plain ? 0 : 2, quatern_b: 0, quatern_c: 0, quatern_d: 0, qoffset_x: 0, qoffset_y: 0, qoffset_z: 0,
    srow_x: plain ? [0, 0, 0, 0] : [...affine[0]], srow_y: plain ? [0, 0, 0, 0] : [...affine[1]],
    srow_z: plain ? [0, 0, 0, 0] : [...affine[2]], intent_name: '', magic: 'n+1',
  };
}

/** The source's geometry with the intensity fields of a label image (display range, intent, scaling) reset. */
export function maskHeader(h: NiftiHeader): NiftiHeader {
  return {
    ...h, datatype: DATATYPE_CODES.uint8, bitpix: 8, scl_slope: 1, scl_inter: 0, cal_max: 0, cal_min: 0,
    glmax: 0, glmin: 0, intent_code: 0, intent_p1: 0, intent_p2: 0, intent_p3: 0, intent_name: '', descrip: 'mem3d mask',
  };
}
