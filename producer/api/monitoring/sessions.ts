// Dashboard sessions and sign-in attempts, held in the API process: a session lives until its
// expiry or its sign-out (or the process's end: signing in again is cheap); attempts are counted per
// client address so that the token cannot be guessed through the form at any useful rate.

/** Live sessions by key, each with its expiry. */
export class SessionStore {
  private readonly expiries = new Map<string, number>();

  constructor(readonly ttlMs: number) {}

  add(key: string): void {
    this.prune();
    this.expiries.set(key, Date.now() + this.ttlMs);
  }

  has(key: string): boolean {
    const expiry = this.expiries.get(key);
    if (expiry === undefined) return false;
    if (expiry > Date.now()) return true;
    this.expiries.delete(key);
    return false;
  }

  delete(key: string): void {
    this.expiries.delete(key);
  }

  /** On each sign-in: sessions nobody ended do not pile up. */
  private prune(): void {
    const now = Date.now();
    for (const [key, expiry] of this.expiries) if (expiry <= now) this.expiries.delete(key);
  }
}

/** Sign-in attempts a client address may make per window. */
export const SIGN_IN_ATTEMPTS = 5;
export const SIGN_IN_WINDOW_MS = 60_000;

/** At most `limit` attempts per address in any `windowMs` (a sliding window of their times). */
export class AttemptLimiter {
  private readonly attempts = new Map<string, number[]>();

  constructor(
    readonly limit = SIGN_IN_ATTEMPTS,
    readonly windowMs = SIGN_IN_WINDOW_MS,
  ) {}

  /** Counts an attempt; answers 0 when allowed, else the ms until the address may try again. */
  take(address: string): number {
    const now = Date.now();
    this.prune(now);
    const times = this.attempts.get(address) ?? [];
    if (times.length >= this.limit) return times[0]! + this.windowMs - now;
    times.push(now);
    this.attempts.set(address, times);
    return 0;
  }

  private prune(now: number): void {
    for (const [address, times] of this.attempts) {
      while (times.length > 0 && times[0]! <= now - this.windowMs) times.shift();
      if (times.length === 0) this.attempts.delete(address);
    }
  }
}
