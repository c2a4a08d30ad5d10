/**
 * The command line of both features: `--upstream` (repeatable) and `--coverage-out` on shutdown,
 * through the real CLI (dist/server/cli.js), with info logging that must not show credentials.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../../src/server/start.js';
import { parseArgs } from '../../src/server/config.js';
import { API_SECRET, API_UUID } from '../rackcorp/helpers.js';
import { SANDBOX as MGMT } from '../mgmt/helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = path.join(root, 'dist', 'server', 'cli.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'contract-cli-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the command line', () => {
  it('reads --upstream as a repeatable flag and EMULATOR_UPSTREAM as a comma-separated list', () => {
    expect(
      parseArgs(['--upstream', 'mgmt=http://127.0.0.1:1', '--upstream=rackcorp=http://127.0.0.1:2'], {}).config
        .upstream,
    ).toEqual(['mgmt=http://127.0.0.1:1', 'rackcorp=http://127.0.0.1:2']);
    expect(parseArgs([], { EMULATOR_UPSTREAM: 'mgmt=http://a, ispcrm=http://b' }).config.upstream).toEqual([
      'mgmt=http://a',
      'ispcrm=http://b',
    ]);
    expect(parseArgs(['--upstream', 'mgmt=http://c'], { EMULATOR_UPSTREAM: 'mgmt=http://a' }).config.upstream).toEqual([
      'mgmt=http://c',
    ]);
  });

  it('shadows two vendors, logs no credential, and writes the coverage report when SIGTERM stops it', async () => {
    const standIn = await startEmulator({ port: 0, logLevel: 'silent' });
    const out = path.join(dir, 'coverage.md');
    const child = spawn(
      process.execPath,
      [
        cli,
        '--port',
        '0',
        '--log-level',
        'info',
        '--coverage-out',
        out,
        '--upstream',
        `rackcorp=${standIn.url}`,
        '--upstream',
        `mgmt=${standIn.url}`,
      ],
      { cwd: root, env: { ...process.env, PORT: '', HOST: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout!.on('data', (d) => {
      output += d;
    });
    child.stderr!.on('data', (d) => {
      output += d;
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout!.on('data', () => {
          const m = /listening on (http:\/\/\S+)/.exec(output);
          if (m) resolve(m[1]);
        });
        child.once('exit', () => reject(new Error(output)));
      });
      const rc = await fetch(
        `${url}/api/rest/v2.9/json.php?cmd=customer.get&id=123&APIUUID=${API_UUID}&APISECRET=${API_SECRET}`,
      );
      expect((await rc.json()).code).toBe('OK');
      const mg = await fetch(`${url}/api/v01/customers/1`, {
        headers: { authorization: MGMT, accept: 'application/xml' },
      });
      expect(mg.status).toBe(200);
      const drift = await (await fetch(`${url}/_emulator/drift`)).json();
      expect(drift.upstreams.map((u: { vendor: string }) => u.vendor)).toEqual(['rackcorp', 'mgmt']);
      expect(drift.vendors.map((v: { compared: number; withDrift: number }) => [v.compared, v.withDrift])).toEqual([
        [1, 0],
        [1, 0],
      ]);
      expect(fs.existsSync(out)).toBe(false);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const md = fs.readFileSync(out, 'utf8');
      expect(md).toMatch(/^# Contract coverage \(every session, since start\)/);
      expect(md).toMatch(/\| `customer\.get` \| 1 \| REST: 0, json\.php GET: 1, json\.php POST: 0 \|/);
      expect(md).toMatch(/\| `load` \| 1 \| JSON: 0, XML: 1 \|/);
      expect(output).toContain('incoming request'); // info logging is on...
      expect(output).toContain('APISECRET=%5Bredacted%5D');
      expect(output).not.toContain(API_SECRET); // ...and shows no credential
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await standIn.close();
    }
  });
});
