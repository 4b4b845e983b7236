// Runs inside a worker thread for `photons bench photon-overhead`: measures, within one runtime,
// the heap each in-flight photon adds and the time to create one.
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { FunctionCode, PhotonConsole } from '../photon-worker/photon';
import type { RuntimeMessage, RuntimeStartup } from '../photon-worker/protocol';
import { PhotonRuntime } from '../photon-worker/runtime';

export interface OverheadRequest {
  startup: RuntimeStartup;
  inFlight: number[];
  instantiations: number;
}

export interface OverheadReading {
  perPhotonHeapBytes: Record<string, number>;
  instantiateMicros: number;
  /** Whether the runtime froze the builtins (the function did not opt out). */
  builtinsFrozen: boolean;
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const gate = globalThis as { benchGate?: Promise<void> };

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  gc();
  gc();
}

async function main(request: OverheadRequest): Promise<OverheadReading> {
  let answered = 0;
  const post = (message: RuntimeMessage): void => {
    if (message.type === 'results') answered += message.answers.length;
  };
  const runtime = new PhotonRuntime(request.startup, post);
  runtime.start();
  const perPhotonHeapBytes: Record<string, number> = {};
  for (const n of request.inFlight) {
    let open!: () => void;
    gate.benchGate = new Promise<void>((resolve) => (open = resolve));
    answered = 0;
    await settle();
    const before = getHeapStatistics().used_heap_size;
    runtime.handle({ type: 'batch', requests: Array.from({ length: n }, (_, i) => ({ seq: i, job: { jobId: String(i), inputs: [i], attempt: 1 } })) });
    await settle();
    const after = getHeapStatistics().used_heap_size;
    perPhotonHeapBytes[String(n)] = Math.round((after - before) / n);
    open();
    while (answered < n) await new Promise((resolve) => setImmediate(resolve));
  }
  const code = new FunctionCode(request.startup.functionName, request.startup.file, request.startup.code);
  const noLogger = () => {
    throw new Error('unused');
  };
  // As the runtime creates a photon: a fresh module instance, its global view and console.
  const create = (): void => void code.instantiate(code.globalView(), new PhotonConsole(noLogger) as unknown as Console);
  for (let i = 0; i < 1000; i++) create();
  // Best of three: the machine is shared.
  const timed: number[] = [];
  for (let round = 0; round < 3; round++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < request.instantiations; i++) create();
    timed.push(Number(process.hrtime.bigint() - started) / 1000 / request.instantiations);
  }
  return {
    perPhotonHeapBytes,
    instantiateMicros: Math.min(...timed),
    builtinsFrozen: Object.isFrozen(Array.prototype),
  };
}

void main(workerData as OverheadRequest).then((reading) => parentPort!.postMessage(reading));
