// NIfTI-1 single-file (.nii, .nii.gz) reading and writing, browser-safe. gzip is read
// by src/io/gzip.ts, the one path for browsers and Node (nifti-node.ts calls
// parseNifti), with the output capped by what the header declares: the first 348
// inflated bytes are the header, and inflating stops 1 MiB past the size it gives.
// Files are written little endian, without extensions, voxels at byte 352.

import { gzipSync } from 'fflate';
import { gunzip, GzipError, isGzip } from '../io/gzip.ts';
import {
  DATA_OFFSET, DATATYPE_CODES, HEADER_SIZE, OTHER_DATATYPES, VOXEL_BYTES, defaultHeader, headerAffine, headerSpacing,
  readHeaderFields, voxelTypeOfCode, writeHeaderFields, type NiftiHeader,
} from './nifti-header.ts';
import { createVolume, voxelCount, voxelType, VolumeError, type Affine, type Vec3, type Volume, type VoxelArray, type VoxelType } from './volume.ts';

const ARRAY_OF: Readonly<Record<VoxelType, new (buffer: ArrayBufferLike, byteOffset: number, length: number) => VoxelArray>> = {
  uint8: Uint8Array, int8: Int8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array, float32: Float32Array, float64: Float64Array,
};

export { isGzip };

/** Bytes a gzipped file may inflate to beyond the size its header declares (room for trailing padding some writers add). */
export const NIFTI_GZIP_MARGIN = 2 ** 20;

export interface ParseNiftiOptions {
  /**
   * The caller hands `bytes` over: the volume may keep a view into them instead of a
   * copy (halves the peak memory of a large uncompressed file). Compressed input is
   * always decompressed into a buffer of the volume's own.
   */
  adopt?: boolean;
}

/** Reads a .nii file's bytes, gzipped or not (told by content, not name). */
export function parseNifti(bytes: Uint8Array | ArrayBuffer, source = '<buffer>', options: ParseNiftiOptions = {}): Volume {
  const raw = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (!isGzip(raw)) return decodeNifti(raw, source, options.adopt ?? false);
  return decodeNifti(gunzipNifti(raw, source), source, true);
}

/**
 * A .nii.gz's inflated bytes, inflating no further than the header's declared size
 * plus NIFTI_GZIP_MARGIN; a header that decodeNifti would refuse stops it at once.
 * gzip problems become VolumeErrors (with the GzipError as cause).
 */
export function gunzipNifti(gz: Uint8Array, source: string): Uint8Array {
  try {
    return gunzip(gz, source, {
      headBytes: HEADER_SIZE,
      limit: (head) => {
        if (head.length < HEADER_SIZE) return { expected: head.length, max: head.length, why: 'the stream ends inside the NIfTI header' };
        const { offset, need } = checkHeader(new DataView(head.buffer, head.byteOffset, head.byteLength), source);
        return { expected: offset + need, max: offset + need + NIFTI_GZIP_MARGIN, why: `the ${offset + need} bytes the NIfTI header declares plus ${NIFTI_GZIP_MARGIN}` };
      },
    });
  } catch (e) {
    if (e instanceof GzipError) throw new VolumeError(source, e.message.slice(source.length + 2), { cause: e });
    throw e;
  }
}

/** [nx, ny, nz] from dim[], 1 past dim[0]. */
export function headerDims(h: NiftiHeader): Vec3 {
  const n = h.dim[0];
  return [h.dim[1], n >= 2 ? h.dim[2] : 1, n >= 3 ? h.dim[3] : 1];
}

/** raw * slope + inter; nifti1.h: slope 0 (or not finite) means unscaled. */
export function headerScaling(h: NiftiHeader): { slope: number; inter: number } | undefined {
  if (!Number.isFinite(h.scl_slope) || h.scl_slope === 0) return { slope: 1, inter: 0 };
  return Number.isFinite(h.scl_inter) ? { slope: h.scl_slope, inter: h.scl_inter } : undefined;
}

function byteOrder(view: DataView, fail: (msg: string) => never): boolean {
  if (view.getInt32(0, true) === HEADER_SIZE) return true;
  if (view.getInt32(0, false) === HEADER_SIZE) return false;
  if (view.getInt32(0, true) === 540 || view.getInt32(0, false) === 540) fail('a NIfTI-2 file (sizeof_hdr 540): only NIfTI-1 is supported');
  return fail(`not a NIfTI-1 file (sizeof_hdr is ${view.getInt32(0, true)}, expected ${HEADER_SIZE})`);
}

function swapBytes(b: Uint8Array, size: number): void {
  for (let i = 0; i < b.length; i += size) {
    for (let j = i, k = i + size - 1; j < k; j++, k--) {
      const t = b[j];
      b[j] = b[k];
      b[k] = t;
    }
  }
}

interface CheckedHeader {
  readonly h: NiftiHeader;
  readonly le: boolean;
  readonly dims: Vec3;
  readonly type: VoxelType;
  readonly scaling: { slope: number; inter: number };
  readonly affine: Affine;
  /** first voxel byte */
  readonly offset: number;
  /** voxel bytes */
  readonly need: number;
}

/** Reads and checks the header (the first 348 bytes of `view`); throws a VolumeError naming the field. */
function checkHeader(view: DataView, source: string): CheckedHeader {
  const fail = (msg: string): never => { throw new VolumeError(source, msg); };
  const le = byteOrder(view, fail);
  const h = readHeaderFields(view, le);
  if (h.magic === 'ni1') fail("a .hdr/.img pair header (magic 'ni1'): only single-file .nii is supported");
  if (h.magic !== 'n+1') fail(`wrong magic ${JSON.stringify(h.magic)}, expected "n+1"`);

  const ndim = h.dim[0];
  if (!(ndim >= 1 && ndim <= 7)) fail(`dim[0] = ${ndim} is not a dimension count 1..7`);
  for (let i = 1; i <= ndim; i++) if (h.dim[i] < 1) fail(`dim[${i}] = ${h.dim[i]}: image sizes must be >= 1 (dim = [${h.dim}])`);
  for (let i = 4; i <= ndim; i++) if (h.dim[i] > 1) fail(`a ${ndim}-D image (dim = [${h.dim}]): only 3-D volumes are supported`);
  const dims = headerDims(h);

  const type = voxelTypeOfCode(h.datatype);
  if (type === undefined) {
    const name = OTHER_DATATYPES[h.datatype] ?? 'not a NIfTI-1 datatype code';
    return fail(`unsupported datatype ${h.datatype} (${name}); supported: ${Object.keys(DATATYPE_CODES).join(', ')}`);
  }
  const scaling = headerScaling(h) ?? fail(`scl_inter ${h.scl_inter} is not a number while scl_slope is ${h.scl_slope}`);
  const affine = checkedAffine(h, fail);

  if (!Number.isFinite(h.vox_offset)) fail(`vox_offset ${h.vox_offset} is not a number`);
  // As nibabel and nifti1_io: an offset inside the header means "right after it".
  const offset = Math.max(DATA_OFFSET, Math.floor(h.vox_offset));
  return { h, le, dims, type, scaling, affine, offset, need: voxelCount(dims) * VOXEL_BYTES[type] };
}

/** The affine, refusing NaN or infinite values in the fields it is built from (naming the field). */
function checkedAffine(h: NiftiHeader, fail: (msg: string) => never): Affine {
  const finite = (fields: readonly (keyof NiftiHeader)[], why: string) => {
    for (const f of fields) {
      const v = h[f];
      const values = Array.isArray(v) ? (v as number[]) : [v as number];
      const bad = values.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0) fail(`${f}${Array.isArray(v) ? `[${bad}]` : ''} is ${values[bad]}, not a finite number (${why})`);
    }
  };
  if (h.sform_code > 0) finite(['srow_x', 'srow_y', 'srow_z'], `sform_code is ${h.sform_code}`);
  else if (h.qform_code > 0) finite(['quatern_b', 'quatern_c', 'quatern_d', 'qoffset_x', 'qoffset_y', 'qoffset_z'], `qform_code is ${h.qform_code}`);
  const affine = headerAffine(h);
  if (!affine.every((row) => row.every(Number.isFinite))) {
    fail(`the ${h.sform_code > 0 ? 'sform (srow_x/y/z)' : h.qform_code > 0 ? 'qform (quatern_b/c/d, pixdim)' : 'pixdim'} gives a non-finite affine`);
  }
  return affine;
}

/** Uncompressed .nii bytes to a volume; `owned`: the bytes may be kept (viewed) rather than copied. */
export function decodeNifti(raw: Uint8Array, source: string, owned: boolean): Volume {
  const fail = (msg: string): never => { throw new VolumeError(source, msg); };
  if (raw.length < HEADER_SIZE) fail(`truncated: ${raw.length} bytes, a NIfTI-1 header alone is ${HEADER_SIZE}`);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const { h, le, dims, type, scaling, affine, offset, need } = checkHeader(view, source);
  if (offset > raw.length) fail(`vox_offset ${offset} is past the end of the data (${raw.length} bytes)`);
  const bytes = VOXEL_BYTES[type];
  if (offset + need > raw.length) {
    fail(`truncated: ${dims.join('x')} ${type} voxels need ${need} bytes from offset ${offset}, only ${raw.length - offset} are there`);
  }

  let data: VoxelArray;
  // A view only into a buffer of its own (not a slice of Node's shared Buffer pool).
  if (le && owned && raw.byteLength === raw.buffer.byteLength && offset % bytes === 0) {
    data = new ARRAY_OF[type](raw.buffer, offset, voxelCount(dims));
  } else {
    // Not raw.slice: on a Node Buffer that is a view, not a copy.
    const copy = new Uint8Array(need);
    copy.set(raw.subarray(offset, offset + need));
    if (!le) swapBytes(copy, bytes);
    data = new ARRAY_OF[type](copy.buffer, 0, voxelCount(dims));
  }
  return createVolume({
    dims, data, slope: scaling.slope, inter: scaling.inter, spacing: headerSpacing(h), affine, header: h, source,
  });
}

/**
 * A volume as .nii bytes (gzipped when asked). The header is the volume's own (all
 * fields kept: geometry, units, description) or, for a volume without one, built
 * from its spacing and affine; datatype, bitpix, scaling and dims follow the data.
 * Typed arrays are written as they lie in memory, which is little endian on every
 * platform this runs on.
 */
export function serializeNifti(volume: Volume, options: { gzip?: boolean } = {}): Uint8Array {
  const type = voxelType(volume.data);
  const base = volume.header ?? defaultHeader(volume.dims, volume.spacing, volume.affine);
  const hd = headerDims(base);
  if (hd.some((d, i) => d !== volume.dims[i])) {
    throw new RangeError(`serializeNifti ${volume.source}: the header is for a ${hd.join('x')} grid, the volume is ${volume.dims.join('x')}`);
  }
  // Keep the header's own encoding of "unscaled" (slope 0 or 1) when it means the same scaling.
  const s = headerScaling(base);
  const sameScaling = s !== undefined && s.slope === volume.slope && s.inter === volume.inter;
  const header: NiftiHeader = {
    ...base,
    dim: base.dim.every((d, i) => i < 4 || i > base.dim[0] || d <= 1) ? base.dim : [3, ...volume.dims, 1, 1, 1, 1],
    datatype: DATATYPE_CODES[type], bitpix: 8 * VOXEL_BYTES[type], vox_offset: DATA_OFFSET, magic: 'n+1',
    scl_slope: sameScaling ? base.scl_slope : volume.slope, scl_inter: sameScaling ? base.scl_inter : volume.inter,
  };
  const out = new Uint8Array(DATA_OFFSET + volume.data.byteLength);
  writeHeaderFields(new DataView(out.buffer), header);
  out.set(new Uint8Array(volume.data.buffer, volume.data.byteOffset, volume.data.byteLength), DATA_OFFSET);
  // mtime 0 keeps the same volume's bytes the same from run to run.
  return options.gzip ? gzipSync(out, { mtime: 0 }) : out;
}
