/**
 * The compiled seed through the command line: the seed cache (--seed-cache, --no-seed-cache), a
 * SQLite file as the fixture set (--fixtures seed.sqlite) and making one (--export-seed). Which
 * start was served from the cache is read from GET /_emulator/health (`seed.cached`), never timed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { API_SECRET, API_UUID } from '../rackcorp/helpers.js';
import { compileSeed } from '../../src/store/seed.js';
import { vendors } from '../../src/vendors.js';
import { makeApp } from '../helpers.js';
import { seedContents } from './seed-contents.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = path.join(root, 'dist', 'server', 'cli.js');
const dirs: string[] = [];

afterAll(() => {
  for (const d of dirs) {
    // Cache entries are read-only files: make the folders writable again to remove them.
    spawnSync('chmod', ['-R', 'u+w', d]);
    fs.rmSync(d, { recursive: true, force: true });
  }
});

function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'emu-seed-'));
  dirs.push(d);
  return d;
}

/** A copy of the shipped fixtures whose RackCorp customer 1 is named `name`. */
function fixturesNamed(name: string): string {
  const dir = path.join(tmpDir(), 'fixtures');
  fs.cpSync(path.join(root, 'fixtures'), dir, { recursive: true });
  setCustomerName(dir, name);
  return dir;
}

function setCustomerName(dir: string, name: string): void {
  const file = path.join(dir, 'rackcorp', 'rackcorp_customers.json');
  const rows = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>[];
  const one = rows.find((r) => r.id === 1)!;
  one.companyName = name;
  one.stdName = name;
  fs.writeFileSync(file, JSON.stringify(rows));
}

interface Started {
  child: ChildProcess;
  url: string;
  out: () => string;
  exited: Promise<number | null>;
}

function start(args: string[], env: Record<string, string> = {}): Promise<Started> {
  const child = spawn(process.execPath, [cli, '--port', '0', ...args], {
    cwd: root,
    env: { ...process.env, PORT: '', HOST: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let out = '';
  child.stderr!.on('data', (d) => {
    out += d;
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1], out: () => out, exited });
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before listening: ${out}`)));
  });
}

async function stop(s: Started): Promise<number | null> {
  s.child.kill('SIGTERM');
  return s.exited;
}

interface Health {
  status: string;
  seed: { source: string; cached: boolean; ms: number; written: boolean };
}
const health = async (s: Started): Promise<Health> =>
  (await fetch(`${s.url}/_emulator/health`)).json() as Promise<Health>;

async function companyName(s: Started, id = 1): Promise<string> {
  const r = await fetch(`${s.url}/api/rest/v2.9/json.php`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ cmd: 'customer.get', id, APIUUID: API_UUID, APISECRET: API_SECRET }),
  });
  expect(r.status).toBe(200);
  const body = (await r.json()) as { code: string; customer: { companyName: string } };
  expect(body.code).toBe('OK');
  return body.customer.companyName;
}

/** What one start says: how the seed was had, and customer 1's name. */
async function startAndRead(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ seed: Health['seed']; name: string; out: string }> {
  const s = await start(args, env);
  try {
    const h = await health(s);
    expect(h.status).toBe('ok');
    return { seed: h.seed, name: await companyName(s), out: s.out() };
  } finally {
    expect(await stop(s)).toBe(0);
  }
}

const entries = (cache: string) =>
  fs
    .readdirSync(cache)
    .filter((n) => /^[0-9a-f]{32}\.sqlite$/.test(n))
    .sort();

describe('the seed cache', () => {
  it('compiles a fixture set once: the second start is served from the cache, a changed fixture file makes a new entry', async () => {
    const cache = path.join(tmpDir(), 'cache');
    const fixtures = fixturesNamed('Seed One Pty');
    const first = await startAndRead(['--fixtures', fixtures, '--seed-cache', cache]);
    expect(first.seed).toMatchObject({ source: 'fixtures', cached: false });
    expect(first.name).toBe('Seed One Pty');
    expect(entries(cache)).toHaveLength(1);
    const firstEntry = entries(cache)[0];
    expect(fs.statSync(path.join(cache, firstEntry)).mode & 0o222).toBe(0);

    const second = await startAndRead(['--fixtures', fixtures, '--seed-cache', cache]);
    expect(second.seed).toMatchObject({ source: 'fixtures', cached: true });
    expect(second.name).toBe('Seed One Pty');
    expect(entries(cache)).toEqual([firstEntry]);

    // Same size, different bytes: the key is the contents, not the length.
    setCustomerName(fixtures, 'Seed Two Pty');
    const third = await startAndRead(['--fixtures', fixtures, '--seed-cache', cache]);
    expect(third.seed.cached).toBe(false);
    expect(third.name).toBe('Seed Two Pty');
    expect(entries(cache)).toHaveLength(2);
    expect(entries(cache)).toContain(firstEntry);
    // No process holds a link any more once they have all closed.
    expect(fs.readdirSync(path.join(cache, 'live'))).toEqual([]);
  });

  it('without --seed-cache uses $XDG_CACHE_HOME/vendor-api-emulator', async () => {
    const xdg = tmpDir();
    const fixtures = fixturesNamed('Default Cache Pty');
    const first = await startAndRead(['--fixtures', fixtures], { XDG_CACHE_HOME: xdg, EMULATOR_SEED_CACHE: '' });
    expect(first.seed.cached).toBe(false);
    expect(entries(path.join(xdg, 'vendor-api-emulator'))).toHaveLength(1);
    const second = await startAndRead(['--fixtures', fixtures], { XDG_CACHE_HOME: xdg, EMULATOR_SEED_CACHE: '' });
    expect(second.seed.cached).toBe(true);
    expect(second.name).toBe('Default Cache Pty');
    // "off" in the environment is --no-seed-cache.
    const off = await startAndRead(['--fixtures', fixtures], { XDG_CACHE_HOME: xdg, EMULATOR_SEED_CACHE: 'off' });
    expect(off.seed.cached).toBe(false);
  });

  it("ignores and rebuilds an entry that is cut short or is not a database; leaves a stranger's temporary file alone", async () => {
    const cache = path.join(tmpDir(), 'cache');
    const fixtures = fixturesNamed('Corrupt Seed Pty');
    await startAndRead(['--fixtures', fixtures, '--seed-cache', cache]);
    const [entry] = entries(cache);
    const file = path.join(cache, entry);
    const size = fs.statSync(file).size;

    // A partial file (as a crash while copying it by hand would leave).
    fs.chmodSync(file, 0o600);
    fs.truncateSync(file, Math.floor(size / 2));
    fs.writeFileSync(path.join(cache, `${entry}.tmp-999999-abcd`), 'half written');
    const afterCut = await startAndRead(['--fixtures', fixtures, '--seed-cache', cache]);
    expect(afterCut.seed.cached).toBe(false);
    expect(afterCut.name).toBe('Corrupt Seed Pty');
    expect(fs.statSync(file).size).toBe(size);

    // Garbage of the right length.
    fs.chmodSync(file, 0o600);
    fs.writeFileSync(file, Buffer.alloc(size, 0x41));
    const afterGarbage = await startAndRead(['--fixtures', fixtures, '--seed-cache', cache]);
    expect(afterGarbage.seed.cached).toBe(false);
    expect(afterGarbage.name).toBe('Corrupt Seed Pty');

    const again = await startAndRead(['--fixtures', fixtures, '--seed-cache', cache]);
    expect(again.seed.cached).toBe(true);
    expect(entries(cache)).toEqual([entry]);
  });

  it('two emulators starting at once with an empty cache both serve the fixtures, and leave one whole entry', async () => {
    const cache = path.join(tmpDir(), 'cache');
    const fixtures = fixturesNamed('Concurrent Pty');
    const [a, b] = await Promise.all([
      start(['--fixtures', fixtures, '--seed-cache', cache]),
      start(['--fixtures', fixtures, '--seed-cache', cache]),
    ]);
    try {
      expect(await companyName(a)).toBe('Concurrent Pty');
      expect(await companyName(b)).toBe('Concurrent Pty');
      // Each holds its own link, so the cache may be pruned or rewritten under it.
      expect(fs.readdirSync(path.join(cache, 'live'))).toHaveLength(2);
    } finally {
      expect(await stop(a)).toBe(0);
      expect(await stop(b)).toBe(0);
    }
    expect(entries(cache)).toHaveLength(1);
    expect(fs.readdirSync(cache).filter((n) => n.includes('.tmp-'))).toEqual([]);
    const c = await startAndRead(['--fixtures', fixtures, '--seed-cache', cache]);
    expect(c.seed.cached).toBe(true);
  });

  it('--no-seed-cache compiles on every start and writes no cache; a cache folder that cannot be made is a warning', async () => {
    const cache = path.join(tmpDir(), 'cache');
    const fixtures = fixturesNamed('Uncached Pty');
    for (let i = 0; i < 2; i++) {
      const r = await startAndRead(['--fixtures', fixtures, '--seed-cache', cache, '--no-seed-cache']);
      expect(r.seed.cached).toBe(false);
      expect(r.name).toBe('Uncached Pty');
    }
    expect(fs.existsSync(cache)).toBe(false);

    const aFile = path.join(tmpDir(), 'not-a-folder');
    fs.writeFileSync(aFile, '');
    const r = await startAndRead(['--fixtures', fixtures, '--seed-cache', path.join(aFile, 'cache')]);
    expect(r.seed.cached).toBe(false);
    expect(r.name).toBe('Uncached Pty');
    expect(r.out).toContain(`seed cache ${path.join(aFile, 'cache')} cannot be used`);
  });

  it('keeps only the most recently used entries', async () => {
    const cache = path.join(tmpDir(), 'cache');
    const fixtures = fixturesNamed('Prune 0');
    for (let i = 0; i < 5; i++) {
      setCustomerName(fixtures, `Prune ${i}`);
      const seed = compileSeed({ vendors, fixtures, cacheDir: cache });
      seed.release();
    }
    expect(entries(cache)).toHaveLength(4);
    // The oldest went: its fixtures compile again; the newest is still there.
    setCustomerName(fixtures, 'Prune 0');
    expect((await startAndRead(['--fixtures', fixtures, '--seed-cache', cache])).seed.cached).toBe(false);
  });

  it('a change of schema version (any vendor DDL) makes a new entry', () => {
    const cache = path.join(tmpDir(), 'cache');
    const fixtures = fixturesNamed('Schema Pty');
    const a = compileSeed({ vendors, fixtures, cacheDir: cache });
    a.release();
    expect(compileSeed({ vendors, fixtures, cacheDir: cache })).toMatchObject({ cached: true, key: a.key });
    const changed = vendors.map((v, i) =>
      i > 0
        ? v
        : { ...v, tables: v.tables.map((t, j) => (j > 0 ? t : { ...t, ddl: `${t.ddl}\n-- the next version` })) },
    );
    const b = compileSeed({ vendors: changed, fixtures, cacheDir: cache });
    b.release();
    expect(b.cached).toBe(false);
    expect(b.key).not.toBe(a.key);
    expect(entries(cache)).toHaveLength(2);
  });
});

describe('a big seed is written after the emulator starts answering (--seed-write-later-bytes)', () => {
  const rackcorp = (app: Awaited<ReturnType<typeof makeApp>>, body: Record<string, unknown>, session?: string) =>
    app
      .inject({
        method: 'POST',
        url: '/api/rest/v2.9/json.php',
        headers: session ? { 'x-emulator-session': session } : {},
        payload: { ...body, APIUUID: API_UUID, APISECRET: API_SECRET },
      })
      .then((r) => {
        expect(r.statusCode).toBe(200);
        return r.json() as { code: string; customer?: { companyName: string } };
      });
  const seedOf = async (app: Awaited<ReturnType<typeof makeApp>>) =>
    ((await app.inject({ method: 'GET', url: '/_emulator/health' })).json() as Health).seed;

  it('writes, through the real CLI, the entry a start writing it first makes; the next start is served from it', async () => {
    const fixtures = fixturesNamed('Later Pty');
    const first = path.join(tmpDir(), 'cache-first');
    const later = path.join(tmpDir(), 'cache-later');
    // The default threshold (32 MiB) is far above the shipped fixtures: written before listening.
    const ref = await startAndRead(['--fixtures', fixtures, '--seed-cache', first]);
    expect(ref.seed).toMatchObject({ cached: false, written: true });
    const s = await start(['--fixtures', fixtures, '--seed-cache', later, '--seed-write-later-bytes', '0']);
    try {
      expect(await companyName(s)).toBe('Later Pty');
      // Written a slice per event loop turn once listening: soon done for the shipped fixtures.
      let h = await health(s);
      for (let i = 0; i < 500 && !h.seed.written; i++) {
        await new Promise((r) => setTimeout(r, 10));
        h = await health(s);
      }
      expect(h.seed).toMatchObject({ source: 'fixtures', cached: false, written: true });
      expect(entries(later)).toEqual(entries(first));
      const [entry] = entries(later);
      expect(fs.statSync(path.join(later, entry)).mode & 0o222).toBe(0);
      expect(seedContents(path.join(later, entry))).toEqual(seedContents(path.join(first, entry)));
    } finally {
      expect(await stop(s)).toBe(0);
    }
    const again = await startAndRead(['--fixtures', fixtures, '--seed-cache', later]);
    expect(again.seed).toMatchObject({ cached: true, written: true });
    expect(again.name).toBe('Later Pty');
    expect(fs.readdirSync(later).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('is the data as compiled: a write to the default state before the file is written is in neither a session nor a reset', async () => {
    const cache = path.join(tmpDir(), 'cache');
    const fixtures = fixturesNamed('Snapshot Pty');
    // Never listening (inject only), the write waits for what needs the file; overlaid sessions read the file.
    const app = await makeApp({ fixtures, seedCache: cache, seedWriteLaterBytes: 0, sessionCopyMaxBytes: 0 });
    try {
      expect(await seedOf(app)).toMatchObject({ cached: false, written: false });
      expect(entries(cache)).toEqual([]);
      const renamed = await rackcorp(app, { cmd: 'customer.update', id: 1, companyName: 'Changed Pty' });
      expect(renamed.code).toBe('OK');
      expect((await rackcorp(app, { cmd: 'customer.get', id: 1 })).customer?.companyName).toBe('Changed Pty');
      // A new session needs the file: it is written now, from the data as it was compiled.
      expect((await rackcorp(app, { cmd: 'customer.get', id: 1 }, 'later-1')).customer?.companyName).toBe(
        'Snapshot Pty',
      );
      expect(await seedOf(app)).toMatchObject({ written: true });
      expect(entries(cache)).toHaveLength(1);
      const reset = await app.inject({ method: 'POST', url: '/_emulator/reset' });
      expect(reset.statusCode).toBe(200);
      expect((await rackcorp(app, { cmd: 'customer.get', id: 1 })).customer?.companyName).toBe('Snapshot Pty');
    } finally {
      await app.close();
    }
    const next = compileSeed({ vendors, fixtures, cacheDir: cache });
    try {
      expect(next.cached).toBe(true);
      const db = new Database(next.file, { readonly: true });
      expect(db.prepare('SELECT companyName FROM rackcorp_customers WHERE id = 1').pluck().get()).toBe('Snapshot Pty');
      db.close();
    } finally {
      next.release();
    }
  });

  it('a new session waits for the file while the default state goes on answering', async () => {
    const cache = path.join(tmpDir(), 'cache');
    const fixtures = fixturesNamed('Waiting Pty');
    const app = await makeApp({ fixtures, seedCache: cache, seedWriteLaterBytes: 0, sessionCopyMaxBytes: 0 });
    try {
      const answered: string[] = [];
      const inSession = rackcorp(app, { cmd: 'customer.get', id: 1 }, 'waiting-1').then((r) => {
        answered.push('vendor session');
        return r;
      });
      const made = app.inject({ method: 'POST', url: '/_emulator/sessions?session=waiting-2' }).then((r) => {
        answered.push('control session');
        return r;
      });
      // The key is found a file per event loop turn and the file written after: a request in the
      // default state is answered within those turns, before either session is made.
      const inDefault = await rackcorp(app, { cmd: 'customer.get', id: 1 });
      expect(inDefault.customer?.companyName).toBe('Waiting Pty');
      expect(answered).toEqual([]);
      expect((await inSession).customer?.companyName).toBe('Waiting Pty');
      expect((await made).statusCode).toBe(201);
      expect(await seedOf(app)).toMatchObject({ written: true });
      expect(entries(cache)).toHaveLength(1);
    } finally {
      await app.close();
    }
  });

  it('a stop before the file is written writes it, so that the next start is served from the cache', async () => {
    const cache = path.join(tmpDir(), 'cache');
    const fixtures = fixturesNamed('Stopped Pty');
    const app = await makeApp({ fixtures, seedCache: cache, seedWriteLaterBytes: 0 });
    expect(await seedOf(app)).toMatchObject({ written: false });
    await app.close();
    expect(entries(cache)).toHaveLength(1);
    const next = compileSeed({ vendors, fixtures, cacheDir: cache });
    expect(next.cached).toBe(true);
    next.release();
  });

  it("a seed that cannot be written refuses a new session in the vendor's busy answer naming why; the default state goes on", async () => {
    const app = await makeApp({ seedCache: false, seedWriteLaterBytes: 0, sessionCopyMaxBytes: 0 });
    const tmp = process.env.TMPDIR;
    // No cache folder, and a temporary folder that does not exist: nowhere to write the seed.
    process.env.TMPDIR = path.join(tmpDir(), 'missing');
    try {
      const inSession = await app.inject({
        method: 'POST',
        url: '/api/rest/v2.9/json.php',
        headers: { 'x-emulator-session': 'unwritable-1' },
        payload: { cmd: 'customer.get', id: 1, APIUUID: API_UUID, APISECRET: API_SECRET },
      });
      // RackCorp answers every error as a FAULT at HTTP 200; the refusal carries Retry-After.
      expect(inSession.headers['retry-after']).toBe('1');
      expect(inSession.json()).toMatchObject({ code: 'FAULT' });
      expect(inSession.body).toMatch(/could not be written to disk.*TMPDIR/);
      // (A reset of this small seed needs no file: it is also kept in memory.)
      expect(await seedOf(app)).toMatchObject({ written: false });
      expect((await rackcorp(app, { cmd: 'customer.get', id: 1 })).code).toBe('OK');
    } finally {
      if (tmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmp;
      await app.close();
    }
  });

  it('without a seed cache, writes a temporary file when it is needed and removes it at the stop', async () => {
    const app = await makeApp({ seedCache: false, seedWriteLaterBytes: 0, sessionCopyMaxBytes: 0 });
    try {
      expect(await seedOf(app)).toMatchObject({ cached: false, written: false });
      const got = await rackcorp(app, { cmd: 'customer.get', id: 1 }, 'later-2');
      expect(got.code).toBe('OK');
      expect(await seedOf(app)).toMatchObject({ written: true });
      expect(fs.existsSync(app.registry.seedFile)).toBe(true);
    } finally {
      const file = app.registry.seedFile;
      await app.close();
      expect(fs.existsSync(file)).toBe(false);
    }
  });
});

describe('a SQLite file as the fixture set', () => {
  it('--export-seed writes the seed of a fixtures folder; --fixtures <file> starts from it', async () => {
    const dir = tmpDir();
    const fixtures = fixturesNamed('Exported Pty');
    const out = path.join(dir, 'seed.sqlite');
    const r = spawnSync(process.execPath, [cli, '--fixtures', fixtures, '--no-seed-cache', '--export-seed', out], {
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`to ${out}`);
    expect(fs.statSync(out).size).toBeGreaterThan(0);

    const s = await startAndRead(['--fixtures', out, '--no-seed-cache']);
    expect(s.seed).toMatchObject({ source: 'sqlite', cached: true });
    expect(s.name).toBe('Exported Pty');

    // A new --db file starts as a copy of it, and keeps its writes.
    const db = path.join(dir, 'state.sqlite');
    const withDb = await startAndRead(['--fixtures', out, '--db', db]);
    expect(withDb.name).toBe('Exported Pty');
    expect(fs.statSync(db).mode & 0o777).toBe(0o600);
  });

  it('refuses, at start-up with exit code 1, a file that is not a seed of this schema, naming what is wrong', () => {
    const dir = tmpDir();
    const run = (file: string) =>
      spawnSync(process.execPath, [cli, '--port', '0', '--fixtures', file, '--no-seed-cache'], {
        encoding: 'utf8',
        timeout: 30_000,
      });

    const text = path.join(dir, 'notes.sqlite');
    fs.writeFileSync(text, 'not a database at all');
    let r = run(text);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${text}: not a SQLite database`);

    const empty = path.join(dir, 'empty.sqlite');
    new Database(empty).exec('CREATE TABLE other (x)').close();
    r = run(empty);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      "not a seed of this emulator's schema: table _emulator_meta is missing; table rackcorp_customers is missing",
    );
    expect(r.stderr).toContain('--export-seed');

    const seed = path.join(dir, 'seed.sqlite');
    expect(spawnSync(process.execPath, [cli, '--no-seed-cache', '--export-seed', seed]).status).toBe(0);
    const wal = path.join(dir, 'wal.sqlite');
    fs.copyFileSync(seed, wal);
    const walDb = new Database(wal);
    walDb.pragma('journal_mode = WAL');
    walDb.close();
    r = run(wal);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${wal}: a database in WAL mode (a --db file?) cannot be used as a seed`);

    const db = new Database(seed);
    db.exec(
      'DROP INDEX IF EXISTS ix_rackcorp_customers_std; ALTER TABLE rackcorp_currencies RENAME COLUMN name TO title',
    );
    db.close();
    r = run(seed);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('table rackcorp_currencies lacks column name');
  });
});
