/**
 * Shadow mode (--upstream) against a stand-in upstream: a second emulator on 127.0.0.1 whose
 * answers differ in known ways (fault rules replace them): a renamed field (UniPay), an extra
 * element (Rackspace XML), a different status (NeuCRM), and nothing at all (RackCorp). The drift
 * report must find exactly those differences and nothing else, over real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startEmulator, type RunningEmulator } from '../../src/server/start.js';
import { formatTimestamp, signatureHeader } from '../../src/routes/emailsrvr/auth.js';
import { API_SECRET, API_UUID, LOGIN } from '../rackcorp/helpers.js';
import { SANDBOX as MGMT } from '../mgmt/helpers.js';
import { SANDBOX as CRM } from '../ispcrm/helpers.js';
import { SANDBOX as ES, UA } from '../emailsrvr/helpers.js';

const BASIC = `Basic ${Buffer.from(`${API_UUID}:${API_SECRET}`).toString('base64')}`;
const signature = () => signatureHeader(ES.userKey, ES.secretKey, UA, formatTimestamp(Date.now()));
const all = (url: string) => ['rackcorp', 'emailsrvr', 'ispcrm', 'mgmt'].map((v) => `${v}=${url}`);

interface Drift {
  vendors: {
    vendor: string;
    compared: number;
    withDrift: number;
    upstreamErrors: number;
    errors: { error: string; count: number }[];
    operations: {
      operation: string;
      compared: number;
      withDrift: number;
      differences: { difference: string; count: number; firstSeen: string; example: any }[];
    }[];
  }[];
}

async function driftOf(em: RunningEmulator): Promise<Drift> {
  const r = await fetch(`${em.url}/_emulator/drift`);
  expect(r.status).toBe(200);
  return (await r.json()) as Drift;
}
const differences = (d: Drift, vendor: string, operation: string) =>
  d.vendors
    .find((v) => v.vendor === vendor)!
    .operations.find((o) => o.operation === operation)
    ?.differences.map((x) => x.difference)
    .sort();

describe('shadow mode against a stand-in upstream with known differences', () => {
  let standIn: RunningEmulator;
  let shadow: RunningEmulator;

  beforeAll(async () => {
    standIn = await startEmulator({ port: 0, logLevel: 'silent' });
    // The stand-in's known differences, made from its own answers.
    const load = (await (
      await fetch(`${standIn.url}/api/v01/customers/1`, {
        headers: { authorization: MGMT, accept: 'application/json' },
      })
    ).json()) as Record<string, unknown>;
    const { firstName, ...rest } = load;
    expect(firstName).toBe('James');
    await standIn.addFault({
      vendor: 'mgmt',
      operation: 'load',
      status: 200,
      body: { ...rest, givenName: firstName },
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    const show = await (
      await fetch(`${standIn.url}/v0/customers/460182`, {
        headers: { 'user-agent': UA, 'x-api-signature': signature(), accept: 'text/xml' },
      })
    ).text();
    expect(show).toContain('</customer>');
    await standIn.addFault({
      vendor: 'emailsrvr',
      operation: 'customers.show',
      status: 200,
      body: show.replace('</customer>', '<status>active</status></customer>'),
      headers: { 'content-type': 'text/xml; charset=utf-8' },
    });
    const list = await (
      await fetch(`${standIn.url}/api/customer/list`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(CRM).toString(),
      })
    ).json();
    await standIn.addFault({ vendor: 'ispcrm', operation: 'customer.list', status: 202, body: list });
    shadow = await startEmulator({ port: 0, logLevel: 'silent', upstream: all(standIn.url) });
  });
  afterAll(async () => {
    await shadow?.close();
    await standIn?.close();
  });

  it("answers with the upstream's reply and reports exactly the known differences", async () => {
    const load = await fetch(`${shadow.url}/api/v01/customers/1`, {
      headers: { authorization: MGMT, accept: 'application/json' },
    });
    expect(load.status).toBe(200);
    const loaded = await load.json();
    expect(loaded.givenName).toBe('James'); // the upstream's answer, not the emulator's
    expect(loaded.firstName).toBeUndefined();

    const show = await fetch(`${shadow.url}/v0/customers/460182`, {
      headers: { 'user-agent': UA, 'x-api-signature': signature(), accept: 'text/xml' },
    });
    expect(show.status).toBe(200);
    expect(await show.text()).toContain('<status>active</status>');

    const list = await fetch(`${shadow.url}/api/customer/list`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(CRM).toString(),
    });
    expect(list.status).toBe(202);

    for (let i = 0; i < 2; i++) {
      const get = await fetch(`${shadow.url}/api/rest/v2.9/customers/123`, { headers: { authorization: BASIC } });
      expect((await get.json()).code).toBe('OK');
    }
    // A create changes both sides alike (the scratch session is seeded like the stand-in).
    const created = await fetch(`${shadow.url}/api/v01/customers`, {
      method: 'PUT',
      headers: { authorization: MGMT, accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify({ accountId: 2001, firstName: 'Ada', email: 'ada@example.org' }),
    });
    expect(created.status).toBe(200);

    const d = await driftOf(shadow);
    expect(differences(d, 'mgmt', 'load')).toEqual([
      'field $.firstName: only emulator (string)',
      'field $.givenName: only upstream (string)',
    ]);
    expect(differences(d, 'emailsrvr', 'customers.show')).toEqual(['field customer.status: only upstream (text)']);
    expect(differences(d, 'ispcrm', 'customer.list')).toEqual(['status: upstream 202, emulator 200']);
    expect(differences(d, 'rackcorp', 'customer.get')).toEqual([]);
    expect(differences(d, 'mgmt', 'create')).toEqual([]);
    const byVendor = Object.fromEntries(d.vendors.map((v) => [v.vendor, [v.compared, v.withDrift, v.upstreamErrors]]));
    expect(byVendor).toEqual({ rackcorp: [2, 0, 0], emailsrvr: [1, 1, 0], ispcrm: [1, 1, 0], mgmt: [2, 1, 0] });
    const example = d.vendors.find((v) => v.vendor === 'mgmt')!.operations.find((o) => o.operation === 'load')!
      .differences[0];
    expect(example.count).toBe(1);
    expect(Date.parse(example.firstSeen)).toBeGreaterThan(0);
    expect(JSON.parse(example.example.upstream.body).givenName).toBe('James');
    expect(JSON.parse(example.example.emulator.body).firstName).toBe('James');

    // The journal entry carries the comparison; the operation is named by the emulator's leg.
    const entries = await shadow.requests({ vendor: 'mgmt', operation: 'load' });
    expect(entries).toHaveLength(1);
    expect(entries[0].drift.differences).toEqual([
      'field $.givenName: only upstream (string)',
      'field $.firstName: only emulator (string)',
    ]);
    expect(entries[0].status).toBe(200);

    const md = await (await fetch(`${shadow.url}/_emulator/drift?format=markdown`)).text();
    expect(md).toContain('| mgmt | ' + standIn.url + '/ | 2 | 1 | 0 |');
    expect(md).toContain('| field $.givenName: only upstream (string) | 1 |');
    expect(md).toContain('No drift in the answers compared.');

    // The real exchanges, as a folder of cases.
    const exported = (await (await fetch(`${shadow.url}/_emulator/drift/export`)).json()) as {
      cases: { file: string; vendor: string; operation: string; response: { status: number; body: string } }[];
    };
    expect(exported.cases.map((c) => c.file)).toEqual([
      'mgmt/0001-load.json',
      'emailsrvr/0002-customers.show.json',
      'ispcrm/0003-customer.list.json',
      'rackcorp/0004-customer.get.json',
      'rackcorp/0005-customer.get.json',
      'mgmt/0006-create.json',
    ]);
    expect(exported.cases[2].response.status).toBe(202);
    expect(JSON.parse(exported.cases[0].response.body).givenName).toBe('James');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drift-cases-'));
    try {
      await shadow.exportDrift(dir);
      expect(fs.readdirSync(dir).sort()).toEqual(['emailsrvr', 'ispcrm', 'mgmt', 'rackcorp']);
      const c = JSON.parse(fs.readFileSync(path.join(dir, 'mgmt', '0001-load.json'), 'utf8'));
      expect(c.request).toMatchObject({
        method: 'GET',
        url: '/api/v01/customers/1',
        headers: { authorization: '[redacted]', accept: 'application/json' },
      });
      expect(c.redacted).toEqual(['header:authorization']);
      expect(await shadow.drift({ format: 'markdown' })).toBe(md);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never writes credentials to the journal, the drift report or the export, and says what it redacted', async () => {
    const token = (
      await (
        await fetch(`${shadow.url}/api/rest/v2.9/json.php`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ cmd: 'session.login', ...LOGIN, jwt: 1 }),
        })
      ).json()
    ).token as string;
    expect(token).toMatch(/^ey/);
    await fetch(
      `${shadow.url}/api/rest/v2.9/json.php?APIUUID=${API_UUID}&APISECRET=${API_SECRET}&cmd=customer.get&id=123`,
      { headers: { cookie: `JWTSESSIONID=${token}` } },
    );
    await fetch(`${shadow.url}/api/rest/v2.9/json.php`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ cmd: 'customer.get', id: 123, APIUUID: API_UUID, APISECRET: API_SECRET }),
    });
    await fetch(`${shadow.url}/api/rest/v2.9/customers/123`, { headers: { authorization: `Bearer ${token}` } });
    await fetch(`${shadow.url}/api/customer/list`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(CRM).toString(),
    });
    const sig = signature();
    await fetch(`${shadow.url}/v0/customers/460182`, {
      headers: { 'user-agent': UA, 'x-api-signature': sig, accept: 'application/json' },
    });
    const secrets = [
      API_SECRET,
      BASIC.slice(6),
      token,
      CRM.api_key,
      sig.split(':')[2],
      'rackcorp-sandbox-password',
      'mgmt-sandbox-password',
      MGMT.slice(6),
    ];

    const journal = await (await fetch(`${shadow.url}/_emulator/requests?session=*`)).text();
    const report = await (await fetch(`${shadow.url}/_emulator/drift`)).text();
    const md = await (await fetch(`${shadow.url}/_emulator/drift?format=markdown`)).text();
    const exported = await (await fetch(`${shadow.url}/_emulator/drift/export`)).text();
    // The emulator's own leg ran in a scratch session: its journal is redacted too.
    const scratch = await (await fetch(`${shadow.url}/_emulator/requests?session=drift-rackcorp`)).json();
    expect(scratch.count).toBeGreaterThan(0);
    for (const secret of secrets) {
      for (const [name, text] of [
        ['journal', journal],
        ['drift', report],
        ['markdown', md],
        ['export', exported],
      ] as const) {
        expect(text.includes(secret), `${name} holds ${secret}`).toBe(false);
      }
    }
    const entries = (JSON.parse(journal) as { requests: any[] }).requests.filter((e) => e.session === null);
    const byUrl = (part: string) => entries.find((e) => e.url.includes(part) && e.method === 'GET')!;
    expect(byUrl('APISECRET').redacted).toEqual(expect.arrayContaining(['query:APISECRET', 'header:cookie']));
    expect(byUrl('APISECRET').url).toContain('APISECRET=%5Bredacted%5D');
    expect(byUrl('APISECRET').headers.cookie).toBe('[redacted]');
    const login = entries.find((e) => e.operation === 'session.login')!;
    expect(login.redacted).toEqual(
      expect.arrayContaining(['body:password', 'response-body:token', 'response-header:set-cookie']),
    );
    expect(JSON.parse(login.body).username).toBe(LOGIN.username); // what is not a credential stays
    const post = entries.find((e) => e.method === 'POST' && e.operation === 'customer.get')!;
    expect(post.redacted).toEqual(expect.arrayContaining(['body:APISECRET']));
    expect(JSON.parse(post.body)).toMatchObject({
      cmd: 'customer.get',
      id: 123,
      APIUUID: API_UUID,
      APISECRET: '[redacted]',
    });
    expect(entries.find((e) => e.vendor === 'ispcrm' && e.redacted?.includes('body:api_key'))).toBeDefined();
    expect(
      entries.find((e) => e.vendor === 'emailsrvr' && e.redacted?.includes('header:x-api-signature')),
    ).toBeDefined();
    expect(entries.find((e) => e.vendor === 'mgmt')!.redacted).toContain('header:authorization');
    // The client still got the real token (credentials pass through, they are only not kept).
    const again = await (
      await fetch(`${shadow.url}/api/rest/v2.9/customers/123`, { headers: { authorization: `Bearer ${token}` } })
    ).json();
    expect(again.code).toBe('OK');
  });
});

async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('an upstream that fails', () => {
  it("is reported as an upstream error or timeout, and the client gets the emulator's own answer", async () => {
    const slow = await startEmulator({ port: 0, logLevel: 'silent' });
    await slow.addFault({ vendor: 'mgmt', delayMs: 3000 });
    const port = await closedPort();
    const em = await startEmulator({
      port: 0,
      logLevel: 'silent',
      upstreamTimeout: 300,
      upstream: [`rackcorp=http://127.0.0.1:${port}`, `mgmt=${slow.url}`],
    });
    try {
      const r = await fetch(`${em.url}/api/rest/v2.9/customers/123`, { headers: { authorization: BASIC } });
      expect(r.status).toBe(200);
      expect((await r.json()).code).toBe('OK');
      expect(r.headers.get('x-emulator-upstream-error')).toBe('upstream error: ECONNREFUSED');
      const t0 = Date.now();
      const m = await fetch(`${em.url}/api/v01/customers/1`, {
        headers: { authorization: MGMT, accept: 'application/json' },
      });
      expect(Date.now() - t0).toBeLessThan(2500);
      expect(m.status).toBe(200);
      expect((await m.json()).firstName).toBe('James');
      expect(m.headers.get('x-emulator-upstream-error')).toBe('upstream timeout after 300 ms');
      const d = await driftOf(em);
      const rc = d.vendors.find((v) => v.vendor === 'rackcorp')!;
      expect([rc.compared, rc.upstreamErrors]).toEqual([0, 1]);
      expect(rc.errors).toEqual([expect.objectContaining({ error: 'upstream error: ECONNREFUSED', count: 1 })]);
      expect(d.vendors.find((v) => v.vendor === 'mgmt')!.errors[0].error).toBe('upstream timeout after 300 ms');
      const [entry] = await em.requests({ vendor: 'rackcorp' });
      expect(entry.drift).toEqual({ upstreamError: 'upstream error: ECONNREFUSED' });
      expect(entry.operation).toBe('customer.get');
    } finally {
      await em.close();
      await slow.close();
    }
  });

  it('refuses an --upstream that names no vendor or no http URL', async () => {
    await expect(startEmulator({ port: 0, logLevel: 'silent', upstream: ['nope=http://127.0.0.1:1'] })).rejects.toThrow(
      /--upstream nope=.*vendor among rackcorp, emailsrvr, ispcrm, mgmt/,
    );
    await expect(startEmulator({ port: 0, logLevel: 'silent', upstream: ['mgmt=ftp://127.0.0.1/'] })).rejects.toThrow(
      /only http and https/,
    );
  });
});
