// A wake-up between the loops of a run (results arrived, room freed, an event came): waiters
// resume on the next notify or after their timeout, whichever is first.
export class Signal {
  private waiters: Array<() => void> = [];
  private pending = false;

  /** Resolves true when notified (also by a notify that came since the last wait), false on timeout. */
  wait(timeoutMs?: number): Promise<boolean> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              this.waiters = this.waiters.filter((w) => w !== wake);
              resolve(false);
            }, timeoutMs);
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.waiters.push(wake);
    });
  }

  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    if (waiters.length === 0) this.pending = true;
    for (const wake of waiters) wake();
  }
}
