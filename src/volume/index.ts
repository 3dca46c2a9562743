// Volumes in and out, browser-safe part. File access lives in the *-node.ts modules.
export { createVolume, maskLike, diagonalAffine, voxelType, voxelCount, VolumeError, type Volume, type VolumeOf, type MaskVolume, type VolumeInit, type VoxelType, type VoxelArray, type Vec3, type Affine } from './volume.ts';
export { parseNifti, serializeNifti, isGzip, headerDims, type ParseNiftiOptions } from './nifti.ts';
export { headerAffine, qformAffine, headerSpacing, defaultHeader, maskHeader, DATATYPE_CODES, type NiftiHeader } from './nifti-header.ts';
export { getSlice, getSliceTransposed, setSlice, sliceShape, resolveAxis, anatomicalAxes, type Axis, type AxisName, type AxisIndex, type Slice, type SliceArray, type SliceShape } from './slice.ts';
export { checkIntensityMapping, intensityToUint8, sliceToUint8, roundHalfEven, SEED_MAPPING, type IntensityMapping } from './intensity.ts';
export { decodeLabelPng, encodeGrayPng, encodeMaskPng } from './png-codec.ts';
export { seedLayout, parseCaseList, sortSliceFiles, stackSlices, foregroundOf, type PngLayout, type Foreground } from './png-dataset.ts';
export { encodeLabelMap, decodeLabelMap, labelMapVolume, checkLabelGeometry, parseLabelSidecar, serializeLabelSidecar, labelSidecarPath, stackLabels, unstackLabels, defaultLabel, MAX_LABEL_ID, type LabelArray, type LabelEntry, type LabelMap, type Rgb } from './label-map.ts';
