import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { makeApp } from '../helpers.js';
import { buildApp } from '../../src/server/app.js';

describe('health', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers ok with the version and every vendor once the fixtures are loaded', async () => {
    const res = await app.inject({ method: 'GET', url: '/_emulator/health' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.status).toBe('ok');
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(body.store).toBe('memory');
    expect(body.vendors.map((v: { name: string }) => v.name)).toEqual(['rackcorp', 'emailsrvr', 'ispcrm', 'mgmt']);
  });

  it('answers 503 when the store is not open', async () => {
    const other = await makeApp();
    other.registry.defaultState.db.close();
    const res = await other.inject({ method: 'GET', url: '/_emulator/health' });
    expect(res.statusCode).toBe(503);
    expect(res.json().status).toBe('starting');
    await other.close();
  });

  it('answers unknown paths with a JSON 404, not a stack trace', async () => {
    const res = await app.inject({ method: 'GET', url: '/nothing/here' });
    expect(res.statusCode).toBe(404);
    expect(res.json().message).toContain('/nothing/here');
  });

  it('refuses to start on a fixtures folder that does not exist', async () => {
    await expect(
      buildApp({ logLevel: 'silent', fixtures: path.join(os.tmpdir(), 'no-such-fixtures-dir') }),
    ).rejects.toThrow(/fixtures folder not found/);
  });

  it('refuses a fixtures file that is not JSON, naming it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-'));
    fs.mkdirSync(path.join(dir, 'rackcorp'));
    fs.writeFileSync(path.join(dir, 'rackcorp', 'rackcorp_customers.json'), '[{"id": 1,');
    await expect(buildApp({ logLevel: 'silent', fixtures: dir })).rejects.toThrow(
      /rackcorp_customers\.json: not valid JSON/,
    );
  });

  it('loads another fixtures folder with --fixtures: tables without a file start empty', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-'));
    fs.mkdirSync(path.join(dir, 'rackcorp'));
    fs.writeFileSync(
      path.join(dir, 'rackcorp', 'rackcorp_customers.json'),
      JSON.stringify([
        { id: 7, parentID: null, companyName: 'Seven Ltd', stdName: 'Seven Ltd', dateCreated: 1, dateModified: 1 },
      ]),
    );
    fs.writeFileSync(
      path.join(dir, 'rackcorp', 'rackcorp_api_keys.json'),
      JSON.stringify([{ uuid: 'u', secret: 's', customerId: 7 }]),
    );
    const custom = await buildApp({ logLevel: 'silent', fixtures: dir });
    const res = await custom.inject({
      method: 'GET',
      url: '/api/rest/v2.9/json.php?cmd=customer.getall&APIUUID=u&APISECRET=s',
    });
    expect(res.json()).toEqual({
      code: 'OK',
      count: 1,
      customers: [expect.objectContaining({ id: 7, stdName: 'Seven Ltd' })],
    });
    await custom.close();
  });

  it('loads fixture rows that list a child before its parent', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-'));
    fs.mkdirSync(path.join(dir, 'rackcorp'));
    fs.writeFileSync(
      path.join(dir, 'rackcorp', 'rackcorp_customers.json'),
      JSON.stringify([
        { id: 8, parentID: 7, companyName: 'Child', stdName: 'Child', dateCreated: 1, dateModified: 1 },
        { id: 7, parentID: null, companyName: 'Parent', stdName: 'Parent', dateCreated: 1, dateModified: 1 },
      ]),
    );
    const custom = await buildApp({ logLevel: 'silent', fixtures: dir });
    expect(custom.registry.defaultState.db.prepare('SELECT COUNT(*) AS n FROM rackcorp_customers').get()).toEqual({
      n: 2,
    });
    await custom.close();
  });

  it('still refuses fixtures whose parent is missing altogether', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-'));
    fs.mkdirSync(path.join(dir, 'rackcorp'));
    fs.writeFileSync(
      path.join(dir, 'rackcorp', 'rackcorp_customers.json'),
      JSON.stringify([
        { id: 8, parentID: 77, companyName: 'Orphan', stdName: 'Orphan', dateCreated: 1, dateModified: 1 },
      ]),
    );
    await expect(buildApp({ logLevel: 'silent', fixtures: dir })).rejects.toThrow(/FOREIGN KEY/);
  });
});
