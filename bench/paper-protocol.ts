// The messages between a benchmark and the process it measures (a dispatcher, or a BullMQ worker
// with sandboxed processors), run as a child so that its whole process tree can be measured.

export type HostStart =
  | {
      kind: 'dispatcher';
      redisUrl: string;
      prefix: string;
      functionsDir: string;
      mode: 'photon' | 'shared' | 'lambda';
      /** Jobs of one function held at once (lambda mode: also its most runtimes). */
      concurrency: number;
      keepAliveMs: number;
    }
  | {
      kind: 'sandboxed';
      redisUrl: string;
      prefix: string;
      fn: string;
      /** A JSON file holding the function's bundle: { name, file, code }. */
      bundleFile: string;
      concurrency: number;
      useWorkerThreads: boolean;
    };

export interface HostStats {
  coldStarts: number;
  /** Heap in use of each runtime (dispatcher hosts only: BullMQ does not report its children's). */
  runtimeHeaps: number[];
  completed: number;
  failed: number;
}

export type ToHost = { type: 'stats' } | { type: 'stop' };

export type FromHost = { type: 'ready' } | { type: 'stats'; stats: HostStats } | { type: 'stopped' } | { type: 'error'; message: string };

/** What a sandboxed processor returns: the function's output and which child ran it. */
export interface SandboxedResult {
  runtime: string;
  value: unknown;
}
