// Preloaded by test/run.ts into every test process: on exit, prints the CPU time the
// process used (all its threads, lavapipe's workers included) and, apart, the CPU time
// of the child processes it waited for (Chromium with its GPU process and renderers,
// spawned CLIs). On a shared machine CPU time is a steadier measure of a file's cost
// than its wall time; the browser scripts spend theirs in Chromium.
import { readFileSync, writeSync } from 'node:fs';

/** utime + stime and cutime + cstime of this process from /proc/self/stat (Linux), in seconds; null elsewhere. */
function childrenSeconds(): number | null {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the parenthesised command name: state is field 3, cutime 16, cstime 17 (1-based).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[16 - 3]) + Number(fields[17 - 3]);
    // USER_HZ is 100 on every Linux the project runs on (getconf CLK_TCK).
    return Number.isFinite(ticks) ? ticks / 100 : null;
  } catch {
    return null;
  }
}

process.on('exit', () => {
  const u = process.resourceUsage();
  const children = childrenSeconds();
  writeSync(2, `\n[cpu] ${((u.userCPUTime + u.systemCPUTime) / 1e6).toFixed(1)} s${children === null ? '' : `, children ${children.toFixed(1)} s`}\n`);
});
