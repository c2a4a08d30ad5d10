import type { FastifyInstance, InjectOptions } from 'fastify';
import { createHash } from 'node:crypto';
import { afterEach } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { buildApp } from '../src/server/app.js';
import type { Config } from '../src/core/config.js';
import { rowOrder } from '../src/store/overlay.js';

/** A fresh emulator per test file (or per test): default fixtures, in-memory, silent. */
export async function makeApp(options: Partial<Config> = {}): Promise<FastifyInstance> {
  // Responses are checked against the vendors' OpenAPI contracts in every test: drift fails loudly.
  const app = await buildApp({ logLevel: 'silent', validateResponses: true, ...options });
  // scripts/self-coverage.mjs: each app leaves its contract coverage (every session) when it closes.
  const dir = process.env.EMULATOR_TEST_COVERAGE_DIR;
  if (dir) {
    const close = app.close.bind(app);
    app.close = (async () => {
      writeCoverage(app, dir);
      return close();
    }) as typeof app.close;
  }
  return app;
}

function writeCoverage(app: FastifyInstance, dir: string): void {
  const r = app.coverage.report(app.coverage.all, 'test app');
  if (!r.vendors.some((v) => v.operations.some((o) => o.requests > 0))) return;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.json`),
    JSON.stringify(r),
  );
}

/** A real multipart/form-data body, as an HTTP client serialises a FormData (file parts too). */
export async function multipart(
  fields: [string, string | Blob, string?][],
): Promise<{ payload: Buffer; headers: Record<string, string> }> {
  const form = new FormData();
  for (const [k, v, filename] of fields) {
    if (typeof v === 'string') form.append(k, v);
    else form.append(k, v, filename);
  }
  const req = new Request('http://localhost/', { method: 'POST', body: form });
  return {
    payload: Buffer.from(await req.arrayBuffer()),
    headers: { 'content-type': req.headers.get('content-type')! },
  };
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

/** The header that sends a request to session `session` (none: the default state). */
export function sessionHeader(session?: string | null): Record<string, string> {
  return session ? { 'x-emulator-session': session } : {};
}

/** An answer as a test reads it: the status, the parsed JSON body (undefined when empty), the headers. */
export interface JsonAnswer {
  status: number;
  body: any;
  headers: Record<string, unknown>;
}

/** Inject a request and parse the JSON answer, whatever its status. */
export async function injectJson(app: FastifyInstance, opts: InjectOptions): Promise<JsonAnswer> {
  const res = await app.inject(opts);
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined, headers: res.headers };
}

/** A control-plane call (`/_emulator/...`), JSON in and out: status and body, to compare whole. */
export async function ctl(
  app: FastifyInstance,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any }> {
  const { status, body } = await injectJson(app, {
    method,
    url,
    payload: payload as InjectOptions['payload'],
    headers,
  });
  return { status, body };
}

/** What the journal says of the last request (of the session, if given). */
export interface JournalEntry {
  operation: string;
  status: number;
  warnings?: string[];
  [key: string]: unknown;
}

/** The newest journal entry of the state (GET /_emulator/requests?limit=1). */
export async function lastJournalEntry(app: FastifyInstance, session?: string): Promise<JournalEntry> {
  const res = await app.inject({ method: 'GET', url: '/_emulator/requests?limit=1', headers: sessionHeader(session) });
  return res.json().requests[0] as JournalEntry;
}

/**
 * A digest of every row of a state's tables whose name starts with `prefix`: equal before and after
 * means a request wrote nothing there.
 */
export function tableDigest(app: FastifyInstance, prefix: string, session?: string | null): string {
  const db = app.registry.get(session ?? null).db;
  const tables = (
    db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ? ORDER BY name")
      .all(`${prefix}%`) as { name: string }[]
  ).map((t) => t.name);
  const h = createHash('sha256');
  for (const t of tables) {
    h.update(t);
    for (const row of db
      .prepare(`SELECT * FROM "${t}" ORDER BY ${rowOrder(db, t)}`)
      .raw()
      .iterate())
      h.update(JSON.stringify(row));
  }
  return h.digest('hex');
}
