// The Azure trace parsers on the sample fixtures (bench/traces), and the calibrated generator.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { azure2019Trace, fromPercentiles, parseAzure2019Durations, parseAzure2019Invocations, parseAzure2019Memory } from '../../bench/trace/azure2019';
import { azure2021Trace, parseAzure2021 } from '../../bench/trace/azure2021';
import { traceFixturesDir } from '../../bench/trace/fixtures';
import { calibration, generatePopulation, generateTrace } from '../../bench/trace/generator';
import { seeded } from '../../bench/trace/random';

const read = (name: string): string => readFileSync(path.join(traceFixturesDir(), name), 'utf8');

describe('bench/trace: Azure trace parsers', function () {
  it('2021: one row per invocation, starts at end − duration', function () {
    const rows = parseAzure2021(read('azure2021-sample-200.csv'));
    // The README counts 198; the file holds 199 rows after its header.
    assert.equal(rows.length, 199);
    assert.equal(rows[0]!.app.length, 64);
    assert.equal(rows[0]!.duration, 0.078);
    assert.equal(rows[0]!.endTimestamp, 0.07949090003967285);
    const trace = azure2021Trace(rows, () => 128);
    assert.equal(trace.invocations.length, 199);
    assert.equal(trace.functions.length, new Set(rows.map((r) => `${r.app}/${r.func}`)).size);
    assert.equal(trace.invocations[0]!.startMs, 0);
    for (let i = 1; i < trace.invocations.length; i++) {
      assert.ok(trace.invocations[i]!.startMs >= trace.invocations[i - 1]!.startMs, 'sorted by start');
    }
    // About 21 minutes, as the fixture's README says.
    assert.ok(trace.spanMs > 20 * 60_000 && trace.spanMs < 23 * 60_000, `span ${trace.spanMs} ms`);
  });

  it('2019: per-minute counts, duration percentiles, app memory', function () {
    const invocations = parseAzure2019Invocations(read('azure2019-schema-example-invocations.csv'));
    const durations = parseAzure2019Durations(read('azure2019-schema-example-durations.csv'));
    const memory = parseAzure2019Memory(read('azure2019-schema-example-memory.csv'));
    assert.equal(invocations.length, 4);
    assert.equal(invocations[0]!.perMinute.length, 1440);
    assert.deepEqual(
      invocations.map((i) => i.trigger),
      ['queue', 'queue', 'queue', 'timer'],
    );
    assert.deepEqual(
      durations[0]!.percentilesMs.map((p) => p.at),
      [0, 0.01, 0.25, 0.5, 0.75, 0.99, 1],
    );
    assert.equal(durations[1]!.averageMs, 500);
    assert.equal(memory[0]!.averageMb, 120);
    assert.equal(memory[0]!.percentilesMb.length, 8);

    // The first ten minutes hold 50 + 25 + 25 + 25 invocations (the last three start at minute 6).
    const trace = azure2019Trace(invocations, durations, memory, { fromMinute: 1, minutes: 10, random: seeded(1) });
    assert.equal(trace.invocations.length, 125);
    assert.deepEqual(
      trace.functions.map((f) => f.memoryMb),
      [120, 176, 170, 112],
    );
    const first = trace.invocations.filter((i) => i.fn === trace.functions[0]!.name);
    assert.ok(
      first.every((i) => i.durationMs >= 99 && i.durationMs <= 101),
      'durations within the percentiles',
    );
  });

  it('draws from a percentile curve by linear interpolation', function () {
    const curve = [
      { at: 0, value: 10 },
      { at: 0.5, value: 20 },
      { at: 1, value: 100 },
    ];
    assert.equal(fromPercentiles(curve, 0), 10);
    assert.equal(fromPercentiles(curve, 0.25), 15);
    assert.equal(fromPercentiles(curve, 0.75), 60);
    assert.equal(fromPercentiles(curve, 1), 100);
  });
});

describe('bench/trace: generator calibrated to the published 2019 distributions', function () {
  it('matches the published rate, duration and memory shapes', function () {
    const population = generatePopulation(
      {
        functions: 10_000,
        totalRatePerSec: 2_000,
        burstyShare: 0.4,
        shareableMb: 100,
        minDurationMs: 1,
        maxDurationMs: 600_000,
        minMemoryMb: 100,
        maxMemoryMb: 1_800,
      },
      seeded(7),
    );
    const c = calibration(population);
    assert.ok(Math.abs(c.atMostHourly! - 0.45) < 0.01);
    assert.ok(Math.abs(c.atMostMinutely! - 0.81) < 0.01);
    assert.ok(c.busiest186Share! > 0.98, `busiest 18.6% make ${c.busiest186Share}`);
    assert.ok(c.medianMeanDurationMs! > 400 && c.medianMeanDurationMs! < 1_000, 'half the functions average under 1 s');
    assert.ok(Math.abs(c.bursty! - 0.4) < 0.03);
    const total = population.reduce((s, p) => s + p.ratePerSec, 0);
    assert.ok(Math.abs(total - 2_000) < 1);
  });

  it('turns a population into a sorted trace with the asked mean rate', function () {
    const population = generatePopulation(
      { functions: 50, totalRatePerSec: 20, burstyShare: 0, shareableMb: 10, minDurationMs: 1, maxDurationMs: 10_000, minMemoryMb: 10, maxMemoryMb: 100 },
      seeded(3),
    );
    const trace = generateTrace(population, 60_000, seeded(4));
    // Poisson: 1,200 expected in a minute, a standard deviation of about 35.
    assert.ok(Math.abs(trace.invocations.length - 1_200) < 150, `${trace.invocations.length} invocations`);
    assert.ok(trace.invocations.every((i, k, all) => k === 0 || i.startMs >= all[k - 1]!.startMs));
  });
});
