// The matrix conv's hardware form (kernels/conv2d_mma.wgsl with
// kernels/conv2d_mma_subgroup_matrix.fragment.wgsl swapped in) through Dawn's own WGSL
// compiler, on Dawn's null backend (test/_lib/dawn-null.ts): the text the matrix units
// run, which CI's adapters cannot execute, is checked by the compiler a GPU's Dawn uses
// before any GPU sees it. Every tile of the mma variants, both builtin spellings, f32 and
// f16 weights, in NVIDIA's 16x16x16 matrices on 32 lanes, a non-square 16x8x16 (a
// matrix's rows used for its columns fails to type-check) and 8x8x8 (Apple's and Intel's
// shape). The pipelines are created too where the tile fits the null device's 16 KiB of
// workgroup memory, and refused exactly where mmaFits says it does not fit. (Dawn also
// wants a matrix kernel's workgroup to be a multiple of the device's largest subgroup,
// 128 lanes on the null device: the kernel's 4 x 32 lanes.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { conv2dMmaSource, MMA_DIALECTS, MMA_DEFAULT_TILE, mmaFits, type MmaShape, type MmaTile } from '../src/ops/conv2d-mma.ts';
import { CONV2D_VARIANTS, MMA_VARIANTS } from '../src/ops/conv2d-variants.ts';
import type { Runtime } from '../src/runtime/runtime.ts';
import { compileMessages, nullBackendDevice, pipelineError } from './_lib/dawn-null.ts';

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

test('matrix conv, hardware form: Dawn compiles every tile in both spellings, and creates the pipelines that fit', async () => {
  const device = await nullBackendDevice();
  const fitsHere = { device } as unknown as Runtime; // mmaFits reads the device's limits only
  let created = 0;
  let refused = 0;
  for (const { shape, lanes } of SHAPES) {
    for (const [name, tile] of tiles) {
      for (const dialect of MMA_DIALECTS) {
        for (const f16Weights of [false, true]) {
          const what = `${name} ${shape.M}x${shape.N}x${shape.K} on ${lanes} lanes, ${dialect}${f16Weights ? ', f16 weights' : ''}`;
          const code = conv2dMmaSource({ ops: 'subgroup-matrix', shape, lanes, tile, dialect, f16Weights });
          const messages = await compileMessages(device, code);
          assert.equal(messages.filter((m) => m.type === 'error').map((m) => m.text), [], what);
          // The template spelling is current Dawn's; the col_major argument still compiles, deprecated.
          const expectedWarnings = dialect === 'row-major-template' ? 0 : 3;
          assert.is(messages.filter((m) => /deprecated/.test(m.text)).length, expectedWarnings, `${what}: ${messages.map((m) => m.text).join('; ')}`);
          assert.is(messages.length, expectedWarnings, `${what}: ${messages.map((m) => m.text).join('; ')}`);
          for (const constants of EPILOGUES) {
            const error = await pipelineError(device, code, constants);
            if (mmaFits(fitsHere, shape, lanes, tile)) {
              assert.is(error, '', what);
              created++;
            } else {
              assert.match(error, /workgroup storage/, `${what}: refused for its workgroup memory, as mmaFits said`);
              refused++;
            }
          }
        }
      }
    }
  }
  console.log(`  pipelines created ${created}, refused for workgroup memory ${refused}`);
  assert.ok(created >= 16 && refused >= 16, `pipelines created ${created}, refused ${refused}: both outcomes are exercised`);
});

test("Dawn's null backend refuses what the hardware form must not do: a subgroup matrix outside function scope", async () => {
  const device = await nullBackendDevice();
  const code = conv2dMmaSource({ ops: 'subgroup-matrix', shape: SHAPES[0].shape, lanes: 32, tile: MMA_DEFAULT_TILE, dialect: 'row-major-template', f16Weights: false });
  const misplaced = code.replace('fn multiplySlice(', 'var<private> stray: subgroup_matrix_result<f32, SN, SM>;\nfn multiplySlice(');
  assert.ok(misplaced !== code);
  const errors = (await compileMessages(device, misplaced)).filter((m) => m.type === 'error');
  assert.match(errors.map((m) => m.text).join('\n'), /cannot be declared in the 'private' address space/);
});

test.run();
