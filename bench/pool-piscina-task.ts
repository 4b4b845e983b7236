// piscina's task file for `photons bench pool`: each piscina thread hosts the same photon runtime
// as a thread of the project's pool (photon-worker/runtime.ts), loaded from the bundle in
// workerData on the thread's first task; each task is one job, run in a photon of its own. So the
// two pools differ only in how they start, fill, retire and lose threads.
import { workerData } from 'node:worker_threads';
import type { RuntimeMessage, RuntimeStartup } from '../photon-worker/protocol';
import { PhotonRuntime } from '../photon-worker/runtime';

export interface PiscinaTaskData {
  startup: RuntimeStartup;
}

const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
let runtime: PhotonRuntime | undefined;
let ready: Promise<PhotonRuntime> | undefined;
let nextJobId = 0;

function onMessage(message: RuntimeMessage, loaded: (runtime: PhotonRuntime) => void, failed: (err: Error) => void): void {
  if (message.type === 'ready') loaded(runtime!);
  else if (message.type === 'init-failed') failed(new Error(message.error.message));
  else if (message.type === 'results') {
    for (const { seq, items } of message.answers) {
      const job = waiting.get(seq);
      waiting.delete(seq);
      const result = items[0]!;
      if (result.kind === 'done') job?.resolve(JSON.parse(result.valueJson));
      else job?.reject(new Error(result.error.message));
    }
  }
}

function boot(): Promise<PhotonRuntime> {
  return new Promise((resolve, reject) => {
    runtime = new PhotonRuntime((workerData as PiscinaTaskData).startup, (message) => onMessage(message, resolve, reject));
    runtime.start();
  });
}

export default async function runJob(input: unknown): Promise<unknown> {
  ready ??= boot();
  const loaded = await ready;
  const jobId = ++nextJobId;
  return new Promise((resolve, reject) => {
    waiting.set(jobId, { resolve, reject });
    loaded.handle({ type: 'batch', requests: [{ seq: jobId, job: { jobId: String(jobId), inputs: [input], attempt: 1 } }] });
  });
}
