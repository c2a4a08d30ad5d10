/**
 * The one-file CLI (dist/server/cli.bundle.cjs, made by `npm run build`; the global setup runs the
 * same build): it is what `vendor-api-emulator` runs, and it answers exactly as the separate
 * modules (`node dist/server/main.js`) do.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { API_SECRET, API_UUID, basic } from '../rackcorp/helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const server = path.join(root, 'dist', 'server');
const cli = path.join(server, 'cli.js');
const dirs: string[] = [];
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

type BundleModule = typeof import('../../src/server/bundle.js');
const importBundleModule = (dir: string): Promise<BundleModule> =>
  import(pathToFileURL(path.join(dir, 'bundle.js')).href);

function start(file: string, nodeArgs: string[] = []): Promise<string> {
  const child = spawn(process.execPath, [...nodeArgs, file, '--port', '0'], {
    cwd: root,
    env: { ...process.env, PORT: '', HOST: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`${file} exited ${code} before listening: ${out}`)));
  });
}

/** A copy of the loader and the bundle in a folder of their own, to change without touching dist/. */
function copyOfBuild(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emu-bundle-'));
  dirs.push(dir);
  for (const f of ['bundle.js', 'main.js', 'cli.bundle.cjs']) fs.copyFileSync(path.join(server, f), path.join(dir, f));
  const old = new Date(Date.now() - 60_000);
  fs.utimesSync(path.join(dir, 'main.js'), old, old);
  return dir;
}

describe('the one-file CLI', () => {
  it('is what the CLI runs', async () => {
    const { loadBundle, BUNDLE_FILE } = await importBundleModule(server);
    expect(BUNDLE_FILE).toBe(path.join(server, 'cli.bundle.cjs'));
    expect(loadBundle()).not.toBeNull();
    expect(fs.readFileSync(BUNDLE_FILE, 'latin1')).toMatch(
      /^\/\/ vendor-api-emulator bundle\n\(function \(require, __filename, __dirname\) \{"use strict";/,
    );
  });

  it('runs the separate modules when tsc ran after the bundle, or when there is no bundle', async () => {
    const dir = copyOfBuild();
    const m = await importBundleModule(dir);
    expect(m.loadBundle()).not.toBeNull();
    // tsc wrote main.js after the bundle was made: the bundle may be stale.
    const now = new Date();
    fs.utimesSync(path.join(dir, 'main.js'), now, now);
    fs.utimesSync(path.join(dir, 'cli.bundle.cjs'), new Date(now.getTime() - 1000), new Date(now.getTime() - 1000));
    expect(m.loadBundle()).toBeNull();
    expect(m.loadBundle({ force: true })).not.toBeNull();
    // Not a bundle of ours.
    fs.writeFileSync(path.join(dir, 'cli.bundle.cjs'), '(function () {})');
    expect(m.loadBundle({ force: true })).toBeNull();
    fs.rmSync(path.join(dir, 'cli.bundle.cjs'));
    expect(m.loadBundle({ force: true })).toBeNull();
  });

  it('gives way to the separate modules under a profiler, so profiles name the real files', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emu-prof-'));
    dirs.push(dir);
    const r = spawnSync(
      process.execPath,
      ['--cpu-prof', '--cpu-prof-interval', '50', '--cpu-prof-dir', dir, cli, '--help'],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: vendor-api-emulator');
    const [profile] = fs.readdirSync(dir);
    const urls = new Set(
      (JSON.parse(fs.readFileSync(path.join(dir, profile), 'utf8')).nodes as { callFrame: { url: string } }[]).map(
        (n) => n.callFrame.url,
      ),
    );
    expect(
      [...urls].some((u) => /\/dist\/(server|routes|store)\/[\w/-]+\.js$/.test(u) && !u.endsWith('/server/cli.js')),
    ).toBe(true);
    expect([...urls].some((u) => u.endsWith('cli.bundle.cjs'))).toBe(false);
  });

  it('answers byte for byte as the separate modules do', async () => {
    const [bundled, modules] = await Promise.all([start(cli), start(path.join(server, 'main.js'))]);
    const esSignature = () => {
      const ts = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
      const sha = crypto
        .createHash('sha1')
        .update(`emailsrvr-sandbox-user-key` + 'bundle-test' + ts + 'emailsrvr-sandbox-secret-key')
        .digest('base64');
      return `emailsrvr-sandbox-user-key:${ts}:${sha}`;
    };
    const form = 'application/x-www-form-urlencoded';
    const requests: { path: string; method?: string; headers?: Record<string, string>; body?: string }[] = [
      { path: '/api/rest/v2.9/json.php?cmd=customer.get&id=123', headers: basic() },
      {
        path: '/api/rest/v2.9/json.php',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ cmd: 'customer.getall', keyword: 'Example', APIUUID: API_UUID, APISECRET: API_SECRET }),
      },
      {
        path: '/api/rest/v2.9/json.php',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"cmd": ',
      },
      {
        path: '/api/rest/v2.9/json.php',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ cmd: 'customer.create', APIUUID: API_UUID, APISECRET: API_SECRET, firstName: 7 }),
      },
      { path: '/v0/customers?size=5&page=1', headers: { 'user-agent': 'bundle-test', accept: 'text/xml' } },
      {
        path: '/api/customer/list',
        method: 'POST',
        headers: { 'content-type': form },
        body: `userid=5&api_key=0f9895fb407c83e5ea128082098b47681aa75d6944576423c4&name=${encodeURIComponent('%Trad%')}`,
      },
      {
        path: '/api/customer/list',
        method: 'POST',
        headers: { 'content-type': 'application/xml' },
        body: '<userid>5</userid>',
      },
      {
        path: '/api/v01/customers?lastName=smi&limit=5',
        headers: { authorization: `Basic ${Buffer.from('api-sandbox:mgmt-sandbox-password').toString('base64')}` },
      },
      {
        path: '/api/v01/customers?limit=nope',
        headers: { authorization: `Basic ${Buffer.from('api-sandbox:wrong').toString('base64')}` },
      },
      { path: '/_emulator/health' },
      { path: '/_emulator/vendors' },
      { path: '/_emulator/openapi.json' },
      { path: '/_emulator/ui' },
      { path: '/_emulator/ui/app.js' },
      { path: '/_emulator/requests?vendor=rackcorp&limit=1&bad=1' },
      { path: '/nothing/here' },
    ];
    for (const r of requests) {
      const answers = [];
      for (const base of [bundled, modules]) {
        const headers = r.path.startsWith('/v0/') ? { ...r.headers, 'x-api-signature': esSignature() } : r.headers;
        const res = await fetch(base + r.path, { method: r.method ?? 'GET', headers, body: r.body });
        const h = Object.fromEntries(
          [...res.headers].filter(([k]) => k !== 'date' && !(r.path === '/_emulator/health' && k === 'content-length')),
        );
        // How each process had its seed (compiled or from the cache, and how long it took) is its own.
        const body = (await res.text()).replace(
          /"seed":\{"source":"fixtures","cached":(true|false),"ms":\d+,"written":(true|false)\}/,
          '"seed":{"source":"fixtures","cached":"?","ms":"?","written":"?"}',
        );
        answers.push({ status: res.status, headers: h, body });
      }
      expect(answers[0], `${r.method ?? 'GET'} ${r.path}`).toEqual(answers[1]);
    }
  });
});
