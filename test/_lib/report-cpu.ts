// Preloaded by test/run.ts into every test process: on exit, prints the CPU time the
// process used (all its threads, lavapipe's workers included; not its child
// processes, such as Chromium). On a shared machine CPU time is a steadier measure of
// a file's cost than its wall time.
import { writeSync } from 'node:fs';

process.on('exit', () => {
  const u = process.resourceUsage();
  writeSync(2, `\n[cpu] ${((u.userCPUTime + u.systemCPUTime) / 1e6).toFixed(1)} s\n`);
});
