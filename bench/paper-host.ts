// Child process entry: a dispatcher under measurement. Started by the paper and trace benchmarks
// with its settings as argv[2]; answers stats requests and stops on request.
import pino from 'pino';
import { loadConfig } from '../config';
import { Dispatcher } from '../dispatcher/dispatcher';
import { serveHost } from './paper-protocol';

serveHost(async (start) => {
  if (start.kind !== 'dispatcher') throw new Error('paper-host runs dispatchers only');
  const config = loadConfig({
    'redis.url': start.redisUrl,
    'redis.prefix': start.prefix,
    functionsDir: start.functionsDir,
    mode: start.mode,
    'dispatcher.concurrency': start.concurrency,
    'runtime.keepAliveMs': start.keepAliveMs,
    'dispatcher.shutdownGraceMs': 5_000,
    // Dozens of runtimes loading at once on a busy 2-core machine can take longer than the default
    // 10 s to answer a ping: that is contention, not a blocked loop, and replacing them would only
    // add cold starts. The benchmark measures memory and throughput, not the watchdog.
    'runtime.watchdogMs': 120_000,
    'log.level': 'warn',
  });
  const dispatcher = new Dispatcher(config, pino({ level: 'warn' }));
  await dispatcher.start();
  return {
    stats: () => {
      const pools = dispatcher.stats().functions;
      return {
        coldStarts: pools.reduce((sum, p) => sum + p.coldStarts, 0),
        runtimeHeaps: pools.flatMap((p) => p.runtimes.filter((r) => r.heapUsed > 0).map((r) => r.heapUsed)),
        completed: pools.reduce((sum, p) => sum + p.completed, 0),
        failed: pools.reduce((sum, p) => sum + p.failed, 0),
      };
    },
    stop: () => dispatcher.close(),
  };
});
