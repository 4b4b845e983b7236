// The jobs a pool holds until a runtime has room, first in first out (ARCHITECTURE.md, "Scheduling").
// A chunked map queues tens of thousands of items while each runtime answer frees a few slots:
// taking from the head moves an index instead of copying the rest of the queue each time.

/** Past this many taken entries (and half the array), the array is compacted. */
const COMPACT_AFTER = 1_024;

export class JobQueue<T> {
  private entries: T[] = [];
  private head = 0;

  get length(): number {
    return this.entries.length - this.head;
  }

  push(entry: T): void {
    this.entries.push(entry);
  }

  /** Removes and returns up to `count` entries from the head. */
  take(count: number): T[] {
    const end = Math.min(this.head + count, this.entries.length);
    const taken = this.entries.slice(this.head, end);
    this.head = end;
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
  }
}
