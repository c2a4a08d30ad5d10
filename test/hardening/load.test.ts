/**
 * A short bounded load (loopback, fixed duration): a mixed workload over the four vendors and a
 * fixed set of sessions. Zero errors, and the server's memory stays where it settled after the
 * warm-up. The long soak is `npm run soak` (5 minutes; same checks).
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain ESM script without types
import { runSoak, memoryHeld } from '../../scripts/soak.mjs';

const SECONDS = Number(process.env.LOAD_SECONDS ?? 12);

describe('bounded load', () => {
  it(`${SECONDS} s of mixed load on four vendors and three sessions: no errors, memory holds`, async () => {
    // A journal of 100 per session fills within the warm-up, so the bound is what the memory check sees.
    const r = await runSoak({
      seconds: SECONDS,
      warmup: 3,
      connections: 4,
      sessions: 3,
      journalSize: 100,
      log: () => {},
    });
    expect(r.samples).toEqual([]);
    expect(r.requests).toBeGreaterThan(100);
    expect({
      errors: r.errors,
      timeouts: r.timeouts,
      non2xx: r.non2xx,
      badStatus: r.badStatus,
      badBody: r.badBody,
    }).toEqual({ errors: 0, timeouts: 0, non2xx: 0, badStatus: 0, badBody: 0 });
    expect(
      memoryHeld(r.settledKb, r.afterKb),
      `RSS ${r.rssAfterWarmupMb} MB after warm-up, ${r.rssAfterSoakMb} MB after`,
    ).toBe(true);
  }, 60_000);
});
