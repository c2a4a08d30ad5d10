/**
 * The scale-out recipe (deploy/nginx/): three emulator processes with --session-mode explicit
 * behind Debian's nginx running deploy/nginx/nginx.conf, all on loopback (the file's
 * emulator-N:8080 upstreams become the three loopback ports). 30 sessions go through nginx; each
 * keeps its own writes and journal. Then one instance is killed: the sessions on the other two
 * are untouched, and the lost ones get the emulator's 404 naming the session instead of a fresh
 * copy of the fixtures. Skipped only off CI when nginx is missing; with CI=true (.ci/run installs
 * nginx) it must run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_SECRET, API_UUID, newCustomer } from '../rackcorp/helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = path.join(root, 'dist', 'server', 'cli.js');
const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
const skip = NGINX === undefined && process.env.CI !== 'true';
if (skip)
  console.warn(
    'test/deploy/nginx-scale-out.test.ts: skipping: nginx is missing (apt-get install nginx); it always runs with CI=true',
  );

const SESSIONS = Array.from({ length: 30 }, (_, i) => `job-${String(i + 1).padStart(2, '0')}`);

interface Proc {
  child: ChildProcess;
  exited: Promise<number | null>;
  output: () => string;
}

function run(cmd: string, args: string[], opts: { cwd?: string } = {}): Proc {
  const child = spawn(cmd, args, {
    cwd: opts.cwd ?? root,
    env: { ...process.env, PORT: '', HOST: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => out };
}

async function startEmulator(): Promise<{ proc: Proc; port: number }> {
  const proc = run(process.execPath, [cli, '--port', '0', '--session-mode', 'explicit', '--log-level', 'warn']);
  for (let i = 0; i < 300; i++) {
    const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(proc.output());
    if (m) return { proc, port: Number(m[1]) };
    if (proc.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`emulator did not start: ${proc.output()}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net
      .createServer()
      .listen(0, '127.0.0.1', () => {
        const { port } = s.address() as net.AddressInfo;
        s.close(() => resolve(port));
      })
      .once('error', reject);
  });
}

const emulators: { proc: Proc; port: number }[] = [];
let nginx: Proc | undefined;
let dir = '';
let base = '';

beforeAll(async () => {
  if (skip) return;
  if (!NGINX) throw new Error('nginx is required with CI=true (.ci/run installs it: apt-get install nginx)');
  for (let i = 0; i < 3; i++) emulators.push(await startEmulator());
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emu-nginx-'));
  fs.mkdirSync(path.join(dir, 'logs'));
  const port = await freePort();
  const conf = fs
    .readFileSync(path.join(root, 'deploy/nginx/nginx.conf'), 'utf8')
    .replace(/\bemulator-([1-3]):8080\b/g, (_m, n: string) => `127.0.0.1:${emulators[Number(n) - 1].port}`)
    .replace(/^(\s*)listen 8080;/m, `$1listen 127.0.0.1:${port};`)
    // Temporary files in the test's folder: Debian's defaults (/var/lib/nginx) need root.
    .replace(
      /^http \{$/m,
      `http {\n${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `    ${t}_temp_path ${path.join(dir, t)};`).join('\n')}`,
    );
  expect(conf).not.toMatch(/emulator-\d:8080|listen 8080;/);
  expect(conf).toContain('client_body_temp_path');
  fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
  fs.copyFileSync(path.join(root, 'deploy/nginx/session-hash.conf'), path.join(dir, 'session-hash.conf'));
  nginx = run(NGINX, [
    '-p',
    `${dir}/`,
    '-c',
    path.join(dir, 'nginx.conf'),
    '-g',
    `daemon off; master_process off; pid ${path.join(dir, 'nginx.pid')}; error_log stderr warn;`,
  ]);
  base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${base}/_emulator/health`)).status === 200) return;
    } catch {
      /* not listening yet */
    }
    if (nginx.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nginx did not answer on ${base}: ${nginx.output()}`);
}, 60_000);

afterAll(async () => {
  for (const p of [nginx, ...emulators.map((e) => e.proc)]) {
    if (p && p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGTERM');
      await Promise.race([p.exited, new Promise((r) => setTimeout(r, 5000))]);
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    }
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** A RackCorp call through nginx, naming the session by header or by path prefix (alternately). */
async function rc(
  session: string,
  cmd: string,
  params: Record<string, unknown> = {},
): Promise<{ status: number; body: any }> {
  const byPath = Number(session.slice(-2)) % 2 === 0;
  const url = byPath ? `${base}/_sessions/${session}/api/rest/v2.9/json.php` : `${base}/api/rest/v2.9/json.php`;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(byPath ? {} : { 'x-emulator-session': session }) },
    body: JSON.stringify({ cmd, APIUUID: API_UUID, APISECRET: API_SECRET, ...params }),
  });
  return { status: res.status, body: await res.json() };
}

async function control(url: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, init);
  return { status: res.status, body: await res.json() };
}

/** Which instance holds each session, asked of each instance directly. */
async function holders(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const [i, e] of emulators.entries()) {
    if (e.proc.child.exitCode !== null || e.proc.child.signalCode !== null) continue;
    const list = await control(`http://127.0.0.1:${e.port}/_emulator/sessions`);
    for (const s of list.body.sessions) {
      expect(out.has(s.id), `session ${s.id} on two instances`).toBe(false);
      out.set(s.id, i);
    }
  }
  return out;
}

async function expectOwnData(session: string, writes: number): Promise<void> {
  const got = await rc(session, 'customer.get', { id: 906 });
  expect(got.status, session).toBe(200);
  expect(got.body.customer?.companyName, session).toBe(`Company ${session}`);
  // A second customer was never made in this session: ids are per session.
  expect((await rc(session, 'customer.get', { id: 907 })).body.code, session).toBe('FAULT');
  const journal = await control(`${base}/_emulator/requests?session=${session}`);
  expect(journal.status, session).toBe(200);
  const entries = journal.body.requests as any[];
  expect(
    entries.filter((r) => r.operation === 'customer.create'),
    session,
  ).toHaveLength(writes);
  expect(
    entries.every((r) => r.session === session),
    session,
  ).toBe(true);
  const bodies = entries.map((r) => String(r.body)).join('\n');
  expect(bodies, session).toContain(`Company ${session}`);
  expect(
    bodies.match(/Company job-\d\d/g)?.every((m) => m === `Company ${session}`),
    session,
  ).toBe(true);
}

describe.skipIf(skip)('three emulator instances behind nginx (deploy/nginx/nginx.conf)', () => {
  let before: Map<string, number>;
  let victim = -1;

  it("routes 30 sessions, each to one instance, and keeps each one's writes and journal its own", async () => {
    for (const s of SESSIONS) {
      // Alternately by ?session= and by the header: nginx must hash both the way the emulator reads them.
      const made =
        Number(s.slice(-2)) % 3 === 0
          ? await control(`${base}/_emulator/sessions`, { method: 'POST', headers: { 'x-emulator-session': s } })
          : await control(`${base}/_emulator/sessions?session=${s}`, { method: 'POST' });
      expect(made, s).toEqual({ status: 201, body: { created: s, mode: 'explicit' } });
    }
    await Promise.all(
      SESSIONS.map(async (s) => {
        const res = await rc(s, 'customer.create', { ...newCustomer, companyName: `Company ${s}` });
        expect(res.body, s).toMatchObject({ code: 'OK', customerid: 906 });
      }),
    );
    for (const s of SESSIONS) await expectOwnData(s, 1);

    before = await holders();
    expect([...before.keys()].sort()).toEqual(SESSIONS);
    const perInstance = [0, 1, 2].map((i) => [...before.values()].filter((v) => v === i).length);
    expect(
      perInstance.every((n) => n > 0),
      `sessions per instance: ${perInstance}`,
    ).toBe(true);
    // A request naming no session is each instance's own default state: nothing was written there.
    for (const e of emulators) {
      const d = await fetch(`http://127.0.0.1:${e.port}/api/rest/v2.9/json.php`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ cmd: 'customer.get', id: 906, APIUUID: API_UUID, APISECRET: API_SECRET }),
      });
      expect((await d.json()).code).toBe('FAULT');
    }
  });

  it("after one instance dies: the others' sessions are untouched, the lost ones get a 404 naming them", async () => {
    expect(before, 'the first test ran').toBeDefined();
    victim = 1;
    const lost = SESSIONS.filter((s) => before.get(s) === victim);
    const kept = SESSIONS.filter((s) => before.get(s) !== victim);
    expect(lost.length).toBeGreaterThan(0);
    const dead = emulators[victim].proc;
    dead.child.kill('SIGKILL');
    await dead.exited;

    for (const s of kept) await expectOwnData(s, 1);

    for (const s of lost) {
      const vendor = await rc(s, 'customer.get', { id: 906 });
      expect(vendor.status, s).toBe(404);
      expect(vendor.body, s).toMatchObject({
        code: 'FAULT',
        message: expect.stringContaining(`Unknown session "${s}"`),
      });
      const write = await rc(s, 'customer.create', { ...newCustomer, companyName: `Company ${s}` });
      expect(write.status, s).toBe(404);
      const journal = await control(`${base}/_emulator/requests?session=${s}`);
      expect(journal, s).toEqual({
        status: 404,
        body: { error: 'Not Found', message: expect.stringContaining(`Unknown session "${s}"`) },
      });
    }

    // Nothing was made on the survivors for the lost sessions, and the kept ones did not move.
    const after = await holders();
    expect([...after.keys()].sort()).toEqual(kept.sort());
    for (const s of kept) expect(after.get(s), s).toBe(before.get(s));

    // A test that wants to go on makes its session again, explicitly, on a surviving instance.
    const again = await control(`${base}/_emulator/sessions?session=${lost[0]}`, { method: 'POST' });
    expect(again).toEqual({ status: 201, body: { created: lost[0], mode: 'explicit' } });
    expect((await rc(lost[0], 'customer.get', { id: 906 })).body.code).toBe('FAULT');
    expect((await holders()).get(lost[0])).not.toBe(victim);
  });
});
