/**
 * HTTP Basic authentication of UniPay service users. Passwords are stored as salted scrypt hashes
 * (`scrypt$N$salt$key`) so an exported store holds no plaintext; N is small (1024) because this is a
 * sandbox checked on every request, not a password vault. fixtures/mgmt/generate.mjs makes the hashes.
 */
import crypto from 'node:crypto';
import type { MgmtStore } from '../../store/mgmt.js';
import type { ReadCache } from '../../store/read-cache.js';
import { MgmtError } from './errors.js';

export const REALM = 'UniPay Management API';
const CHALLENGE = { 'WWW-Authenticate': `Basic realm="${REALM}", charset="UTF-8"` };

export interface MgmtAuth {
  userId: number;
  login: string;
  /** Merchant accounts this user may act on. */
  accountIds: number[];
}

export function hashPassword(password: string, saltHex: string, N = 1024): string {
  const key = crypto.scryptSync(password, Buffer.from(saltHex, 'hex'), 32, { N, r: 8, p: 1 });
  return `scrypt$${N}$${saltHex}$${key.toString('hex')}`;
}

/**
 * Checks already made, by stored hash and a SHA-256 of the password tried. scrypt is a pure
 * function of (password, salt, N), so a remembered answer is the same answer; without this, scrypt
 * would be two thirds of the server's CPU on a find. Bounded: cleared when full.
 * One per plugin instance (see index.ts), so apps in one process share nothing.
 */
export class PasswordCheckCache {
  private readonly seen = new Map<string, boolean>();
  constructor(private readonly max = 4096) {}

  verify(password: string, stored: string): boolean {
    const key = `${stored}\0${crypto.createHash('sha256').update(password).digest('base64')}`;
    let ok = this.seen.get(key);
    if (ok === undefined) {
      ok = verifyPassword(password, stored);
      if (this.seen.size >= this.max) this.seen.clear();
      this.seen.set(key, ok);
    }
    return ok;
  }
}

export function verifyPassword(password: string, stored: string): boolean {
  const [scheme, n, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !salt || !key) return false;
  const N = Number(n);
  if (!Number.isInteger(N) || N < 2 || N > 1 << 20) return false;
  const expected = Buffer.from(key, 'hex');
  const actual = crypto.scryptSync(password, Buffer.from(salt, 'hex'), expected.length, { N, r: 8, p: 1 });
  return crypto.timingSafeEqual(expected, actual);
}

function unauthorized(message: string): MgmtError {
  return new MgmtError('E401', message, undefined, CHALLENGE);
}

/**
 * Check an Authorization header; the authenticated service user, or a 401 MgmtError. A success is
 * remembered until the database changes (users, their accounts and password hashes are rows), by
 * a SHA-256 of the header, so no password is kept in memory; failures are checked every time.
 */
export function authenticate(
  header: string | undefined,
  store: MgmtStore,
  passwords: PasswordCheckCache,
  reads: ReadCache,
): MgmtAuth {
  if (header === undefined) return check(header, store, passwords);
  return reads.get(
    `mgmt auth ${crypto.hash('sha256', header, 'base64')}`,
    () => check(header, store, passwords),
    () => 256,
  );
}

function check(header: string | undefined, store: MgmtStore, passwords: PasswordCheckCache): MgmtAuth {
  if (header === undefined || header.trim() === '')
    throw unauthorized('Authentication required: use HTTP Basic with a service user (login api-...)');
  const m = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header.trim());
  if (!m) throw unauthorized('Unsupported authorization: use HTTP Basic with a service user (login api-...)');
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw unauthorized('Malformed Basic credentials: expected login:password');
  const login = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  if (!login.startsWith('api-'))
    throw unauthorized(
      `User ${login || '(empty)'} is not a service user: the Management API accepts only logins starting with api-`,
    );
  const user = store.userByLogin(login);
  // Same answer for an unknown login and a wrong password: nothing tells which logins exist.
  if (!user || !passwords.verify(password, user.passwordHash)) throw unauthorized('Invalid login or password');
  if (!user.active) throw unauthorized(`User ${login} is disabled`);
  // Frozen: one object answers every request until the next write.
  return Object.freeze({
    userId: user.id,
    login: user.login,
    accountIds: Object.freeze(store.accountsOf(user.id)) as number[],
  });
}
