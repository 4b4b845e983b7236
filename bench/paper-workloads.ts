// The paper's five workloads (Table 1) as the example functions run them in the benchmark: the
// input of each job, how many jobs a cell measures, and the REST workload's local JSON service.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export type WorkloadName = 'sleep' | 'rest' | 'hash' | 'classify' | 'transform';

export interface PaperWorkload {
  name: WorkloadName;
  input: (i: number) => unknown;
  /** Jobs measured after the warm-up wave, at concurrency c. */
  measuredJobs(c: number, quick: boolean): number;
  /** The measurement stops taking new jobs after this long, whatever the count. */
  windowMs(quick: boolean): number;
  /** The paper's memory reduction per invocation at high concurrency (1 − increment / initial). */
  paperReduction: number;
}

/**
 * Memory targets from the paper (Table 1, Figures 4 and 8): Sleep 1 − 1/49, REST 1 − 1.5/56,
 * Hash 1 − 3.5/127, Classify 1 − 29/248, Video 1 − 120/160.
 */
export function workloads(restUrl: string): PaperWorkload[] {
  const measured =
    (perC: number, min: number) =>
    (c: number, quick: boolean): number =>
      quick ? Math.max(c, 4) : Math.max(perC * c, min);
  const window =
    (full: number) =>
    (quick: boolean): number =>
      quick ? 3_000 : full;
  return [
    // The paper's 1 s wait: memory is the point, not CPU.
    { name: 'sleep', input: () => ({ ms: 1_000 }), measuredJobs: measured(2, 4), windowMs: window(5_000), paperReduction: 0.98 },
    { name: 'rest', input: () => ({ url: restUrl, limit: 10 }), measuredJobs: measured(4, 60), windowMs: window(5_000), paperReduction: 0.97 },
    // A different seed per job: every job builds and hashes a 2 MB blob of its own.
    { name: 'hash', input: (i) => ({ seed: i }), measuredJobs: measured(4, 60), windowMs: window(6_000), paperReduction: 0.97 },
    { name: 'classify', input: (i) => ({ seed: i }), measuredJobs: measured(1, 16), windowMs: window(8_000), paperReduction: 0.88 },
    { name: 'transform', input: (i) => ({ seed: i }), measuredJobs: measured(1, 8), windowMs: window(8_000), paperReduction: 0.25 },
  ];
}

export interface RestService {
  url: string;
  close(): Promise<void>;
}

/** Records the REST function fetches, served as a database-backed API would. */
const RECORDS = JSON.stringify({
  items: Array.from({ length: 200 }, (_, i) => ({ id: i, name: `item-${i}`, price: (i * 37) % 1000, stock: (i * 11) % 97, tags: ['a', 'b'] })),
});
/** The paper's REST workload calls a database service: about one round trip of a query. */
const SERVICE_DELAY_MS = 20;

export function startRestService(): Promise<RestService> {
  const server = createServer((_request, response) => {
    setTimeout(() => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(RECORDS);
    }, SERVICE_DELAY_MS);
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/items`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
