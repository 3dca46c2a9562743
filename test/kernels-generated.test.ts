// Kernel text written by a generator (tools/gen-conv2d-cpu.ts: the unrolled rows of
// kernels/conv2d_cpu.wgsl; tools/gen-conv2d-winograd.ts: the four positions of a row of
// kernels/conv2d_winograd.wgsl) matches what the generator writes now, so an edit to
// either alone cannot land.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CONV2D_CPU_PATH, conv2dCpuBody, generatedConv2dCpu } from '../tools/gen-conv2d-cpu.ts';
import { CONV2D_WINOGRAD_PATH, conv2dWinogradBody, generatedConv2dWinograd } from '../tools/gen-conv2d-winograd.ts';

test('kernels/conv2d_cpu.wgsl holds tools/gen-conv2d-cpu.ts output', () => {
  const source = readFileSync(CONV2D_CPU_PATH, 'utf8');
  assert.ok(source.includes(conv2dCpuBody()), 'kernels/conv2d_cpu.wgsl differs from its generator: run npx tsx tools/gen-conv2d-cpu.ts');
  assert.is(generatedConv2dCpu(source), source);
});

test('the generator writes 16 rows per step: rows j >= 4 of a block broadcast from the second load when SG is 4', () => {
  const body = conv2dCpuBody();
  assert.is(body.match(/s = xa\./g)?.length, 16);
  assert.is(body.match(/if \(SG == 8u\)/g)?.length, 8);
  assert.ok(body.includes('if (SG == 8u) { b0 = subgroupBroadcast(w0, 7u);') && body.includes('else { b0 = subgroupBroadcast(v0, 3u);'));
});

test('kernels/conv2d_winograd.wgsl holds tools/gen-conv2d-winograd.ts output: 4 positions x 8 rows, tile B behind TILES == 2', () => {
  const source = readFileSync(CONV2D_WINOGRAD_PATH, 'utf8');
  assert.ok(source.includes(conv2dWinogradBody()), 'kernels/conv2d_winograd.wgsl differs from its generator: run npx tsx tools/gen-conv2d-winograd.ts');
  assert.is(generatedConv2dWinograd(source), source);
  const body = conv2dWinogradBody();
  assert.is(body.match(/s = va\d_\d\./g)?.length, 32);
  assert.is(body.match(/if \(TILES == 2u\) \{ s = vb/g)?.length, 32);
  assert.ok(body.includes('s = va3_1.w; m3_0 += s * b0;') && body.includes('b3 = subgroupBroadcast(w3, 7u);'));
});

test('the generators refuse a kernel without their markers', () => {
  assert.throws(() => generatedConv2dCpu('fn main() {}'), /markers are missing/);
  assert.throws(() => generatedConv2dWinograd('fn main() {}'), /markers are missing/);
});

test.run();
