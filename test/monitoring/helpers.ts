// Shared by the monitoring tests: a dispatcher in this process serving the `held` fixture, whose
// jobs stay in flight until the test opens their gate, so that counts can be checked exactly.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Job } from 'bullmq';
import pino from 'pino';
import type { ConfigOverrides, PhotonsConfig } from '../../config';
import type { Dispatcher } from '../../dispatcher/dispatcher';
import { readFleet, type FleetStatus, type FunctionStatus } from '../../contract/fleet';
import { startApi, type RunningApi } from '../../producer/api/server';
import { REPO_ROOT, TestBed, until } from '../dispatcher/helpers';

export { REDIS_URL, REPO_ROOT, PHOTONS_BIN, until } from '../dispatcher/helpers';

export const MONITORING_FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'monitoring');
export const HEARTBEAT_MS = 300;
export const API_TOKEN = 'monitoring-test-token';

/** The input of test/fixtures/monitoring/held.ts (fixtures stay out of the compiled tests). */
export interface HeldInput {
  gate: string;
  fail?: boolean;
}

/** A test bed whose dispatcher serves the monitoring fixtures, with gates in a temp folder. */
export class HeldJobs {
  readonly bed = new TestBed();
  dispatcher: Dispatcher | undefined;
  api: RunningApi | undefined;
  private dir: string | undefined;
  private gates = 0;

  config(overrides: ConfigOverrides = {}): Readonly<PhotonsConfig> {
    return this.bed.config({ functionsDir: MONITORING_FIXTURES, 'dispatcher.heartbeatMs': HEARTBEAT_MS, ...overrides });
  }

  async start(overrides: ConfigOverrides = {}): Promise<Dispatcher> {
    this.dir = await mkdtemp(path.join(tmpdir(), 'photons-monitoring-'));
    this.dispatcher = await this.bed.dispatcher({ functionsDir: MONITORING_FIXTURES, 'dispatcher.heartbeatMs': HEARTBEAT_MS, ...overrides });
    return this.dispatcher;
  }

  /** The HTTP API on a free port, with the monitoring routes and the test token; closed at cleanup. */
  async startApi(overrides: ConfigOverrides = {}): Promise<RunningApi> {
    this.api = await startApi(this.config({ 'api.port': 0, 'api.token': API_TOKEN, ...overrides }), pino({ level: 'silent' }));
    return this.api;
  }

  /** A gate shared by the jobs enqueued with it; `release(gate)` lets them answer. */
  gate(): string {
    return path.join(this.dir!, `gate-${++this.gates}`);
  }

  async enqueue(count: number, gate: string, extra: Partial<HeldInput> = {}): Promise<Job[]> {
    const data: HeldInput = { gate, ...extra };
    return this.bed.queue('held').addBulk(Array.from({ length: count }, () => ({ name: 'held', data })));
  }

  async release(gate: string): Promise<void> {
    await writeFile(gate, '');
  }

  fleet(): Promise<FleetStatus> {
    return readFleet(this.bed.redis, this.bed.prefix, HEARTBEAT_MS);
  }

  /** Waits until the fleet, as Redis sees it, satisfies `check` for the held function. */
  async fleetWhere(what: string, check: (held: FunctionStatus, fleet: FleetStatus) => boolean, timeoutMs = 15_000): Promise<FleetStatus> {
    return until(
      what,
      async () => {
        const fleet = await this.fleet();
        const held = fleet.functions.find((f) => f.fn === 'held');
        return held && check(held, fleet) ? fleet : undefined;
      },
      timeoutMs,
      50,
    );
  }

  async cleanup(): Promise<void> {
    // Open the gates first: the dispatcher's shutdown then finishes its jobs instead of waiting.
    for (let i = 1; i <= this.gates; i++) await writeFile(path.join(this.dir!, `gate-${i}`), '').catch(() => undefined);
    await this.api?.close();
    await this.bed.cleanup();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
