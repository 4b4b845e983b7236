// `photons bench paper`: the paper's five workloads at concurrency 1–64 through Redis and the
// dispatcher in photon, shared and lambda modes, beside BullMQ's own sandboxed processors.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { freemem, tmpdir } from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../config';
import { removeKeys } from '../contract/redis';
import { ensureRedis } from '../dispatcher/redis-server';
import { bundleFunction } from '../photon-worker/bundle';
import { runCell, type CellEnv, type CellMode, type CellResult } from './paper-cell';
import { paperReport, type SkippedCell } from './paper-report';
import { saveResults } from './paper-results';
import { startRestService, workloads, type PaperWorkload } from './paper-workloads';
import type { SuiteOptions, SuiteReport } from './report';

/** The paper's workloads, from build/bench where this runs compiled. */
const FUNCTIONS_DIR = path.resolve(__dirname, '..', '..', 'bench', 'workloads');
/** The whole suite must end within 15 minutes: optional cells are skipped past this. */
const BUDGET_MS = 13 * 60_000;
/** A cell is skipped when its estimated peak would take more than this share of free memory. */
const MEMORY_SHARE = 0.6;
const MB = 1024 * 1024;

interface PlannedCell {
  workload: PaperWorkload;
  mode: CellMode;
  concurrency: number;
  /** The targets need it: never skipped for time. */
  required: boolean;
}

export async function paperBench(options: SuiteOptions): Promise<SuiteReport> {
  const logger = pino({ level: 'warn' });
  const base = loadConfig();
  const redis = await ensureRedis(base.redis, base.redis.autostart, logger);
  const prefix = `paper-${process.pid}-${Date.now().toString(36)}`;
  const rest = await startRestService();
  // The REST workload refuses loopback addresses unless the operator allows them; the suite's JSON
  // service listens on 127.0.0.1. The hosts and runtimes it starts inherit this.
  process.env.PHOTONS_REST_ALLOW_PRIVATE = '1';
  const scratch = mkdtempSync(path.join(tmpdir(), 'photons-paper-'));
  const started = performance.now();
  try {
    const all = workloads(rest.url);
    const chosen = options.quick ? all.filter((w) => w.name === 'sleep' || w.name === 'hash') : all;
    const concurrencies = options.quick ? [4, 16] : [1, 4, 16, 64];
    const bundleFiles = new Map<string, string>();
    for (const workload of chosen) {
      const bundle = await bundleFunction(path.join(FUNCTIONS_DIR, `${workload.name}.ts`));
      const file = path.join(scratch, `${workload.name}.json`);
      writeFileSync(file, JSON.stringify({ name: bundle.name, file: bundle.file, code: bundle.code }));
      bundleFiles.set(workload.name, file);
    }
    const plan = planCells(chosen, concurrencies);
    const cells: CellResult[] = [];
    const skipped: SkippedCell[] = [];
    let index = 0;
    for (const planned of plan) {
      const { workload, mode, concurrency } = planned;
      const reason = skipReason(planned, cells, performance.now() - started, options.quick);
      if (reason) {
        skipped.push({ workload: workload.name, mode, concurrency, reason });
        continue;
      }
      const env: CellEnv = { redisUrl: redis.url, prefix: `${prefix}-${index++}`, functionsDir: FUNCTIONS_DIR, bundleFiles };
      try {
        const cell = await runCell(workload, mode, concurrency, options.quick, env);
        cells.push(cell);
        process.stderr.write(
          `paper: ${workload.name} ${mode} @${concurrency}: ${(cell.perInvocationBytes / MB).toFixed(2)} MB/inv, ${cell.jobsPerSec.toFixed(1)} jobs/s, ` +
            `p99 ${cell.p99Ms.toFixed(0)} ms, ${cell.coldStarts} cold starts (${cell.seconds.toFixed(1)} s)\n`,
        );
      } catch (err) {
        skipped.push({ workload: workload.name, mode, concurrency, reason: `failed: ${(err as Error).message.split('\n')[0]}` });
      } finally {
        await removeKeys(redis.url, `${env.prefix}:*`);
      }
    }
    const report = paperReport({ cells, skipped, workloads: chosen, concurrencies, seconds: (performance.now() - started) / 1000, quick: options.quick });
    const { lines } = report;
    if (!options.quick) lines.push(`Results: ${path.relative(process.cwd(), saveResults('paper', report))} and bench/RESULTS.md`);
    return report;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    await rest.close();
    await redis.local?.stop();
  }
}

/**
 * Photon and lambda first, each pair back to back (the targets compare them, and the machine's
 * load drifts); then, while the time budget lasts, shared mode, then BullMQ's sandboxed processors
 * from the cheapest cells (low concurrency, light workloads) to the dearest.
 */
function planCells(chosen: PaperWorkload[], concurrencies: number[]): PlannedCell[] {
  const cells = (modes: CellMode[], required: boolean): PlannedCell[] =>
    chosen.flatMap((workload) => concurrencies.flatMap((concurrency) => modes.map((mode) => ({ workload, mode, concurrency, required }))));
  const sandboxed = concurrencies.flatMap((concurrency) =>
    chosen.flatMap((workload) => (['bullmq-thread', 'bullmq-process'] as const).map((mode) => ({ workload, mode, concurrency, required: false }))),
  );
  return [...cells(['photon', 'lambda'], true), ...cells(['shared'], false), ...sandboxed];
}

function skipReason(planned: PlannedCell, done: CellResult[], elapsedMs: number, quick: boolean): string | undefined {
  if (!planned.required && !quick && elapsedMs > BUDGET_MS) {
    return `not run: the suite had used ${Math.round(elapsedMs / 1000)} s of its ${BUDGET_MS / 60_000} min budget`;
  }
  // Estimate the peak from the same workload and mode at the next lower concurrency.
  const lower = done
    .filter((c) => c.workload === planned.workload.name && c.mode === planned.mode && c.concurrency < planned.concurrency)
    .sort((a, b) => b.concurrency - a.concurrency)[0];
  if (lower) {
    const estimate = lower.idleBytes + (lower.peakBytes - lower.idleBytes) * (planned.concurrency / lower.concurrency);
    if (estimate > MEMORY_SHARE * freemem()) {
      return `not run: estimated peak ${(estimate / 2 ** 30).toFixed(1)} GB (from @${lower.concurrency}) exceeds ${MEMORY_SHARE * 100}% of the ${(freemem() / 2 ** 30).toFixed(1)} GB free`;
    }
  }
  return undefined;
}
