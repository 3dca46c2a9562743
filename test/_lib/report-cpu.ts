// Preloaded by test/run.ts into every test process: on exit, prints the CPU time the
// process used (all its threads, lavapipe's workers included) and, apart, that of its
// descendant processes (Chromium with its GPU process and renderers, spawned CLIs). On
// a shared machine CPU time is a steadier measure of a file's cost than its wall time;
// the browser scripts spend theirs in Chromium.
//
// Descendants: Chromium's helpers are not waited for in a way that adds their time to
// ours, so every descendant's CPU time is sampled from /proc each second (the last
// sample counts); children waited for before any sample (short CLI spawns) show in
// this process's cutime/cstime. The larger of the two is reported: an estimate from below.
import { readdirSync, readFileSync, writeSync } from 'node:fs';

// USER_HZ is 100 on every Linux the project runs on (getconf CLK_TCK).
const HZ = 100;

/** Fields after the parenthesised command name of /proc/<pid>/stat (index 0 = field 3, state). */
function statFields(pid: number | 'self'): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

const field = (f: string[], n: number) => Number(f[n - 3]);

/** CPU seconds last seen per descendant, keyed by pid and start time (pids are reused). */
const seen = new Map<string, number>();

function sampleDescendants(): void {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return;
  }
  const parent = new Map<number, number>();
  const stats = new Map<number, string[]>();
  for (const e of entries) {
    const f = statFields(Number(e));
    if (!f) continue;
    parent.set(Number(e), field(f, 4));
    stats.set(Number(e), f);
  }
  const isDescendant = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === process.pid) return true;
    return false;
  };
  for (const [pid, f] of stats) {
    if (pid === process.pid || !isDescendant(pid)) continue;
    seen.set(`${pid}@${field(f, 22)}`, (field(f, 14) + field(f, 15)) / HZ);
  }
}

setInterval(sampleDescendants, 1000).unref();

process.on('exit', () => {
  const u = process.resourceUsage();
  const self = statFields('self');
  const waited = self ? (field(self, 16) + field(self, 17)) / HZ : 0;
  const sampled = [...seen.values()].reduce((a, b) => a + b, 0);
  writeSync(2, `\n[cpu] ${((u.userCPUTime + u.systemCPUTime) / 1e6).toFixed(1)} s, children ${Math.max(waited, sampled).toFixed(1)} s\n`);
});
