// `photons bench trace`: Azure traces replayed on the real system (dispatcher, runtimes, Redis) with
// time compression, photon against lambda with the same keep-alive: cold starts and memory-time.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../config';
import { removeKeys } from '../../contract/redis';
import { ensureRedis } from '../../dispatcher/redis-server';
import { saveResults } from '../paper-results';
import { machine, table, type SuiteOptions, type SuiteReport } from '../report';
import { azure2021Trace, parseAzure2021 } from './azure2021';
import { traceFixturesDir } from './fixtures';
import { generatePopulation, generateTrace } from './generator';
import { burrQuantile, clamp, seeded } from './random';
import { replay, type ReplayResult } from './replay';
import type { Trace } from './trace';

const TARGETS = { coldStartReduction: 0.52, memoryTimeReduction: 0.3 };
/** AWS's keep-alive, in trace time; both modes get the same. */
const KEEP_ALIVE_MS = 10 * 60_000;
/** 150 MB of trace memory becomes 15 MB here: 2 cores and a shared machine, not a data centre. */
const MEMORY_SCALE = 0.1;
/** The paper's simulation: about 100 MB of a function's memory is shareable. */
const SHAREABLE_MB = 100;

interface Replayed {
  name: string;
  description: string;
  compression: number;
  photon: ReplayResult;
  lambda: ReplayResult;
}

export async function traceBench(options: SuiteOptions): Promise<SuiteReport> {
  const logger = pino({ level: 'warn' });
  const base = loadConfig();
  const redis = await ensureRedis(base.redis, base.redis.autostart, logger);
  // Short: a key prefix has at most 32 characters.
  const prefix = `trace-${Date.now().toString(36)}`;
  const scratch = mkdtempSync(path.join(tmpdir(), 'photons-trace-'));
  const started = performance.now();
  try {
    const plans: Array<{ name: string; description: string; trace: Trace; compression: number; shareableMb: (fn: string) => number }> = [];
    const sample = sampleTrace();
    plans.push({
      name: 'azure2021-sample',
      description: `${sample.invocations.length} real invocations of the 2021 trace (${sample.functions.length} functions, ${(sample.spanMs / 60_000).toFixed(0)} min), memory drawn from the 2019 fit`,
      trace: sample,
      compression: options.quick ? 60 : 20,
      shareableMb: () => SHAREABLE_MB,
    });
    if (!options.quick) {
      const population = generatePopulation(
        {
          functions: 200,
          totalRatePerSec: 3.5,
          burstyShare: 0.4,
          shareableMb: SHAREABLE_MB,
          minDurationMs: 1,
          maxDurationMs: 120_000,
          minMemoryMb: 100,
          maxMemoryMb: 1_800,
        },
        seeded(2019),
      );
      const generated = generateTrace(population, 10 * 60_000, seeded(2021));
      const shareable = new Map(population.map((p) => [p.name, p.shareableMb]));
      plans.push({
        name: 'generated',
        description: `10 min of 200 functions drawn from the published 2019 distributions (40% bursty): ${generated.invocations.length} invocations of ${generated.functions.length} functions`,
        trace: generated,
        compression: 10,
        shareableMb: (fn) => shareable.get(fn) ?? SHAREABLE_MB,
      });
    }
    const replayed: Replayed[] = [];
    for (const [k, plan] of plans.entries()) {
      const run = async (mode: 'photon' | 'lambda'): Promise<ReplayResult> => {
        const runPrefix = `${prefix}-${k}${mode[0]}`;
        try {
          return await replay(plan.trace, {
            mode,
            compression: plan.compression,
            memoryScale: MEMORY_SCALE,
            keepAliveMs: KEEP_ALIVE_MS,
            shareableMb: plan.shareableMb,
            redisUrl: redis.url,
            prefix: runPrefix,
            scratch,
          });
        } finally {
          await removeKeys(redis.url, `${runPrefix}:*`);
        }
      };
      // Back to back, photon first: the machine's load drifts less within a pair.
      replayed.push({
        name: plan.name,
        description: plan.description,
        compression: plan.compression,
        photon: await run('photon'),
        lambda: await run('lambda'),
      });
    }
    const compared = replayed.map((r) => ({
      trace: r.name,
      coldStartReduction: round(1 - r.photon.coldStarts / r.lambda.coldStarts),
      memoryTimeReduction: round(1 - r.photon.memoryGbSecondsAboveIdle / r.lambda.memoryGbSecondsAboveIdle),
      memoryTimeReductionWithIdle: round(1 - r.photon.memoryGbSeconds / r.lambda.memoryGbSeconds),
    }));
    const headline = compared[compared.length - 1]!;
    const met = {
      coldStartReduction: headline.coldStartReduction >= TARGETS.coldStartReduction,
      memoryTimeReduction: headline.memoryTimeReduction >= TARGETS.memoryTimeReduction,
    };
    const result = {
      suite: 'trace',
      quick: options.quick,
      headline: headline.trace,
      coldStartReduction: headline.coldStartReduction,
      memoryTimeReduction: headline.memoryTimeReduction,
      compared,
      replays: replayed,
      settings: { keepAliveMs: KEEP_ALIVE_MS, memoryScale: MEMORY_SCALE, shareableMb: SHAREABLE_MB },
      targets: TARGETS,
      met,
      seconds: Math.round((performance.now() - started) / 1000),
      machine: machine(),
    };
    const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED');
    const lines = [
      `Trace replay on the real dispatcher: keep-alive ${KEEP_ALIVE_MS / 60_000} min of trace time in both modes, memory × ${MEMORY_SCALE}, ` +
        `memory-time from RSS of the dispatcher's process tree sampled every 50 ms`,
      ...replayed.map((r) => `  ${r.name}: ${r.description}; time compressed ${r.compression}×`),
      '',
      ...table(
        ['trace', 'mode', 'invocations', 'failed', 'cold starts', 'peak MB', 'GB·s', 'GB·s above idle', 'seconds'],
        replayed.flatMap((r) =>
          [r.lambda, r.photon].map((m) => [
            r.name,
            m.mode,
            m.invocations,
            m.failed,
            m.coldStarts,
            m.peakBytes / 2 ** 20,
            m.memoryGbSeconds,
            m.memoryGbSecondsAboveIdle,
            m.seconds,
          ]),
        ),
      ),
      '',
      ...compared.map(
        (c) =>
          `${c.trace}: cold starts −${pct(c.coldStartReduction)}, memory-time above idle −${pct(c.memoryTimeReduction)} ` +
          `(with the idle dispatcher counted: −${pct(c.memoryTimeReductionWithIdle)})`,
      ),
      `Targets on ${headline.trace}: cold starts ≥ 52% fewer: ${verdict(met.coldStartReduction)}; memory-time ≥ 30% less: ${verdict(met.memoryTimeReduction)}`,
    ];
    const report = { lines, result };
    if (!options.quick) lines.push(`Results: ${path.relative(process.cwd(), saveResults('trace', report))} and bench/RESULTS.md`);
    return report;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    await redis.local?.stop();
  }
}

/** The 2021 sample has no memory column: each function draws one from the 2019 Burr fit. */
function sampleTrace(): Trace {
  const rows = parseAzure2021(readFileSync(path.join(traceFixturesDir(), 'azure2021-sample-200.csv'), 'utf8'));
  const random = seeded(2021);
  return azure2021Trace(rows, () => clamp(burrQuantile(random(), 11.652, 0.221, 107.083), 100, 1_800));
}

function round(value: number): number {
  return Number(value.toFixed(3));
}

function pct(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}
