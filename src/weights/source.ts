// Where a network's parameters come from: real weights (safetensors) or the
// synth-v1 generator. Networks read them by their PyTorch state_dict names.

export interface WeightSource {
  /** Shown in errors, e.g. the file name. */
  readonly description: string;
  /** The weight file's metadata (safetensors `__metadata__` or index metadata), e.g. `slice_layout`. */
  readonly metadata?: Readonly<Record<string, string>>;
  names(): string[];
  has(name: string): boolean;
  shape(name: string): number[];
  /** The tensor as float32 in PyTorch's row-major layout. */
  float32(name: string): Float32Array;
}

/** Weights held in memory, e.g. built by a test or a converter. */
export class MapWeightSource implements WeightSource {
  constructor(
    readonly description: string,
    private readonly tensors: Map<string, { shape: number[]; data: Float32Array }>,
    readonly metadata: Readonly<Record<string, string>> = {},
  ) {}

  names(): string[] {
    return [...this.tensors.keys()];
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  shape(name: string): number[] {
    return this.get(name).shape;
  }

  float32(name: string): Float32Array {
    return this.get(name).data;
  }

  private get(name: string): { shape: number[]; data: Float32Array } {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`${this.description}: no tensor '${name}'`);
    return t;
  }
}
