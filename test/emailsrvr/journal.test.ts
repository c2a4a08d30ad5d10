import { describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import formbody from '@fastify/formbody';
import { StateRegistry } from '../../src/store/state.js';
import { vendors } from '../../src/vendors.js';
import { DEFAULT_FIXTURES_DIR, resolveConfig } from '../../src/server/config.js';
import type { RequestEmulatorInfo } from '../../src/server/app.js';
import { emailsrvr, rewriteUrl } from '../../src/routes/emailsrvr/index.js';
import { operations } from '../../src/routes/emailsrvr/customers.js';
import { call } from './helpers.js';

describe('operation names', () => {
  it("names each request's operation, refused ones included", async () => {
    // The emailsrvr plugin alone, mounted the way app.ts mounts it, with a hook that records operations.
    const registry = new StateRegistry({ vendors, fixturesDir: DEFAULT_FIXTURES_DIR, dbFile: null });
    const app = Fastify({ rewriteUrl: (req) => rewriteUrl(req.url ?? '/') ?? req.url ?? '/' });
    app.decorate('registry', registry);
    app.decorateRequest('emulator', null as unknown as RequestEmulatorInfo);
    const seen: Array<string | null> = [];
    app.addHook('onRequest', async (request) => {
      request.emulator = {
        state: registry.get(request.headers['x-emulator-session'] as string | undefined),
        sessionId: null,
        vendor: 'emailsrvr',
        operation: null,
        warnings: [],
      };
    });
    app.addHook('onResponse', async (request) => {
      seen.push(request.emulator.operation);
    });
    await app.register(formbody);
    await app.register(emailsrvr.plugin, { prefix: emailsrvr.prefix, config: resolveConfig({}) });
    try {
      await call(app, { method: 'GET', url: '/v1/customers' });
      await call(app, { method: 'GET', url: '/customers/me' });
      await call(app, { method: 'POST', url: '/customers', payload: {}, session: 'journal' });
      await call(app, { method: 'PUT', url: '/customers/460182', payload: {}, session: 'journal' });
      await call(app, { method: 'DELETE', url: '/customers/999', session: 'journal' });
      await app.inject({ method: 'GET', url: '/v0/customers' });
      expect(seen).toEqual([
        'customers.index',
        'customers.show',
        'customers.add',
        'customers.edit',
        'customers.delete',
        'customers.index',
      ]);
      expect(operations.map((o) => o.name)).toEqual([
        'customers.index',
        'customers.show',
        'customers.add',
        'customers.edit',
        'customers.delete',
      ]);
    } finally {
      await app.close();
      registry.close();
    }
  });
});
