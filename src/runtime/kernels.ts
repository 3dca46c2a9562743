// The kernels the runtime can dispatch: every kernels/*.wgsl embedded by
// tools/embed-wgsl.ts with its reflected host interface, kernels registered at run
// time (benchmark-only rungs live in bench/ and are not in the product bundle), and
// derived kernels (another kernel's source rewritten, e.g. for f16 weights), declared
// by their op module and built on first use, so warmup() finds them as dispatch does.
import { reflectWgsl, type KernelInterface } from './wgsl-reflect.ts';
import { WGSL_REFLECTION, WGSL_SOURCES } from './wgsl.generated.ts';

export interface KernelEntry {
  source: string;
  reflection: KernelInterface;
}

const registered = new Map<string, KernelEntry>();
const derived = new Map<string, () => string>();

/** Adds a kernel by name from WGSL source (e.g. read by a benchmark from bench/). */
export function registerKernel(name: string, source: string): void {
  if (Object.hasOwn(WGSL_SOURCES, name)) throw new Error(`registerKernel: '${name}' is already a built-in kernel`);
  registered.set(name, { source, reflection: reflectWgsl(name, source) });
}

/** Declares kernel `name` as derive()'s source, derived and reflected the first time it is used. */
export function defineDerivedKernel(name: string, derive: () => string): void {
  if (Object.hasOwn(WGSL_SOURCES, name)) throw new Error(`defineDerivedKernel: '${name}' is already a built-in kernel`);
  derived.set(name, derive);
}

export function kernelEntry(name: string): KernelEntry {
  if (Object.hasOwn(WGSL_SOURCES, name)) return { source: WGSL_SOURCES[name], reflection: WGSL_REFLECTION[name] };
  let r = registered.get(name);
  const derive = derived.get(name);
  if (!r && derive) {
    registerKernel(name, derive());
    r = registered.get(name);
  }
  if (!r) throw new Error(`unknown kernel '${name}': no kernels/${name}.wgsl (run npm run gen after adding one)`);
  return r;
}

/**
 * `source` with `from` replaced by `to`, for ops deriving a kernel's source from another
 * (f16 weights, matrix shapes); throws, naming the kernel and `what`, unless `from` occurs
 * exactly once, so a kernel edit cannot silently leave the derivation without effect.
 */
export function replaceOnce(source: string, from: string, to: string, kernel: string, what: string): string {
  const parts = source.split(from);
  if (parts.length !== 2) throw new Error(`${kernel}: expected ${what} exactly once as\n${from}\nfound ${parts.length - 1}`);
  return parts.join(to);
}
