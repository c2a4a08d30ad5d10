/**
 * Rackspace `X-Api-Signature` authentication and per-key throttling.
 *
 *   X-Api-Signature: <UserKey>:<yyyyMMddHHmmss>:<Base64(SHA1(UserKey + UserAgent + Timestamp + SecretKey))>
 *
 * The User-Agent hashed is the request's own header. The timestamp is read as UTC; clients that
 * send local time (or reuse one timestamp for a session) are covered by the wide, configurable
 * skew window (24 h each way by default), compared with the state's clock.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { EmulatorState } from '../../store/state.js';
import type { AccountRow, EmailsrvrStore } from '../../store/emailsrvr.js';
import { faults } from './envelope.js';
import { memoize } from '../../core/memoize.js';

/** Base64 of the binary SHA-1 of UserKey + UserAgent + Timestamp + SecretKey (28 characters). */
export function signatureHash(userKey: string, userAgent: string, timestamp: string, secretKey: string): string {
  return createHash('sha1')
    .update(userKey + userAgent + timestamp + secretKey, 'utf8')
    .digest('base64');
}

/** The full header value a client would send. */
export function signatureHeader(userKey: string, secretKey: string, userAgent: string, timestamp: string): string {
  return `${userKey}:${timestamp}:${signatureHash(userKey, userAgent, timestamp, secretKey)}`;
}

/** `yyyyMMddHHmmss` of a time, in UTC. */
export function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** `yyyyMMddHHmmss` read as UTC -> epoch ms, or null when it is not a real date and time. */
export function parseTimestamp(ts: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(ts);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  if (
    back.getUTCFullYear() !== y ||
    back.getUTCMonth() !== mo - 1 ||
    back.getUTCDate() !== d ||
    back.getUTCHours() !== h ||
    back.getUTCMinutes() !== mi ||
    back.getUTCSeconds() !== s
  )
    return null;
  return ms;
}

export interface AuthSettings {
  skewSeconds: number;
  /** Requests per user key per clock minute; 0 = no limit. */
  rateLimit: number;
}

const MALFORMED = 'Malformed X-Api-Signature header';
const MALFORMED_DETAILS = 'Expected UserKey:yyyyMMddHHmmss:Base64(SHA1(UserKey + UserAgent + Timestamp + SecretKey))';

/** A well-formed header, split up (a pure function of the header text, so it is remembered). */
interface SignatureParts {
  userKey: string;
  timestamp: string;
  tsMs: number;
  hash: string;
  /**
   * The User-Agent and secret key the hash was last found valid with: the SHA-1 is a pure
   * function of them and the header, so the same three need no new hash.
   */
  validWith?: { userAgent: string; secretKey: string };
}

/** The header split into its parts, or a 403 unauthorizedFault saying what is missing or malformed. */
function parseHeader(header: string | undefined): SignatureParts {
  if (header === undefined) {
    throw faults.unauthorized(
      'Missing X-Api-Signature header',
      'Every request must carry X-Api-Signature: UserKey:Timestamp:Hash',
    );
  }
  return parsedHeader(header);
}

/**
 * Remembered per header text, up to 1024 of them (clients that sign each request add one each); a
 * malformed one is not.
 */
const parsedHeader = memoize((header: string): SignatureParts => {
  if (header.trim() === '') {
    throw faults.unauthorized(
      'Missing X-Api-Signature header',
      'Every request must carry X-Api-Signature: UserKey:Timestamp:Hash',
    );
  }
  // The hash (Base64) and the timestamp contain no ':'; the user key is everything before them.
  const parts = header.trim().split(':');
  if (parts.length < 3) throw faults.unauthorized(MALFORMED, MALFORMED_DETAILS);
  const hash = parts.pop()!;
  const timestamp = parts.pop()!;
  const userKey = parts.join(':');
  if (userKey === '' || hash === '') throw faults.unauthorized(MALFORMED, MALFORMED_DETAILS);
  const tsMs = parseTimestamp(timestamp);
  if (tsMs === null)
    throw faults.unauthorized(
      'Malformed X-Api-Signature timestamp',
      `"${timestamp}" is not a yyyyMMddHHmmss date and time`,
    );
  return { userKey, timestamp, tsMs, hash };
}, 1024);

/**
 * Check the signature; the authenticated account, or a 403 unauthorizedFault saying what failed.
 * The parsing and the hash are remembered by header; the key and account come from the store
 * (which remembers them only while the database is unchanged) and the timestamp is compared with
 * `clockMs` on every call.
 */
export function authenticate(
  store: EmailsrvrStore,
  clockMs: number,
  header: string | undefined,
  userAgent: string | undefined,
  settings: AuthSettings,
): { account: AccountRow; userKey: string } {
  const parts = parseHeader(header);
  const { userKey, timestamp, tsMs, hash } = parts;
  if (userAgent === undefined || userAgent === '') {
    throw faults.unauthorized(
      'Missing User-Agent header',
      'The signature hashes the User-Agent header, so every request must send one',
    );
  }
  const key = store.apiKey(userKey);
  if (!key) throw faults.unauthorized('Unknown user key', `No API key ${userKey}`);
  const valid = parts.validWith;
  if (valid === undefined || valid.userAgent !== userAgent || valid.secretKey !== key.secret_key) {
    const expected = Buffer.from(signatureHash(userKey, userAgent, timestamp, key.secret_key));
    const given = Buffer.from(hash);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw faults.unauthorized(
        'Invalid X-Api-Signature hash',
        'Base64(SHA1(UserKey + UserAgent + Timestamp + SecretKey)) does not match',
      );
    }
    parts.validWith = { userAgent, secretKey: key.secret_key };
  }
  const skew = Math.round((tsMs - clockMs) / 1000);
  if (Math.abs(skew) > settings.skewSeconds) {
    throw faults.unauthorized(
      'X-Api-Signature timestamp outside the allowed window',
      `Timestamp ${timestamp} is ${Math.abs(skew)} seconds ${skew < 0 ? 'behind' : 'ahead of'} the server time (${formatTimestamp(clockMs)} UTC); at most ${settings.skewSeconds} seconds are allowed`,
    );
  }
  const account = store.account(key.account_number);
  if (!account) throw faults.unauthorized('Unknown user key', `No account for API key ${userKey}`);
  return { account, userKey };
}

const THROTTLE_KEY = 'emailsrvr.throttle';

/**
 * Count a request of this user key in the current clock minute (fixed windows); over the limit,
 * 403 `Exceeded request limits` (refused requests are not counted). Counters live in the state's
 * extras: they are ephemeral, per state, and never reach the database.
 */
export function throttle(state: EmulatorState, userKey: string, limit: number): void {
  if (limit <= 0) return;
  let counters = state.extras.get(THROTTLE_KEY) as Map<string, { minute: number; count: number }> | undefined;
  if (!counters) {
    counters = new Map();
    state.extras.set(THROTTLE_KEY, counters);
  }
  const minute = Math.floor(state.clock.now() / 60_000);
  let c = counters.get(userKey);
  if (!c || c.minute !== minute) {
    c = { minute, count: 0 };
    counters.set(userKey, c);
  }
  if (c.count >= limit) throw faults.throttled();
  c.count++;
}
