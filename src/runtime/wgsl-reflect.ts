// Reads what the host must agree on with a WGSL kernel, straight from its source:
// the uniform structs (field names, types, offsets by WGSL's uniform address-space
// layout rules), the `override` constants and the module-scope scalar `const`s.
// tools/embed-wgsl.ts runs it at build time and embeds the result next to the
// source, so ops pass uniforms by name (src/runtime/uniforms.ts packs them) and
// enums shared with WGSL have one definition: the WGSL `const`.
//
// It is a declaration scanner, not a WGSL parser: it understands `struct`,
// `var<uniform>`, `override` and `const` at module scope, which is all the
// kernels in kernels/ use for their host interface. Anything it cannot lay out
// (arrays, matrices, nested structs, f16, bool in a uniform struct) is an error
// naming the kernel and the field, so a kernel cannot silently outgrow it.

export type ScalarType = 'u32' | 'i32' | 'f32';

export interface UniformField {
  name: string;
  /** Component type; `count` components (1 = scalar, 2..4 = vecN). */
  type: ScalarType;
  count: number;
  /** Byte offset in the struct. */
  offset: number;
}

export interface UniformLayout {
  /** The WGSL struct name, e.g. 'Params'. */
  struct: string;
  /** The `var<uniform>` name. */
  variable: string;
  binding: number;
  /** SizeOf(struct) under WGSL's layout rules: the minimum binding size. */
  size: number;
  fields: UniformField[];
}

export interface OverrideDecl {
  name: string;
  /** 'u32' | 'i32' | 'f32' | 'bool', or null when the declaration infers it. */
  type: string | null;
  /** False when the WGSL gives no default: the host must pass it. */
  hasDefault: boolean;
}

export interface KernelReflection {
  /** Uniform variables keyed by binding number (group 0). */
  uniforms: Record<number, UniformLayout>;
  overrides: Record<string, OverrideDecl>;
  /** Module-scope `const NAME: T = <literal>;` scalars (u32, i32, f32, bool literals only). */
  constants: Record<string, number | boolean>;
}

/** What the runtime checks at dispatch: uniform layouts and override declarations. */
export type KernelInterface = Pick<KernelReflection, 'uniforms' | 'overrides'>;

const SCALARS = new Set<string>(['u32', 'i32', 'f32']);
const VEC_SHORT: Record<string, [ScalarType, number]> = {};
for (const n of [2, 3, 4]) {
  VEC_SHORT[`vec${n}u`] = ['u32', n];
  VEC_SHORT[`vec${n}i`] = ['i32', n];
  VEC_SHORT[`vec${n}f`] = ['f32', n];
}

/** Removes // and (nested) /* *\/ comments, keeping line structure for nothing else. */
export function stripComments(src: string): string {
  let out = '';
  let depth = 0;
  for (let i = 0; i < src.length; i++) {
    const two = src.slice(i, i + 2);
    if (depth === 0 && two === '//') {
      while (i < src.length && src[i] !== '\n') i++;
      out += '\n';
    } else if (two === '/*') {
      depth++;
      i++;
    } else if (depth > 0 && two === '*/') {
      depth--;
      i++;
      out += ' ';
    } else if (depth === 0) {
      out += src[i];
    }
  }
  return out;
}

/** [component type, count] of a uniform field type, or null if it is not a scalar or vector of u32/i32/f32. */
function vectorType(type: string): [ScalarType, number] | null {
  const t = type.replace(/\s+/g, '');
  if (SCALARS.has(t)) return [t as ScalarType, 1];
  if (VEC_SHORT[t]) return VEC_SHORT[t];
  const m = /^vec([234])<(u32|i32|f32)>$/.exec(t);
  return m ? [m[2] as ScalarType, Number(m[1])] : null;
}

const roundUp = (k: number, n: number): number => Math.ceil(n / k) * k;

interface RawMember {
  name: string;
  type: string;
  attrs: Record<string, number>;
}

function parseMembers(body: string): RawMember[] {
  const members: RawMember[] = [];
  // Split at commas outside <...> and (...): array<u32, 4> and @align(16) stay whole.
  const parts: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch === '<' || ch === '(') depth++;
    else if (ch === '>' || ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(body.slice(from, i));
      from = i + 1;
    }
  }
  parts.push(body.slice(from));
  for (const part of parts) {
    const text = part.trim();
    if (!text) continue;
    const attrs: Record<string, number> = {};
    const rest = text.replace(/@(\w+)\s*(?:\(\s*([^)]*)\))?/g, (_, name: string, arg: string | undefined) => {
      attrs[name] = arg === undefined ? NaN : Number(arg.replace(/[ui]$/, ''));
      return '';
    });
    const m = /^\s*(\w+)\s*:\s*(.+?)\s*$/s.exec(rest);
    if (!m) throw new Error(`cannot read struct member '${text}'`);
    members.push({ name: m[1], type: m[2], attrs });
  }
  return members;
}

/**
 * Lays a struct out for the uniform address space: scalars align to 4, vec2 to 8,
 * vec3 and vec4 to 16 (vec3 is 12 bytes); @align and @size override; the struct's
 * size rounds up to its largest alignment.
 */
export function layoutUniformStruct(kernel: string, struct: string, body: string): { size: number; fields: UniformField[] } {
  const fields: UniformField[] = [];
  let offset = 0;
  let maxAlign = 4;
  for (const m of parseMembers(body)) {
    const vt = vectorType(m.type);
    if (!vt) {
      throw new Error(`kernel '${kernel}': uniform struct ${struct} field '${m.name}' has type ${m.type}; uniforms support u32, i32, f32 and their vec2/3/4`);
    }
    const [type, count] = vt;
    const natural = count === 1 ? 4 : count === 2 ? 8 : 16;
    const align = Number.isNaN(m.attrs.align ?? NaN) ? natural : m.attrs.align;
    const size = Number.isNaN(m.attrs.size ?? NaN) ? 4 * count : m.attrs.size;
    if (!(align >= natural && (align & (align - 1)) === 0) || !(size >= 4 * count)) {
      throw new Error(`kernel '${kernel}': uniform struct ${struct} field '${m.name}': @align/@size smaller than the type's own`);
    }
    offset = roundUp(align, offset);
    fields.push({ name: m.name, type, count, offset });
    offset += size;
    maxAlign = Math.max(maxAlign, align);
  }
  if (fields.length === 0) throw new Error(`kernel '${kernel}': uniform struct ${struct} has no fields`);
  return { size: roundUp(maxAlign, offset), fields };
}

function parseLiteral(text: string): number | boolean | null {
  const t = text.trim();
  if (t === 'true' || t === 'false') return t === 'true';
  const m = /^(-?(?:0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?))[uif]?$/.exec(t);
  if (!m) return null;
  const v = Number(m[1]);
  return Number.isFinite(v) ? v : null;
}

export function reflectWgsl(kernel: string, source: string): KernelReflection {
  const src = stripComments(source);
  const structs = new Map<string, string>();
  for (const m of src.matchAll(/\bstruct\s+(\w+)\s*\{([^}]*)\}/g)) structs.set(m[1], m[2]);

  const uniforms: Record<number, UniformLayout> = {};
  for (const m of src.matchAll(/((?:@\w+\s*\([^)]*\)\s*)*)var\s*<\s*uniform\s*>\s*(\w+)\s*:\s*(\w+)\s*;/g)) {
    const [, attrs, variable, struct] = m;
    const group = /@group\s*\(\s*(\d+)/.exec(attrs);
    const binding = /@binding\s*\(\s*(\d+)/.exec(attrs);
    if (!binding || (group && group[1] !== '0')) throw new Error(`kernel '${kernel}': uniform '${variable}' must be @group(0) @binding(n)`);
    const body = structs.get(struct);
    if (body === undefined) throw new Error(`kernel '${kernel}': uniform '${variable}' has type ${struct}, which is not a struct declared in the file`);
    const n = Number(binding[1]);
    const layout: UniformLayout = { struct, variable, binding: n, ...layoutUniformStruct(kernel, struct, body) };
    const prior = uniforms[n];
    if (prior && prior.struct !== struct) {
      throw new Error(`kernel '${kernel}': uniforms '${prior.variable}' (${prior.struct}) and '${variable}' (${struct}) share binding ${n}; the runtime finds the struct by binding`);
    }
    uniforms[n] = layout;
  }

  const overrides: Record<string, OverrideDecl> = {};
  for (const m of src.matchAll(/\boverride\s+(\w+)\s*(?::\s*(\w+))?\s*(=)?[^;]*;/g)) {
    overrides[m[1]] = { name: m[1], type: m[2] ?? null, hasDefault: m[3] === '=' };
  }

  const constants: Record<string, number | boolean> = {};
  // Module scope only: declarations inside braces are skipped by tracking depth.
  let depth = 0;
  let start = 0;
  const top: string[] = [];
  for (let i = 0; i < src.length; i++) {
    if (src[i] === '{') {
      if (depth === 0) top.push(src.slice(start, i));
      depth++;
    } else if (src[i] === '}') {
      depth--;
      if (depth === 0) start = i + 1;
    }
  }
  top.push(src.slice(start));
  for (const chunk of top) {
    for (const m of chunk.matchAll(/\bconst\s+(\w+)\s*:\s*(u32|i32|f32|bool)\s*=\s*([^;]+);/g)) {
      const v = parseLiteral(m[3]);
      if (v !== null) constants[m[1]] = v;
    }
  }
  return { uniforms, overrides, constants };
}
