// Shaders without WebGPU's bounds checks (Runtime.create({ boundsChecks: false }),
// MEM3D_BOUNDS_CHECKS=off; src/runtime/device.ts NO_BOUNDS_CHECK_TOGGLES): that the
// toggles really take the index clamps out of the code Dawn hands the driver (its
// SPIR-V dump, in a child process: Dawn prints it), and that every op case still
// matches its float64 reference with nothing clamping a stray index, so the kernels
// are in bounds by construction. test/full/bounds-checks-variants.test.ts runs every
// conv2d variant (the GPU tiles, the emulated matrix tiles) the same way.
import { execFileSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { boundsChecksRequested } from '../src/cli/runtime.ts';
import { adapterKey } from '../src/runtime/autotune.ts';
import { acquireDevice, dawnToggles, NO_BOUNDS_CHECK_TOGGLES, TENSOR_CORE_TOGGLES } from '../src/runtime/device.ts';
import { Runtime } from '../src/runtime/runtime.ts';
import { assertCase, casesOf } from './_lib/op-cases/index.ts';

test('the Dawn toggles for each option, each once', () => {
  assert.equal(dawnToggles({}), []);
  assert.equal(dawnToggles({ boundsChecks: true }), []);
  assert.equal(dawnToggles({ boundsChecks: false }), NO_BOUNDS_CHECK_TOGGLES);
  assert.equal(dawnToggles({ tensorCores: true }), TENSOR_CORE_TOGGLES);
  const both = dawnToggles({ tensorCores: true, boundsChecks: false });
  assert.equal(new Set(both), new Set([...TENSOR_CORE_TOGGLES, ...NO_BOUNDS_CHECK_TOGGLES]));
  assert.is(both.filter((t) => t === 'allow_unsafe_apis').length, 1);
});

test('MEM3D_BOUNDS_CHECKS: off, on or unset; anything else is refused', () => {
  const before = process.env.MEM3D_BOUNDS_CHECKS;
  try {
    for (const [value, expected] of [[undefined, true], ['', true], ['on', true], ['off', false]] as const) {
      if (value === undefined) delete process.env.MEM3D_BOUNDS_CHECKS;
      else process.env.MEM3D_BOUNDS_CHECKS = value;
      assert.is(boundsChecksRequested(), expected, String(value));
    }
    process.env.MEM3D_BOUNDS_CHECKS = '0';
    assert.throws(() => boundsChecksRequested(), /MEM3D_BOUNDS_CHECKS must be off .* or on .*, got '0'/);
  } finally {
    if (before === undefined) delete process.env.MEM3D_BOUNDS_CHECKS;
    else process.env.MEM3D_BOUNDS_CHECKS = before;
  }
});

// A workgroup array read and written at indices read from memory (so that no range
// analysis can prove them in bounds): with bounds checks Dawn clamps both (a UMin each
// in the SPIR-V); the matrix kernels read their tiles from workgroup memory this way.
const DUMP_SCRIPT = `
import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);
const gpu = create(['enable-dawn-features=' + process.argv[1]]);
const device = await (await gpu.requestAdapter()).requestDevice();
const module = device.createShaderModule({ code: \`
@group(0) @binding(0) var<storage, read_write> o: array<f32>;
var<workgroup> tile: array<f32, 64>;
@compute @workgroup_size(16) fn main(@builtin(local_invocation_index) i: u32) {
  tile[u32(o[i])] = f32(i);
  workgroupBarrier();
  o[i] = tile[u32(o[i + 16u])];
}\` });
device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
await device.queue.onSubmittedWorkDone();
process.exit(0);
`;

function dumpedSpirv(toggles: string[]): string {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', DUMP_SCRIPT, [...toggles, 'dump_shaders'].join(',')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], cwd: new URL('..', import.meta.url).pathname });
  const spirv = out.slice(out.indexOf('Dumped SPIRV'));
  if (!spirv.includes('OpAccessChain')) throw new Error(`no SPIR-V dump in the child's output:\n${out.slice(0, 2000)}`);
  return spirv;
}

test("Dawn's SPIR-V: workgroup array indices clamped by default, not with the bounds-check toggles", () => {
  const clamps = (spirv: string) => (spirv.match(/UMin/g) ?? []).length;
  assert.is(clamps(dumpedSpirv(dawnToggles({}))), 2, 'by default: the write and the read clamped');
  assert.is(clamps(dumpedSpirv(dawnToggles({ boundsChecks: false }))), 0, 'boundsChecks: false');
});

test('a runtime without bounds checks says so, and tunes apart from one with them', async () => {
  const rt = await Runtime.create({ boundsChecks: false });
  const checked = await Runtime.create({ boundsChecks: true });
  try {
    assert.is(rt.adapter.boundsChecks, false);
    assert.match(rt.describe(), /; bounds checks off$/);
    assert.is(checked.adapter.boundsChecks, true);
    assert.not.match(checked.describe(), /bounds checks off/);
    assert.is.not(adapterKey(rt), adapterKey(checked));
    assert.ok(adapterKey(rt).startsWith(adapterKey(checked)));
  } finally {
    rt.destroy();
    checked.destroy();
  }
});

test('every op case (smoke and unit) matches its float64 reference without bounds checks', async () => {
  const rt = await Runtime.create({ boundsChecks: false });
  try {
    const cases = casesOf(null, ['smoke', 'unit']);
    assert.ok(cases.length > 100, `${cases.length} cases`);
    for (const c of cases) await assertCase(rt, c);
  } finally {
    rt.destroy();
  }
});

test('boundsChecks: false is refused where navigator.gpu is set (it cannot be turned off from here)', async () => {
  const had = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: {} }, configurable: true, writable: true });
  try {
    await acquireDevice({ boundsChecks: false }).then(
      () => assert.unreachable('acquired'),
      (e: Error) => assert.match(e.message, /boundsChecks: false needs the Dawn instance .* --enable-dawn-features=allow_unsafe_apis,disable_robustness/),
    );
  } finally {
    if (had) Object.defineProperty(globalThis, 'navigator', had);
    else delete (globalThis as { navigator?: unknown }).navigator;
  }
});

test.run();
