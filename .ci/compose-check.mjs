#!/usr/bin/env node
// Runs compose.yaml with podman-compose on the image .ci/docker-smoke built (EMULATOR_IMAGE), on
// loopback ports, and checks it (run by .ci/deploy-check, which sets up podman and the lock):
//   1. `emulator`: the health check passes, a vendor call answers, the control plane needs the
//      token, and the store lives on the named volume (it survives `down` + `up`).
//   2. profile scale (`balancer`, podman-compose 1.0 has no --profile: the service is named): 9
//      sessions through nginx each keep their own data; one instance is killed; the others'
//      sessions are untouched and the lost ones get the explicit mode's 404.
// Every wait is bounded; the projects are removed at the end, whatever happened.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const IMAGE = process.env.EMULATOR_IMAGE;
if (!IMAGE) throw new Error('EMULATOR_IMAGE is not set (the image .ci/docker-smoke built)');
const TOKEN = `ci-${process.pid}-${Date.now()}`;
const RACKCORP = { APIUUID: '11111111-2222-4333-8444-555555555555', APISECRET: 'rackcorp-sandbox-secret' };
// The customer body the RackCorp tests create (test/rackcorp/new-customer.json), under a company name of its own.
const NEW_CUSTOMER = JSON.parse(fs.readFileSync(path.join(repo, 'test/rackcorp/new-customer.json'), 'utf8'));
const customer = (companyName) => ({ ...NEW_CUSTOMER, companyName });

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = net
      .createServer()
      .listen(0, '127.0.0.1', () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      })
      .once('error', reject);
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const step = (s) => console.log(`\n-- compose: ${s}`);

function sh(cmd, args, env = {}, timeoutSec = 300) {
  return execFileSync(cmd, args, {
    cwd: repo,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: timeoutSec * 1000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
function compose(project, env, ...args) {
  try {
    return sh('podman-compose', ['-f', 'compose.yaml', '-p', project, ...args], env, 600);
  } catch (e) {
    throw new Error(`podman-compose ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`, {
      cause: e,
    });
  }
}
function cleanup(project, env) {
  try {
    compose(project, env, 'down', '-v');
  } catch (e) {
    console.log(`(cleanup) ${e.message.split('\n')[0]}`);
  }
  // podman-compose 1.0 leaves the project's network behind.
  try {
    sh('podman', ['network', 'rm', '-f', `${project}_default`], {}, 60);
  } catch {
    /* none */
  }
}

async function waitHealthy(url, what) {
  for (let i = 0; i < 120; i++) {
    try {
      const r = await fetch(`${url}/_emulator/health`, { signal: AbortSignal.timeout(2000) });
      if (r.status === 200) return r.json();
    } catch {
      /* not yet */
    }
    await sleep(500);
  }
  throw new Error(`${what}: no healthy answer on ${url}/_emulator/health within 60 s`);
}

async function rc(url, cmd, params = {}, session) {
  const r = await fetch(`${url}/api/rest/v2.9/json.php`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(session ? { 'x-emulator-session': session } : {}) },
    body: JSON.stringify({ cmd, ...RACKCORP, ...params }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: r.status, body: await r.json() };
}
async function ctl(url, method, p) {
  const r = await fetch(`${url}${p}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}` },
    signal: AbortSignal.timeout(10_000),
  });
  return { status: r.status, body: await r.json() };
}

async function single() {
  const project = `vae-ci-single-${process.pid}`;
  const port = await freePort();
  const env = { EMULATOR_IMAGE: IMAGE, EMULATOR_CONTROL_TOKEN: TOKEN, EMULATOR_PORT: String(port) };
  const url = `http://127.0.0.1:${port}`;
  try {
    step('without EMULATOR_CONTROL_TOKEN the file refuses to start (podman-compose --dry-run)');
    const { EMULATOR_CONTROL_TOKEN: _unset, ...envWithoutToken } = process.env;
    let refused = '';
    try {
      execFileSync('podman-compose', ['-f', 'compose.yaml', '-p', project, '--dry-run', 'up', '-d', 'emulator'], {
        cwd: repo,
        env: { ...envWithoutToken, EMULATOR_IMAGE: IMAGE },
        encoding: 'utf8',
        timeout: 60_000,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (e) {
      refused = `${e.stdout}${e.stderr}`;
    }
    assert.match(refused, /set EMULATOR_CONTROL_TOKEN/);

    step(`up -d emulator on ${url}`);
    compose(project, env, 'up', '-d', 'emulator');
    const health = await waitHealthy(url, 'emulator');
    assert.equal(health.store, 'file', 'EMULATOR_DB on the volume: the store is a file');
    sh('podman', ['healthcheck', 'run', `${project}_emulator_1`], {}, 60);
    console.log('compose healthcheck: healthy');

    step('a vendor call, and the control plane behind the token');
    const made = await rc(url, 'customer.create', customer('Compose Pty'));
    assert.equal(made.body.code, 'OK', JSON.stringify(made.body));
    const id = made.body.customerid;
    const noToken = await fetch(`${url}/_emulator/requests`);
    assert.equal(noToken.status, 401);
    const journal = await ctl(url, 'GET', '/_emulator/requests');
    assert.equal(journal.status, 200);
    assert.deepEqual(
      journal.body.requests.map((r) => r.operation),
      ['customer.create'],
    );

    step('down and up again: the named volume keeps the store');
    compose(project, env, 'down');
    compose(project, env, 'up', '-d', 'emulator');
    await waitHealthy(url, 'emulator (again)');
    const kept = await rc(url, 'customer.get', { id });
    assert.equal(kept.body.customer?.companyName, 'Compose Pty', JSON.stringify(kept.body));
    console.log(`customer ${id} survived down/up`);
  } finally {
    cleanup(project, env);
  }
}

async function scale() {
  const project = `vae-ci-scale-${process.pid}`;
  const port = await freePort();
  const env = { EMULATOR_IMAGE: IMAGE, EMULATOR_CONTROL_TOKEN: TOKEN, EMULATOR_SCALE_PORT: String(port) };
  const url = `http://127.0.0.1:${port}`;
  const sessions = Array.from({ length: 9 }, (_, i) => `compose-${i + 1}`);
  const instance = (n) => `${project}_emulator-${n}_1`;
  // Each instance is reachable only inside the project's network: ask it from inside its container.
  const sessionsOn = (n) =>
    JSON.parse(
      sh(
        'podman',
        [
          'exec',
          instance(n),
          'node',
          '-e',
          `fetch('http://127.0.0.1:8080/_emulator/sessions',{headers:{authorization:'Bearer ${TOKEN}'}}).then(r=>r.json()).then(b=>console.log(JSON.stringify(b.sessions.map(s=>s.id))))`,
        ],
        {},
        60,
      ),
    );
  try {
    step(`profile scale: up -d balancer (three emulators behind nginx) on ${url}`);
    compose(project, env, 'up', '-d', 'balancer');
    await waitHealthy(url, 'balancer');
    for (const n of [1, 2, 3]) {
      for (let i = 0; i < 60; i++) {
        try {
          sessionsOn(n);
          break;
        } catch (e) {
          if (i === 59) throw e;
          await sleep(500);
        }
      }
    }

    for (const s of sessions) {
      const made = await ctl(url, 'POST', `/_emulator/sessions?session=${s}`);
      assert.equal(made.status, 201, `${s}: ${JSON.stringify(made.body)}`);
      const w = await rc(url, 'customer.create', customer(`Company ${s}`), s);
      assert.equal(w.body.code, 'OK', `${s}: ${JSON.stringify(w.body)}`);
    }
    const holder = new Map();
    for (const n of [1, 2, 3]) for (const s of sessionsOn(n)) holder.set(s, n);
    assert.deepEqual([...holder.keys()].sort(), [...sessions].sort());
    console.log(
      `sessions per instance: ${[1, 2, 3].map((n) => [...holder.values()].filter((v) => v === n).length).join(', ')}`,
    );
    for (const s of sessions) {
      const got = await rc(url, 'customer.get', { id: 906 }, s);
      assert.equal(got.body.customer?.companyName, `Company ${s}`, `${s}: ${JSON.stringify(got.body)}`);
    }

    const victim = [1, 2, 3].find((n) => [...holder.values()].includes(n));
    step(`kill ${instance(victim)}`);
    sh('podman', ['kill', instance(victim)], {}, 60);
    for (const s of sessions) {
      const got = await rc(url, 'customer.get', { id: 906 }, s);
      if (holder.get(s) === victim) {
        assert.equal(got.status, 404, `${s} (lost): ${JSON.stringify(got.body)}`);
        assert.match(got.body.message, new RegExp(`Unknown session "${s}"`));
      } else {
        assert.equal(got.body.customer?.companyName, `Company ${s}`, `${s} (kept): ${JSON.stringify(got.body)}`);
      }
    }
    console.log(`lost sessions answer 404 naming them; the others kept their data`);
  } finally {
    cleanup(project, env);
  }
}

const which = process.argv[2] ?? 'all';
if (which === 'all' || which === 'single') await single();
if (which === 'all' || which === 'scale') await scale();
console.log('\ncompose: PASS');
