/**
 * RackCorp authentication, any one of:
 *   Authorization: Bearer <JWT>            (from cmd=session.login)
 *   Cookie: JWTSESSIONID=<JWT>             (set by session.login)
 *   APIUUID / APISECRET in the body or query, or as headers of those names
 *   Authorization: Basic base64(uuid:secret)
 * JWTs are HS256, signed with a key made per emulator instance, with an expiry read from the
 * request state's clock.
 */
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import type { RackcorpStore } from '../../store/rackcorp.js';
import { authFault } from './envelope.js';
import { memoize } from '../../core/memoize.js';

export interface RackcorpAuth {
  customerId: number;
  via: 'bearer' | 'cookie' | 'apikey-body' | 'apikey-header' | 'basic';
  userId?: number;
}

export interface Credentials {
  authorization?: string;
  cookie?: string;
  headerUuid?: string;
  headerSecret?: string;
  bodyUuid?: unknown;
  bodySecret?: unknown;
}

const ISSUER = 'vendor-api-emulator/rackcorp';

export class TokenService {
  private readonly key = new Uint8Array(randomBytes(32));

  constructor(private readonly ttlSeconds: number) {}

  async sign(userId: number, customerId: number, clock: Clock): Promise<string> {
    const iat = clock.nowSeconds();
    return new SignJWT({ cid: customerId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(String(userId))
      .setIssuer(ISSUER)
      .setIssuedAt(iat)
      .setExpirationTime(iat + this.ttlSeconds)
      .sign(this.key);
  }

  /**
   * Tokens whose signature was checked, with their expiry. A token's signature never changes, so
   * only the expiry (by the request state's clock) is checked again; jose's WebCrypto verification
   * on every request would be a third of the server's CPU per Bearer request. Bounded: cleared when full.
   */
  private readonly verified = new Map<
    string,
    { claims: Readonly<{ userId: number; customerId: number }>; exp: number }
  >();

  /**
   * The token's user and customer, or null when it is forged, malformed or expired. Answered at
   * once for a token already verified, else through jose (a promise).
   */
  verify(
    token: string,
    clock: Clock,
  ): { userId: number; customerId: number } | null | Promise<{ userId: number; customerId: number } | null> {
    const known = this.verified.get(token);
    if (known) {
      const now = clock.nowSeconds();
      // jose's rule: valid strictly before exp.
      return now < known.exp ? known.claims : null;
    }
    return this.verifyNew(token, clock);
  }

  private async verifyNew(token: string, clock: Clock): Promise<{ userId: number; customerId: number } | null> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        issuer: ISSUER,
        algorithms: ['HS256'],
        currentDate: clock.nowDate(),
      });
      const userId = Number(payload.sub);
      const customerId = Number(payload.cid);
      if (!Number.isInteger(userId) || !Number.isInteger(customerId)) return null;
      if (typeof payload.exp === 'number') {
        if (this.verified.size >= 10_000) this.verified.clear();
        this.verified.set(token, { claims: Object.freeze({ userId, customerId }), exp: payload.exp });
      }
      return { userId, customerId };
    } catch (e) {
      if (e instanceof joseErrors.JOSEError || e instanceof TypeError) return null;
      throw e;
    }
  }
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const raw = part.slice(eq + 1).trim();
      // A malformed %-escape is a bad token (Auth FAULT), not a server error.
      try {
        return decodeURIComponent(raw);
      } catch {
        return raw;
      }
    }
  }
  return undefined;
}

/** What an Authorization header says, read once per distinct header text (pure parsing, no check). */
type ParsedAuthorization =
  | { kind: 'none' } // empty, or a scheme this API does not take
  | { kind: 'bearer'; token: string }
  | { kind: 'basic'; uuid: string; secret: string }
  | { kind: 'basic-malformed' }; // no colon in the decoded credentials

const NO_AUTHORIZATION: ParsedAuthorization = { kind: 'none' };

/** Remembered per distinct header text, up to 1000 of them. */
const parseAuthorization = memoize((header: string): ParsedAuthorization => {
  let parsed: ParsedAuthorization = NO_AUTHORIZATION;
  const auth = header.trim();
  if (auth) {
    const [scheme, ...rest] = auth.split(/\s+/);
    const value = rest.join(' ');
    if (/^bearer$/i.test(scheme) && value) parsed = { kind: 'bearer', token: value };
    else if (/^basic$/i.test(scheme) && value) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      parsed =
        colon < 0
          ? { kind: 'basic-malformed' }
          : { kind: 'basic', uuid: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
    }
  }
  return parsed;
}, 1000);

function byKey(store: RackcorpStore, uuid: unknown, secret: unknown, via: RackcorpAuth['via']): RackcorpAuth {
  if (typeof uuid !== 'string' || typeof secret !== 'string')
    throw authFault('APIUUID and APISECRET must both be given', typeof uuid !== 'string' ? 'APIUUID' : 'APISECRET');
  // Keys can be changed or removed at any time: the lookup is remembered only until the data changes.
  const key = store.apiKeySecret(uuid);
  // The secret is compared here, not in SQL: SQLite would see a string with a lone surrogate as U+FFFD.
  if (!key || key[0] !== secret) throw authFault('invalid API key', 'APIUUID');
  return { customerId: key[1], via };
}

/** Where a session token came from: the field an auth FAULT names. */
const tokenField = (via: 'bearer' | 'cookie') => (via === 'bearer' ? 'Authorization' : 'JWTSESSIONID');

function tokenUser(
  store: RackcorpStore,
  claims: { userId: number; customerId: number } | null,
  via: 'bearer' | 'cookie',
): RackcorpAuth {
  if (!claims) throw authFault('the session token is invalid or has expired', tokenField(via));
  // One lookup for "exists, same customer, ACTIVE" (remembered until the data changes): the three
  // failures share one message.
  if (!store.isActiveUser(claims.userId, claims.customerId)) {
    throw authFault('the session user is no longer active', tokenField(via));
  }
  return { customerId: claims.customerId, via, userId: claims.userId };
}

function byToken(
  store: RackcorpStore,
  tokens: TokenService,
  clock: Clock,
  token: string,
  via: 'bearer' | 'cookie',
): RackcorpAuth | Promise<RackcorpAuth> {
  const claims = tokens.verify(token, clock);
  return claims instanceof Promise ? claims.then((c) => tokenUser(store, c, via)) : tokenUser(store, claims, via);
}

/**
 * Find and check the request's credentials; throws the RackCorp FAULT when none are valid.
 * Synchronous except for a JWT not verified before (then a promise, rejected with the FAULT).
 */
export function authenticate(
  creds: Credentials,
  store: RackcorpStore,
  tokens: TokenService,
  clock: Clock,
): RackcorpAuth | Promise<RackcorpAuth> {
  const parsed = creds.authorization ? parseAuthorization(creds.authorization) : NO_AUTHORIZATION;
  switch (parsed.kind) {
    case 'bearer':
      return byToken(store, tokens, clock, parsed.token, 'bearer');
    case 'basic':
      return byKey(store, parsed.uuid, parsed.secret, 'basic');
    case 'basic-malformed':
      throw authFault('Basic credentials must be uuid:secret', 'Authorization');
  }
  if (creds.bodyUuid !== undefined || creds.bodySecret !== undefined)
    return byKey(store, creds.bodyUuid, creds.bodySecret, 'apikey-body');
  if (creds.headerUuid !== undefined || creds.headerSecret !== undefined)
    return byKey(store, creds.headerUuid, creds.headerSecret, 'apikey-header');
  const cookie = cookieValue(creds.cookie, 'JWTSESSIONID');
  if (cookie) return byToken(store, tokens, clock, cookie, 'cookie');
  if (creds.authorization?.trim()) throw authFault('unsupported Authorization scheme', 'Authorization');
  throw authFault('no credentials were given');
}
