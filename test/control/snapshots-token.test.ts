import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ctl, makeApp, sessionHeader } from '../helpers.js';
import { startEmulator, ControlClient, type RunningEmulator } from '../../src/server/start.js';
import { basic, createCustomer, rc } from '../rackcorp/helpers.js';

let app: FastifyInstance;
let running: RunningEmulator | null = null;
const tmp: string[] = [];
afterEach(async () => {
  await app?.close();
  await running?.close();
  running = null;
  for (const d of tmp.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const tmpDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'emu-ctl-'));
  tmp.push(d);
  return d;
};

/** Everything a client can read about RackCorp customers, as raw answer bytes. */
async function readBack(a: FastifyInstance, session?: string): Promise<string[]> {
  const h = { ...basic(), ...sessionHeader(session) };
  const urls = ['/api/rest/v2.9/customers?limit=1000', '/api/rest/v2.9/customers/906', '/api/rest/v2.9/customers/123'];
  return Promise.all(urls.map(async (url) => (await a.inject({ method: 'GET', url, headers: h })).body));
}

describe('snapshots', () => {
  it('saves a session and restores it into any session: byte-identical answers and next ids', async () => {
    app = await makeApp();
    await createCustomer(app, 'src', 'Snapshot Co');
    const saved = await readBack(app, 'src');
    const s = await ctl(app, 'POST', '/_emulator/snapshots/built', undefined, { 'x-emulator-session': 'src' });
    expect(s.status).toBe(201);
    expect(s.body).toMatchObject({ name: 'built', session: 'src' });
    await createCustomer(app, 'src', 'Later Co');
    expect(
      (await ctl(app, 'POST', '/_emulator/snapshots/built/restore', undefined, { 'x-emulator-session': 'src' })).body,
    ).toEqual({ restored: 'built', session: 'src' });
    expect(await readBack(app, 'src')).toEqual(saved);
    expect((await ctl(app, 'POST', '/_emulator/snapshots/built/restore?session=other')).status).toBe(200);
    expect(await readBack(app, 'other')).toEqual(saved);
    expect(await createCustomer(app, 'other')).toBe(907);
    expect((await ctl(app, 'GET', '/_emulator/snapshots')).body.snapshots.map((x: any) => x.name)).toEqual(['built']);
    expect((await ctl(app, 'POST', '/_emulator/snapshots/nothing/restore')).status).toBe(404);
    expect((await ctl(app, 'POST', '/_emulator/snapshots/bad%20name')).status).toBe(400);
    expect((await ctl(app, 'DELETE', '/_emulator/snapshots/built')).body).toEqual({ deleted: 'built' });
  });

  it('exports a snapshot as fixtures that load back into byte-identical answers', async () => {
    app = await makeApp();
    await createCustomer(app, 'exp', 'Exported Co');
    await rc(app, 'customer.update', { id: 123, companyName: 'Renamed Corp' }, 'exp');
    const want = await readBack(app, 'exp');
    await ctl(app, 'POST', '/_emulator/snapshots/exp?session=exp');
    const { body } = await ctl(app, 'GET', '/_emulator/snapshots/exp/fixtures');
    expect(Object.keys(body)).toEqual(['rackcorp', 'emailsrvr', 'ispcrm', 'mgmt']);
    expect(body.rackcorp.rackcorp_customers.some((c: any) => c.companyName === 'Exported Co')).toBe(true);
    // Write it as a fixtures folder (one file per vendor table) and start a new emulator on it.
    const dir = tmpDir();
    for (const [vendor, tables] of Object.entries(body as Record<string, Record<string, unknown[]>>)) {
      fs.mkdirSync(path.join(dir, vendor), { recursive: true });
      for (const [table, rows] of Object.entries(tables))
        fs.writeFileSync(path.join(dir, vendor, `${table}.json`), JSON.stringify(rows, null, 2));
    }
    const other = await makeApp({ fixtures: dir });
    try {
      expect(await readBack(other)).toEqual(want);
      expect(await createCustomer(other)).toBe(907);
    } finally {
      await other.close();
    }
  });

  it('with --db, survive a restart', async () => {
    const dir = tmpDir();
    const db = path.join(dir, 'emu.sqlite');
    app = await makeApp({ db });
    await createCustomer(app, 'p');
    await ctl(app, 'POST', '/_emulator/snapshots/kept?session=p');
    // The default (file) state: reset and restore keep it in the file.
    await createCustomer(app);
    await ctl(app, 'POST', '/_emulator/snapshots/default-state');
    await app.close();
    app = await makeApp({ db });
    expect((await ctl(app, 'GET', '/_emulator/snapshots')).body.snapshots.map((s: any) => s.name).sort()).toEqual([
      'default-state',
      'kept',
    ]);
    expect((await rc(app, 'customer.get', { id: 906 })).json().code).toBe('OK');
    await ctl(app, 'POST', '/_emulator/reset');
    expect((await rc(app, 'customer.get', { id: 906 })).json().code).toBe('FAULT');
    expect(app.registry.defaultState.db.memory).toBe(false);
    await ctl(app, 'POST', '/_emulator/snapshots/kept/restore');
    await app.close();
    app = await makeApp({ db });
    expect((await rc(app, 'customer.get', { id: 906 })).json().code).toBe('OK');
    expect((await rc(app, 'customer.get', { id: 906 })).json().customer.companyName).toBe('Roe Widgets');
  });
});

describe('control token', () => {
  const routes: [string, string, unknown?][] = [
    ['GET', '/_emulator/sessions'],
    ['DELETE', '/_emulator/sessions/x'],
    ['POST', '/_emulator/reset'],
    ['GET', '/_emulator/snapshots'],
    ['POST', '/_emulator/snapshots/a'],
    ['POST', '/_emulator/snapshots/a/restore'],
    ['GET', '/_emulator/snapshots/a/fixtures'],
    ['DELETE', '/_emulator/snapshots/a'],
    ['GET', '/_emulator/requests'],
    ['GET', '/_emulator/requests/count'],
    ['DELETE', '/_emulator/requests'],
    ['GET', '/_emulator/faults'],
    ['POST', '/_emulator/faults', { status: 500 }],
    ['DELETE', '/_emulator/faults'],
    ['DELETE', '/_emulator/faults/1'],
    ['GET', '/_emulator/clock'],
    ['PUT', '/_emulator/clock', { advance: 1 }],
    ['GET', '/_emulator/outbox'],
    ['GET', '/_emulator/nothing'],
  ];

  it('protects every control route but health', async () => {
    app = await makeApp({ controlToken: 's3cret' });
    expect((await ctl(app, 'GET', '/_emulator/health')).status).toBe(200);
    for (const [method, url, body] of routes) {
      for (const auth of [undefined, 'Bearer wrong', 'Bearer s3cret-', 's3cret', 'Basic czNjcmV0']) {
        const r = await ctl(app, method as any, url, body, auth ? { authorization: auth } : {});
        expect(r.status, `${method} ${url} ${auth}`).toBe(401);
        expect(r.body.error).toBe('Unauthorized');
      }
      const ok = await ctl(app, method as any, url, body, { authorization: 'Bearer s3cret' });
      expect(ok.status, `${method} ${url}`).not.toBe(401);
      expect(ok.status, `${method} ${url}`).toBeLessThan(500);
    }
    // Vendor routes are not the control plane's business.
    expect((await rc(app, 'customer.get', { id: 123 })).json().code).toBe('OK');
  });
});

describe('startEmulator() control methods', () => {
  it('mirror the control routes, for the default state and per session', async () => {
    running = await startEmulator({ port: 0, logLevel: 'silent', controlToken: 'tok' });
    app = running.app;
    expect((await running.health()).status).toBe('ok');
    const job = running.session('job-1');
    expect(job.url).toBe(`${running.url}/_sessions/job-1`);
    // A vendor client pointed at the session URL.
    const res = await fetch(`${job.url}/api/rest/v2.9/customers/123`, { headers: basic() });
    expect((await res.json()).code).toBe('OK');
    expect(await job.countRequests({ operation: 'customer.get' })).toBe(1);
    expect(await running.countRequests()).toBe(0);
    expect((await job.requests())[0].session).toBe('job-1');
    await job.clearRequests();
    expect(await job.countRequests()).toBe(0);

    await job.setClock({ now: '2030-01-01T00:00:00Z' });
    expect((await job.clock()).now).toBe('2030-01-01T00:00:00.000Z');
    const rule = await job.addFault({ vendor: 'rackcorp', preset: 'fault', times: 1 });
    expect(rule.id).toBe(1);
    expect(
      (await fetch(`${job.url}/api/rest/v2.9/customers/123`, { headers: basic() }).then((r) => r.json())).code,
    ).toBe('FAULT');
    expect((await job.faults())[0].fired).toBe(1);
    await job.clearFaults();

    await createCustomer(app, 'job-1');
    await job.snapshot('one');
    await job.reset();
    expect((await rc(app, 'customer.get', { id: 906 }, 'job-1')).json().code).toBe('FAULT');
    await job.restore('one');
    expect((await rc(app, 'customer.get', { id: 906 }, 'job-1')).json().code).toBe('OK');
    expect((await running.snapshots()).snapshots).toHaveLength(1);
    expect((await running.exportFixtures('one')).rackcorp.rackcorp_customers.length).toBeGreaterThan(0);
    expect((await running.sessions()).sessions.map((s: any) => s.id)).toEqual(['job-1']);
    await running.deleteSession('job-1');
    await expect(running.restore('missing')).rejects.toMatchObject({ status: 404 });

    // The same methods over HTTP, for an emulator in another process.
    const remote = ControlClient.connect(running.url, { token: 'tok' });
    expect((await remote.session('r').setClock({ advance: 5 })).session).toBe('r');
    await expect(ControlClient.connect(running.url).sessions()).rejects.toMatchObject({ status: 401 });
  });
});
