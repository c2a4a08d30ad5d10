/**
 * Find and load answers and authenticated users are remembered until the database changes
 * (src/store/read-cache.ts): whatever writes, through the API or plain SQL, the next call sees it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { lastJournalEntry, makeApp } from '../helpers.js';
import { hashPassword } from '../../src/routes/mgmt/auth.js';
import { SANDBOX, putJson, req } from './helpers.js';

describe('UniPay: remembered reads follow every write', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });
  const db = () => app.registry.defaultState.db;
  const find = (url = '/api/v01/customers?lastName=smi&limit=20', headers: Record<string, string> = {}) =>
    req(app, { method: 'GET', url, headers });

  it('find and load see rows written with plain SQL and through the API, in JSON and XML', async () => {
    const json = await find();
    const xml = await find(undefined, { accept: 'application/xml' });
    expect(json.statusCode).toBe(200);
    expect(xml.statusCode).toBe(200);
    expect((await find()).body).toBe(json.body);
    const total = Number(json.headers['x-total-count']);
    const first = json.json()[0] as { id: number; lastName: string };

    db().prepare("UPDATE mgmt_customers SET last_name = 'Renamed' WHERE id = ?").run(first.id);
    const after = await find();
    expect(Number(after.headers['x-total-count'])).toBe(total - 1);
    expect(after.json().map((c: { id: number }) => c.id)).not.toContain(first.id);
    const afterXml = await find(undefined, { accept: 'application/xml' });
    expect(afterXml.body).not.toBe(xml.body);
    expect(afterXml.headers['x-total-count']).toBe(String(total - 1));
    expect((await req(app, { method: 'GET', url: `/api/v01/customers/${first.id}` })).json().lastName).toBe('Renamed');

    const created = await putJson(app, { accountId: 2001, lastName: 'Smithers' });
    expect(created.statusCode).toBe(200);
    expect(Number((await find()).headers['x-total-count'])).toBe(total);
  });

  it('a read asked again answers the same, with the same warnings, for the same user and format, until a write', async () => {
    const url = '/api/v01/customers?lastName=smi&limit=20&_=123&limit=5';
    const warnings = [
      'limit was given 2 times: the first value ("20") was used',
      '_ is not a known parameter of find: ignored',
    ];
    const first = await find(url);
    expect(first.statusCode).toBe(200);
    expect((await lastJournalEntry(app)).warnings).toEqual(warnings);
    for (let i = 0; i < 2; i++) {
      const again = await find(url);
      expect(again.body).toBe(first.body);
      expect(again.headers['x-total-count']).toBe(first.headers['x-total-count']);
      expect((await lastJournalEntry(app)).warnings).toEqual(warnings);
    }
    // Another format is another answer; a refused call is refused every time.
    expect((await find(url, { accept: 'application/xml' })).body).toMatch(/^<\?xml|^</);
    for (let i = 0; i < 2; i++)
      expect(
        (await req(app, { method: 'GET', url, auth: 'Basic ' + Buffer.from('api-sandbox:wrong').toString('base64') }))
          .statusCode,
      ).toBe(401);
    const load = `/api/v01/customers/${first.json()[0].id}?_=1`;
    expect((await req(app, { method: 'GET', url: load })).statusCode).toBe(200);
    expect((await req(app, { method: 'GET', url: load })).json().id).toBe(first.json()[0].id);
    expect((await lastJournalEntry(app)).warnings).toEqual(['_ is not a known parameter of load: ignored']);
    // A write through the API: the same read sees it.
    expect((await putJson(app, { accountId: 2001, lastName: 'Smithson' })).statusCode).toBe(200);
    const after = await find(url);
    expect(Number(after.headers['x-total-count'])).toBe(Number(first.headers['x-total-count']) + 1);
    expect((await lastJournalEntry(app)).warnings).toEqual(warnings);
  });

  it('the user is checked again after its row, password or accounts change', async () => {
    expect((await find()).statusCode).toBe(200);
    const accounts = Number((await find('/api/v01/customers?limit=1')).headers['x-total-count']);

    db().prepare("UPDATE mgmt_users SET active = 0 WHERE login = 'api-sandbox'").run();
    const disabled = await find();
    expect(disabled.statusCode).toBe(401);
    expect(disabled.json().response.message).toBe('User api-sandbox is disabled');
    db().prepare("UPDATE mgmt_users SET active = 1 WHERE login = 'api-sandbox'").run();
    expect((await find()).statusCode).toBe(200);

    db().prepare('DELETE FROM mgmt_user_accounts WHERE user_id = 1 AND account_id = 2002').run();
    expect(Number((await find('/api/v01/customers?limit=1')).headers['x-total-count'])).toBeLessThan(accounts);
    db().prepare('INSERT INTO mgmt_user_accounts (user_id, account_id) VALUES (1, 2002)').run();
    expect(Number((await find('/api/v01/customers?limit=1')).headers['x-total-count'])).toBe(accounts);

    const old = db()
      .prepare("SELECT password_hash FROM mgmt_users WHERE login = 'api-sandbox'")
      .pluck()
      .get() as string;
    db()
      .prepare("UPDATE mgmt_users SET password_hash = ? WHERE login = 'api-sandbox'")
      .run(hashPassword('a-new-password', '0011223344556677'));
    expect((await find()).statusCode).toBe(401);
    expect(
      (
        await req(app, {
          method: 'GET',
          url: '/api/v01/customers?lastName=smi',
          auth: 'Basic ' + Buffer.from('api-sandbox:a-new-password').toString('base64'),
        })
      ).statusCode,
    ).toBe(200);
    db().prepare("UPDATE mgmt_users SET password_hash = ? WHERE login = 'api-sandbox'").run(old);
    expect((await req(app, { method: 'GET', url: '/api/v01/customers?lastName=smi', auth: SANDBOX })).statusCode).toBe(
      200,
    );
  });
});
