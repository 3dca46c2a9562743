// Not a kernel on its own: the `matrix ops` block of kernels/conv2d_mma.wgsl for adapters
// with subgroup matrices (Dawn's chromium_experimental_subgroup_matrix). src/ops/conv2d-mma.ts
// puts it in place of that file's per-invocation block, with
//   enable chromium_experimental_subgroup_matrix;
// and the uniformity diagnostic turned off on top (each subgroup loads at its own offset:
// uniform within the subgroup, which WGSL's workgroup-scope analysis cannot see).
// The same type and functions as the block it replaces, over the same tiles: each
// subgroup's TM x TN result matrices live in its registers, in main's function-scope
// `acc` (WGSL allows subgroup matrices in no other address space, private included).
//
// Written with the col_major argument (`false`: row-major), Dawn's first spelling;
// conv2d-mma.ts rewrites the calls to the `row_major` template form current Dawn wants
// (and tries first). test/conv2d-mma-dawn.test.ts compiles both with Dawn's compiler.

alias Accumulators = array<subgroup_matrix_result<f32, SN, SM>, TM * TN>;

fn multiplySlice(acc: ptr<function, Accumulators>, row0: u32, col0: u32, buf: u32) {
  let a = buf * A_TILE + row0 * A_STRIDE;
  let b = buf * B_TILE + col0;
  for (var s = 0u; s < BK; s += SK) {
    var left: array<subgroup_matrix_left<f16, SK, SM>, TM>;
    for (var i = 0u; i < TM; i++) {
      left[i] = subgroupMatrixLoad<subgroup_matrix_left<f16, SK, SM>>(&As, a + i * SM * A_STRIDE + s, false, A_STRIDE);
    }
    for (var j = 0u; j < TN; j++) {
      let right = subgroupMatrixLoad<subgroup_matrix_right<f16, SN, SK>>(&Bs, b + s * B_STRIDE + j * SN, false, B_STRIDE);
      for (var i = 0u; i < TM; i++) {
        (*acc)[i * TN + j] = subgroupMatrixMultiplyAccumulate(left[i], right, (*acc)[i * TN + j]);
      }
    }
  }
}

fn stageMatrix(acc: ptr<function, Accumulators>, i: u32, j: u32, at: u32) {
  subgroupMatrixStore(&Cs, at, (*acc)[i * TN + j], false, SN);
}
