/** GET/PUT /_emulator/clock: the state's clock (per session). */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ControlError, controlSessionId, controlState } from './common.js';

export const ClockInput = Type.Object({
  /** Freeze time here: ISO 8601, or epoch seconds (milliseconds when > 10^11). */
  now: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Number()])),
  /** Move time by this many seconds (negative goes back); frozen time stays frozen. */
  advance: Type.Optional(Type.Number()),
  /** Let time run from the real clock again. */
  real: Type.Optional(Type.Literal(true)),
}, { additionalProperties: false });
export type ClockInput = Static<typeof ClockInput>;

export function toEpochMs(v: string | number): number {
  if (typeof v === 'number') return v > 1e11 ? v : v * 1000;
  if (/^-?\d+(\.\d+)?$/.test(v)) return toEpochMs(Number(v));
  const ms = Date.parse(v);
  if (!Number.isFinite(ms)) throw new ControlError(400, `"now" must be an ISO 8601 time or epoch seconds, got "${v}"`);
  return ms;
}

export async function clockRoutes(app: FastifyInstance, scope: FastifyInstance): Promise<void> {
  scope.get('/clock', async (request) => ({ session: controlSessionId(request), ...controlState(app, request).clock.describe() }));
  scope.put('/clock', { schema: { body: ClockInput } }, async (request) => {
    const body = request.body as ClockInput;
    const given = [body.now !== undefined, body.advance !== undefined, body.real !== undefined].filter(Boolean).length;
    if (given !== 1) throw new ControlError(400, 'Send exactly one of {"now": <ISO or epoch seconds>}, {"advance": <seconds>}, {"real": true}');
    const clock = controlState(app, request).clock;
    if (body.now !== undefined) clock.freeze(toEpochMs(body.now));
    else if (body.advance !== undefined) clock.advance(body.advance);
    else clock.real();
    return { session: controlSessionId(request), ...clock.describe() };
  });
}
