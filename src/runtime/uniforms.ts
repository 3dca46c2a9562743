// Named uniforms and override constants, checked against the layout that
// tools/embed-wgsl.ts read from each kernel's WGSL (src/runtime/wgsl-reflect.ts).
// Ops write `uniforms: { H, W, Cin, ... }`; a missing, extra or mistyped field is
// an error at dispatch naming the kernel and the field, never a shifted word.
import type { KernelInterface, UniformLayout } from './wgsl-reflect.ts';

/** Field name -> value: a number for scalars, N numbers for vecN. */
export type UniformValues = Readonly<Record<string, number | readonly number[]>>;

/** Override name -> value. */
export type OverrideValues = Readonly<Record<string, number | boolean>>;

const RANGES = {
  u32: [0, 0xffffffff],
  i32: [-0x80000000, 0x7fffffff],
} as const;

// `where` names the value in an error; a function, so a value that passes its checks
// builds no strings.
function checkComponent(where: () => string, type: 'u32' | 'i32' | 'f32', v: unknown): number {
  if (typeof v !== 'number') throw new TypeError(`${where()}: expected a number (${type}), got ${typeof v}`);
  if (type === 'f32') {
    if (!Number.isFinite(v)) throw new RangeError(`${where()}: f32 must be finite, got ${v}`);
    return v;
  }
  const [lo, hi] = RANGES[type];
  if (!Number.isInteger(v) || v < lo || v > hi) throw new RangeError(`${where()}: ${type} must be an integer in [${lo}, ${hi}], got ${v}`);
  return v;
}

/** Whether checkComponent would take `v` as it is, tested without calls (packUniforms runs at every dispatch, ~160 a network step). */
function fits(type: 'u32' | 'i32' | 'f32', v: unknown): v is number {
  if (typeof v !== 'number') return false;
  if (type === 'f32') return v - v === 0; // finite: NaN and +-Infinity give NaN
  const [lo, hi] = RANGES[type];
  return Number.isInteger(v) && v >= lo && v <= hi;
}

/**
 * Packs `values` into a buffer of the struct's size rounded up to 16 bytes. Every field
 * is 4-byte aligned (u32, i32, f32 and their vectors), so words go through typed-array
 * views in the platform's byte order, which is the order WebGPU's writeBuffer copies.
 */
export function packUniforms(kernel: string, layout: UniformLayout, values: UniformValues): ArrayBuffer {
  const what = () => `kernel '${kernel}' uniform ${layout.struct}`;
  let given = 0;
  for (const k in values) if (Object.hasOwn(values, k)) given++;
  const buf = new ArrayBuffer(Math.max(16, Math.ceil(layout.size / 16) * 16));
  const u32 = new Uint32Array(buf);
  const i32 = new Int32Array(buf);
  const f32 = new Float32Array(buf);
  for (const f of layout.fields) {
    const raw = values[f.name];
    if (!Object.hasOwn(values, f.name)) throw new RangeError(`${what()} field '${f.name}' is missing`);
    given--;
    const word = f.offset >> 2;
    const words = f.type === 'u32' ? u32 : f.type === 'i32' ? i32 : f32;
    if (f.count === 1) {
      if (fits(f.type, raw)) words[word] = raw;
      else if (typeof raw !== 'number') throw new TypeError(`${what()} field '${f.name}': expected a number (${f.type}), got ${Array.isArray(raw) ? 'an array' : typeof raw}`);
      else words[word] = checkComponent(() => `${what()} field '${f.name}'`, f.type, raw); // throws
      continue;
    }
    if (!Array.isArray(raw) || raw.length !== f.count) throw new TypeError(`${what()} field '${f.name}': expected ${f.count} numbers (vec${f.count}<${f.type}>), got ${JSON.stringify(raw)}`);
    for (let i = 0; i < f.count; i++) {
      const v: unknown = raw[i];
      if (fits(f.type, v)) words[word + i] = v;
      else words[word + i] = checkComponent(() => `${what()} field '${f.name}'[${i}]`, f.type, v); // throws
    }
  }
  if (given > 0) {
    const known = new Set(layout.fields.map((f) => f.name));
    const extra = Object.keys(values).filter((k) => !known.has(k));
    throw new RangeError(`${what()}: unknown field${extra.length > 1 ? 's' : ''} ${extra.map((k) => `'${k}'`).join(', ')} (fields: ${[...known].join(', ')})`);
  }
  return buf;
}

/** The uniform layout an entry point with `storageBindings` storage buffers reads (binding = that count). */
export function uniformLayoutFor(kernel: string, info: KernelInterface, storageBindings: number): UniformLayout {
  const layout = info.uniforms[storageBindings];
  if (!layout) {
    const have = Object.values(info.uniforms).map((u) => `${u.variable}: ${u.struct} at binding ${u.binding}`);
    throw new RangeError(`kernel '${kernel}': no uniform at binding ${storageBindings} (the op passed ${storageBindings} storage bindings; the kernel declares ${have.join(', ') || 'no uniforms'})`);
  }
  return layout;
}

/** Checks override names and types against the WGSL; returns the numeric values WebGPU takes. */
export function checkOverrides(kernel: string, info: KernelInterface, constants: OverrideValues): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, v] of Object.entries(constants)) {
    const decl = info.overrides[name];
    const where = () => `kernel '${kernel}' override '${name}'`;
    if (!decl) throw new RangeError(`${where()} is not declared (overrides: ${Object.keys(info.overrides).join(', ') || 'none'})`);
    if (decl.type === 'bool') {
      if (typeof v !== 'boolean') throw new TypeError(`${where()}: expected a boolean, got ${JSON.stringify(v)}`);
      out[name] = Number(v);
    } else if (decl.type === 'u32' || decl.type === 'i32' || decl.type === 'f32') {
      out[name] = checkComponent(where, decl.type, v);
    } else {
      // Type inferred in WGSL: pass it through, WebGPU converts.
      if (typeof v === 'number' && !Number.isFinite(v)) throw new RangeError(`${where()} must be finite, got ${v}`);
      out[name] = Number(v);
    }
  }
  for (const decl of Object.values(info.overrides)) {
    if (!decl.hasDefault && !(decl.name in constants)) throw new RangeError(`kernel '${kernel}' override '${decl.name}' has no default and was not passed`);
  }
  return out;
}
