// The quick fuzz pass (npm run fuzz is the long one): every issue-13 reproducer as
// its own test, then a few thousand seeded mutated inputs per parser, bounded by a
// time budget, with no crash (any non-typed error), no input over 2 s and no
// ArrayBuffer growth past 256 MiB beyond what the input declares.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runTarget } from '../bench/fuzz/engine.ts';
import { checkRegression, makeTarget, REGRESSIONS, type TargetName } from '../bench/fuzz/regressions.ts';

for (const reg of REGRESSIONS) {
  test(`regression: ${reg.name}`, () => {
    const target = makeTarget(reg.target);
    try {
      const problem = checkRegression(reg, target);
      assert.is(problem, undefined, problem);
    } finally {
      target.close?.();
    }
  });
}

const PARSERS: TargetName[] = ['nifti', 'nifti-gz', 'nifti-paths', 'gzip', 'safetensors', 'sharded', 'torch-legacy', 'torch-zip', 'png-image', 'png-mask'];
/** Inputs per parser, and the time budget that bounds it on a loaded machine. */
const COUNT = 3000;
const SECONDS = 5;
/** Fewer than this many inputs in the budget means the pass says too little to count. */
const MINIMUM = 150;

for (const parser of PARSERS) {
  test(`fuzz: ${parser}, up to ${COUNT} inputs in ${SECONDS} s`, () => {
    const target = makeTarget(parser);
    try {
      const s = runTarget(target, { count: COUNT, seconds: SECONDS, seed: 20261130 });
      const findings = s.findings.slice(0, 5).map((f) => `${f.kind} at input ${f.index}: ${f.detail}`).join('\n');
      assert.is(s.crashes + s.hangs + s.blowups, 0, `${s.crashes} crashes, ${s.hangs} hangs, ${s.blowups} blow-ups\n${findings}`);
      assert.ok(s.inputs >= MINIMUM, `only ${s.inputs} inputs ran`);
      // Both outcomes must occur, or the mutations are not reaching the parser.
      assert.ok(s.accepted > 0 && s.refused > 0, `accepted ${s.accepted}, refused ${s.refused}`);
    } finally {
      target.close?.();
    }
  });
}

test.run();
