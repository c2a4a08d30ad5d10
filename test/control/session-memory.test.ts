import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { ctl, makeApp } from '../helpers.js';
import { createCustomer, newCustomer, rc } from '../rackcorp/helpers.js';
import { req } from '../mgmt/helpers.js';

let app: FastifyInstance;
afterEach(async () => {
  await app?.close();
});

const MB = 1_048_576;

describe('sessions bounded by memory (--max-memory)', () => {
  it("refuses a new session past the budget in each vendor's format, and keeps every earlier session and its data", async () => {
    // A budget a little above what this process uses with an app running: room for some sessions, not for many.
    const warm = await makeApp();
    await createCustomer(warm, 'warm-up');
    await warm.close();
    const budget = Math.ceil(process.memoryUsage.rss() / MB) + 64;
    app = await makeApp({ maxMemory: budget, maxSessions: 100_000 });
    // Every session reads the seeded data from one shared file, which no session may change.
    const seedHash = () => createHash('sha256').update(fs.readFileSync(app.registry.seedFile)).digest('hex');
    const seedBefore = seedHash();
    const made: string[] = [];
    let refused: Awaited<ReturnType<typeof rc>> | null = null;
    // Each session writes a customer of its own (and a long name, so sessions hold a little data).
    for (let i = 0; i < 5000 && refused === null; i++) {
      const id = `mem-${i}`;
      const res = await rc(
        app,
        'customer.create',
        { ...newCustomer, companyName: `Company ${i} ${'x'.repeat(200)}` },
        id,
      );
      if (res.json().code === 'OK') made.push(id);
      else refused = res;
    }
    expect(refused, 'no session was refused within 5000').not.toBeNull();
    expect(made.length, refused!.body).toBeGreaterThan(0);
    // RackCorp's own refusal: a FAULT (RackCorp answers every error with HTTP 200) naming the limit.
    expect(refused!.statusCode).toBe(200);
    expect(refused!.headers['retry-after']).toBe('1');
    expect(refused!.json()).toMatchObject({
      code: 'FAULT',
      message: expect.stringMatching(/^No memory for another session: .*--max-memory/),
    });
    // UniPay's: 503 E503 in its envelope.
    const unipay = await req(app, {
      method: 'GET',
      url: '/api/v01/customers/1',
      headers: { 'x-emulator-session': 'mem-unipay' },
    });
    expect(unipay.statusCode).toBe(503);
    expect(unipay.json().response).toMatchObject({
      code: 'E503',
      status: 503,
      message: expect.stringContaining('--max-memory'),
    });
    // The control plane's: 503 naming the limit; nothing was made.
    const viaControl = await ctl(app, 'POST', '/_emulator/sessions?session=mem-control');
    expect(viaControl.status).toBe(503);
    expect(viaControl.body.message).toContain('--max-memory');
    expect(app.registry.sessions.has('mem-unipay')).toBe(false);
    expect(app.registry.sessions.has('mem-control')).toBe(false);

    // Nothing was dropped to make room: every earlier session answers with its own data.
    expect(app.registry.evicted).toBe(0);
    expect(app.registry.sessions.size).toBe(made.length);
    for (const [i, id] of made.entries()) {
      const got = await rc(app, 'customer.get', { id: 906 }, id);
      expect(got.json().customer.companyName).toBe(`Company ${i} ${'x'.repeat(200)}`);
    }
    expect(seedHash()).toBe(seedBefore);
    // Deleting sessions is the caller's way to make room; the default state always answers.
    expect((await rc(app, 'customer.get', { id: 1 })).json().code).toBe('OK');
  });

  it('without a budget reached, a session is made and answers from the fixtures', async () => {
    app = await makeApp({ maxMemory: 1_000_000 });
    expect(await createCustomer(app, 'roomy')).toBe(906);
    expect(app.registry.refusedForMemory).toBe(0);
  });
});
