// Not a kernel on its own: the `matrix ops` block of kernels/conv2d_mma.wgsl for adapters
// with subgroup matrices (Dawn's chromium_experimental_subgroup_matrix). src/ops/conv2d-mma.ts
// puts it in place of that file's per-invocation block, with
//   enable chromium_experimental_subgroup_matrix;
// and the uniformity diagnostic turned off on top (each subgroup loads at its own offset:
// uniform within the subgroup, which WGSL's workgroup-scope analysis cannot see).
// The same three functions as the block it replaces, over the same tiles: each subgroup's
// four SM x SN result matrices live in the subgroup's registers (private variables).
//
// Written with the col_major argument (`false`: row-major); conv2d-mma.ts rewrites the
// calls to the `row_major` template form where Dawn's WGSL compiler wants that instead.

var<private> acc00: subgroup_matrix_result<f32, SN, SM>;
var<private> acc01: subgroup_matrix_result<f32, SN, SM>;
var<private> acc10: subgroup_matrix_result<f32, SN, SM>;
var<private> acc11: subgroup_matrix_result<f32, SN, SM>;

fn zeroAccumulators() {
  acc00 = subgroup_matrix_result<f32, SN, SM>();
  acc01 = subgroup_matrix_result<f32, SN, SM>();
  acc10 = subgroup_matrix_result<f32, SN, SM>();
  acc11 = subgroup_matrix_result<f32, SN, SM>();
}

fn multiplySlice(row0: u32, col0: u32, buf: u32) {
  let a = buf * A_TILE + row0 * BK;
  let b = buf * B_TILE + col0;
  for (var s = 0u; s < BK; s += SK) {
    var a0 = subgroupMatrixLoad<subgroup_matrix_left<f16, SK, SM>>(&As, a + s, false, BK);
    var a1 = subgroupMatrixLoad<subgroup_matrix_left<f16, SK, SM>>(&As, a + SM * BK + s, false, BK);
    var b0 = subgroupMatrixLoad<subgroup_matrix_right<f16, SN, SK>>(&Bs, b + s * BN, false, BN);
    var b1 = subgroupMatrixLoad<subgroup_matrix_right<f16, SN, SK>>(&Bs, b + s * BN + SN, false, BN);
    acc00 = subgroupMatrixMultiplyAccumulate(a0, b0, acc00);
    acc01 = subgroupMatrixMultiplyAccumulate(a0, b1, acc01);
    acc10 = subgroupMatrixMultiplyAccumulate(a1, b0, acc10);
    acc11 = subgroupMatrixMultiplyAccumulate(a1, b1, acc11);
  }
}

fn storeAccumulators(row0: u32, col0: u32) {
  subgroupMatrixStore(&Cs, row0 * BN + col0, acc00, false, BN);
  subgroupMatrixStore(&Cs, row0 * BN + col0 + SN, acc01, false, BN);
  subgroupMatrixStore(&Cs, (row0 + SM) * BN + col0, acc10, false, BN);
  subgroupMatrixStore(&Cs, (row0 + SM) * BN + col0 + SN, acc11, false, BN);
}
