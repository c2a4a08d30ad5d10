/** What every control route shares: the error shape and finding the state a control request acts on. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SESSION_ID_PATTERN, type EmulatorState } from '../../store/state.js';

/** A refused control request: answered as `{ error, message }` with this status. */
export class ControlError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

export const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  503: 'Service Unavailable',
};

/** The session a control request names: `?session=` wins over `X-Emulator-Session`; null = default state. */
export function controlSessionId(request: FastifyRequest): string | null {
  const q = (request.query as Record<string, unknown> | undefined)?.session;
  if (typeof q === 'string' && q !== '') {
    if (q === 'default') return null;
    if (!SESSION_ID_PATTERN.test(q))
      throw new ControlError(400, `Invalid session id "${q}": use 1-64 letters, digits, '.', '_' or '-'`);
    return q;
  }
  return request.emulator.sessionId;
}

/** The state a control request acts on (a named session is made on first use, like a vendor request's). */
export function controlState(app: FastifyInstance, request: FastifyRequest): EmulatorState {
  const id = controlSessionId(request);
  return id === null ? app.registry.defaultState : app.registry.get(id);
}

/** Every state: the default one first, then the sessions. */
export function allStates(app: FastifyInstance): EmulatorState[] {
  return [app.registry.defaultState, ...app.registry.sessions.values()];
}
