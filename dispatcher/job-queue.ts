// The jobs a pool holds until a runtime has room, first in first out (ARCHITECTURE.md, "Scheduling").
// An entry weighs what it will hold of a runtime (a chunk's items are photons each), and a take
// fills a runtime's room by weight, splitting the entry that does not fit. Thousands of jobs wait
// while each runtime answer frees a few slots: taking from the head moves an index instead of
// copying the rest of the queue each time.

/** Past this many taken entries (and half the array), the array is compacted. */
const COMPACT_AFTER = 1_024;

export class JobQueue<T> {
  private entries: T[] = [];
  private head = 0;
  private total = 0;

  constructor(
    private readonly weightOf: (entry: T) => number = () => 1,
    /** Splits an entry into one of weight `at` and the rest. */
    private readonly split?: (entry: T, at: number) => [T, T],
  ) {}

  /** Entries queued. */
  get length(): number {
    return this.entries.length - this.head;
  }

  /** Their weight together. */
  get weight(): number {
    return this.total;
  }

  push(entry: T): void {
    this.entries.push(entry);
    this.total += this.weightOf(entry);
  }

  /**
   * Removes and returns entries from the head weighing up to `room` together, at most `count` of
   * them. The entry that does not fit is split when it can be, and its rest stays at the head.
   */
  take(room: number, count = Infinity): T[] {
    const taken: T[] = [];
    while (taken.length < count && room > 0 && this.head < this.entries.length) {
      let entry: T = this.entries[this.head]!;
      const weight = this.weightOf(entry);
      if (weight > room) {
        if (!this.split) break;
        const [fits, rest] = this.split(entry, room);
        this.entries[this.head] = rest;
        entry = fits;
      } else this.head++;
      const taking = Math.min(weight, room);
      this.total -= taking;
      room -= taking;
      taken.push(entry);
    }
    if (this.head === this.entries.length) this.clear();
    else if (this.head > COMPACT_AFTER && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    return taken;
  }

  /** Removes and returns the entries `matches` picks, keeping the others in order. */
  removeWhere(matches: (entry: T) => boolean): T[] {
    const removed: T[] = [];
    const kept: T[] = [];
    for (let i = this.head; i < this.entries.length; i++) (matches(this.entries[i]!) ? removed : kept).push(this.entries[i]!);
    if (removed.length > 0) {
      this.entries = kept;
      this.head = 0;
      for (const entry of removed) this.total -= this.weightOf(entry);
    }
    return removed;
  }

  /** Removes and returns every entry. */
  drain(): T[] {
    const all = this.entries.slice(this.head);
    this.clear();
    return all;
  }

  private clear(): void {
    this.entries = [];
    this.head = 0;
    this.total = 0;
  }
}
