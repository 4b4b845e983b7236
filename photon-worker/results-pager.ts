// ctx.results() inside a runtime thread: the thread holds no Redis connection (nor its credentials),
// so it asks its host for a run's results one page at a time over the runtime protocol, and the
// host reads them from Redis (contract/run-results.ts). See ARCHITECTURE.md, "Map-reduce".
import { ErrorCodes, PhotonsError, type ErrorCode } from '../errors';
import type { ItemResult, ResultsPage } from '../contract/run-results';
import { SafeMap } from './primordials';
import type { HostMessage, RuntimeMessage } from './protocol';

type PageAnswer = Extract<HostMessage, { type: 'results-page' }>;

export class ResultsPager {
  private nextRequestId = 1;
  private readonly waiting = new SafeMap<number, { resolve: (page: ResultsPage) => void; reject: (err: Error) => void }>();

  constructor(private readonly post: (message: RuntimeMessage) => void) {}

  /** The run's results in input order, as `{ index, ok, value | error }`, read a page at a time. */
  async *results(jobId: string, input: unknown): AsyncGenerator<ItemResult> {
    const runId = (input as { runId?: unknown } | null)?.runId;
    if (typeof runId !== 'string' || runId === '') {
      throw new PhotonsError(
        ErrorCodes.USAGE,
        `ctx.results() reads the map results of a reduce job, whose input names its run ({ runId, fn, total, ok, failed }); job ${jobId} has no runId in its input. Start the reduce with client.mapReduce or photons map --reduce.`,
      );
    }
    for (let from: number | null = 0; from !== null;) {
      const page: ResultsPage = await this.page(jobId, runId, from);
      yield* page.items;
      from = page.next;
    }
  }

  /** The host's answer to a request. */
  answer(message: PageAnswer): void {
    const waiter = this.waiting.get(message.requestId);
    if (!waiter) return;
    this.waiting.delete(message.requestId);
    if (message.page) waiter.resolve(message.page);
    else waiter.reject(new PhotonsError((message.error?.code ?? ErrorCodes.RUN_NOT_FOUND) as ErrorCode, message.error?.message ?? 'ctx.results(): no page'));
  }

  private page(jobId: string, runId: string, from: number): Promise<ResultsPage> {
    const requestId = this.nextRequestId++;
    return new Promise<ResultsPage>((resolve, reject) => {
      this.waiting.set(requestId, { resolve, reject });
      this.post({ type: 'results-page', requestId, jobId, runId, from });
    });
  }
}
