// The matrix conv's hardware form (kernels/conv2d_mma.wgsl with
// kernels/conv2d_mma_subgroup_matrix.fragment.wgsl swapped in) through Dawn's own WGSL
// compiler, on Dawn's null backend (test/_lib/dawn-null.ts): the text the matrix units
// run, which CI's adapters cannot execute, is checked by the compiler a GPU's Dawn uses
// before any GPU sees it. Every tile of the mma variants with f32 and f16 weights in
// NVIDIA's 16x16x16 matrices on 32 lanes, a non-square 16x8x16 (a matrix's rows used for
// its columns fails to type-check) and 8x8x8 (Apple's, Intel's and lavapipe's shape), in
// the current builtin spelling; the older one (deprecated, for older Dawns) once, as the
// two differ only in the three builtin calls. The pipelines are created too where the
// tile fits the null device's 16 KiB of workgroup memory, and refused exactly where
// mmaFits says it does not fit. (Dawn also wants a matrix kernel's workgroup to be a
// multiple of the device's largest subgroup, 128 lanes on the null device: the kernel's
// 4 x 32 lanes.) tools/lavapipe-coopmat.sh runs the hardware form for real, outside CI.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { conv2dMmaSource, MMA_DEFAULT_TILE, mmaFits, type MmaDialect, type MmaShape, type MmaTile } from '../src/ops/conv2d-mma.ts';
import { CONV2D_VARIANTS, MMA_VARIANTS } from '../src/ops/conv2d-variants.ts';
import type { Runtime } from '../src/runtime/runtime.ts';
import { compile, nullBackendDevice, pipelineError } from './_lib/dawn-null.ts';

const SHAPES: { shape: MmaShape; lanes: number }[] = [
  { shape: { M: 16, N: 16, K: 16 }, lanes: 32 },
  { shape: { M: 16, N: 8, K: 16 }, lanes: 32 },
  { shape: { M: 8, N: 8, K: 8 }, lanes: 32 },
];

const tiles: [string, MmaTile][] = MMA_VARIANTS.map((name) => {
  const v = CONV2D_VARIANTS[name];
  if (v.kind !== 'mma') throw new Error(`${name} is no matrix variant`);
  return [name, v.mma.tile ?? MMA_DEFAULT_TILE];
});

// Every epilogue the networks use: plain, and vec4 in and out with a residual and ReLU.
const EPILOGUES: Record<string, number>[] = [{}, { VEC4_IN: 1, VEC4_OUT: 1, HAS_RESIDUAL: 1, RELU: 1 }];

interface Case {
  name: string;
  shape: MmaShape;
  lanes: number;
  tile: MmaTile;
  dialect: MmaDialect;
  f16Weights: boolean;
}

/** Compiles a case and creates its pipelines; returns how many were created and how many refused for their workgroup memory. */
async function check(device: GPUDevice, c: Case, deprecationWarnings: number): Promise<[number, number]> {
  const what = `${c.name} ${c.shape.M}x${c.shape.N}x${c.shape.K} on ${c.lanes} lanes, ${c.dialect}${c.f16Weights ? ', f16 weights' : ''}`;
  const { module, messages } = await compile(device, conv2dMmaSource({ ops: 'subgroup-matrix', ...c }));
  const texts = messages.map((m) => m.text).join('; ');
  assert.equal(messages.filter((m) => m.type === 'error').map((m) => m.text), [], what);
  assert.is(messages.filter((m) => m.type === 'warning' && /deprecated/.test(m.text)).length, deprecationWarnings, `${what}: ${texts}`);
  assert.is(messages.length, deprecationWarnings, `${what}: ${texts}`);
  const fits = mmaFits({ device } as unknown as Runtime, c.shape, c.lanes, c.tile); // mmaFits reads the device's limits only
  for (const constants of EPILOGUES) {
    const error = await pipelineError(device, module, constants);
    if (fits) assert.is(error, '', what);
    else assert.match(error, /workgroup storage/, `${what}: refused for its workgroup memory, as mmaFits said`);
  }
  return fits ? [EPILOGUES.length, 0] : [0, EPILOGUES.length];
}

test('matrix conv, hardware form: Dawn compiles every tile, and creates the pipelines that fit', async () => {
  const device = await nullBackendDevice();
  let [created, refused] = [0, 0];
  for (const { shape, lanes } of SHAPES) {
    for (const [name, tile] of tiles) {
      for (const f16Weights of [false, true]) {
        const [c, r] = await check(device, { name, shape, lanes, tile, dialect: 'row-major-template', f16Weights }, 0);
        created += c;
        refused += r;
      }
    }
  }
  console.log(`  pipelines created ${created}, refused for workgroup memory ${refused}`);
  assert.ok(created >= 8 && refused >= 8, `pipelines created ${created}, refused ${refused}: both outcomes are exercised`);
});

test('matrix conv, hardware form: the older builtin spelling still compiles, with a deprecation warning per call', async () => {
  const device = await nullBackendDevice();
  const [created] = await check(device, { name: 'mma', shape: { M: 8, N: 8, K: 8 }, lanes: 32, tile: MMA_DEFAULT_TILE, dialect: 'col-major-argument', f16Weights: false }, 3);
  assert.is(created, EPILOGUES.length);
});

test("Dawn's null backend refuses what the hardware form must not do: a subgroup matrix outside function scope", async () => {
  const device = await nullBackendDevice();
  const code = conv2dMmaSource({ ops: 'subgroup-matrix', ...SHAPES[0], tile: MMA_DEFAULT_TILE, dialect: 'row-major-template', f16Weights: false });
  const misplaced = code.replace('fn multiplySlice(', 'var<private> stray: subgroup_matrix_result<f32, SN, SM>;\nfn multiplySlice(');
  assert.ok(misplaced !== code);
  const { messages } = await compile(device, misplaced);
  assert.match(messages.filter((m) => m.type === 'error').map((m) => m.text).join('\n'), /cannot be declared in the 'private' address space/);
});

test.run();
