import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { add, relu } from '../src/ops/elementwise.ts';
import { testRuntime } from './_lib/gpu.ts';
import { assertCase, casesOf, UNIT_TIERS } from './_lib/op-cases/index.ts';

// Every op on odd sizes, and one over more than 65,535 workgroups: test/_lib/op-cases/elementwise.ts.
for (const c of casesOf('elementwise', UNIT_TIERS)) test(c.name, async () => assertCase(await testRuntime(), c));

test('elementwise rejects mismatched shapes and disposed tensors', async () => {
  const rt = await testRuntime();
  const a = rt.upload([1, 2, 2, 1], [1, 2, 3, 4]);
  const b = rt.upload([1, 2, 1, 2], [1, 2, 3, 4]);
  assert.throws(() => add(rt, a, b), /shapes differ/);
  a.dispose();
  assert.throws(() => relu(rt, a), /already disposed/);
  b.dispose();
});

test.run();
