/**
 * A controllable clock. Every time-based behaviour (created/modified dates, JWT expiry, promo
 * expiry, signature skew, usage windows) reads `now()` from the clock of the request's state,
 * never `Date.now()` directly, so a test can freeze or advance time per session.
 */
export class Clock {
  /** Offset added to the real time while running; ignored while frozen. */
  private offsetMs = 0;
  private frozenAt: number | null = null;

  /** Milliseconds since the epoch. */
  now(): number {
    return this.frozenAt ?? Date.now() + this.offsetMs;
  }

  /** Whole seconds since the epoch (what RackCorp dates use). */
  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  nowDate(): Date {
    return new Date(this.now());
  }

  /** Stop time at the given instant. */
  freeze(atMs: number): void {
    this.frozenAt = atMs;
  }

  /** Move time forward (or back, with a negative value) by the given seconds, frozen or not. */
  advance(seconds: number): void {
    if (this.frozenAt !== null) this.frozenAt += seconds * 1000;
    else this.offsetMs += seconds * 1000;
  }

  /** Let time run again from the real clock. */
  real(): void {
    this.frozenAt = null;
    this.offsetMs = 0;
  }

  get frozen(): boolean {
    return this.frozenAt !== null;
  }

  describe(): { now: string; epoch: number; frozen: boolean; offsetSeconds: number } {
    const now = this.now();
    return {
      now: new Date(now).toISOString(),
      epoch: Math.floor(now / 1000),
      frozen: this.frozen,
      offsetSeconds: this.offsetMs / 1000,
    };
  }
}
