// A runtime in a child process of its own (as BullMQ's sandboxed processors run): loads one
// function, runs one job, tells its parent, and waits to be measured and killed.
import { FunctionCode } from '../photon-worker/photon';

process.once('message', (message: { name: string; file: string; code: string }) => {
  const code = new FunctionCode(message.name, message.file, message.code);
  const instance = code.instantiate(globalThis, console);
  void Promise.resolve(instance.handler({ i: 1 }, {} as never)).then(() => process.send!('ready'));
});
setInterval(() => undefined, 60_000);
