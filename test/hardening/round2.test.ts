/**
 * Hardening, second round (issue #20): each defect found by probing the emulator as an attacker
 * would, with the test that would have caught it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { makeApp } from '../helpers.js';
import { globMatch } from '../../src/server/control/faults.js';
import { API_SECRET, API_UUID, createCustomer, JSON_PHP, newCustomer } from '../rackcorp/helpers.js';
import { signed } from '../emailsrvr/helpers.js';
import { SANDBOX as ISPCRM } from '../ispcrm/helpers.js';

const RC_BASIC = `Basic ${Buffer.from(`${API_UUID}:${API_SECRET}`).toString('base64')}`;

describe('fault-rule path globs match in linear time', () => {
  it('matches the documented syntax: * crosses /, everything else is literal', () => {
    expect(globMatch('/api/*/customers/123', '/api/rest/v2.9/customers/123')).toBe(true);
    expect(globMatch('*', '')).toBe(true);
    expect(globMatch('/v1/customers', '/v1/customers/1')).toBe(false);
    expect(globMatch('/v1/*', '/v1/customers/1')).toBe(true);
    expect(globMatch('/a.c', '/abc')).toBe(false);
    expect(globMatch('/a?c[x]', '/a?c[x]')).toBe(true);
    expect(globMatch('*a*b', 'xaxxb')).toBe(true);
    expect(globMatch('*a*b', 'xaxxbc')).toBe(false);
  });

  it('answers adversarial patterns against a 10,000-character path without backtracking', () => {
    const path = '/v0/customers/' + 'a'.repeat(10_000);
    const t0 = performance.now();
    expect(globMatch('/v0/*a*a*a*a*a*a*a*b', path)).toBe(false);
    expect(globMatch('*a'.repeat(30) + '*b', path)).toBe(false);
    expect(globMatch('*a'.repeat(30) + '*', path)).toBe(true);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('a Rackspace request under such a rule answers promptly', async () => {
    const app = await makeApp();
    try {
      const add = await app.inject({
        method: 'POST',
        url: '/_emulator/faults',
        payload: { path: '/v0/*a*a*a*a*a*a*a*b', status: 500, body: 'x' },
      });
      expect(add.statusCode).toBe(201);
      const t0 = performance.now();
      const res = await app.inject({
        method: 'GET',
        url: `/v1/customers/${'a'.repeat(74)}`,
        headers: signed(app, undefined, { accept: 'application/json' }),
      });
      expect(res.statusCode).toBeLessThan(500);
      const long = await app.inject({
        method: 'GET',
        url: `/v0/customers/${'a'.repeat(3000)}`,
        headers: signed(app, undefined, { accept: 'application/json' }),
      });
      expect(long.statusCode).not.toBe(500);
      expect(performance.now() - t0).toBeLessThan(2000);
    } finally {
      await app.close();
    }
  });
});

describe("clock input outside Date's range", () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it.each([
    [{ now: 1e30 }],
    [{ now: -8640000000001 }],
    [{ now: '8640000000000001' }],
    [{ advance: 1e300 }],
    [{ advance: -1e300 }],
  ])('%j is refused with 400 and changes nothing', async (body) => {
    const headers = { 'x-emulator-session': 'clock-range' };
    await app.inject({ method: 'PUT', url: '/_emulator/clock', headers, payload: { now: '2030-01-01T00:00:00Z' } });
    const res = await app.inject({ method: 'PUT', url: '/_emulator/clock', headers, payload: body });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({
      error: 'Bad Request',
      message: expect.stringMatching(/range of a JavaScript Date/),
    });
    const clock = await app.inject({ method: 'GET', url: '/_emulator/clock', headers });
    expect(clock.json()).toMatchObject({ now: '2030-01-01T00:00:00.000Z', frozen: true });
    // Everyone's view still works, and the session's writes too.
    expect((await app.inject({ method: 'GET', url: '/_emulator/sessions' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/_emulator/requests?session=*' })).statusCode).toBe(200);
    expect(await createCustomer(app, 'clock-range')).toBeGreaterThan(0);
  });

  it('the edges of the range are accepted', async () => {
    const headers = { 'x-emulator-session': 'clock-edge' };
    const res = await app.inject({ method: 'PUT', url: '/_emulator/clock', headers, payload: { now: -8640000000000 } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().now).toBe('-271821-04-20T00:00:00.000Z');
  });
});

describe('--db file permissions', () => {
  it('the database, its WAL and its SHM are created readable by their owner only', async () => {
    const { mkdtempSync, statSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dir = mkdtempSync(path.join(tmpdir(), 'emu-mode-'));
    const file = path.join(dir, 'store.db');
    const app = await makeApp({ db: file });
    try {
      expect(await createCustomer(app)).toBeGreaterThan(0);
      for (const f of [file, `${file}-wal`, `${file}-shm`])
        expect((statSync(f).mode & 0o777).toString(8), f).toBe('600');
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a NUL in a search text is literal', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });
  const MGMT = `Basic ${Buffer.from('api-sandbox:mgmt-sandbox-password').toString('base64')}`;

  const rcKeyword = async (keyword: string) => {
    const res = await app.inject({
      method: 'POST',
      url: JSON_PHP,
      payload: { cmd: 'customer.getall', APIUUID: API_UUID, APISECRET: API_SECRET, keyword },
    });
    expect(res.json().code, res.body).toBe('OK');
    return res.json().customers.map((c: { companyName: string }) => c.companyName) as string[];
  };

  it('RackCorp keyword "\\0" matches no customer, and "l\\0C" only the one holding it', async () => {
    expect(await rcKeyword('\u0000')).toEqual([]);
    expect(await rcKeyword('Example\u0000')).toEqual([]);
    await createCustomer(app, undefined, 'Nul\u0000Co');
    expect(await rcKeyword('\u0000')).toEqual(['Nul\u0000Co']);
    expect(await rcKeyword('L\u0000c')).toEqual(['Nul\u0000Co']);
    expect(await rcKeyword('nul\u0000co')).toEqual(['Nul\u0000Co']);
  });

  it.each(['firstName', 'lastName', 'organizationName', 'street', 'city'])(
    'UniPay %s containing "\\0" matches no customer',
    async (field) => {
      const all = await app.inject({
        method: 'GET',
        url: `/api/v01/customers?limit=1000`,
        headers: { authorization: MGMT, accept: 'application/json' },
      });
      expect(all.statusCode).toBe(200);
      const res = await app.inject({
        method: 'GET',
        url: `/api/v01/customers?${field}=%00`,
        headers: { authorization: MGMT, accept: 'application/json' },
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(all.json().length).toBeGreaterThan(0);
      expect(res.json()).toEqual([]);
    },
  );
});

describe('caps on what the control plane stores', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp({ maxFaultRules: 3, maxFaultBytes: 4096, maxSnapshots: 2 });
  });
  afterAll(async () => {
    await app.close();
  });
  const ctl = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object, session = 'caps') =>
    app.inject({ method, url, payload, headers: { 'x-emulator-session': session } });

  it('a fault rule past --max-fault-rules is refused with 409 naming the limit, changing nothing', async () => {
    for (let i = 0; i < 3; i++)
      expect((await ctl('POST', '/_emulator/faults', { path: `/x/${i}`, status: 500 })).statusCode).toBe(201);
    const res = await ctl('POST', '/_emulator/faults', { path: '/x/3', status: 500 });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ error: 'Conflict', message: expect.stringContaining('--max-fault-rules 3') });
    expect((await ctl('GET', '/_emulator/faults')).json().faults).toHaveLength(3);
    // Another session has its own allowance.
    expect((await ctl('POST', '/_emulator/faults', { path: '/x/3', status: 500 }, 'caps-2')).statusCode).toBe(201);
  });

  it('fault rules past --max-fault-bytes are refused with 413 naming the limit; deleting one makes room', async () => {
    const big = { path: '/big', status: 500, body: 'x'.repeat(3000) };
    expect((await ctl('POST', '/_emulator/faults', big, 'caps-3')).statusCode).toBe(201);
    const res = await ctl('POST', '/_emulator/faults', big, 'caps-3');
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({
      error: 'Payload Too Large',
      message: expect.stringContaining('--max-fault-bytes'),
    });
    const [rule] = (await ctl('GET', '/_emulator/faults', undefined, 'caps-3')).json().faults;
    expect((await ctl('DELETE', `/_emulator/faults/${rule.id}`, undefined, 'caps-3')).statusCode).toBe(200);
    expect((await ctl('POST', '/_emulator/faults', big, 'caps-3')).statusCode).toBe(201);
  });

  it('a snapshot past --max-snapshots is refused with 409; saving over a name still works', async () => {
    expect((await ctl('POST', '/_emulator/snapshots/one')).statusCode).toBe(201);
    expect((await ctl('POST', '/_emulator/snapshots/two')).statusCode).toBe(201);
    const res = await ctl('POST', '/_emulator/snapshots/three');
    expect(res.statusCode).toBe(409);
    expect(res.json().message).toContain('--max-snapshots 2');
    expect((await ctl('POST', '/_emulator/snapshots/two')).statusCode).toBe(201);
    expect((await ctl('GET', '/_emulator/snapshots')).json().snapshots.map((s: { name: string }) => s.name)).toEqual([
      'one',
      'two',
    ]);
  });

  it('a snapshot past --max-snapshot-bytes is refused with 413', async () => {
    const small = await makeApp({ maxSnapshotBytes: 1024 });
    try {
      const res = await small.inject({ method: 'POST', url: '/_emulator/snapshots/s' });
      expect(res.statusCode).toBe(413);
      expect(res.json().message).toContain('--max-snapshot-bytes');
      expect((await small.inject({ method: 'GET', url: '/_emulator/snapshots' })).json().snapshots).toEqual([]);
    } finally {
      await small.close();
    }
  });
});

describe('journal byte bounds drop the oldest entries first', () => {
  const send = (app: FastifyInstance, session: string, n: number) =>
    app.inject({
      method: 'POST',
      url: JSON_PHP,
      headers: { 'x-emulator-session': session, 'content-type': 'application/json' },
      payload: JSON.stringify({ cmd: 'customer.get', customerId: n, junk: 'x'.repeat(4000) }),
    });
  const seqs = async (app: FastifyInstance, session: string) =>
    (
      (await app.inject({ method: 'GET', url: `/_emulator/requests?session=${session}` })).json().requests as {
        seq: number;
      }[]
    ).map((e) => e.seq);

  it('per state (--journal-state-bytes)', async () => {
    const app = await makeApp({ journalBodyBytes: 1024, journalStateBytes: 16 * 1024 });
    try {
      for (let i = 1; i <= 30; i++) await send(app, 'a', i);
      const kept = await seqs(app, 'a');
      expect(kept.length).toBeGreaterThan(2);
      expect(kept.length).toBeLessThan(30);
      // Newest first, contiguous up to the last one sent.
      expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => 30 - i));
      const sessions = (await app.inject({ method: 'GET', url: '/_emulator/sessions' })).json();
      expect(sessions.sessions[0].journalBytes).toBeLessThanOrEqual(16 * 1024);
    } finally {
      await app.close();
    }
  });

  it('for the process (--journal-total-bytes), across sessions', async () => {
    const app = await makeApp({ journalBodyBytes: 1024, journalTotalBytes: 24 * 1024 });
    try {
      for (let i = 1; i <= 10; i++) await send(app, 'old', i);
      expect((await seqs(app, 'old')).length).toBeGreaterThan(2);
      for (let i = 1; i <= 30; i++) await send(app, 'new', i);
      expect(await seqs(app, 'old')).toEqual([]);
      expect((await seqs(app, 'new'))[0]).toBe(30);
      expect((await app.inject({ method: 'GET', url: '/_emulator/sessions' })).json().journalBytes).toBeLessThanOrEqual(
        24 * 1024,
      );
      // A dropped session gives its share back.
      await app.inject({ method: 'DELETE', url: '/_emulator/sessions/new' });
      expect((await app.inject({ method: 'GET', url: '/_emulator/sessions' })).json().journalBytes).toBe(0);
    } finally {
      await app.close();
    }
  });
});

describe('only a vendor operation or an authorised control call creates a session', () => {
  const TOKEN = 'ctl-token';
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp({ controlToken: TOKEN, maxSessions: 3 });
  });
  afterAll(async () => {
    await app.close();
  });
  const auth = { authorization: `Bearer ${TOKEN}` };
  const sessionIds = async () =>
    (
      (await app.inject({ method: 'GET', url: '/_emulator/sessions', headers: auth })).json().sessions as {
        id: string;
      }[]
    )
      .map((s) => s.id)
      .sort();

  it.each([
    ['health', 'GET', '/_emulator/health', 200],
    ['a control call refused with 401', 'GET', '/_emulator/faults', 401],
    ['a control call refused with 401 (POST)', 'POST', '/_emulator/reset', 401],
    ['an unknown path', 'GET', '/nothing/here', 404],
    ['an unknown control path', 'GET', '/_emulator/nothing', 401],
    ['the dashboard', 'GET', '/_emulator/ui', 200],
    ['a dashboard asset', 'GET', '/_emulator/ui/app.js', 200],
  ])('%s does not', async (_what, method, url, status) => {
    for (const via of ['header', 'path'] as const) {
      const id = `probe-${via}-${Math.random().toString(36).slice(2)}`;
      const res =
        via === 'header'
          ? await app.inject({ method: method as 'GET', url, headers: { 'x-emulator-session': id } })
          : await app.inject({ method: method as 'GET', url: `/_sessions/${id}${url}` });
      expect(res.statusCode, url).toBe(status);
      expect(await sessionIds()).not.toContain(id);
    }
  });

  it('an unknown path below a vendor does not; a vendor operation and an authorised control call do', async () => {
    await app.inject({ method: 'GET', url: '/api/v01/nothing', headers: { 'x-emulator-session': 'vendor-404' } });
    expect(await sessionIds()).not.toContain('vendor-404');
    await app.inject({
      method: 'POST',
      url: JSON_PHP,
      headers: { 'x-emulator-session': 'vendor-op' },
      payload: { cmd: 'customer.getall' },
    });
    expect(await sessionIds()).toContain('vendor-op');
    expect(
      (await app.inject({ method: 'GET', url: '/_emulator/faults?session=control-op', headers: auth })).statusCode,
    ).toBe(200);
    expect(await sessionIds()).toContain('control-op');
    for (const id of ['vendor-op', 'control-op'])
      await app.inject({ method: 'DELETE', url: `/_emulator/sessions/${id}`, headers: auth });
  });

  it("health probes with new ids cannot evict a job's session, its fault rules or its frozen clock", async () => {
    const job = { ...auth, 'x-emulator-session': 'job' };
    expect(
      (
        await app.inject({
          method: 'PUT',
          url: '/_emulator/clock',
          headers: job,
          payload: { now: '2031-01-01T00:00:00Z' },
        })
      ).statusCode,
    ).toBe(200);
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/_emulator/faults',
          headers: job,
          payload: { path: '/nowhere', status: 500 },
        })
      ).statusCode,
    ).toBe(201);
    for (let i = 0; i < 20; i++) {
      await app.inject({ method: 'GET', url: '/_emulator/health', headers: { 'x-emulator-session': `flood-${i}` } });
      await app.inject({
        method: 'GET',
        url: '/_emulator/requests',
        headers: { 'x-emulator-session': `flood-401-${i}` },
      });
    }
    expect(await sessionIds()).toEqual(['job']);
    expect((await app.inject({ method: 'GET', url: '/_emulator/clock', headers: job })).json()).toMatchObject({
      now: '2031-01-01T00:00:00.000Z',
      frozen: true,
    });
    expect((await app.inject({ method: 'GET', url: '/_emulator/faults', headers: job })).json().faults).toHaveLength(1);
  });
});

describe('requests in flight per client are capped (--max-in-flight-per-client)', () => {
  it("bodies that never finish hold at most the cap; the surplus is refused in the vendor's format", async () => {
    const { startEmulator } = await import('../../src/server/start.js');
    const net = await import('node:net');
    const emu = await startEmulator({ port: 0, logLevel: 'silent', maxInFlightPerClient: 2, maxSessions: 3 });
    const hung: import('node:net').Socket[] = [];
    try {
      const { port } = emu;
      for (const id of ['pin-1', 'pin-2']) {
        const sock = net.connect(port, '127.0.0.1');
        await new Promise((r) => sock.once('connect', r));
        sock.write(
          `POST /api/rest/v2.9/json.php HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\nX-Emulator-Session: ${id}\r\n\r\n{"a":`,
        );
        hung.push(sock);
      }
      await new Promise((r) => setTimeout(r, 200));
      const sessions = (await (await fetch(`${emu.url}/_emulator/sessions`)).json()) as {
        sessions: { id: string; inFlight: number }[];
      };
      expect(sessions.sessions.map((s) => [s.id, s.inFlight]).sort()).toEqual([
        ['pin-1', 1],
        ['pin-2', 1],
      ]);

      const mgmt = await fetch(`${emu.url}/api/v01/customers`, {
        headers: {
          authorization: `Basic ${Buffer.from('api-sandbox:mgmt-sandbox-password').toString('base64')}`,
          accept: 'application/json',
          'x-emulator-session': 'pin-3',
        },
      });
      expect(mgmt.status).toBe(503);
      expect(await mgmt.json()).toMatchObject({
        response: { code: 'E503', status: 503, message: expect.stringContaining('--max-in-flight-per-client') },
      });
      // A refused request makes no session (it would evict another one).
      const now = (await (await fetch(`${emu.url}/_emulator/sessions`)).json()) as { sessions: { id: string }[] };
      expect(now.sessions.map((x) => x.id).sort()).toEqual(['pin-1', 'pin-2']);
      const rc = await fetch(`${emu.url}${JSON_PHP}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ cmd: 'customer.getall', APIUUID: API_UUID, APISECRET: API_SECRET }),
      });
      expect(await rc.json()).toMatchObject({ code: 'FAULT', fault: { faultcode: 'Server' } });
      const ispcrm = await fetch(`${emu.url}/api/customer/list`, { method: 'POST' });
      expect(await ispcrm.json()).toMatchObject({ result: null });
      const rs = await fetch(`${emu.url}/v1/customers`, { headers: { accept: 'application/json' } });
      expect(rs.status).toBe(403);
      expect(await rs.json()).toMatchObject({
        unauthorizedFault: { code: 403, message: expect.stringContaining('--max-in-flight-per-client') },
      });
      // The control plane (health included) still answers; the refused request did not make a session.
      expect((await fetch(`${emu.url}/_emulator/health`)).status).toBe(200);

      for (const s of hung) s.destroy();
      await new Promise((r) => setTimeout(r, 200));
      // A client gone before its answer frees its slot and its session, and the journal keeps what it sent (no status).
      const freed = (await (await fetch(`${emu.url}/_emulator/sessions`)).json()) as {
        sessions: { id: string; inFlight: number }[];
      };
      expect(freed.sessions.map((s) => [s.id, s.inFlight]).sort()).toEqual([
        ['pin-1', 0],
        ['pin-2', 0],
      ]);
      const journal = (await (await fetch(`${emu.url}/_emulator/requests?session=pin-1`)).json()) as {
        requests: unknown[];
      };
      expect(journal.requests).toEqual([
        expect.objectContaining({
          vendor: 'rackcorp',
          method: 'POST',
          path: '/api/rest/v2.9/json.php',
          body: '{"a":',
          status: null,
        }),
      ]);
      const again = await fetch(`${emu.url}${JSON_PHP}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ cmd: 'customer.getall', APIUUID: API_UUID, APISECRET: API_SECRET }),
      });
      expect(await again.json()).toMatchObject({ code: 'OK' });
    } finally {
      for (const s of hung) s.destroy();
      await emu.close();
    }
  });
});

describe('a web page cannot drive the control plane or read the journal', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp({ allowedHosts: 'emulator, ci.internal', allowedOrigins: 'http://localhost:3000' });
  });
  afterAll(async () => {
    await app.close();
  });
  const EVIL = 'http://evil.example';

  it.each([
    ['POST', '/_emulator/reset'],
    ['POST', '/_emulator/snapshots/page'],
    ['PUT', '/_emulator/clock'],
    ['POST', '/_emulator/faults'],
    ['GET', '/_emulator/requests'],
    ['GET', '/_emulator/ui'],
    ['GET', '/_emulator/health'],
  ])('%s %s from a foreign Origin is refused with 403, changing nothing', async (method, url) => {
    const res = await app.inject({
      method: method as 'POST',
      url,
      headers: { origin: EVIL, 'content-type': 'text/plain' },
      payload: method === 'GET' ? undefined : '{"now": 0}',
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ error: 'Forbidden', message: expect.stringContaining('--allowed-origins') });
    expect((await app.inject({ method: 'GET', url: '/_emulator/snapshots' })).json().snapshots).toEqual([]);
    expect((await app.inject({ method: 'GET', url: '/_emulator/clock' })).json().frozen).toBe(false);
  });

  it('a reset from a foreign page leaves the data alone', async () => {
    await createCustomer(app, undefined, 'Kept Co');
    expect(
      (await app.inject({ method: 'POST', url: '/_emulator/reset', headers: { origin: 'null' } })).statusCode,
    ).toBe(403);
    const list = await app.inject({
      method: 'POST',
      url: JSON_PHP,
      payload: { cmd: 'customer.getall', APIUUID: API_UUID, APISECRET: API_SECRET, keyword: 'Kept Co' },
    });
    expect(list.json().customers).toHaveLength(1);
  });

  it.each(['evil.example', 'evil.example:8080', 'localhost.evil.example', 'emulator.evil.example'])(
    'Host %s (DNS rebinding) cannot read the journal',
    async (host) => {
      for (const url of ['/_emulator/requests', '/_emulator/ui', '/_emulator/sessions', '/_emulator/vendors']) {
        const res = await app.inject({ method: 'GET', url, headers: { host } });
        expect(res.statusCode, url).toBe(403);
        expect(res.json().message).toContain('--allowed-hosts');
      }
      // Health holds nothing secret: a readiness loop may use a service name.
      expect((await app.inject({ method: 'GET', url: '/_emulator/health', headers: { host } })).statusCode).toBe(200);
      // Its own pages' Origin does not help.
      expect(
        (await app.inject({ method: 'GET', url: '/_emulator/requests', headers: { host, origin: `http://${host}` } }))
          .statusCode,
      ).toBe(403);
    },
  );

  it.each([
    'localhost',
    'localhost:8080',
    'app.localhost:1',
    '127.0.0.1:8080',
    '[::1]:8080',
    '10.1.2.3',
    'emulator:8080',
    'CI.internal',
  ])('Host %s is answered', async (host) => {
    expect((await app.inject({ method: 'GET', url: '/_emulator/requests', headers: { host } })).statusCode).toBe(200);
    // The dashboard's own calls (same origin) and the allowed origins are too.
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/_emulator/faults',
          headers: { host, origin: `http://${host}` },
          payload: { path: '/x', status: 500 },
        })
      ).statusCode,
    ).toBe(201);
    expect(
      (
        await app.inject({
          method: 'DELETE',
          url: '/_emulator/faults',
          headers: { host, origin: 'http://localhost:3000' },
        })
      ).statusCode,
    ).toBe(200);
  });

  it('with --control-token, the token is answered whatever the Host, but a foreign Origin still is not', async () => {
    const t = await makeApp({ controlToken: 'tok' });
    try {
      const auth = { authorization: 'Bearer tok' };
      expect(
        (await t.inject({ method: 'GET', url: '/_emulator/requests', headers: { host: 'emulator:8080', ...auth } }))
          .statusCode,
      ).toBe(200);
      expect(
        (
          await t.inject({
            method: 'POST',
            url: '/_emulator/faults',
            headers: { host: 'emulator:8080', origin: 'http://emulator:8080', ...auth },
            payload: { path: '/x', status: 500 },
          })
        ).statusCode,
      ).toBe(201);
      expect(
        (await t.inject({ method: 'GET', url: '/_emulator/requests', headers: { host: 'emulator:8080' } })).statusCode,
      ).toBe(403);
      expect(
        (await t.inject({ method: 'POST', url: '/_emulator/reset', headers: { origin: EVIL, ...auth } })).statusCode,
      ).toBe(403);
    } finally {
      await t.close();
    }
  });

  it("vendor routes accept any Host, but refuse a browser write from a foreign Origin in the vendor's format", async () => {
    const create = (headers: Record<string, string>) =>
      app.inject({
        method: 'POST',
        url: JSON_PHP,
        headers: { 'content-type': 'text/plain', ...headers },
        payload: JSON.stringify({
          cmd: 'customer.create',
          APIUUID: API_UUID,
          APISECRET: API_SECRET,
          ...newCustomer,
          companyName: 'Page Co',
        }),
      });
    const refused = await create({ origin: EVIL, 'x-emulator-session': 'from-a-page' });
    expect(refused.statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/_emulator/sessions' })).json().sessions).toEqual([]);
    expect(refused.json()).toMatchObject({
      code: 'FAULT',
      fault: { faultcode: 'Auth', faultstring: expect.stringContaining('--allowed-origins') },
    });
    const count = async () =>
      (
        await app.inject({
          method: 'POST',
          url: JSON_PHP,
          payload: { cmd: 'customer.getall', APIUUID: API_UUID, APISECRET: API_SECRET, keyword: 'Page Co' },
        })
      ).json().customers.length;
    expect(await count()).toBe(0);
    // A read from a page, a client sending no Origin (any Host), and an allowed origin are served.
    expect(
      (
        await app.inject({
          method: 'GET',
          url: '/api/rest/v2.9/customers/123',
          headers: { origin: EVIL, authorization: RC_BASIC },
        })
      ).json().code,
    ).toBe('OK');
    expect((await create({ host: 'evil.example' })).json().code).toBe('OK');
    expect((await create({ origin: 'http://localhost:3000' })).json().code).toBe('OK');
    expect(await count()).toBe(2);
    const mgmt = await app.inject({
      method: 'PUT',
      url: '/api/v01/customers',
      headers: {
        origin: EVIL,
        accept: 'application/json',
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from('api-sandbox:mgmt-sandbox-password').toString('base64')}`,
      },
      payload: '{}',
    });
    expect(mgmt.statusCode).toBe(403);
    expect(mgmt.json()).toMatchObject({ response: { code: 'E403', status: 403 } });
    const rs = await app.inject({
      method: 'POST',
      url: '/v1/customers',
      headers: {
        ...signed(app, undefined, { accept: 'application/json' }),
        origin: EVIL,
        'content-type': 'application/json',
      },
      payload: '{}',
    });
    expect(rs.statusCode).toBe(403);
    expect(Object.keys(rs.json())).toEqual(['unauthorizedFault']);
    const isp = await app.inject({
      method: 'POST',
      url: '/api/customer/create',
      headers: { origin: EVIL, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'userid=5&api_key=0f9895fb407c83e5ea128082098b47681aa75d6944576423c4&name=x',
    });
    expect(isp.json()).toMatchObject({ result: null });
    expect(isp.body).toContain('--allowed-origins');
  });
});

describe('NeuCRM name and username patterns holding a NUL are literal', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp();
  });
  afterAll(async () => {
    await app.close();
  });
  const list = async (fields: Record<string, string>) => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/customer/list',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ ...ISPCRM, rows_limit: '100', ...fields }).toString(),
    });
    const body = res.json();
    expect(body.error, res.body).toBeNull();
    return body.result as unknown;
  };

  it.each(['%\u0000', '%\u0000%', '\u0000', '%a\u0000'])(
    'name / username %j match no fixture customer',
    async (pattern) => {
      const all = await list({ name: '%' });
      expect(Array.isArray(all) ? all.length : Object.keys(all as object).length).toBeGreaterThan(0);
      expect(await list({ name: pattern })).toEqual(await list({ name: 'no-customer-is-named-this' }));
      expect(await list({ username: pattern })).toEqual(await list({ name: 'no-customer-is-named-this' }));
    },
  );
});
