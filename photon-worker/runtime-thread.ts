// Entry of a runtime's worker thread: one function, many photons. See photon-worker/runtime.ts.
import { parentPort, workerData } from 'node:worker_threads';
import type { HostMessage, RuntimeStartup } from './protocol';
import { PhotonRuntime } from './runtime';

const port = parentPort!;
const runtime = new PhotonRuntime(workerData as RuntimeStartup, (message) => port.postMessage(message));
process.on('uncaughtException', (err) => runtime.onEscapedError(err, 'uncaughtException'));
process.on('unhandledRejection', (reason) => runtime.onEscapedError(reason, 'unhandledRejection'));
port.on('message', (message: HostMessage) => runtime.handle(message));
runtime.start();
