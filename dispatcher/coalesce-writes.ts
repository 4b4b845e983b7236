// One socket write per turn of the event loop for a queue worker's commands (ARCHITECTURE.md,
// "Scheduling / fetching"). A runtime answers the jobs it finished in one message, and BullMQ then
// stores each answer with a command of its own: ioredis writes each to the socket at once, a system
// call per job on this thread and a read per job in redis-server. Corked until the loop's check
// phase, the commands of one turn leave together, as a pipeline would send them, and their order
// and replies stay as they were. The delay is the rest of the current turn: no timer, no wait for I/O.
import type { Redis } from 'ioredis';

type SendCommand = Redis['sendCommand'];

/**
 * Makes `client` send the commands of one event-loop turn in one write. A cluster client is left as
 * it is. Told by shape, not `instanceof`: BullMQ may carry its own copy of ioredis in an app.
 */
export function coalesceWrites(client: object): void {
  if (!isSingleRedis(client)) return;
  const send: SendCommand = client.sendCommand.bind(client);
  const corking: SendCommand = (command, stream) => {
    // Read each time: ioredis opens a new socket when it reconnects. Before 'ready' commands wait in
    // ioredis' offline queue, not in the socket.
    const socket = client.stream;
    if (client.status === 'ready' && !socket.writableCorked && !socket.destroyed) {
      socket.cork();
      setImmediate(() => socket.uncork());
    }
    return send(command, stream);
  };
  client.sendCommand = corking;
}

function isSingleRedis(client: object): client is Redis {
  return (client as Partial<Redis>).isCluster === false && typeof (client as Partial<Redis>).sendCommand === 'function';
}
