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

/** A host once started: what it answers to a stats request, and how it stops. */
export interface MeasuredHost {
  stats(): HostStats;
  stop(): Promise<void>;
}

/**
 * The child's side of the protocol, the same for every host: starts it from argv[2], says when it
 * is ready, answers stats requests, stops on request, and reports a failed start to the parent.
 */
export function serveHost(start: (settings: HostStart) => Promise<MeasuredHost>): void {
  const send = (message: FromHost): void => void process.send!(message);
  start(JSON.parse(process.argv[2]!) as HostStart).then(
    (host) => {
      process.on('message', (message: ToHost) => {
        if (message.type === 'stats') send({ type: 'stats', stats: host.stats() });
        else if (message.type === 'stop') {
          void host.stop().then(() => {
            send({ type: 'stopped' });
            process.disconnect();
          });
        }
      });
      send({ type: 'ready' });
    },
    (err: unknown) => {
      send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      process.exitCode = 1;
    },
  );
}
