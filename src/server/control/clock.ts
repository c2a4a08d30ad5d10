/** GET/PUT /_emulator/clock: the state's clock (per session). */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ControlError, controlSessionId, controlState } from './common.js';

export const ClockInput = Type.Object(
  {
    /** Freeze time here: ISO 8601, or epoch seconds (milliseconds when > 10^11). */
    now: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Number()])),
    /** Move time by this many seconds (negative goes back); frozen time stays frozen. */
    advance: Type.Optional(Type.Number()),
    /** Let time run from the real clock again. */
    real: Type.Optional(Type.Literal(true)),
  },
  { additionalProperties: false },
);
export type ClockInput = Static<typeof ClockInput>;

export function toEpochMs(v: string | number): number {
  if (typeof v === 'number') return v > 1e11 ? v : v * 1000;
  if (/^-?\d+(\.\d+)?$/.test(v)) return toEpochMs(Number(v));
  const ms = Date.parse(v);
  if (!Number.isFinite(ms)) throw new ControlError(400, `"now" must be an ISO 8601 time or epoch seconds, got "${v}"`);
  return ms;
}

/** JavaScript's Date range: 100,000,000 days either side of the epoch. */
const MAX_TIME_MS = 8.64e15;
const RUNNING_MARGIN_MS = 10 * 365 * 86_400_000;

/**
 * Refuse a time the emulator cannot show: beyond Date's range every date it writes or prints
 * (ISO 8601 in bodies, the journal, GET /_emulator/sessions) would throw.
 */
function checkTime(ms: number, what: string): void {
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_TIME_MS) {
    throw new ControlError(
      400,
      `${what} is outside the range of a JavaScript Date (${new Date(-MAX_TIME_MS).toISOString()} to ${new Date(MAX_TIME_MS).toISOString()}); the clock is unchanged`,
    );
  }
}

export async function clockRoutes(app: FastifyInstance, scope: FastifyInstance): Promise<void> {
  scope.get('/clock', async (request) => ({
    session: controlSessionId(request),
    ...controlState(app, request).clock.describe(),
  }));
  scope.put('/clock', { schema: { body: ClockInput } }, async (request) => {
    const body = request.body as ClockInput;
    const given = [body.now !== undefined, body.advance !== undefined, body.real !== undefined].filter(Boolean).length;
    if (given !== 1)
      throw new ControlError(
        400,
        'Send exactly one of {"now": <ISO or epoch seconds>}, {"advance": <seconds>}, {"real": true}',
      );
    const clock = controlState(app, request).clock;
    if (body.now !== undefined) {
      const ms = toEpochMs(body.now);
      checkTime(ms, '"now"');
      clock.freeze(ms);
    } else if (body.advance !== undefined) {
      // A running clock keeps moving: leave it ten years of room before the end of the range.
      const target = clock.now() + body.advance * 1000;
      checkTime(clock.frozen ? target : target + Math.sign(target) * RUNNING_MARGIN_MS, 'The time "advance" leads to');
      clock.advance(body.advance);
    } else clock.real();
    return { session: controlSessionId(request), ...clock.describe() };
  });
}
