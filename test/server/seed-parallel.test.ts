/**
 * A big fixture set is compiled by two processes (src/store/seed-parallel.ts): the helper's vendors
 * are loaded in a database of its own and copied in. The compile under test is the built one
 * (dist/: the helper runs dist/store/seed-worker.js), made to split a small generated set
 * (parallelMinBytes 0); it must give the database one process gives, row for row (search index
 * and AUTOINCREMENT counters included), serve the same answers through the real CLI, and fail on
 * a bad fixture of the helper's vendor with the message one process gives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import type * as SeedModule from '../../src/store/seed.js';
import type * as VendorsModule from '../../src/vendors.js';
import { API_SECRET, API_UUID } from '../rackcorp/helpers.js';
import { seedContents as contents } from './seed-contents.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = (p: string) => pathToFileURL(path.join(root, 'dist', p)).href;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'emu-seed-parallel-'));
afterAll(() => {
  spawnSync('chmod', ['-R', 'u+w', tmp]);
  fs.rmSync(tmp, { recursive: true, force: true });
});

let seed: typeof SeedModule;
let vendors: typeof VendorsModule.vendors;
const fixtures = path.join(tmp, 'fixtures');

beforeAll(async () => {
  seed = (await import(dist('store/seed.js'))) as typeof SeedModule;
  vendors = ((await import(dist('vendors.js'))) as typeof VendorsModule).vendors;
  const r = spawnSync(
    process.execPath,
    [path.join(root, 'scripts/generate.mjs'), '--customers', '400', '--out', fixtures, '--seed', '7'],
    { encoding: 'utf8' },
  );
  expect(r.status, r.stderr).toBe(0);
});

function compile(cacheDir: string, parallel: boolean, dir = fixtures) {
  return seed.compileSeed({
    vendors,
    fixtures: dir,
    cacheDir,
    parallelMinBytes: parallel ? 0 : Number.POSITIVE_INFINITY,
  });
}

interface Started {
  child: ChildProcess;
  url: string;
}

function start(args: string[]): Promise<Started> {
  const child = spawn(process.execPath, [path.join(root, 'dist/server/cli.js'), '--port', '0', ...args], {
    cwd: root,
    env: { ...process.env, PORT: '', HOST: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before listening: ${out}`)));
  });
}

async function stop(s: Started): Promise<void> {
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await exited;
}

const rackcorp = async (s: Started, body: Record<string, unknown>) => {
  const r = await fetch(`${s.url}/api/rest/v2.9/json.php`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, APIUUID: API_UUID, APISECRET: API_SECRET }),
  });
  expect(r.status).toBe(200);
  return (await r.json()) as Record<string, unknown>;
};

/** Answers that read the copied tables: a customer, a keyword search (the search index), a new customer's id. */
async function answers(s: Started) {
  const got = await rackcorp(s, { cmd: 'customer.get', id: 1000 });
  expect(got.code).toBe('OK');
  const name = (got.customer as { companyName: string }).companyName;
  const search = await rackcorp(s, { cmd: 'customer.getall', keyword: name.slice(1, 6) });
  expect(search.code).toBe('OK');
  const created = await rackcorp(s, {
    cmd: 'customer.create',
    companyName: 'Parallel Check Pty',
    locations: [{}],
    contacts: [{}],
  });
  expect(created.code, JSON.stringify(created)).toBe('OK');
  return { got, search, created };
}

describe('a seed compiled by two processes', () => {
  it('holds what one process compiles, row for row, with the helper having loaded the biggest vendor', () => {
    const one = compile(path.join(tmp, 'cache-one'), false);
    const two = compile(path.join(tmp, 'cache-two'), true);
    try {
      expect(one.helperVendors).toEqual([]);
      // The generated RackCorp files are the biggest: the first in the queue, the helper's.
      expect(two.helperVendors).toContain('rackcorp');
      expect(two.cached).toBe(false);
      expect(two.key).toBe(one.key);
      const a = contents(one.file);
      const b = contents(two.file);
      expect(Object.keys(b)).toEqual(Object.keys(a));
      for (const t of Object.keys(a)) expect(b[t], t).toEqual(a[t]);
      expect(a.rackcorp_customers.length).toBeGreaterThanOrEqual(400);
      expect(a.fts_rackcorp_customers_data.length).toBeGreaterThan(1);
      const check = new Database(two.file, { readonly: true });
      expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
      check.close();
    } finally {
      one.release();
      two.release();
    }
  });

  it('serves the same answers through the CLI as a seed one process compiled', async () => {
    const results = [];
    for (const cache of ['cache-one', 'cache-two']) {
      // The entry compiled above: this start is served from it.
      const s = await start(['--fixtures', fixtures, '--seed-cache', path.join(tmp, cache)]);
      try {
        const h = (await (await fetch(`${s.url}/_emulator/health`)).json()) as { seed: { cached: boolean } };
        expect(h.seed.cached).toBe(true);
        results.push(await answers(s));
      } finally {
        await stop(s);
      }
    }
    expect(results[1]).toEqual(results[0]);
    expect((results[0].search.customers as unknown[]).length).toBeGreaterThan(0);
  });

  it("loads every vendor in the server's process when the helper cannot (a vendor list that is not the emulator's own)", () => {
    // The same tables with other DDL text: the helper only loads the vendors it has itself.
    const changed = vendors.map((v) =>
      v.name === 'rackcorp' ? { ...v, tables: v.tables.map((t) => ({ ...t, ddl: `${t.ddl}\n-- changed` })) } : v,
    );
    const opts = (cacheDir: string, parallelMinBytes: number) => ({
      vendors: changed,
      fixtures,
      cacheDir: path.join(tmp, cacheDir),
      parallelMinBytes,
    });
    const one = seed.compileSeed(opts('cache-changed-one', Number.POSITIVE_INFINITY));
    const two = seed.compileSeed(opts('cache-changed-two', 0));
    try {
      expect(two.cached).toBe(false);
      expect(two.helperVendors).toEqual([]);
      expect(contents(two.file)).toEqual(contents(one.file));
    } finally {
      one.release();
      two.release();
    }
  });

  it('is served from the cache when hashing the fixtures finds the entry (a fresh checkout with the cache restored)', () => {
    const cache = path.join(tmp, 'cache-rehash');
    const first = compile(cache, true);
    first.release();
    expect(first.cached).toBe(false);
    // Without the remembered key (a fresh checkout), the fixtures are hashed again.
    fs.rmSync(path.join(cache, 'keys'), { recursive: true });
    const again = compile(cache, true);
    try {
      expect(again.cached).toBe(true);
      expect(again.key).toBe(first.key);
      expect(again.helperVendors).toBeUndefined();
      expect(contents(again.file).rackcorp_customers.length).toBeGreaterThanOrEqual(400);
    } finally {
      again.release();
    }
  });

  it("fails on a bad row of the helper's vendor with the message one process gives, and caches nothing", () => {
    const bad = path.join(tmp, 'bad');
    fs.cpSync(fixtures, bad, { recursive: true });
    const file = path.join(bad, 'rackcorp', 'rackcorp_locations.jsonl');
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    // A location whose customer does not exist: caught by the foreign key check after the load.
    const header = JSON.parse(lines[0]) as string[];
    const row = JSON.parse(lines[1]) as unknown[];
    row[header.indexOf('customerId')] = 99_999_999;
    lines[1] = JSON.stringify(row);
    fs.writeFileSync(file, lines.join('\n'));
    const messages = [false, true].map((parallel) => {
      const cache = path.join(tmp, `bad-cache-${parallel}`);
      try {
        compile(cache, parallel, bad).release();
        return 'no error';
      } catch (e) {
        expect(fs.readdirSync(cache).filter((n) => n.endsWith('.sqlite'))).toEqual([]);
        return (e as Error).message;
      }
    });
    expect(messages[0]).toMatch(/FOREIGN KEY constraint failed/);
    expect(messages[1]).toBe(messages[0]);
  });
});
