import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { makeApp } from '../helpers.js';
import { signatureHash, signatureHeader, parseTimestamp, formatTimestamp } from '../../src/routes/emailsrvr/auth.js';
import { SANDBOX, OTHER, UA, XML_HEAD, call, signed } from './helpers.js';

const VECTOR = {
  userKey: 'eGbq9/2hcZsRlr1JV1Pi',
  secretKey: 'QHOvchm/40czXhJ1OxfxK7jDHr3t',
  ua: 'Rackspace Management Interface',
};

describe('X-Api-Signature test vectors (vendor-notes.md)', () => {
  it('hashes both vectors to the documented values', () => {
    expect(signatureHash(VECTOR.userKey, VECTOR.ua, '20010308143725', VECTOR.secretKey)).toBe(
      '46VIwd66mOFGG8IkbgnLlXnfnkU=',
    );
    expect(signatureHash(VECTOR.userKey, VECTOR.ua, '20010317143725', VECTOR.secretKey)).toBe(
      'HKUn0aajpSDx7qqGK3vqzn3FglI=',
    );
  });

  it('accepts both vectors end to end when the server clock is at their time', async () => {
    const app = await makeApp();
    try {
      for (const [ts, hash] of [
        ['20010308143725', '46VIwd66mOFGG8IkbgnLlXnfnkU='],
        ['20010317143725', 'HKUn0aajpSDx7qqGK3vqzn3FglI='],
      ]) {
        app.registry.defaultState.clock.freeze(parseTimestamp(ts)!);
        const res = await app.inject({
          method: 'GET',
          url: '/v0/customers/me',
          headers: {
            'user-agent': VECTOR.ua,
            'x-api-signature': `${VECTOR.userKey}:${ts}:${hash}`,
            accept: 'application/json',
          },
        });
        expect(res.statusCode).toBe(200);
        expect(res.json()).toEqual({ name: 'Sandbox Reseller', accountNumber: '460180' });
      }
    } finally {
      await app.close();
    }
  });

  it('reads yyyyMMddHHmmss as UTC and refuses impossible dates', () => {
    expect(parseTimestamp('20010308143725')).toBe(Date.UTC(2001, 2, 8, 14, 37, 25));
    expect(formatTimestamp(Date.UTC(2001, 2, 8, 14, 37, 25))).toBe('20010308143725');
    expect(parseTimestamp('20010230120000')).toBeNull();
    expect(parseTimestamp('2001030814372')).toBeNull();
  });
});

describe('authentication failures answer 403 unauthorizedFault saying which', () => {
  let app: FastifyInstance;
  const NOW = Date.UTC(2024, 5, 1, 12, 0, 0);
  beforeAll(async () => {
    app = await makeApp();
    app.registry.defaultState.clock.freeze(NOW);
  });
  afterAll(async () => {
    await app.close();
  });

  const ts = () => formatTimestamp(NOW);
  const cases: Array<[string, () => Record<string, string>, string]> = [
    ['missing header', () => ({ 'user-agent': UA }), 'Missing X-Api-Signature header'],
    [
      'malformed header',
      () => ({ 'user-agent': UA, 'x-api-signature': 'just-a-key' }),
      'Malformed X-Api-Signature header',
    ],
    [
      'malformed timestamp',
      () => ({ 'user-agent': UA, 'x-api-signature': `${SANDBOX.userKey}:2024-06-01:abc` }),
      'Malformed X-Api-Signature timestamp',
    ],
    [
      'bad hash',
      () => ({ 'user-agent': UA, 'x-api-signature': `${SANDBOX.userKey}:${ts()}:46VIwd66mOFGG8IkbgnLlXnfnkU=` }),
      'Invalid X-Api-Signature hash',
    ],
    [
      'wrong secret',
      () => ({ 'user-agent': UA, 'x-api-signature': signatureHeader(SANDBOX.userKey, OTHER.secretKey, UA, ts()) }),
      'Invalid X-Api-Signature hash',
    ],
    [
      'hash of another User-Agent',
      () => ({
        'user-agent': 'curl/8',
        'x-api-signature': signatureHeader(SANDBOX.userKey, SANDBOX.secretKey, UA, ts()),
      }),
      'Invalid X-Api-Signature hash',
    ],
    [
      'unknown key',
      () => ({ 'user-agent': UA, 'x-api-signature': signatureHeader('no-such-key', 'x', UA, ts()) }),
      'Unknown user key',
    ],
    // light-my-request adds a User-Agent unless one is given: an empty one stands for none.
    [
      'missing User-Agent',
      () => ({ 'user-agent': '', 'x-api-signature': signatureHeader(SANDBOX.userKey, SANDBOX.secretKey, '', ts()) }),
      'Missing User-Agent header',
    ],
    [
      'timestamp too old',
      () => ({
        'user-agent': UA,
        'x-api-signature': signatureHeader(SANDBOX.userKey, SANDBOX.secretKey, UA, formatTimestamp(NOW - 86_401_000)),
      }),
      'X-Api-Signature timestamp outside the allowed window',
    ],
    [
      'timestamp too far ahead',
      () => ({
        'user-agent': UA,
        'x-api-signature': signatureHeader(SANDBOX.userKey, SANDBOX.secretKey, UA, formatTimestamp(NOW + 86_401_000)),
      }),
      'X-Api-Signature timestamp outside the allowed window',
    ],
  ];

  for (const [what, headers, message] of cases) {
    it(`${what}: JSON`, async () => {
      const res = await app.inject({
        method: 'GET',
        url: '/v0/customers',
        headers: { ...headers(), accept: 'application/json' },
      });
      expect(res.statusCode).toBe(403);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const body = res.json();
      expect(Object.keys(body)).toEqual(['unauthorizedFault']);
      expect(body.unauthorizedFault.code).toBe(403);
      expect(body.unauthorizedFault.message).toBe(message);
      expect(typeof body.unauthorizedFault.details).toBe('string');
    });
    it(`${what}: XML`, async () => {
      const res = await app.inject({
        method: 'GET',
        url: '/customers/me',
        headers: { ...headers(), accept: 'text/xml' },
      });
      expect(res.statusCode).toBe(403);
      expect(
        res.body.startsWith(
          `${XML_HEAD}\n<unauthorizedFault code="403">\n  <message>${message}</message>\n  <details>`,
        ),
      ).toBe(true);
      expect(res.body.endsWith('</details>\n</unauthorizedFault>')).toBe(true);
    });
  }

  it('accepts a timestamp just inside the 24 h window either way (local time or a reused session timestamp)', async () => {
    for (const t of [NOW - 86_400_000, NOW + 86_400_000, NOW - 10 * 3600_000]) {
      const res = await app.inject({
        method: 'GET',
        url: '/v1/customers/me',
        headers: {
          'user-agent': UA,
          accept: 'application/json',
          'x-api-signature': signatureHeader(SANDBOX.userKey, SANDBOX.secretKey, UA, formatTimestamp(t)),
        },
      });
      expect(res.statusCode).toBe(200);
    }
  });

  it('does not let a failed authentication reach the store', async () => {
    const before = app.registry.defaultState.db.prepare('SELECT COUNT(*) AS n FROM emailsrvr_accounts').get();
    const res = await app.inject({
      method: 'POST',
      url: '/customers',
      headers: {
        'user-agent': UA,
        'content-type': 'application/json',
        'x-api-signature': signatureHeader(SANDBOX.userKey, 'wrong', UA, ts()),
      },
      payload: { name: 'Sneaky' },
    });
    expect(res.statusCode).toBe(403);
    expect(app.registry.defaultState.db.prepare('SELECT COUNT(*) AS n FROM emailsrvr_accounts').get()).toEqual(before);
  });
});

describe('allowed skew is configurable', () => {
  it('honours emailsrvrSkewSeconds', async () => {
    const app = await makeApp({ emailsrvrSkewSeconds: 300 });
    try {
      const NOW = Date.UTC(2024, 0, 1);
      app.registry.defaultState.clock.freeze(NOW);
      const at = (t: number) =>
        app.inject({
          method: 'GET',
          url: '/v0/customers/me',
          headers: {
            'user-agent': UA,
            accept: 'application/json',
            'x-api-signature': signatureHeader(SANDBOX.userKey, SANDBOX.secretKey, UA, formatTimestamp(t)),
          },
        });
      expect((await at(NOW - 300_000)).statusCode).toBe(200);
      const res = await at(NOW - 301_000);
      expect(res.statusCode).toBe(403);
      expect(res.json().unauthorizedFault.message).toBe('X-Api-Signature timestamp outside the allowed window');
      expect(res.json().unauthorizedFault.details).toContain('at most 300 seconds');
    } finally {
      await app.close();
    }
  });
});

describe('throttling', () => {
  it('answers 403 "Exceeded request limits" over the per-key limit, per clock minute, per key', async () => {
    const app = await makeApp({ emailsrvrRateLimit: 3 });
    try {
      const clock = app.registry.defaultState.clock;
      clock.freeze(Date.UTC(2024, 0, 1, 10, 0, 5));
      for (let i = 0; i < 3; i++)
        expect((await call(app, { method: 'GET', url: '/v0/customers/me' })).statusCode).toBe(200);
      const json = await call(app, { method: 'GET', url: '/v0/customers/me' });
      expect(json.statusCode).toBe(403);
      expect(json.body).toBe(
        '{"unauthorizedFault":{"code":403,"message":"Exceeded request limits","details":"Exceeded request limits"}}',
      );
      const xml = await call(app, { method: 'GET', url: '/v0/customers/me', accept: 'text/xml' });
      expect(xml.statusCode).toBe(403);
      expect(xml.body).toBe(
        `${XML_HEAD}\n<unauthorizedFault code="403">\n  <message>Exceeded request limits</message>\n  <details>Exceeded request limits</details>\n</unauthorizedFault>`,
      );
      // Another key has its own budget.
      expect((await call(app, { method: 'GET', url: '/v0/customers/me', key: OTHER })).statusCode).toBe(200);
      // A throttled add changes nothing.
      const before = (
        app.registry.defaultState.db.prepare('SELECT COUNT(*) AS n FROM emailsrvr_accounts').get() as { n: number }
      ).n;
      const add = await call(app, { method: 'POST', url: '/customers', payload: { name: 'Throttled' } });
      expect(add.statusCode).toBe(403);
      expect(
        (app.registry.defaultState.db.prepare('SELECT COUNT(*) AS n FROM emailsrvr_accounts').get() as { n: number }).n,
      ).toBe(before);
      // The next minute starts a new window.
      clock.advance(60);
      expect((await call(app, { method: 'GET', url: '/v0/customers/me' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('is off by default', async () => {
    const app = await makeApp();
    try {
      for (let i = 0; i < 30; i++)
        expect((await app.inject({ method: 'GET', url: '/v0/customers/me', headers: signed(app) })).statusCode).toBe(
          200,
        );
    } finally {
      await app.close();
    }
  });
});
