// A runtime thread's answers on their way to its host: those finished in the same turn of the
// event loop travel in one message, with a heap reading. One that cannot be copied costs only the
// items that cannot.
import { serialize } from 'node:v8';
import { realSetImmediate } from './primordials';
import type { Answer, HeapReading, RuntimeMessage } from './protocol';
import type { OutcomeEncoder } from './outcomes';

export class AnswerOutbox {
  private answers: Answer[] = [];
  private scheduled = false;

  constructor(
    private readonly post: (message: RuntimeMessage) => void,
    private readonly heap: () => HeapReading,
    private readonly outcomes: OutcomeEncoder,
  ) {}

  send(answer: Answer): void {
    this.answers.push(answer);
    if (this.scheduled) return;
    this.scheduled = true;
    realSetImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const answers = this.answers;
    this.answers = [];
    try {
      this.post({ type: 'results', answers, ...this.heap() });
    } catch {
      // One answer that cannot be cloned must not lose the others: each travels alone.
      for (const answer of answers) {
        try {
          this.post({ type: 'results', answers: [answer], ...this.heap() });
        } catch (err) {
          // Only the items that cannot be cloned fail.
          const items = answer.items.map((item, i) =>
            cloneable(item) ? item : this.outcomes.failure(this.outcomes.notJson(`item ${i} of a request`, String(err))),
          );
          this.post({ type: 'results', answers: [{ seq: answer.seq, items }], ...this.heap() });
        }
      }
    }
  }
}

/** Whether postMessage can copy the value (the same serializer; a job may have replaced structuredClone). */
function cloneable(value: unknown): boolean {
  try {
    serialize(value);
    return true;
  } catch {
    return false;
  }
}
