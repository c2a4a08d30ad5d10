import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ctl, makeApp } from '../helpers.js';
import { createCustomer, rc } from '../rackcorp/helpers.js';
import { ControlClient } from '../../src/server/control/client.js';
import { ConfigError, parseArgs } from '../../src/server/config.js';

let app: FastifyInstance;
afterEach(async () => {
  await app?.close();
});

const S = { 'x-emulator-session': 'ghost' };

describe('--session-mode explicit', () => {
  it("answers a vendor request naming an unknown session with a 404 naming it, in each vendor's format, and makes nothing", async () => {
    app = await makeApp({ sessionMode: 'explicit' });

    const rack = await rc(app, 'customer.get', { id: 1 }, 'ghost');
    expect(rack.statusCode).toBe(404);
    expect(rack.json()).toMatchObject({
      code: 'FAULT',
      message: expect.stringContaining('Unknown session "ghost"'),
      fault: { faultcode: 'Client' },
    });

    const email = await app.inject({
      method: 'GET',
      url: '/v1/customers',
      headers: { ...S, accept: 'application/json' },
    });
    expect(email.statusCode).toBe(404);
    expect(email.json()).toEqual({
      itemNotFoundFault: expect.objectContaining({
        code: 404,
        details: expect.stringContaining('Unknown session "ghost"'),
      }),
    });

    const crm = await app.inject({ method: 'POST', url: '/api/customer/list', headers: S, payload: {} });
    expect(crm.statusCode).toBe(404);
    expect(crm.json()).toEqual({ result: null, error: expect.stringContaining('Unknown session "ghost"') });

    const mgmt = await app.inject({
      method: 'GET',
      url: '/api/v01/customers/1',
      headers: { ...S, accept: 'application/json' },
    });
    expect(mgmt.statusCode).toBe(404);
    expect(mgmt.json()).toEqual({
      response: { code: 'E404', status: 404, message: expect.stringContaining('Unknown session "ghost"') },
    });

    // The path prefix names a session the same way.
    const viaPath = await app.inject({ method: 'POST', url: '/_sessions/ghost/api/customer/list', payload: {} });
    expect(viaPath.statusCode).toBe(404);
    expect(viaPath.json().error).toContain('Unknown session "ghost"');

    expect(app.registry.sessions.size).toBe(0);
    expect((await ctl(app, 'GET', '/_emulator/sessions')).body.sessions).toEqual([]);
  });

  it("answers a control route naming an unknown session with the control plane's 404", async () => {
    app = await makeApp({ sessionMode: 'explicit' });
    for (const [url, headers] of [
      ['/_emulator/requests?session=ghost', {}],
      ['/_emulator/clock', S],
      ['/_sessions/ghost/_emulator/faults', {}],
    ] as const) {
      const res = await ctl(app, 'GET', url, undefined, headers);
      expect(res.status, url).toBe(404);
      expect(res.body, url).toEqual({
        error: 'Not Found',
        message: expect.stringContaining('Unknown session "ghost"'),
      });
    }
    expect(app.registry.sessions.size).toBe(0);
    // The default state still works without naming a session.
    expect((await rc(app, 'customer.get', { id: 1 })).statusCode).toBe(200);
  });

  it('makes a session only with POST /_emulator/sessions; a deleted one is unknown again, never fresh', async () => {
    app = await makeApp({ sessionMode: 'explicit' });
    const made = await ctl(app, 'POST', '/_emulator/sessions?session=job-1');
    expect(made).toEqual({ status: 201, body: { created: 'job-1', mode: 'explicit' } });
    expect(await createCustomer(app, 'job-1', 'Kept Pty')).toBe(906);
    expect((await rc(app, 'customer.get', { id: 906 }, 'job-1')).json().customer.companyName).toBe('Kept Pty');

    const again = await ctl(app, 'POST', '/_emulator/sessions', undefined, { 'x-emulator-session': 'job-1' });
    expect(again.status).toBe(409);
    expect(again.body.message).toContain('Session "job-1" already exists');
    // The existing session kept its data.
    expect((await rc(app, 'customer.get', { id: 906 }, 'job-1')).json().customer.companyName).toBe('Kept Pty');

    expect((await ctl(app, 'DELETE', '/_emulator/sessions/job-1')).body).toEqual({ deleted: 'job-1' });
    const gone = await rc(app, 'customer.get', { id: 906 }, 'job-1');
    expect(gone.statusCode).toBe(404);
    expect(gone.json().message).toContain('Unknown session "job-1"');
  });

  it('the header and the client make a session too (the header is not looked up first on this route)', async () => {
    app = await makeApp({ sessionMode: 'explicit' });
    const viaHeader = await ctl(app, 'POST', '/_emulator/sessions', undefined, { 'x-emulator-session': 'by-header' });
    expect(viaHeader).toEqual({ status: 201, body: { created: 'by-header', mode: 'explicit' } });
    const client = ControlClient.inject(app);
    await expect(client.session('by-client').createSession()).resolves.toEqual({
      created: 'by-client',
      mode: 'explicit',
    });
    await expect(client.createSession('by-id')).resolves.toEqual({ created: 'by-id', mode: 'explicit' });
    expect(await client.session('by-client').requests()).toEqual([]);
    expect([...app.registry.sessions.keys()].sort()).toEqual(['by-client', 'by-header', 'by-id']);
  });

  it('refuses a creation that names no session, names it badly or carries a body', async () => {
    app = await makeApp({ sessionMode: 'explicit' });
    const none = await ctl(app, 'POST', '/_emulator/sessions');
    expect(none.status).toBe(400);
    expect(none.body.message).toContain('Name the session to create');
    expect((await ctl(app, 'POST', '/_emulator/sessions?session=default')).status).toBe(400);
    const byHeader = await ctl(app, 'POST', '/_emulator/sessions', undefined, { 'x-emulator-session': 'default' });
    expect(byHeader.status).toBe(400);
    expect(byHeader.body.message).toContain('not "default"');
    const bad = await ctl(app, 'POST', '/_emulator/sessions?session=a%2Fb');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('Invalid session id "a/b"');
    const body = await ctl(app, 'POST', '/_emulator/sessions', { id: 'x' });
    expect(body.status).toBe(400);
    expect(body.body.message).toContain('takes no body');
    const extra = await ctl(app, 'POST', '/_emulator/sessions?session=x&id=y');
    expect(extra.status).toBe(400);
    expect(app.registry.sessions.size).toBe(0);
  });

  it('with the default implicit mode, a named session is still made on first use, and POST makes one ahead', async () => {
    app = await makeApp();
    expect(app.config.sessionMode).toBe('implicit');
    expect((await rc(app, 'customer.get', { id: 1 }, 'auto')).statusCode).toBe(200);
    expect(app.registry.sessions.has('auto')).toBe(true);
    expect(await ctl(app, 'POST', '/_emulator/sessions?session=ahead')).toEqual({
      status: 201,
      body: { created: 'ahead', mode: 'implicit' },
    });
    expect((await ctl(app, 'POST', '/_emulator/sessions?session=auto')).status).toBe(409);
  });

  it('is set by --session-mode or EMULATOR_SESSION_MODE, and nothing else', () => {
    expect(parseArgs([], {}).config.sessionMode).toBe('implicit');
    expect(parseArgs(['--session-mode', 'explicit'], {}).config.sessionMode).toBe('explicit');
    expect(parseArgs([], { EMULATOR_SESSION_MODE: 'explicit' }).config.sessionMode).toBe('explicit');
    expect(parseArgs(['--session-mode=implicit'], { EMULATOR_SESSION_MODE: 'explicit' }).config.sessionMode).toBe(
      'implicit',
    );
    expect(() => parseArgs(['--session-mode', 'lazy'], {})).toThrow(ConfigError);
    expect(() => parseArgs(['--session-mode', 'lazy'], {})).toThrow('must be one of implicit, explicit');
  });
});
