import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_SECRET, API_UUID, newCustomer } from '../rackcorp/helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = path.join(root, 'dist', 'server', 'cli.js');
const dirs: string[] = [];

afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  url: string;
  line: string;
  exited: Promise<number | null>;
}

function start(args: string[], env: Record<string, string> = {}): Promise<Started> {
  const child = spawn(process.execPath, [cli, ...args], {
    cwd: root,
    env: { ...process.env, PORT: '', HOST: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (d) => {
      err += d;
    });
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1], line: out.split('\n')[0], exited });
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before listening: ${out}${err}`)));
  });
}

async function stop(s: Started): Promise<number | null> {
  s.child.kill('SIGTERM');
  return s.exited;
}

const createCustomer = (url: string) =>
  fetch(`${url}/api/rest/v2.9/json.php`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      cmd: 'customer.create',
      APIUUID: API_UUID,
      APISECRET: API_SECRET,
      ...newCustomer,
      companyName: 'CLI Pty',
    }),
  }).then((r) => r.json());
const getCustomer = (url: string, id: number) =>
  fetch(`${url}/api/rest/v2.9/json.php`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ cmd: 'customer.get', id, APIUUID: API_UUID, APISECRET: API_SECRET }),
  }).then((r) => r.json());

describe('the command line', () => {
  it('prints the real URL on --port 0, serves, and closes cleanly on SIGTERM', async () => {
    const s = await start(['--port', '0']);
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.url).not.toMatch(/:0$/);
    expect(s.line).not.toContain('WARNING');
    const health = await fetch(`${s.url}/_emulator/health`);
    expect((await health.json()).status).toBe('ok');
    expect(await stop(s)).toBe(0);
  });

  it('prints help and exits 0', () => {
    const r = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    for (const flag of [
      '--port',
      '--db',
      '--control-token',
      '--max-sessions',
      '--session-idle-seconds',
      '--journal-size',
    ])
      expect(r.stdout).toContain(flag);
  });

  it('refuses an unknown flag with exit code 2', () => {
    const r = spawnSync(process.execPath, [cli, '--no-such-flag'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown option --no-such-flag');
  });

  it('reads PORT and HOST from the environment, and warns beyond loopback without a token', async () => {
    const s = await start([], { PORT: '0', HOST: '0.0.0.0' });
    expect(s.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
    expect(s.line).toContain('WARNING');
    expect(await stop(s)).toBe(0);
    const t = await start(['--control-token', 'x'], { PORT: '0', HOST: '0.0.0.0' });
    expect(t.line).not.toContain('WARNING');
    expect(await stop(t)).toBe(0);
  });

  it('--db keeps data across a restart; a new file is seeded once', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emu-cli-'));
    dirs.push(dir);
    const db = path.join(dir, 'state.sqlite');
    let s = await start(['--port', '0', '--db', db]);
    const created = await createCustomer(s.url);
    expect(created.code).toBe('OK');
    expect(await stop(s)).toBe(0);
    s = await start(['--port', '0', '--db', db]);
    expect(s.line).toContain(db);
    expect((await getCustomer(s.url, created.customerid)).customer.companyName).toBe('CLI Pty');
    // Not seeded twice: the next id follows on.
    expect((await createCustomer(s.url)).customerid).toBe(created.customerid + 1);
    expect(await stop(s)).toBe(0);
  });
});
