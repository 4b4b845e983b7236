// Photon slots that follow memory (ARCHITECTURE.md, "Scheduling / fetching"): the policy's growth
// and capacity as pure functions over what runtimes report.
import { strict as assert } from 'node:assert';
import { capacity, FIRST_SLOTS, grownSlots, pickRuntime, type PlacementPolicy, type RuntimeView } from '../../dispatcher/placement';

const MB = 2 ** 20;
const policy = (slots: number): PlacementPolicy => ({ slots, maxRuntimes: 2, eluHigh: 0.9, heapHeadroom: 0.8, keepAliveMs: 60_000 });
const runtime = (view: Partial<RuntimeView>): RuntimeView => ({
  state: 'ready',
  inFlight: 0,
  heapUsed: 20 * MB,
  heapLimit: 512 * MB,
  heapPerPhoton: 3_000,
  elu: 0.1,
  idleSince: 0,
  ...view,
});

describe('placement: photon slots that follow memory', () => {
  it('grows the slots fourfold while a runtime is at least 75 % full, its event loop has time and its heap has room', () => {
    assert.equal(grownSlots([runtime({ inFlight: 48 })], policy(FIRST_SLOTS)), 4 * FIRST_SLOTS);
    assert.equal(grownSlots([runtime({ inFlight: 47 })], policy(FIRST_SLOTS)), FIRST_SLOTS, 'under 75 % full');
    assert.equal(grownSlots([runtime({ inFlight: 64, elu: 0.95 })], policy(FIRST_SLOTS)), FIRST_SLOTS, 'a saturated event loop: CPU-bound');
    assert.equal(grownSlots([runtime({ inFlight: 64, heapUsed: 410 * MB })], policy(FIRST_SLOTS)), FIRST_SLOTS, 'no heap for another photon');
    assert.equal(grownSlots([runtime({ inFlight: 64, state: 'starting' })], policy(FIRST_SLOTS)), FIRST_SLOTS, 'only ready runtimes count');
    assert.equal(grownSlots([runtime({ inFlight: 90_000 })], policy(100_000)), 100_000, 'at most 100,000');
  });

  it('counts what the runtimes can hold now: a first runtime, those starting, and the ready ones up to their heap', () => {
    assert.equal(capacity([], policy(64)), 64, 'no runtime: a first one takes its slots');
    assert.equal(capacity([runtime({ state: 'starting' })], policy(256)), 256);
    assert.equal(capacity([runtime({ inFlight: 10 })], policy(256)), 256);
    // Heap for (0.8 × 512 MB − 400 MB) / 3,000 B ≈ 3,800 more photons, though the slots would allow 16,384.
    const full = capacity([runtime({ inFlight: 1_000, heapUsed: 400 * MB })], policy(16_384));
    assert.ok(full > 1_000 && full < 16_384, `bounded by the heap: ${full}`);
    assert.equal(capacity([runtime({ state: 'dead', inFlight: 5 })], policy(64)), 64, 'a dead runtime holds nothing');
  });

  it('packs jobs into the fullest runtime with room, but spreads a burst and CPU-bound work to the emptiest', () => {
    const busy = runtime({ inFlight: 40 });
    const quiet = runtime({ inFlight: 3 });
    const full = runtime({ inFlight: 64 });
    assert.equal(pickRuntime([quiet, busy, full], policy(64)), busy, 'one batch: the fullest with room, so the other can idle out');
    assert.equal(pickRuntime([busy, quiet, full], policy(64), true), quiet, 'more jobs than a batch: the emptiest');
    const hot = [runtime({ inFlight: 40, elu: 0.95 }), runtime({ inFlight: 3, elu: 0.95 })];
    assert.equal(pickRuntime(hot, policy(64)), hot[1], 'every event loop saturated: the emptiest');
    assert.equal(pickRuntime([full, runtime({ state: 'starting' })], policy(64)), undefined, 'no ready runtime with room');
  });
});
