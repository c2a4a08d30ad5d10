import type { FastifyInstance } from 'fastify';
import { afterEach } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { buildApp } from '../src/server/app.js';
import type { Config } from '../src/core/config.js';

/** A fresh emulator per test file (or per test): default fixtures, in-memory, silent. */
export async function makeApp(options: Partial<Config> = {}): Promise<FastifyInstance> {
  // Responses are checked against the vendors' OpenAPI contracts in every test: drift fails loudly.
  const app = await buildApp({ logLevel: 'silent', validateResponses: true, ...options });
  // scripts/self-coverage.mjs: each app leaves its contract coverage (every session) when it closes.
  const dir = process.env.EMULATOR_TEST_COVERAGE_DIR;
  if (dir) {
    const close = app.close.bind(app);
    app.close = (async () => { writeCoverage(app, dir); return close(); }) as typeof app.close;
  }
  return app;
}

function writeCoverage(app: FastifyInstance, dir: string): void {
  const r = app.coverage.report(app.coverage.all, 'test app');
  if (!r.vendors.some((v) => v.operations.some((o) => o.requests > 0))) return;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.json`), JSON.stringify(r));
}

/** A real multipart/form-data body, as an HTTP client serialises a FormData (file parts too). */
export async function multipart(fields: [string, string | Blob, string?][]): Promise<{ payload: Buffer; headers: Record<string, string> }> {
  const form = new FormData();
  for (const [k, v, filename] of fields) {
    if (typeof v === 'string') form.append(k, v);
    else form.append(k, v, filename);
  }
  const req = new Request('http://localhost/', { method: 'POST', body: form });
  return { payload: Buffer.from(await req.arrayBuffer()), headers: { 'content-type': req.headers.get('content-type')! } };
}

/** A maker of fresh emulators (makeApp) for one test file; every one made is closed after each test. */
export function appsClosedAfterEach(): () => Promise<FastifyInstance> {
  const apps: FastifyInstance[] = [];
  afterEach(async () => {
    while (apps.length) await apps.pop()!.close();
  });
  return async () => {
    const app = await makeApp();
    apps.push(app);
    return app;
  };
}
