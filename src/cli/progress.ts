// A one-line progress bar on a terminal; plain lines (at most one per 10 %) elsewhere,
// so logs of CI runs and in-process test captures stay readable.
import type { ConsoleLike } from './args.ts';

export class ProgressBar {
  private lastDecile = -1;
  private readonly tty: boolean;

  constructor(private readonly label: string, private readonly io: ConsoleLike = console) {
    this.tty = io === console && Boolean(process.stderr.isTTY);
  }

  update(done: number, total: number, detail = ''): void {
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    if (this.tty) {
      const width = 24;
      const filled = Math.round(fraction * width);
      process.stderr.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${detail}\x1b[K`);
      if (done >= total) process.stderr.write('\n');
      return;
    }
    const decile = Math.floor(fraction * 10);
    if (decile > this.lastDecile) {
      this.lastDecile = decile;
      this.io.error(`${this.label}: ${done}/${total} ${detail}`);
    }
  }
}
