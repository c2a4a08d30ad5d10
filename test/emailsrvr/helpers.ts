/** emailsrvr test helpers: the sandbox keys, signed headers, a signed call, the accounts table as text. */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { signatureHeader, formatTimestamp } from '../../src/routes/emailsrvr/auth.js';

export const SANDBOX = {
  userKey: 'emailsrvr-sandbox-user-key',
  secretKey: 'emailsrvr-sandbox-secret-key',
  account: 460180,
};
export const OTHER = { userKey: 'emailsrvr-other-user-key', secretKey: 'emailsrvr-other-secret-key', account: 460100 };
export const UA = 'emulator-test/1.0';
export const XML_HEAD = '<?xml version="1.0" encoding="utf-8"?>';

/** Signed headers for the given key, timestamp from the state's clock (or the one given). */
export function signed(
  app: FastifyInstance,
  key = SANDBOX,
  extra: Record<string, string> = {},
  session?: string,
): Record<string, string> {
  const clock = app.registry.get(session ?? null).clock;
  const ts = formatTimestamp(clock.now());
  const h: Record<string, string> = {
    'user-agent': UA,
    'x-api-signature': signatureHeader(key.userKey, key.secretKey, UA, ts),
    ...extra,
  };
  if (session) h['x-emulator-session'] = session;
  return h;
}

/** A signed request; `accept` defaults to JSON. */
export function call(
  app: FastifyInstance,
  opts: InjectOptions & { key?: typeof SANDBOX; session?: string; accept?: string },
): Promise<LightMyRequestResponse> {
  const { key, session, accept, headers, ...rest } = opts;
  return app.inject({
    ...rest,
    headers: {
      ...signed(app, key ?? SANDBOX, { accept: accept ?? 'application/json' }, session),
      ...(headers as Record<string, string> | undefined),
    },
  });
}

/** Every account row, as text: equal before and after means nothing changed. */
export function dump(app: FastifyInstance, session?: string): string {
  return JSON.stringify(
    app.registry
      .get(session ?? null)
      .db.prepare('SELECT * FROM emailsrvr_accounts ORDER BY account_number')
      .all(),
  );
}
