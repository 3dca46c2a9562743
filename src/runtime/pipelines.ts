// Compute pipelines by (kernel, entry point, override constants), created on first
// dispatch (createComputePipeline, which blocks while the driver compiles) or ahead of
// it: warm() creates a network's pipelines in parallel with createComputePipelineAsync,
// so its first step does not pay for compilation one kernel at a time. specs() lists
// what has been created, in the form warm() takes (a network records them once, e.g.
// in a file next to the tuning cache, and warms them at the next load).
import { kernelEntry } from './kernels.ts';
import { checkOverrides, type OverrideValues } from './uniforms.ts';

export interface PipelineSpec {
  kernel: string;
  entryPoint: string;
  /** As the op passed them (booleans stay booleans), so a spec can be checked again and stored as JSON. */
  constants: Record<string, number | boolean>;
}

/** A spec whose overrides were checked, with the numeric values WebGPU takes. */
interface CheckedSpec {
  spec: PipelineSpec;
  numeric: Record<string, number>;
}

export class PipelineCache {
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly pending = new Map<string, Promise<void>>();
  private readonly created = new Map<string, PipelineSpec>();
  // get()'s arguments as passed, serialised, -> pipeline: a dispatch whose overrides were
  // checked once skips the check and the canonical key (a few us of ~160 dispatches a step).
  private readonly seen = new Map<string, GPUComputePipeline>();
  /** Pipelines compiled synchronously at dispatch (not warmed). */
  coldCompiles = 0;

  constructor(private readonly device: GPUDevice) {}

  /** The pipeline for a dispatch; `onCompile` hears the key when it had to be compiled now. */
  get(kernel: string, entryPoint: string, constants: OverrideValues, onCompile?: (key: string) => void): GPUComputePipeline {
    const asPassed = `${kernel}\0${entryPoint}\0${JSON.stringify(constants)}`;
    const seen = this.seen.get(asPassed);
    if (seen) return seen;
    const c = this.spec(kernel, entryPoint, constants);
    const key = pipelineKey(c);
    let p = this.pipelines.get(key);
    if (!p) {
      onCompile?.(key);
      this.coldCompiles++;
      p = this.device.createComputePipeline(this.descriptor(c, key));
      this.store(key, c.spec, p);
    }
    this.seen.set(asPassed, p);
    return p;
  }

  /**
   * Creates every pipeline in `specs` not yet created, all at once with
   * createComputePipelineAsync; resolves when all are ready. Unknown kernels or
   * overrides throw before anything is created.
   */
  async warm(specs: readonly { kernel: string; entryPoint?: string; constants?: OverrideValues }[]): Promise<void> {
    const checked = specs.map((s) => this.spec(s.kernel, s.entryPoint ?? 'main', s.constants ?? {}));
    const work: Promise<void>[] = [];
    for (const c of checked) {
      const key = pipelineKey(c);
      if (this.pipelines.has(key)) continue;
      let job = this.pending.get(key);
      if (!job) {
        job = this.device.createComputePipelineAsync(this.descriptor(c, key)).then((p) => {
          this.pending.delete(key);
          if (!this.pipelines.has(key)) this.store(key, c.spec, p);
        });
        this.pending.set(key, job);
      }
      work.push(job);
    }
    await Promise.all(work);
  }

  /** Every pipeline created so far. */
  specs(): PipelineSpec[] {
    return [...this.created.values()];
  }

  /** The numeric override values WebGPU takes, after checking names and types against the kernel. */
  check(kernel: string, constants: OverrideValues): Record<string, number> {
    return checkOverrides(kernel, kernelEntry(kernel).reflection, constants);
  }

  private spec(kernel: string, entryPoint: string, constants: OverrideValues): CheckedSpec {
    return { spec: { kernel, entryPoint, constants: { ...constants } }, numeric: this.check(kernel, constants) };
  }

  private descriptor({ spec, numeric }: CheckedSpec, key: string): GPUComputePipelineDescriptor {
    let module = this.modules.get(spec.kernel);
    if (!module) {
      module = this.device.createShaderModule({ code: kernelEntry(spec.kernel).source, label: spec.kernel });
      this.modules.set(spec.kernel, module);
    }
    return { label: key, layout: 'auto', compute: { module, entryPoint: spec.entryPoint, constants: numeric } };
  }

  private store(key: string, spec: PipelineSpec, p: GPUComputePipeline): void {
    this.pipelines.set(key, p);
    this.created.set(key, spec);
  }
}

function pipelineKey({ spec, numeric }: CheckedSpec): string {
  const names = Object.keys(numeric).sort();
  return `${spec.kernel}:${spec.entryPoint}:${names.map((n) => `${n}=${numeric[n]}`).join(',')}`;
}
