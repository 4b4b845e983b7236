// Entry of a runtime's worker thread: one function, many photons. The thread boots empty and
// loads its function from the first message, so a spare thread can be started ahead of need.
import { parentPort } from 'node:worker_threads';
import type { HostMessage } from './protocol';
import { PhotonRuntime } from './runtime';

const port = parentPort!;
let runtime: PhotonRuntime | undefined;
const escaped = (origin: string) => (err: unknown, promise?: unknown) => {
  if (runtime) return runtime.onEscapedError(err, origin, promise);
  console.error(err); // before any function loaded: a fault of the thread itself
  process.exit(1);
};
process.on('uncaughtException', escaped('uncaughtException'));
process.on('unhandledRejection', escaped('unhandledRejection'));
// Bound now, before any function code: a job cannot redirect the runtime's answers.
const postMessage = port.postMessage.bind(port);
port.on('message', (message: HostMessage) => {
  if (message.type === 'load') {
    // A worker thread has a process.env of its own, which os.tmpdir() reads.
    if (message.startup.tmpdir) process.env.TMPDIR = message.startup.tmpdir;
    runtime = new PhotonRuntime(message.startup, (answer) => postMessage(answer));
    runtime.start();
  } else runtime?.handle(message);
});
