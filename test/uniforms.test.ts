// Named uniforms: the WGSL reflection (struct layout by WGSL's uniform address-space
// rules, overrides, module consts), packing by name, and the dispatch-time errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { reflectWgsl } from '../src/runtime/wgsl-reflect.ts';
import { checkOverrides, packUniforms, uniformLayoutFor } from '../src/runtime/uniforms.ts';
import { registerKernel } from '../src/runtime/kernels.ts';
import { WGSL_CONSTANTS, WGSL_REFLECTION } from '../src/runtime/wgsl.generated.ts';
import { testRuntime } from './_lib/gpu.ts';

const SAMPLE = `
// struct Ignored { a: vec4f }  (comments are not declarations)
override TILE: u32 = 8u;
override SCALE: f32;
override FLAG: bool = false;
override INFERRED = 3;
const MODE_A: u32 = 0u;
const MODE_B: u32 = 7u;
const NEG: i32 = -2;
const HALF: f32 = 0.5;
const DERIVED: u32 = MODE_B * 2u;   /* not a literal: not exported */
struct Params {
  a: u32,
  b: vec3<f32>,     /* align 16: offset 16, size 12 */
  c: i32,           // packs into vec3's last word: offset 28
  d: vec2u,         // align 8: offset 32
  @align(16) e: f32,  // offset 48
  f: vec4i,         // offset 64
}
struct Other { n: u32 }
@group(0) @binding(2) var<uniform> params: Params;
@group(0) @binding(1) var<uniform> other: Other;
fn helper() { const LOCAL: u32 = 9u; }
`;

test('reflection lays a uniform struct out by WGSL alignment and size rules', () => {
  const r = reflectWgsl('sample', SAMPLE);
  const p = r.uniforms[2];
  assert.is(p.struct, 'Params');
  assert.is(p.variable, 'params');
  assert.equal(
    p.fields.map((f) => [f.name, f.type, f.count, f.offset]),
    [['a', 'u32', 1, 0], ['b', 'f32', 3, 16], ['c', 'i32', 1, 28], ['d', 'u32', 2, 32], ['e', 'f32', 1, 48], ['f', 'i32', 4, 64]],
  );
  assert.is(p.size, 80);
  assert.is(r.uniforms[1].struct, 'Other');
  assert.is(r.uniforms[1].size, 4);
  assert.equal(Object.keys(r.uniforms).sort(), ['1', '2']);
});

test('reflection reads overrides and module-scope literal consts only', () => {
  const r = reflectWgsl('sample', SAMPLE);
  assert.equal(r.overrides.TILE, { name: 'TILE', type: 'u32', hasDefault: true });
  assert.equal(r.overrides.SCALE, { name: 'SCALE', type: 'f32', hasDefault: false });
  assert.equal(r.overrides.INFERRED, { name: 'INFERRED', type: null, hasDefault: true });
  assert.equal(r.constants, { MODE_A: 0, MODE_B: 7, NEG: -2, HALF: 0.5 });
});

test('reflection refuses uniform fields it cannot lay out, naming kernel and field', () => {
  const bad = (ty: string) => `struct P { n: u32, x: ${ty} }\n@group(0) @binding(0) var<uniform> p: P;`;
  for (const ty of ['array<u32, 4>', 'mat4x4f', 'bool', 'f16', 'Inner']) {
    assert.throws(() => reflectWgsl('k1', bad(ty)), (e: Error) => /kernel 'k1'/.test(e.message) && /field 'x'/.test(e.message), ty);
  }
  assert.throws(() => reflectWgsl('k2', '@group(0) @binding(0) var<uniform> p: Missing;'), /kernel 'k2'.*Missing/);
  const clash = 'struct A { a: u32 }\nstruct B { b: u32 }\n@group(0) @binding(1) var<uniform> a: A;\n@group(0) @binding(1) var<uniform> b: B;';
  assert.throws(() => reflectWgsl('k3', clash), /share binding 1/);
});

test('packing writes each field at its offset with its type', () => {
  const layout = reflectWgsl('sample', SAMPLE).uniforms[2];
  const bytes = packUniforms('sample', layout, { a: 7, b: [0.5, -1, 2], c: -3, d: [1, 4294967295], e: 0.25, f: [-1, 2, -3, 4] });
  assert.is(bytes.byteLength, 80);
  const v = new DataView(bytes);
  assert.is(v.getUint32(0, true), 7);
  assert.equal([v.getFloat32(16, true), v.getFloat32(20, true), v.getFloat32(24, true)], [0.5, -1, 2]);
  assert.is(v.getInt32(28, true), -3);
  assert.equal([v.getUint32(32, true), v.getUint32(36, true)], [1, 4294967295]);
  assert.is(v.getFloat32(48, true), 0.25);
  assert.equal([0, 1, 2, 3].map((i) => v.getInt32(64 + 4 * i, true)), [-1, 2, -3, 4]);
  // Sizes round up to 16 bytes for the buffer.
  assert.is(packUniforms('sample', reflectWgsl('sample', SAMPLE).uniforms[1], { n: 1 }).byteLength, 16);
});

test('missing, extra and mistyped fields are errors naming kernel and field', () => {
  const layout = reflectWgsl('sample', SAMPLE).uniforms[2];
  const good = { a: 7, b: [0.5, -1, 2], c: -3, d: [1, 2], e: 0.25, f: [-1, 2, -3, 4] };
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...good, a: undefined }, /field 'a'.*number/],
    [(({ e: _e, ...rest }) => rest)(good), /field 'e' is missing/],
    // Only the object's own fields count: one from its prototype is missing too.
    [Object.assign(Object.create({ e: 0.25 }), (({ e: _e, ...rest }) => rest)(good)), /field 'e' is missing/],
    [{ ...good, g: 1 }, /unknown field 'g'/],
    [{ ...good, a: 1.5 }, /field 'a'.*u32 must be an integer/],
    [{ ...good, a: -1 }, /field 'a'.*u32/],
    [{ ...good, a: 2 ** 32 }, /field 'a'.*u32/],
    [{ ...good, c: 2 ** 31 }, /field 'c'.*i32/],
    [{ ...good, e: NaN }, /field 'e'.*finite/],
    [{ ...good, e: Infinity }, /field 'e'.*finite/],
    [{ ...good, b: [1, 2] }, /field 'b'.*3 numbers/],
    [{ ...good, a: [1] }, /field 'a'.*array/],
    [{ ...good, d: [1, -2] }, /field 'd'\[1\].*u32/],
    [{ ...good, e: '1' }, /field 'e'.*string/],
  ];
  for (const [values, pattern] of cases) {
    assert.throws(() => packUniforms('sample', layout, values as never), (e: Error) => /kernel 'sample' uniform Params/.test(e.message) && pattern.test(e.message), pattern.source);
  }
});

test('overrides: unknown names, wrong types and missing required ones are errors', () => {
  const r = reflectWgsl('sample', SAMPLE);
  assert.equal(checkOverrides('sample', r, { TILE: 4, SCALE: 0.5, FLAG: true }), { TILE: 4, SCALE: 0.5, FLAG: 1 });
  assert.throws(() => checkOverrides('sample', r, { SCALE: 1, TILEZ: 4 }), /kernel 'sample' override 'TILEZ' is not declared/);
  assert.throws(() => checkOverrides('sample', r, { SCALE: 1, TILE: -4 }), /override 'TILE'.*u32/);
  assert.throws(() => checkOverrides('sample', r, { SCALE: 1, FLAG: 1 }), /override 'FLAG'.*boolean/);
  assert.throws(() => checkOverrides('sample', r, { SCALE: NaN }), /override 'SCALE'.*finite/);
  assert.throws(() => checkOverrides('sample', r, {}), /override 'SCALE' has no default/);
  assert.throws(() => uniformLayoutFor('sample', r, 3), /no uniform at binding 3.*params: Params at binding 2/);
});

test('every embedded kernel has its uniform struct reflected; enums come from the WGSL consts', () => {
  const conv = WGSL_REFLECTION.conv2d.uniforms[5];
  assert.is(conv.fields.length, 19);
  assert.equal(conv.fields.find((f) => f.name === 'padH'), { name: 'padH', type: 'i32', count: 1, offset: 52 });
  for (const [name, info] of Object.entries(WGSL_REFLECTION)) assert.ok(Object.keys(info.uniforms).length >= 1, name);
  assert.is(WGSL_CONSTANTS.elementwise.OP_SIGMOID, 2);
  assert.is(WGSL_CONSTANTS.pool.OP_ADAPTIVE_AVG, 2);
  assert.ok(!('conv2d_nchw_bench' in WGSL_REFLECTION), 'bench-only kernels are not embedded');
});

test('dispatch checks named uniforms and overrides before touching the GPU', async () => {
  const rt = await testRuntime();
  const a = rt.upload([4], [1, -2, 3, -4]);
  const out = rt.empty([4]);
  const base = { kernel: 'elementwise', bindings: [a, a, out], workgroups: [1] as const };
  const uniforms = { count: 4, lo: 0, hi: 1, scale: 1, shift: 0 };
  assert.throws(() => rt.dispatch({ ...base, uniforms: { ...uniforms, count: undefined as never } }), /kernel 'elementwise' uniform Params field 'count'/);
  assert.throws(() => rt.dispatch({ ...base, uniforms: { ...uniforms, cout: 4 } }), /kernel 'elementwise'.*unknown field 'cout'/);
  assert.throws(() => rt.dispatch({ ...base, uniforms: { ...uniforms, scale: NaN } }), /field 'scale'.*finite/);
  assert.throws(() => rt.dispatch({ ...base, uniforms, constants: { OPP: 1 } }), /kernel 'elementwise' override 'OPP' is not declared/);
  assert.throws(() => rt.dispatch({ ...base, bindings: [a, out], uniforms }), /kernel 'elementwise': no uniform at binding 2/);
  // A correct call runs: relu by its named op.
  rt.dispatch({ ...base, uniforms, constants: { OP: WGSL_CONSTANTS.elementwise.OP_RELU } });
  assert.equal(Array.from(await out.read()), [1, 0, 3, 0]);
  a.dispose();
  out.dispose();
});

test('kernels registered at run time are reflected and dispatchable', async () => {
  const rt = await testRuntime();
  registerKernel('test_fill', `struct P { n: u32, value: f32 }
@group(0) @binding(0) var<storage, read_write> o: array<f32>;
@group(0) @binding(1) var<uniform> p: P;
@compute @workgroup_size(4) fn main(@builtin(local_invocation_index) i: u32) { if (i < p.n) { o[i] = p.value; } }`);
  assert.throws(() => registerKernel('conv2d', ''), /already a built-in/);
  const out = rt.upload([4], [0, 0, 0, 0]);
  rt.dispatch({ kernel: 'test_fill', bindings: [out], uniforms: { n: 3, value: 2.5 }, workgroups: [1] });
  assert.equal(Array.from(await out.read()), [2.5, 2.5, 2.5, 0]);
  out.dispose();
});

test.run();
