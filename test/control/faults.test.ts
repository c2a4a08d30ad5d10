import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ctl, makeApp, sessionHeader } from '../helpers.js';
import { startEmulator, type RunningEmulator } from '../../src/server/start.js';
import { vendors } from '../../src/vendors.js';
import { API_SECRET, API_UUID, createCustomer, digest, getAll, newCustomer, rc } from '../rackcorp/helpers.js';

let app: FastifyInstance;
let running: RunningEmulator | null = null;
afterEach(async () => {
  await app?.close();
  await running?.close();
  running = null;
});

const addFault = (rule: Record<string, unknown>, session?: string) =>
  ctl(app, 'POST', '/_emulator/faults', rule, sessionHeader(session));

describe('fault injection', () => {
  it('answers a status and body instead of the vendor, and changes nothing', async () => {
    app = await makeApp();
    const before = digest(app);
    const added = await addFault({
      vendor: 'rackcorp',
      operation: 'customer.create',
      status: 503,
      body: { error: 'down' },
      times: 1,
    });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ id: 1, kind: 'status', fired: 0, exhausted: false });
    const res = await rc(app, 'customer.create', newCustomer);
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ error: 'down' });
    expect(res.headers['content-type']).toContain('application/json');
    expect(digest(app)).toBe(before);
    // times: 1 -> the next call goes through.
    expect(await createCustomer(app)).toBe(906);
    const list = await ctl(app, 'GET', '/_emulator/faults');
    expect(list.body.faults[0]).toMatchObject({ id: 1, matched: 1, fired: 1, exhausted: true });
    const journal = (await ctl(app, 'GET', '/_emulator/requests')).body.requests;
    expect(journal[1]).toMatchObject({
      operation: 'customer.create',
      status: 503,
      fault: 1,
      responseBody: '{"error":"down"}',
    });
  });

  it('answers the vendor preset byte for byte (RackCorp FAULT)', async () => {
    app = await makeApp();
    await addFault({ vendor: 'rackcorp', preset: 'fault', message: 'Try later' });
    const res = await rc(app, 'customer.get', { id: 123 });
    const preset = vendors.find((v) => v.name === 'rackcorp')!.faultPresets!.fault({ message: 'Try later' });
    expect(res.statusCode).toBe(preset.status);
    expect(res.body).toBe(preset.body);
    expect(res.json()).toMatchObject({ code: 'FAULT', message: 'Try later' });
  });

  it('covers every preset every vendor names', async () => {
    app = await makeApp();
    for (const v of vendors) {
      for (const [name, make] of Object.entries(v.faultPresets ?? {})) {
        await ctl(app, 'DELETE', '/_emulator/faults');
        await addFault({ vendor: v.name, preset: name, path: '*' });
        const url = v.basePaths[0] + (v.name === 'rackcorp' ? '/customers' : '/');
        const res = await app.inject({ method: 'GET', url, headers: { accept: 'application/json' } });
        const want = make({ accept: 'application/json' });
        expect(res.statusCode, `${v.name}/${name}`).toBe(want.status);
        expect(res.body, `${v.name}/${name}`).toBe(want.body);
      }
    }
  });

  it('delays the answer and then answers normally', async () => {
    app = await makeApp();
    await addFault({ vendor: 'rackcorp', delayMs: 150 });
    const t0 = Date.now();
    const res = await rc(app, 'customer.get', { id: 123 });
    expect(res.json().code).toBe('OK');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    // An operation-scoped delay too.
    await ctl(app, 'DELETE', '/_emulator/faults');
    await addFault({ operation: 'customer.get', delayMs: 100 });
    const t1 = Date.now();
    expect((await rc(app, 'customer.get', { id: 123 })).json().code).toBe('OK');
    expect(Date.now() - t1).toBeGreaterThanOrEqual(90);
  });

  it('drops the connection without an answer, seen by a real HTTP client', async () => {
    running = await startEmulator({ port: 0, logLevel: 'silent' });
    app = running.app;
    await addFault({ method: 'POST', path: '/api/rest/v2.9/json.php', drop: true, times: 1 });
    const call = () =>
      fetch(`${running!.url}/api/rest/v2.9/json.php`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ cmd: 'customer.get', id: 123, APIUUID: API_UUID, APISECRET: API_SECRET }),
      });
    await expect(call()).rejects.toThrow();
    const ok = await call();
    expect((await ok.json()).code).toBe('OK');
    // Operation-scoped drop: the handler is stopped before it writes anything.
    const before = digest(app);
    await addFault({ operation: 'customer.create', drop: true });
    await expect(
      fetch(`${running.url}/api/rest/v2.9/json.php`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ cmd: 'customer.create', ...newCustomer, APIUUID: API_UUID, APISECRET: API_SECRET }),
      }),
    ).rejects.toThrow();
    expect(digest(app)).toBe(before);
    const journal = (await ctl(app, 'GET', '/_emulator/requests')).body.requests;
    expect(journal[0]).toMatchObject({ operation: 'customer.create', dropped: true, status: null, fault: 2 });
    // The emulator is still healthy and not delayed.
    expect((await fetch(`${running.url}/_emulator/health`)).status).toBe(200);
  });

  it('skips M matches, fires on the next N, then stops', async () => {
    app = await makeApp();
    await addFault({ operation: 'customer.get', skip: 2, times: 2, status: 500, body: 'boom' });
    const codes = [];
    for (let i = 0; i < 6; i++) codes.push((await rc(app, 'customer.get', { id: 123 })).statusCode);
    expect(codes).toEqual([200, 200, 500, 500, 200, 200]);
  });

  it('fires with a seeded probability that repeats run after run', async () => {
    const run = async () => {
      const a = await makeApp();
      await a.inject({
        method: 'POST',
        url: '/_emulator/faults',
        payload: { vendor: 'rackcorp', probability: 0.5, seed: 42, status: 502, body: 'x' },
      });
      const out: number[] = [];
      for (let i = 0; i < 16; i++)
        out.push((await a.inject({ method: 'GET', url: '/api/rest/v2.9/customers/123' })).statusCode);
      await a.close();
      return out;
    };
    const first = await run();
    expect(first).toEqual(await run());
    expect(first).toContain(502);
    expect(first.some((s) => s !== 502)).toBe(true);
    app = await makeApp();
  });

  it('is scoped to the session it was added in', async () => {
    app = await makeApp();
    await addFault({ vendor: 'rackcorp', status: 503, body: 'nope' }, 'f1');
    expect((await rc(app, 'customer.get', { id: 123 }, 'f1')).statusCode).toBe(503);
    expect((await rc(app, 'customer.get', { id: 123 }, 'f2')).statusCode).toBe(200);
    expect((await rc(app, 'customer.get', { id: 123 })).statusCode).toBe(200);
    expect((await ctl(app, 'GET', '/_emulator/faults')).body.faults).toEqual([]);
    expect((await ctl(app, 'GET', '/_emulator/faults?session=f1')).body.faults).toHaveLength(1);
  });

  it('matches method + path globs on the path the client used', async () => {
    app = await makeApp();
    await addFault({ method: 'get', path: '/api/*/customers/123', status: 404, body: '' });
    expect((await app.inject({ method: 'GET', url: '/api/v1/customers/123' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/_sessions/default/api/v1/customers/123' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/api/v1/customers/124' })).statusCode).toBe(200);
  });

  it('never touches the control plane or health', async () => {
    app = await makeApp();
    await addFault({ path: '*', status: 500, body: 'x' });
    expect((await ctl(app, 'GET', '/_emulator/health')).status).toBe(200);
    expect((await ctl(app, 'GET', '/_emulator/faults')).status).toBe(200);
  });

  it('deletes one rule or all', async () => {
    app = await makeApp();
    await addFault({ vendor: 'rackcorp', status: 500, body: 'a' });
    await addFault({ vendor: 'rackcorp', status: 501, body: 'b' });
    expect((await ctl(app, 'DELETE', '/_emulator/faults/1')).body).toEqual({ removed: 1 });
    expect((await ctl(app, 'DELETE', '/_emulator/faults/1')).status).toBe(404);
    expect((await rc(app, 'customer.get', { id: 123 })).statusCode).toBe(501);
    expect((await ctl(app, 'DELETE', '/_emulator/faults')).body).toEqual({ removed: 1 });
    expect((await rc(app, 'customer.get', { id: 123 })).statusCode).toBe(200);
  });

  it('refuses bad rules with a 400 and a message', async () => {
    app = await makeApp();
    const bad = [
      {},
      { status: 500, drop: true },
      { preset: 'fault' },
      { vendor: 'rackcorp', preset: 'nope' },
      { vendor: 'x', status: 500 },
      { status: 99 },
      { delayMs: -1 },
      { probability: 2, status: 500 },
      { status: 500, unknown: 1 },
      { delayMs: 5, body: 'x' },
    ];
    for (const rule of bad) {
      const r = await addFault(rule);
      expect(r.status, JSON.stringify(rule)).toBe(400);
      expect(r.body.error).toBe('Bad Request');
      expect(r.body.message.length).toBeGreaterThan(5);
    }
    const notJson = await app.inject({
      method: 'POST',
      url: '/_emulator/faults',
      payload: '{',
      headers: { 'content-type': 'application/json' },
    });
    expect(notJson.statusCode).toBe(400);
    expect(await getAll(app)).toContain('"code":"OK"');
  });
});
