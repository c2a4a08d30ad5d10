#!/usr/bin/env node
/**
 * Bounded load and soak against the built server (dist/), loopback only.
 *
 *   node scripts/soak.mjs [--minutes 5] [--seconds N] [--warmup 10] [--connections 8] [--sessions 3]
 *
 * Starts `node dist/server/cli.js --port 0` on 127.0.0.1, warms up, records the server's RSS and
 * heap-free RSS, runs a mixed workload (reads and idempotent writes on all four vendors, spread
 * over a fixed, small set of sessions) for the given time, then checks: zero socket errors, zero
 * timeouts, zero unexpected statuses, zero vendor-level errors in 200 bodies (RackCorp FAULT,
 * NeuCRM error), and memory after the soak within a margin of where it settled after warm-up.
 * Exit code 0 when all hold. `runSoak()` is what test/hardening/load.test.ts calls.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function rssKb(pid) {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

function startServer(journalSize) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--expose-gc',
        path.join(ROOT, 'dist/server/cli.js'),
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--log-level',
        'warn',
        ...(journalSize === undefined ? [] : ['--journal-size', String(journalSize)]),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code}): ${out}`)));
  });
}

const tsNow = () => new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
function esSignature(ua) {
  const key = 'emailsrvr-sandbox-user-key';
  const ts = tsNow();
  return `${key}:${ts}:${createHash('sha1')
    .update(key + ua + ts + 'emailsrvr-sandbox-secret-key')
    .digest('base64')}`;
}

/** The workload: every request answers 200 with a success body when the emulator is healthy. */
function workload(sessions) {
  const rc = {
    authorization: `Basic ${Buffer.from('11111111-2222-4333-8444-555555555555:rackcorp-sandbox-secret').toString('base64')}`,
  };
  const mg = { authorization: `Basic ${Buffer.from('api-sandbox:mgmt-sandbox-password').toString('base64')}` };
  const ua = 'soak/1.0';
  const es = { 'user-agent': ua, 'x-api-signature': esSignature(ua), accept: 'application/json' };
  const isp = 'userid=5&api_key=0f9895fb407c83e5ea128082098b47681aa75d6944576423c4';
  const okRc = (b) => b.includes('"code":"OK"');
  const okIsp = (b) => b.includes('"error":null');
  const reqs = [];
  for (let s = 0; s < sessions; s++) {
    const p = `/_sessions/soak-${s}`;
    reqs.push(
      { method: 'GET', path: `${p}/api/rest/v2.9/customers/123`, headers: rc, check: okRc },
      { method: 'GET', path: `${p}/api/v2.9/customers?keyword=Example&resWindow=50`, headers: rc, check: okRc },
      {
        method: 'POST',
        path: `${p}/api/rest/v2.9/json.php`,
        headers: { ...rc, 'content-type': 'application/json' },
        body: JSON.stringify({ cmd: 'customer.update', id: 123, customID: 'SOAK' }),
        check: okRc,
      },
      {
        method: 'GET',
        path: `${p}/api/rest/v2.9/billing/usage?type=billing&summary=services&time_start=2024-01-01&time_finish=2024-03-31`,
        headers: rc,
        check: okRc,
      },
      { method: 'GET', path: `${p}/v1/customers?contains=API&size=50`, headers: es },
      {
        method: 'PUT',
        path: `${p}/customers/460182`,
        headers: { ...es, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'API Customer 17' }),
      },
      {
        method: 'POST',
        path: `${p}/api/customer/list`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `${isp}&name=xyz%25&rows_limit=20`,
        check: okIsp,
      },
      {
        method: 'POST',
        path: `${p}/api/customer/update`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `${isp}&customerid=1093&street=Soak%20Street`,
        check: okIsp,
      },
      { method: 'GET', path: `${p}/api/v01/customers?city=york&limit=50`, headers: mg },
      { method: 'GET', path: `${p}/api/v01/customers/5`, headers: { ...mg, accept: 'application/xml' } },
    );
  }
  return reqs;
}

function run(url, seconds, connections, reqs, tally) {
  return new Promise((resolve, reject) => {
    const requests = reqs.map(({ check, ...r }) => ({
      ...r,
      onResponse: (status, body) => {
        if (status !== 200) tally.badStatus.push(`${r.method} ${r.path} -> ${status} ${String(body).slice(0, 200)}`);
        else if (check && !check(String(body)))
          tally.badBody.push(`${r.method} ${r.path} -> ${String(body).slice(0, 200)}`);
      },
    }));
    autocannon({ url, connections, duration: seconds, requests }, (err, result) =>
      err ? reject(err) : resolve(result),
    );
  });
}

/**
 * `journalSize`: the server's journal ring per session. Memory can only be seen to hold once every
 * ring has filled during the warm-up, so short runs pass a small one.
 */
export async function runSoak({
  seconds = 300,
  warmup = 10,
  connections = 8,
  sessions = 3,
  journalSize = undefined,
  log = console.log,
} = {}) {
  const { child, url } = await startServer(journalSize);
  const tally = { badStatus: [], badBody: [] };
  try {
    const reqs = workload(sessions);
    await run(url, warmup, connections, reqs, tally);
    const settled = rssKb(child.pid);
    const result = await run(url, seconds, connections, reqs, tally);
    const after = rssKb(child.pid);
    const summary = {
      requests: result.requests.total,
      rps: Math.round(result.requests.average),
      errors: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
      badStatus: tally.badStatus.length,
      badBody: tally.badBody.length,
      rssAfterWarmupMb: +(settled / 1024).toFixed(1),
      rssAfterSoakMb: +(after / 1024).toFixed(1),
    };
    log(JSON.stringify(summary));
    return {
      ...summary,
      samples: [...tally.badStatus.slice(0, 5), ...tally.badBody.slice(0, 5)],
      settledKb: settled,
      afterKb: after,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.on('exit', r));
  }
}

/** Memory after the soak may exceed the settled level by 25 % or 48 MB, whichever is larger. */
export function memoryHeld(settledKb, afterKb) {
  return afterKb <= Math.max(settledKb * 1.25, settledKb + 48 * 1024);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name, def) => {
    const i = process.argv.indexOf(`--${name}`);
    return i === -1 ? def : Number(process.argv[i + 1]);
  };
  const seconds = arg('seconds', arg('minutes', 5) * 60);
  const r = await runSoak({
    seconds,
    warmup: arg('warmup', 10),
    connections: arg('connections', 8),
    sessions: arg('sessions', 3),
  });
  const ok =
    r.errors === 0 &&
    r.timeouts === 0 &&
    r.non2xx === 0 &&
    r.badStatus === 0 &&
    r.badBody === 0 &&
    memoryHeld(r.settledKb, r.afterKb);
  if (!ok) console.error('soak FAILED', r.samples);
  process.exit(ok ? 0 : 1);
}
