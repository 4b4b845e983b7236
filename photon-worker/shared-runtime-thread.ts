// Entry of a shared runtime thread: several functions, each with its own PhotonRuntime, its own
// photons, its own node_modules packages (package-scopes.ts) and its own port to the dispatcher
// (ARCHITECTURE.md, "Shared runtimes"). The builtins are frozen before any function loads, so no
// function's top level can change them for its neighbours; one whose loading needs to patch them
// fails to load here and the dispatcher moves it to a runtime of its own.
import { parentPort, workerData } from 'node:worker_threads';
import type { Logger } from 'pino';
import { installPackageScopes, dropPackages, scopePackages } from './package-scopes';
import { protectBuiltins } from './protect-builtins';
import type { RuntimeMessage } from './protocol';
import { PhotonRuntime } from './runtime';
import type { SharedLoad, SharedPortMessage, SharedThreadData } from './shared-protocol';

const data = workerData as SharedThreadData;
// A worker thread has a process.env of its own, which os.tmpdir() reads.
process.env.TMPDIR = data.tmpdir;
installPackageScopes();
protectBuiltins();

/** The functions loaded, by file (a second version of one function shares its packages' scope). */
const loaded = new Map<string, number>();
let logger: Logger | undefined;

// Which function let an error escape cannot be told from here (job ids repeat across functions'
// queues): the line names the job and the thread, and the thread keeps serving.
const escaped = (origin: string) => (err: unknown) => {
  if (!logger) {
    const { pino } = require('pino') as typeof import('pino');
    logger = pino({ level: data.logLevel }, pino.destination({ fd: 1, sync: true })).child({ component: 'shared-runtime' });
  }
  logger.error({ err, origin }, 'a photon in a shared runtime let an error escape its job; the runtime keeps serving');
};
process.on('uncaughtException', escaped('uncaughtException'));
process.on('unhandledRejection', escaped('unhandledRejection'));

parentPort!.on('message', ({ startup, port }: SharedLoad) => {
  scopePackages(startup.file);
  loaded.set(startup.file, (loaded.get(startup.file) ?? 0) + 1);
  const post = port.postMessage.bind(port);
  const runtime = new PhotonRuntime(startup, (answer: RuntimeMessage) => post(answer));
  port.on('message', (message: SharedPortMessage) => {
    if (message.type !== 'unload') return runtime.handle(message);
    port.close();
    const left = (loaded.get(startup.file) ?? 1) - 1;
    if (left > 0) loaded.set(startup.file, left);
    else {
      loaded.delete(startup.file);
      dropPackages(startup.file);
    }
  });
  runtime.start();
});
