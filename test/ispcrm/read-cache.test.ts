/**
 * List answers and credentials are remembered until the database changes (src/store/read-cache.ts):
 * whatever writes, through the API, the control plane or plain SQL, the next call sees it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { lastJournalEntry, makeApp } from '../helpers.js';
import { ReadCache } from '../../src/store/read-cache.js';
import { SANDBOX, callJson, fail, ok } from './helpers.js';

describe('ISP CRM: remembered reads follow every write', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });
  const db = () => app.registry.defaultState.db;

  it('a list, a count and the credentials see writes made with plain SQL', async () => {
    const before = await ok(app, 'list', { ...SANDBOX, name: '%Trad%' });
    const count = await ok(app, 'list', { ...SANDBOX, name: '%Trad%', show_count: '1' });
    expect(await ok(app, 'list', { ...SANDBOX, name: '%Trad%' })).toEqual(before);
    const id = before[0].id as number;

    db().prepare("UPDATE ispcrm_customers SET name = 'Renamed Company' WHERE id = ?").run(id);
    const after = await ok(app, 'list', { ...SANDBOX, name: '%Trad%' });
    expect(after.map((c: { id: number }) => c.id)).toEqual(before.slice(1).map((c: { id: number }) => c.id));
    expect(await ok(app, 'list', { ...SANDBOX, name: '%Trad%', show_count: '1' })).toBe(count - 1);

    db().prepare("UPDATE ispcrm_services SET plan = 'Changed Plan' WHERE customerid = ?").run(before[1].id);
    const plans = (await ok(app, 'list', { ...SANDBOX, name: '%Trad%' }))[0].services.map(
      (s: { plan: string }) => s.plan,
    );
    expect(plans.every((p: string) => p === 'Changed Plan')).toBe(true);

    db().prepare('UPDATE ispcrm_users SET active = 0 WHERE userid = ?').run(Number(SANDBOX.userid));
    expect(await fail(app, 'list', { ...SANDBOX, name: '%Trad%' })).toBe('Invalid userid or api_key');
    db().prepare('UPDATE ispcrm_users SET active = 1 WHERE userid = ?').run(Number(SANDBOX.userid));
    expect(await ok(app, 'list', { ...SANDBOX, name: '%Trad%', show_count: '1' })).toBe(count - 1);
  });

  it('a list asked again with the same fields answers the same, with the same warnings, until a write', async () => {
    const fields = { ...SANDBOX, name: '%Trad%', rows_limit: '5000', colour: 'blue' };
    const warnings = [
      'unknown field "colour" ignored (NeuCRM ignores unknown fields in both modes)',
      "rows_limit 5000 counts as 100 (NeuCRM's maximum)",
    ];
    const first = await ok(app, 'list', fields);
    expect((await lastJournalEntry(app)).warnings).toEqual(warnings);
    for (let i = 0; i < 2; i++) {
      expect(await ok(app, 'list', fields)).toEqual(first);
      expect((await lastJournalEntry(app)).warnings).toEqual(warnings);
    }
    // The same fields as JSON: the same answer and warnings.
    const json = await callJson(app, 'list', fields);
    expect(json.result).toEqual(first);
    expect((await lastJournalEntry(app)).warnings).toEqual(warnings);
    // A bad key is refused every time (a refusal is never remembered), and the good one still answers.
    expect(await fail(app, 'list', { ...fields, api_key: 'wrong' })).toBe('Invalid userid or api_key');
    expect(await fail(app, 'list', { ...fields, api_key: 'wrong' })).toBe('Invalid userid or api_key');
    // A write through the API: the next identical list sees it.
    const created = await ok(app, 'create', {
      ...SANDBOX,
      type: 'Individual',
      name: 'Trad Newcomer',
      mobile: '12344444',
      email: 'newcomer@example.com',
      zipcode: '12345',
      state: 'Goa',
      city: 'Panaji',
      street: '3rd street',
    });
    const after = await ok(app, 'list', fields);
    expect(after.length).toBe(first.length + 1);
    expect(after.map((c: { id: number }) => c.id)).toContain(Number(created.id ?? created));
    expect((await lastJournalEntry(app)).warnings).toEqual(warnings);
  });

  it('a reset brings the fixtures back into the answers', async () => {
    const res = await app.inject({ method: 'POST', url: '/_emulator/reset' });
    expect(res.statusCode).toBeLessThan(300);
    const count = await ok(app, 'list', { ...SANDBOX, name: '%Trad%', show_count: '1' });
    expect(count).toBeGreaterThan(0);
    expect((await ok(app, 'list', { ...SANDBOX, name: '%Trad%' })).length).toBe(count);
  });
});

describe('ReadCache', () => {
  it('answers again only while nothing was written, and never inside a transaction', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (x INTEGER)');
    const cache = new ReadCache(db);
    let computed = 0;
    const count = () =>
      cache.get('n', () => {
        computed++;
        return db.prepare('SELECT COUNT(*) FROM t').pluck().get() as number;
      });
    expect(count()).toBe(0);
    expect(count()).toBe(0);
    expect(computed).toBe(1);
    db.prepare('INSERT INTO t VALUES (1)').run();
    expect(count()).toBe(1);
    expect(computed).toBe(2);

    // Read inside a transaction that is then rolled back: the rolled-back row must not stay remembered.
    db.exec('BEGIN');
    db.prepare('INSERT INTO t VALUES (2)').run();
    expect(count()).toBe(2);
    db.exec('ROLLBACK');
    expect(count()).toBe(1);
    db.close();
  });

  it('holds at most its bound in bytes, the oldest entries going first, and never a miss', () => {
    const db = new Database(':memory:');
    const cache = new ReadCache(db, 64 * 1024);
    for (let i = 0; i < 100; i++) cache.get(`k${i}`, () => 'x'.repeat(1000));
    expect(cache.bytes).toBeLessThanOrEqual(64 * 1024);
    expect(cache.bytes).toBeGreaterThan(32 * 1024);
    let computed = 0;
    cache.get('k99', () => {
      computed++;
      return 'y';
    });
    expect(computed).toBe(0);
    cache.get('k0', () => {
      computed++;
      return 'y';
    });
    expect(computed).toBe(1);
    const before = cache.bytes;
    for (let i = 0; i < 3; i++)
      expect(
        cache.get('missing', () => {
          computed++;
          return undefined;
        }),
      ).toBeUndefined();
    expect(computed).toBe(4);
    expect(cache.bytes).toBe(before);
    db.close();
  });

  it('sees a commit made by another connection to the same file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'read-cache-'));
    try {
      const file = path.join(dir, 'db.sqlite');
      const a = new Database(file);
      a.pragma('journal_mode = WAL');
      a.exec('CREATE TABLE t (x INTEGER)');
      const b = new Database(file);
      const cache = new ReadCache(a);
      const count = () => cache.get('n', () => a.prepare('SELECT COUNT(*) FROM t').pluck().get() as number);
      expect(count()).toBe(0);
      b.prepare('INSERT INTO t VALUES (1)').run();
      expect(count()).toBe(1);
      a.close();
      b.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
