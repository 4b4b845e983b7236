// Seeded random draws for the trace generator and the cluster simulation: the same seed gives the
// same functions and arrivals on every machine, so photon and lambda runs see identical load.

export type Random = () => number;

/** mulberry32: small, fast and good enough for workload generation (not for cryptography). */
export function seeded(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform in (0, 1): never 0, so logarithms and inverse CDFs stay finite. */
function open(random: Random): number {
  let u = random();
  while (u === 0) u = random();
  return u;
}

export function exponential(random: Random, mean: number): number {
  return -Math.log(open(random)) * mean;
}

/** Box–Muller; one of the pair is thrown away to keep the stream stateless. */
export function normal(random: Random, mean: number, sd: number): number {
  return mean + sd * Math.sqrt(-2 * Math.log(open(random))) * Math.cos(2 * Math.PI * random());
}

export function logNormal(random: Random, mu: number, sigma: number): number {
  return Math.exp(normal(random, mu, sigma));
}

/** Inverse CDF of the Burr XII distribution, F(x) = 1 − (1 + (x/λ)^c)^−k. */
export function burrQuantile(u: number, c: number, k: number, lambda: number): number {
  return lambda * Math.pow(Math.pow(1 - u, -1 / k) - 1, 1 / c);
}

export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** Fisher–Yates, in place. */
export function shuffle<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
