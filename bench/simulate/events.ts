// The simulation clock: a binary min-heap of timed events. Ties keep insertion order, so a run is
// reproducible event for event.

export interface Timed {
  at: number;
}

export class EventQueue<E extends Timed> {
  private readonly items: Array<{ event: E; seq: number }> = [];
  private seq = 0;

  get size(): number {
    return this.items.length;
  }

  push(event: E): void {
    const items = this.items;
    items.push({ event, seq: this.seq++ });
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): E | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (!top || !last) return undefined;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && this.before(items[left]!, items[smallest]!)) smallest = left;
        if (right < items.length && this.before(items[right]!, items[smallest]!)) smallest = right;
        if (smallest === i) break;
        [items[i], items[smallest]] = [items[smallest]!, items[i]!];
        i = smallest;
      }
    }
    return top.event;
  }

  private before(a: { event: E; seq: number }, b: { event: E; seq: number }): boolean {
    return a.event.at < b.event.at || (a.event.at === b.event.at && a.seq < b.seq);
  }
}
