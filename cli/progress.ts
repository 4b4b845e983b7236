// Progress of a map run on stderr: a bar redrawn in place on a terminal, plain lines every few
// seconds otherwise (logs, CI), and one summary line at the end.
import type { RunProgress } from '../producer/types';

const BAR_WIDTH = 30;
const LINE_EVERY_MS = 2_000;

export class ProgressReport {
  private readonly startedAt = Date.now();
  private lastLineAt = 0;
  private drawn = false;

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly tty = Boolean(process.stderr.isTTY),
  ) {}

  update(p: RunProgress): void {
    if (this.tty) {
      this.out.write(`\r${this.bar(p)}\x1b[K`);
      this.drawn = true;
    } else if (Date.now() - this.lastLineAt >= LINE_EVERY_MS) {
      this.lastLineAt = Date.now();
      this.out.write(`photons map: ${this.counts(p)}\n`);
    }
  }

  /** Ends the bar and prints: done, failed, items per second. */
  summary(p: RunProgress): void {
    if (this.drawn) this.out.write(`\r${this.bar(p)}\x1b[K\n`);
    const seconds = (Date.now() - this.startedAt) / 1000;
    this.out.write(
      `photons map: run ${p.runId}: ${p.done - p.failed} succeeded, ${p.failed} failed, ${p.done} done in ${seconds.toFixed(1)} s (${Math.round(p.done / Math.max(seconds, 0.001))} items/s)\n`,
    );
  }

  private bar(p: RunProgress): string {
    const fraction = p.total ? p.done / p.total : 0;
    const filled = Math.round(fraction * BAR_WIDTH);
    const pct = p.total ? `${Math.floor(fraction * 100)}%`.padStart(4) : '   ?';
    return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${pct} ${this.counts(p)}`;
  }

  private counts(p: RunProgress): string {
    const seconds = Math.max((Date.now() - this.startedAt) / 1000, 0.001);
    return `${p.done}/${p.total ?? `${p.enqueued}+`} done, ${p.failed} failed, ${Math.round(p.done / seconds)} items/s`;
  }
}
