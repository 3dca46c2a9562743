// The package's public entry (Node and browsers).
export { Runtime, GpuKernelError, type RuntimeOptions } from './runtime/runtime.ts';
export { NoAdapterError, type AdapterSummary } from './runtime/device.ts';
export { Tensor, type DType } from './runtime/tensor.ts';
export { MemoryNetwork, MemoryEntry, KEYDIM, VALDIM, type SegmentResult, type Variant } from './networks/mem3d/memory-network.ts';
export { preprocessFrame, maskToProbability, IMAGENET_MEAN, IMAGENET_STD } from './networks/mem3d/preprocess.ts';
export { WeightMismatchError } from './weights/loader.ts';
export { MapWeightSource, type WeightSource } from './weights/source.ts';
export { safetensorsWeightSource, synthWeightSource, type SynthManifest } from './weights/safetensors-source.ts';
export { synthWeight, fnv1a32 } from './weights/synth-v1.ts';
export { parseSafetensors, parseSafetensorsIndex, fetchShardedSafetensors, ShardedSafetensors, SafetensorsError, type SafetensorsReader } from './io/safetensors.ts';
export { serializeSafetensors, serializeShardedSafetensors } from './io/safetensors-write.ts';
export { decodeGrayPng, type GrayImage } from './io/png.ts';
