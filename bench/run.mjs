#!/usr/bin/env node
/**
 * npm run bench [-- --duration 5 --runs 3 --scale --scale-sizes 10000,1000000 --scale-fixtures-root DIR]
 *
 * Spawns the real CLI (dist/server/cli.js) and the bare-Fastify ceiling (bench/ceiling.mjs) as
 * separate processes on loopback, loads both with autocannon (programmatic, in this process), and
 * reports each scenario as a ratio emulator/ceiling within the same run: median of --runs runs,
 * with min and max. When `taskset` works, servers run on CPU 0 and this process (the load
 * generator) re-executes itself on CPU 1. Results: a table on stdout and bench/results/<stamp>.json.
 */
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist/server/cli.js');
const CEILING = path.join(ROOT, 'bench/ceiling.mjs');
const args = process.argv.slice(2);
const flag = (n) => args.includes(n);
const opt = (n, d) => {
  const i = args.indexOf(n);
  return i >= 0 ? args[i + 1] : d;
};
const DURATION = Number(opt('--duration', '5'));
const RUNS = Number(opt('--runs', '3'));
const CONNECTIONS = Number(opt('--connections', '50'));
const SCALE_ONLY = flag('--scale-only');
const SCALE = flag('--scale') || SCALE_ONLY;
const SCALE_SIZES = opt('--scale-sizes', '10000,1000000').split(',').map(Number);
const ONLY = opt('--only', null);
/**
 * Where generated fixture sets are looked for (DIR/fixtures-N, DIR/N, or DIR/100k, DIR/1m) before generating them into
 * bench/results.
 */
const SCALE_FIXTURES_ROOT = opt('--scale-fixtures-root', process.env.BENCH_FIXTURES_ROOT ?? null);
/**
 * Sessions opened at each scale size for the per-session measures (fewer when RSS grows past
 * --scale-session-budget-mb).
 */
const SCALE_SESSIONS = Number(opt('--scale-sessions', '20'));
const SCALE_SESSION_BUDGET_MB = Number(opt('--scale-session-budget-mb', '3072'));
/** --cpu-prof DIR: the long-lived emulator of the throughput phase writes a V8 CPU profile there. */
const CPU_PROF = opt('--cpu-prof', null);

// ---- pinning: re-exec the load generator on CPU 1, servers go on CPU 0 ----
const canPin = os.cpus().length >= 2 && spawnSync('taskset', ['-c', '0', 'true']).status === 0;
if (canPin && !process.env.BENCH_PINNED) {
  const r = spawnSync(
    'taskset',
    ['-c', '1', process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), ...args],
    { stdio: 'inherit', env: { ...process.env, BENCH_PINNED: '1' } },
  );
  process.exit(r.status ?? 1);
}
const pinned = canPin && process.env.BENCH_PINNED === '1';
const serverCmd = (argv) => (pinned ? ['taskset', ['-c', '0', process.execPath, ...argv]] : [process.execPath, argv]);
/**
 * A server free to use every CPU (a child of this process would inherit its CPU 1 only): the first
 * start of a big fixture set compiles it on two processes (src/store/seed-parallel.ts), as it does
 * on any machine; no load is generated while it starts.
 */
const allCpusCmd = (argv) =>
  pinned ? ['taskset', ['-c', `0-${os.cpus().length - 1}`, process.execPath, ...argv]] : [process.execPath, argv];

// ---- small helpers ----
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const stats = (a) => ({ median: median(a), min: Math.min(...a), max: Math.max(...a), n: a.length });
/** Stats of the runs' CPU per request (µs), or null where it could not be read. */
const cpuStats = (runs) => {
  const us = runs.flatMap((r) => (r.cpuUs ? [r.cpuUs] : []));
  return us.length ? stats(us) : null;
};
const rssKb = (pid) => {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
};
/** Clock ticks per second of /proc/<pid>/stat (null off Linux). */
const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  return r.status === 0 && Number(r.stdout) > 0 ? Number(r.stdout) : null;
})();
/**
 * CPU time the process has used so far (user + system, every thread), ms; null where /proc has no
 * stat. Read around each run, it gives the server's CPU per request, which moves far less between
 * runs on a shared machine than req/s does.
 */
const cpuMs = (pid) => {
  if (CLK_TCK === null) return null;
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  } catch {
    return null;
  }
};
const log = (...a) => process.stderr.write(a.join(' ') + '\n');

/** Spawn a server; resolves with {proc, url, spawnedAt} once it printed its listening line. */
function startServer(kind, extra = [], nodeArgs = [], allCpus = false) {
  const argv = [
    ...nodeArgs,
    ...(kind === 'emulator'
      ? [CLI, '--port', '0', '--log-level', 'warn', ...extra]
      : [CEILING, '--port', '0', ...extra]),
  ];
  const [cmd, a] = (allCpus ? allCpusCmd : serverCmd)(argv);
  const spawnedAt = performance.now();
  const proc = spawn(cmd, a, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => {
    err += d;
  });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) resolve({ proc, url: m[1], spawnedAt });
    });
    proc.on('exit', (code) => reject(new Error(`${kind} exited (${code}): ${err.slice(0, 2000)}`)));
  });
}
async function stopServer(s) {
  if (s.proc.exitCode !== null) return;
  const done = new Promise((r) => s.proc.once('exit', r));
  s.proc.kill('SIGTERM');
  await Promise.race([done, sleep(3000)]);
  if (s.proc.exitCode === null) s.proc.kill('SIGKILL');
}

async function send(base, r) {
  const res = await fetch(base + r.path, { method: r.method, headers: r.headers, body: r.body });
  return { status: res.status, contentType: res.headers.get('content-type') ?? 'text/plain', body: await res.text() };
}

// ---- credentials and requests ----
const RC_KEY = { APIUUID: '11111111-2222-4333-8444-555555555555', APISECRET: 'rackcorp-sandbox-secret' };
const RC_BASIC = 'Basic ' + Buffer.from(`${RC_KEY.APIUUID}:${RC_KEY.APISECRET}`).toString('base64');
const ES_KEY = 'emailsrvr-sandbox-user-key',
  ES_SECRET = 'emailsrvr-sandbox-secret-key',
  ES_UA = 'bench-client/1.0';
const ISP = 'userid=5&api_key=0f9895fb407c83e5ea128082098b47681aa75d6944576423c4';
const MGMT_BASIC = 'Basic ' + Buffer.from('api-sandbox:mgmt-sandbox-password').toString('base64');
const FORM = 'application/x-www-form-urlencoded';

/**
 * X-Api-Signature per vendor-notes: UserKey:yyyyMMddHHmmss:Base64(SHA1(UserKey + UserAgent +
 * Timestamp + SecretKey)).
 */
function esSignature() {
  const ts = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const sha = crypto
    .createHash('sha1')
    .update(ES_KEY + ES_UA + ts + ES_SECRET)
    .digest('base64');
  return `${ES_KEY}:${ts}:${sha}`;
}
async function rackcorpToken(base) {
  const r = await send(base, {
    method: 'POST',
    path: '/api/rest/v2.9/json.php',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      cmd: 'session.login',
      username: 'sandbox@example.com',
      password: 'rackcorp-sandbox-password',
      jwt: 1,
    }),
  });
  const token = JSON.parse(r.body).token;
  if (!token) throw new Error(`session.login gave no token: ${r.body}`);
  return token;
}

/** Every request of a scenario carries x-bench-route (the ceiling picks its answer by it). */
function req(key, method, p, headers = {}, body) {
  return { key, method, path: p, headers: { 'x-bench-route': key, ...headers }, body };
}

function scenarios(token) {
  const bearer = { authorization: `Bearer ${token}` };
  const es = { 'user-agent': ES_UA, 'x-api-signature': esSignature(), accept: 'text/xml' };
  let n = 0;
  const uniq = () => `${process.pid}-${Date.now().toString(36)}-${n++}`;
  return [
    {
      name: 'rackcorp customer.get REST Bearer',
      target: 0.6,
      kind: 'read',
      requests: [req('rc-get', 'GET', '/api/rest/v2.9/customers/123', bearer)],
    },
    {
      name: 'rackcorp customer.get json.php POST key',
      target: 0.4,
      kind: 'read',
      requests: [
        req(
          'rc-jsonphp',
          'POST',
          '/api/rest/v2.9/json.php',
          { 'content-type': 'application/json' },
          JSON.stringify({ cmd: 'customer.get', id: 123, ...RC_KEY }),
        ),
      ],
    },
    {
      name: 'rackcorp customer.getall keyword',
      target: 0.4,
      kind: 'read',
      requests: [req('rc-keyword', 'GET', '/api/rest/v2.9/customers?keyword=Example', bearer)],
    },
    {
      name: 'rackspace index XML signed',
      target: 0.4,
      kind: 'read',
      requests: [req('es-index', 'GET', '/v0/customers?size=50&page=1', es)],
    },
    {
      name: 'neucrm list name % wildcard',
      target: 0.4,
      kind: 'read',
      requests: [
        req(
          'isp-list',
          'POST',
          '/api/customer/list',
          { 'content-type': FORM },
          `${ISP}&name=${encodeURIComponent('%Trad%')}`,
        ),
      ],
    },
    {
      name: 'unipay find Basic',
      target: 0.4,
      kind: 'read',
      requests: [req('mgmt-find', 'GET', '/api/v01/customers?lastName=smi&limit=20', { authorization: MGMT_BASIC })],
    },
    {
      // Reads and creates on every vendor; each connection works in its own session.
      name: 'mixed read/write, session per connection',
      target: 0.25,
      kind: 'write',
      sessions: true,
      requests: () => [
        req('mix-rc-get', 'GET', '/api/rest/v2.9/customers/123', bearer),
        req(
          'mix-rc-create',
          'POST',
          '/api/rest/v2.9/json.php',
          { 'content-type': 'application/json' },
          JSON.stringify({
            cmd: 'customer.create',
            ...RC_KEY,
            firstName: 'Bench',
            lastName: `User${uniq()}`,
            locations: [
              { addressLine1: '1 Bench St', suburb: 'Sydney', state: 'NSW', postcode: '2000', country: 'AU' },
            ],
            contacts: [{ name: 'Bench User', email: 'bench@example.com' }],
          }),
        ),
        req('mix-es-index', 'GET', '/v0/customers?size=50&page=1', es),
        req(
          'mix-es-add',
          'POST',
          '/customers',
          { ...es, 'content-type': FORM },
          `name=Bench%20${uniq()}&referenceNumber=42`,
        ),
        req(
          'mix-isp-list',
          'POST',
          '/api/customer/list',
          { 'content-type': FORM },
          `${ISP}&name=${encodeURIComponent('%Trad%')}`,
        ),
        req(
          'mix-isp-create',
          'POST',
          '/api/customer/create',
          { 'content-type': FORM },
          `${ISP}&type=Individual&name=Bench&mobile=12344444&email=bench%40example.com&zipcode=12345&state=Goa&city=Panaji&street=3rd%20street`,
        ),
        req('mix-mgmt-find', 'GET', '/api/v01/customers?lastName=smi&limit=20', { authorization: MGMT_BASIC }),
        req(
          'mix-mgmt-create',
          'PUT',
          '/api/v01/customers',
          { authorization: MGMT_BASIC, 'content-type': 'application/json' },
          JSON.stringify({ accountId: 2001, firstName: 'Bench', lastName: 'User', email: 'bench@example.org' }),
        ),
      ],
    },
  ];
}

/** One autocannon run against base. With `sessions`, each connection gets its own session id for the whole run. */
function cannon(base, requests, { sessions = false, duration = DURATION, tag = '' } = {}) {
  let nextSession = 0;
  const reqs = requests.map((r) => {
    const q = { method: r.method, path: r.path, headers: r.headers, body: r.body };
    // With a setupRequest, autocannon rebuilds every request through the client's builder, which
    // setupClient wraps to add the connection's session header (autocannon's per-request
    // `context` is cleared each time the request list wraps, so it cannot hold the session).
    if (sessions) q.setupRequest = (x) => x;
    return q;
  });
  const setupClient = sessions
    ? (client) => {
        const sid = `bench-${tag}-${process.pid}-${nextSession++}`;
        const it = client.requestIterator;
        const build = it.requestBuilder;
        it.requestBuilder = (req, ctx) =>
          build({ ...req, headers: { ...req.headers, 'x-emulator-session': sid } }, ctx);
        it.rebuildRequest();
      }
    : undefined;
  return new Promise((resolve, reject) => {
    autocannon(
      { url: base, connections: CONNECTIONS, duration, requests: reqs, ...(setupClient ? { setupClient } : {}) },
      (err, res) => {
        if (err) return reject(err);
        const bad = res.non2xx + res.errors + res.timeouts;
        resolve({
          rps: res.requests.average,
          p50: res.latency.p50,
          p99: res.latency.p99,
          non2xx: res.non2xx,
          errors: res.errors + res.timeouts,
          total: res.requests.total,
          bad,
          sessions: nextSession,
        });
      },
    );
  });
}

// ---- the measurements ----
async function spawnToFirst200(kind, extra, probe, allCpus = false) {
  const t0 = performance.now();
  const s = await startServer(kind, extra, [], allCpus);
  for (;;) {
    try {
      const r = await send(s.url, probe);
      if (r.status === 200) break;
    } catch {
      /* not yet */
    }
    await sleep(2);
  }
  const ms = performance.now() - t0;
  return { ms, server: s };
}

async function main() {
  const started = new Date();
  const machine = {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model,
    mem_gb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadavg: os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' '),
  };
  const config = {
    duration_s: DURATION,
    runs: RUNS,
    connections: CONNECTIONS,
    pinned,
    pinning: pinned
      ? 'servers on CPU 0, load generator on CPU 1 (taskset)'
      : 'not pinned (taskset unavailable or one CPU)',
    load_generator: `autocannon ${JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/autocannon/package.json'), 'utf8')).version} (programmatic, in the harness process)`,
  };
  log(`bench: ${config.pinning}; ${config.load_generator}; ${RUNS} runs x ${DURATION}s at ${CONNECTIONS} connections`);
  const results = {
    date: started.toISOString(),
    machine,
    config,
    scenarios: [],
    startup: null,
    session: null,
    rss: null,
    scale: null,
  };

  if (!SCALE_ONLY) await throughput(results);
  if (SCALE) results.scale = await scale();

  const outDir = path.join(ROOT, 'bench/results');
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${started.toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify(results, null, 2));
  process.stdout.write(table(results) + `\nJSON: ${path.relative(ROOT, file)}\n`);
}

async function throughput(results) {
  // 1. Capture every scenario's emulator responses (a fresh emulator), for the ceiling.
  const probe = req('probe', 'GET', '/api/rest/v2.9/json.php?cmd=customer.get&id=123', { authorization: RC_BASIC });
  const cap = await startServer('emulator');
  const token = await rackcorpToken(cap.url);
  const captured = [];
  const capReq = async (r, session) => {
    const res = await send(cap.url, session ? { ...r, headers: { ...r.headers, 'x-emulator-session': session } } : r);
    if (res.status >= 400) log(`  warning: ${r.key} answered ${res.status}: ${res.body.slice(0, 200)}`);
    captured.push({
      key: r.key,
      method: r.method,
      path: r.path.split('?')[0],
      status: res.status,
      contentType: res.contentType,
      body: res.body,
    });
  };
  await capReq(probe);
  for (const sc of scenarios(token)) {
    const list = typeof sc.requests === 'function' ? sc.requests() : sc.requests;
    for (const r of list) await capReq(r, sc.sessions ? 'bench-capture' : undefined);
  }
  await stopServer(cap);
  const routesFile = path.join(os.tmpdir(), `bench-routes-${process.pid}.json`);
  fs.writeFileSync(routesFile, JSON.stringify(captured));
  const ceilArgs = ['--routes', routesFile];

  // 2. Spawn to first 200 (alternating), RSS idle.
  const startup = { emulator: [], ceiling: [] };
  const idle = { emulator: [], ceiling: [] };
  for (let i = 0; i < (ONLY ? 1 : Math.max(RUNS, 5)); i++) {
    for (const kind of ['emulator', 'ceiling']) {
      const { ms, server } = await spawnToFirst200(kind, kind === 'ceiling' ? ceilArgs : [], probe);
      startup[kind].push(ms);
      await sleep(300);
      idle[kind].push(rssKb(server.proc.pid) / 1024);
      await stopServer(server);
    }
  }
  results.startup = {
    emulator_ms: stats(startup.emulator),
    ceiling_ms: stats(startup.ceiling),
    ratio: median(startup.emulator) / median(startup.ceiling),
    target: '<= 1.3',
  };
  log(
    `spawn to first 200: emulator ${median(startup.emulator).toFixed(0)} ms, ceiling ${median(startup.ceiling).toFixed(0)} ms`,
  );

  // 3. Throughput: one long-lived emulator and ceiling, scenario by scenario, runs alternating.
  const emu = await startServer(
    'emulator',
    [],
    CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(CPU_PROF)] : [],
  );
  const ceil = await startServer('ceiling', ceilArgs);
  const emuToken = await rackcorpToken(emu.url);
  let warmSessions = 0;
  for (const sc of scenarios(emuToken)) {
    if (ONLY && !sc.name.includes(ONLY)) continue;
    const per = { emulator: [], ceiling: [] };
    const list = () => (typeof sc.requests === 'function' ? sc.requests() : sc.requests);
    // warm-up (JIT, prepared statements), not counted
    for (const [k, s] of [
      ['emulator', emu],
      ['ceiling', ceil],
    ]) {
      const w = await cannon(s.url, list(), { sessions: sc.sessions, duration: 1, tag: `warm-${k}` });
      if (k === 'emulator') warmSessions += w.sessions;
    }
    // Who runs first takes turns: the server measured right after a pause (or after the other
    // server's run) is measured differently, and a fixed order would lean every ratio one way.
    for (let i = 0; i < RUNS; i++) {
      const order = [
        ['emulator', emu],
        ['ceiling', ceil],
      ];
      if (i % 2 === 1) order.reverse();
      for (const [k, s] of order) {
        const c0 = cpuMs(s.proc.pid);
        const r = await cannon(s.url, list(), { sessions: sc.sessions, tag: `${k}${i}` });
        const c1 = cpuMs(s.proc.pid);
        r.cpuUs = c0 === null || c1 === null || r.total === 0 ? null : ((c1 - c0) * 1000) / r.total;
        per[k].push(r);
      }
    }
    const ratios = per.emulator.map((e, i) => e.rps / per.ceiling[i].rps);
    const row = {
      name: sc.name,
      kind: sc.kind,
      target_ratio: sc.target,
      emulator: {
        rps: stats(per.emulator.map((r) => r.rps)),
        p50_ms: stats(per.emulator.map((r) => r.p50)),
        p99_ms: stats(per.emulator.map((r) => r.p99)),
        non2xx: per.emulator.reduce((a, r) => a + r.non2xx, 0),
        errors: per.emulator.reduce((a, r) => a + r.errors, 0),
        sessions_made: per.emulator.reduce((a, r) => a + r.sessions, 0),
        cpu_us_per_request: cpuStats(per.emulator),
      },
      ceiling: {
        rps: stats(per.ceiling.map((r) => r.rps)),
        p50_ms: stats(per.ceiling.map((r) => r.p50)),
        p99_ms: stats(per.ceiling.map((r) => r.p99)),
        cpu_us_per_request: cpuStats(per.ceiling),
      },
      ratio: stats(ratios),
    };
    // The same comparison by CPU: the ceiling's CPU per request over the emulator's, run by run.
    const cpuRatios = per.emulator.flatMap((e, i) =>
      e.cpuUs && per.ceiling[i].cpuUs ? [per.ceiling[i].cpuUs / e.cpuUs] : [],
    );
    if (cpuRatios.length) row.cpu_ratio = stats(cpuRatios);
    if (sc.name.includes('REST Bearer')) row.p99_target_ms = 5;
    results.scenarios.push(row);
    log(
      `${sc.name}: emulator ${row.emulator.rps.median.toFixed(0)} rps, ceiling ${row.ceiling.rps.median.toFixed(0)} rps, ratio ${row.ratio.median.toFixed(2)}${row.cpu_ratio ? ` (CPU ${row.emulator.cpu_us_per_request.median.toFixed(1)} / ${row.ceiling.cpu_us_per_request.median.toFixed(1)} µs, ${row.cpu_ratio.median.toFixed(2)})` : ''}, p99 ${row.emulator.p99_ms.median} ms${row.emulator.non2xx ? `, non-2xx ${row.emulator.non2xx}` : ''}`,
    );
  }

  // 4. New sessions: first request of a fresh session id vs the same request in a warm session.
  const one = async (sid) => {
    const t = performance.now();
    const r = await send(emu.url, { ...probe, headers: { ...probe.headers, 'x-emulator-session': sid } });
    const ms = performance.now() - t;
    if (r.status !== 200) throw new Error(`session probe answered ${r.status}`);
    return ms;
  };
  const fresh = [],
    warm = [];
  await one('bench-warm');
  for (let i = 0; i < 200; i++) {
    fresh.push(await one(`bench-fresh-${process.pid}-${i}`));
    warm.push(await one('bench-warm'));
  }
  results.session = {
    first_request_fresh_ms: stats(fresh),
    same_request_warm_ms: stats(warm),
    new_session_cost_ms: median(fresh) - median(warm),
    target: 'fresh first request median < 3 ms',
  };
  log(`new session: first request ${median(fresh).toFixed(2)} ms (warm ${median(warm).toFixed(2)} ms)`);

  results.rss = {
    idle_emulator_mb: stats(idle.emulator),
    idle_ceiling_mb: stats(idle.ceiling),
    idle_ratio: median(idle.emulator) / median(idle.ceiling),
    target: '<= 1.5',
    after_load_emulator_mb: rssKb(emu.proc.pid) / 1024,
    after_load_ceiling_mb: rssKb(ceil.proc.pid) / 1024,
    sessions_alive_after_load: warmSessions + results.scenarios.reduce((a, s) => a + s.emulator.sessions_made, 0) + 201,
  };
  await stopServer(emu);
  await stopServer(ceil);
  fs.rmSync(routesFile, { force: true });
}

// ---- scale: generated fixture sets ----
/** Two words of a generated company name (scripts/generate.mjs): 100 different pairs for i = 0..99. */
const SCALE_ADJ = ['Harbour', 'Amber', 'Cedar', 'Golden', 'Indigo', 'Maple', 'Pacific', 'Silver', 'Summit', 'Willow'];
const SCALE_NOUN = ['Robotics', 'Bakery', 'Dental', 'Freight', 'Labs', 'Media', 'Solar', 'Systems', 'Timber', 'Wines'];
const companyWords = (i) => `${SCALE_ADJ[i % 10]} ${SCALE_NOUN[Math.floor(i / 10) % 10]}`;
/**
 * The folder of a generated set of n customers per vendor: an existing one under the fixtures root, else
 * bench/results/fixtures-N (generated once).
 */
function scaleFixtures(n) {
  const short = n % 1e6 === 0 ? `${n / 1e6}m` : n % 1e3 === 0 ? `${n / 1e3}k` : String(n);
  if (SCALE_FIXTURES_ROOT) {
    for (const name of [`fixtures-${n}`, String(n), short]) {
      const dir = path.resolve(SCALE_FIXTURES_ROOT, name);
      if (fs.existsSync(path.join(dir, '.complete'))) return dir;
    }
    log(
      `no complete set of ${n} customers per vendor under ${SCALE_FIXTURES_ROOT} (fixtures-${n}, ${n} or ${short}): generating one`,
    );
  }
  const dir = path.join(ROOT, 'bench/results', `fixtures-${n}`);
  const marker = path.join(dir, '.complete');
  if (!fs.existsSync(marker)) {
    log(`generating ${n} customers per vendor in ${path.relative(ROOT, dir)} ...`);
    const g = spawnSync(
      process.execPath,
      [path.join(ROOT, 'scripts/generate.mjs'), '--customers', String(n), '--out', dir],
      { stdio: 'inherit' },
    );
    if (g.status !== 0) throw new Error('generate failed');
    fs.writeFileSync(marker, '');
  }
  return dir;
}

async function scale() {
  const out = [];
  for (const n of SCALE_SIZES) {
    const dir = scaleFixtures(n);
    // An empty seed cache of the bench's own: the first start compiles the fixtures (and fills it),
    // the second is served from it; the measures below run on the second.
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), `bench-seed-cache-${n}-`));
    const probe = req('probe', 'GET', '/api/rest/v2.9/json.php?cmd=customer.get&id=123', { authorization: RC_BASIC });
    const seedHealth = async (s) =>
      JSON.parse((await send(s.url, req('health', 'GET', '/_emulator/health'))).body).seed ?? null;
    const first = await spawnToFirst200('emulator', ['--fixtures', dir, '--seed-cache', cache], probe, true);
    // A big seed is written to the cache after the first answer (--seed-write-later-bytes): wait
    // for it (health says `written`), so that the next start finds it, and time it from the spawn.
    let firstSeed = await seedHealth(first.server);
    while (firstSeed && firstSeed.written === false && performance.now() - first.server.spawnedAt < 600_000) {
      await sleep(50);
      firstSeed = await seedHealth(first.server);
    }
    const writtenMs = performance.now() - first.server.spawnedAt;
    await sleep(500);
    const firstRss = rssKb(first.server.proc.pid) / 1024;
    await stopServer(first.server);
    const { ms, server } = await spawnToFirst200('emulator', ['--fixtures', dir, '--seed-cache', cache], probe);
    // A measure that fails must not leave a server of a million customers running.
    try {
      await sleep(500);
      const rss = rssKb(server.proc.pid) / 1024;
      const cachedSeed = await seedHealth(server);
      log(
        `scale ${n}: first start ${first.ms.toFixed(0)} ms (seed written at ${writtenMs.toFixed(0)} ms, rss ${firstRss.toFixed(0)} MB), cached start ${ms.toFixed(0)} ms (rss ${rss.toFixed(0)} MB); seed ${JSON.stringify(firstSeed)} then ${JSON.stringify(cachedSeed)}`,
      );
      const token = await rackcorpToken(server.url);
      const bearer = { authorization: `Bearer ${token}` };
      const lastRc = 905 + n - 69; // generated RackCorp ids follow 905
      const ispTotal = 150 + Math.max(0, n - 150);
      // Every request of a measure is a different one (another id, keyword or offset): the emulator
      // remembers answers until the data changes, and a repeated request would time that memory,
      // not the indexed lookup or search.
      const timed = async (make, count) => {
        const t = [];
        let last;
        for (let i = 0; i < count; i++) {
          const r = make(i);
          const t0 = performance.now();
          last = await send(server.url, r);
          t.push(performance.now() - t0);
          if (last.status !== 200) throw new Error(`${r.path} answered ${last.status}: ${last.body.slice(0, 200)}`);
        }
        return { ...stats(t), body_bytes: last.body.length, sample: last.body.slice(0, 120) };
      };
      // The totals of the lists without a computable one, from their first page.
      const es = () => ({ 'user-agent': ES_UA, 'x-api-signature': esSignature(), accept: 'text/xml' });
      const esTotal = Number(
        /<total>(\d+)<\/total>/.exec(
          (await send(server.url, req('s-es-total', 'GET', '/v0/customers?size=50&page=1', es()))).body,
        )?.[1],
      );
      const mgmtTotal = Number(
        /"total":\s*(\d+)|total="(\d+)"/
          .exec(
            (
              await send(
                server.url,
                req('s-mgmt-total', 'GET', '/api/v01/customers?limit=20', {
                  authorization: MGMT_BASIC,
                  accept: 'application/xml',
                }),
              )
            ).body,
          )
          ?.slice(1)
          .find(Boolean),
      );
      const esLastPage = Math.max(1, Math.ceil(esTotal / 50));
      const row = {
        customers_per_vendor: n,
        fixtures: dir,
        first_start_ms: first.ms,
        first_start_seed_written_ms: writtenMs,
        first_start_rss_mb: firstRss,
        first_start_seed: firstSeed,
        load_ms: ms,
        rss_mb: rss,
        cached_start_seed: cachedSeed,
        get_by_id: await timed((i) => req('s-get', 'GET', `/api/rest/v2.9/customers/${lastRc - i}`, bearer), 200),
        keyword: await timed(
          (i) => req('s-kw', 'GET', `/api/rest/v2.9/customers?keyword=${encodeURIComponent(companyWords(i))}`, bearer),
          100,
        ),
        wildcard: await timed(
          (i) =>
            req(
              's-wild',
              'POST',
              '/api/customer/list',
              { 'content-type': FORM },
              `${ISP}&name=${encodeURIComponent(`%${companyWords(i).slice(0, -2)}%`)}`,
            ),
          100,
        ),
        // First and deep pages of every list (10 different offsets each: none answered from memory).
        first_page_rackcorp: await timed(
          (i) => req('s-first', 'GET', `/api/rest/v2.9/customers?resStart=${i}&resWindow=20`, bearer),
          10,
        ),
        deep_page_rackcorp: await timed(
          (i) =>
            req(
              's-deep',
              'GET',
              `/api/rest/v2.9/customers?resStart=${Math.max(0, lastRc - 100 - i)}&resWindow=20`,
              bearer,
            ),
          10,
        ),
        first_page_neucrm: await timed(
          (i) =>
            req(
              's-first2',
              'POST',
              '/api/customer/list',
              { 'content-type': FORM },
              `${ISP}&rows_offset=${i}&rows_limit=10`,
            ),
          10,
        ),
        deep_page_neucrm: await timed(
          (i) =>
            req(
              's-deep2',
              'POST',
              '/api/customer/list',
              { 'content-type': FORM },
              `${ISP}&rows_offset=${Math.max(0, ispTotal - 200 - i)}&rows_limit=10`,
            ),
          10,
        ),
        rackspace_total: esTotal,
        first_page_rackspace: await timed(
          (i) => req('s-first3', 'GET', `/v0/customers?size=${50 - i}&page=1`, es()),
          10,
        ),
        deep_page_rackspace: await timed(
          (i) => req('s-deep3', 'GET', `/v0/customers?size=50&page=${Math.max(1, esLastPage - 1 - i)}`, es()),
          10,
        ),
        unipay_total: mgmtTotal,
        first_page_unipay: await timed(
          (i) => req('s-first4', 'GET', `/api/v01/customers?offset=${i}&limit=20`, { authorization: MGMT_BASIC }),
          10,
        ),
        deep_page_unipay: await timed(
          (i) =>
            req('s-deep4', 'GET', `/api/v01/customers?offset=${Math.max(0, mgmtTotal - 40 - i)}&limit=20`, {
              authorization: MGMT_BASIC,
            }),
          10,
        ),
      };
      Object.assign(row, await sessionCosts(server, rss));
      out.push(row);
      log(
        `scale ${n}: get ${row.get_by_id.median.toFixed(2)} ms, keyword ${row.keyword.median.toFixed(2)} ms, wildcard ${row.wildcard.median.toFixed(2)} ms, deep ${row.deep_page_rackcorp.median.toFixed(1)} / ${row.deep_page_neucrm.median.toFixed(1)} / ${row.deep_page_rackspace.median.toFixed(1)} / ${row.deep_page_unipay.median.toFixed(1)} ms, new session ${row.new_session_first_request.median.toFixed(1)} ms, ${row.rss_per_session_mb.toFixed(1)} MB per session (${row.sessions_measured} sessions)`,
      );
    } finally {
      await stopServer(server);
      fs.rmSync(cache, { recursive: true, force: true });
    }
  }
  return out;
}

/**
 * New sessions at scale: the first request of a new session (median of SCALE_SESSIONS, each
 * deleted after), then SCALE_SESSIONS live sessions with three writes each and the RSS they add,
 * per session. Stops opening sessions once RSS has grown by SCALE_SESSION_BUDGET_MB (a session may
 * be a whole copy of a big database): the count measured is in the result.
 */
async function sessionCosts(server, rssBefore) {
  const probe = req('probe', 'GET', '/api/rest/v2.9/json.php?cmd=customer.get&id=123', { authorization: RC_BASIC });
  const drop = (sid) => send(server.url, req('s-drop', 'DELETE', `/_emulator/sessions/${sid}`));
  const firsts = [];
  for (let i = 0; i < SCALE_SESSIONS; i++) {
    const sid = `scale-new-${process.pid}-${i}`;
    const t0 = performance.now();
    const r = await send(server.url, { ...probe, headers: { ...probe.headers, 'x-emulator-session': sid } });
    firsts.push(performance.now() - t0);
    if (r.status !== 200) throw new Error(`new session probe answered ${r.status}`);
    await drop(sid);
    if (rssKb(server.proc.pid) / 1024 - rssBefore > SCALE_SESSION_BUDGET_MB) break;
  }
  await sleep(500);
  const base = rssKb(server.proc.pid) / 1024;
  const live = [];
  for (let i = 0; i < SCALE_SESSIONS; i++) {
    const sid = `scale-live-${process.pid}-${i}`;
    live.push(sid);
    for (let w = 0; w < 3; w++) {
      const r = await send(
        server.url,
        req(
          's-write',
          'POST',
          '/api/rest/v2.9/json.php',
          { 'content-type': 'application/json', 'x-emulator-session': sid },
          JSON.stringify({
            cmd: 'customer.create',
            ...RC_KEY,
            firstName: 'Scale',
            lastName: `Session${i}w${w}`,
            locations: [
              { addressLine1: '1 Bench St', suburb: 'Sydney', state: 'NSW', postcode: '2000', country: 'AU' },
            ],
            contacts: [{ name: 'Bench User', email: 'bench@example.com' }],
          }),
        ),
      );
      if (r.status !== 200) throw new Error(`session write answered ${r.status}: ${r.body.slice(0, 200)}`);
    }
    if (rssKb(server.proc.pid) / 1024 - base > SCALE_SESSION_BUDGET_MB) break;
  }
  await sleep(500);
  const after = rssKb(server.proc.pid) / 1024;
  for (const sid of live) await drop(sid);
  return {
    new_session_first_request: stats(firsts),
    sessions_measured: live.length,
    rss_sessions_before_mb: base,
    rss_sessions_after_mb: after,
    rss_per_session_mb: (after - base) / live.length,
  };
}

function table(r) {
  const f = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  const mm = (s, d = 2) => `${f(s.median, d)} (${f(s.min, d)}-${f(s.max, d)})`;
  const ok = (b) => (b ? 'ok' : 'MISS');
  const lines = [];
  lines.push(
    `vendor-api-emulator bench ${r.date} | ${r.machine.cpus} x ${r.machine.model} | node ${r.machine.node} | ${r.config.pinning}`,
  );
  lines.push(
    `load generator: ${r.config.load_generator}; ${r.config.runs} runs x ${r.config.duration_s}s, ${r.config.connections} connections; ratio = emulator/ceiling, median (min-max)`,
  );
  if (r.scenarios.length) {
    lines.push('');
    lines.push(
      '| scenario | emulator rps | ceiling rps | ratio | target | emu p50 / p99 ms | ceil p50 / p99 ms | CPU µs/req emu / ceil (ratio) | |',
    );
    lines.push('|---|---|---|---|---|---|---|---|---|');
    for (const s of r.scenarios) {
      const pass =
        s.ratio.median >= s.target_ratio &&
        (!s.p99_target_ms || s.emulator.p99_ms.median < s.p99_target_ms) &&
        s.emulator.non2xx === 0;
      lines.push(
        `| ${s.name} | ${f(s.emulator.rps.median)} | ${f(s.ceiling.rps.median)} | ${mm(s.ratio)} | >= ${s.target_ratio}${s.p99_target_ms ? `, p99 < ${s.p99_target_ms} ms` : ''} | ${f(s.emulator.p50_ms.median)} / ${f(s.emulator.p99_ms.median)} | ${f(s.ceiling.p50_ms.median)} / ${f(s.ceiling.p99_ms.median)} | ${s.cpu_ratio ? `${f(s.emulator.cpu_us_per_request.median, 1)} / ${f(s.ceiling.cpu_us_per_request.median, 1)} (${f(s.cpu_ratio.median, 2)})` : 'n/a'} | ${ok(pass)}${s.emulator.non2xx ? ` (${s.emulator.non2xx} non-2xx)` : ''} |`,
      );
    }
    lines.push('');
    lines.push('| measure | emulator | ceiling | ratio / value | target | |');
    lines.push('|---|---|---|---|---|---|');
    lines.push(
      `| spawn to first 200, ms | ${mm(r.startup.emulator_ms, 0)} | ${mm(r.startup.ceiling_ms, 0)} | ${f(r.startup.ratio, 2)} | <= 1.3 | ${ok(r.startup.ratio <= 1.3)} |`,
    );
    lines.push(
      `| RSS idle, MB | ${mm(r.rss.idle_emulator_mb, 1)} | ${mm(r.rss.idle_ceiling_mb, 1)} | ${f(r.rss.idle_ratio, 2)} | <= 1.5 | ${ok(r.rss.idle_ratio <= 1.5)} |`,
    );
    lines.push(
      `| RSS after load, MB | ${f(r.rss.after_load_emulator_mb, 1)} | ${f(r.rss.after_load_ceiling_mb, 1)} | ${r.rss.sessions_alive_after_load} sessions made | bounded | |`,
    );
    lines.push(
      `| new session: first request, ms | ${mm(r.session.first_request_fresh_ms)} | warm ${mm(r.session.same_request_warm_ms)} | cost ${f(r.session.new_session_cost_ms, 2)} | < 3 | ${ok(r.session.first_request_fresh_ms.median < 3)} |`,
    );
  }
  if (r.scale) {
    const ms = (x) => f(x, x < 10 ? 2 : x < 100 ? 1 : 0);
    lines.push('');
    lines.push(
      '| customers per vendor | first start (compiles the seed), ms | cached start, ms | RSS after cached start, MB | new session first request, ms | RSS per live session (3 writes), MB | get-by-id ms | keyword ms | % wildcard ms |',
    );
    lines.push('|---|---|---|---|---|---|---|---|---|');
    for (const s of r.scale) {
      lines.push(
        `| ${s.customers_per_vendor} | ${f(s.first_start_ms)} (seed written at ${f(s.first_start_seed_written_ms)}; RSS ${f(s.first_start_rss_mb)} MB) ${ok(s.first_start_ms < 15000)} | ${f(s.load_ms)} ${ok(s.load_ms < 2000)} | ${f(s.rss_mb)} | ${ms(s.new_session_first_request.median)} | ${f(s.rss_per_session_mb, 1)} (${s.sessions_measured} sessions) | ${ms(s.get_by_id.median)} | ${ms(s.keyword.median)} ${ok(s.keyword.median < 10)} | ${ms(s.wildcard.median)} ${ok(s.wildcard.median < 10)} |`,
      );
    }
    lines.push('');
    lines.push(
      '| customers per vendor | RackCorp getall first / deep, ms | NeuCRM list first / deep, ms | Rackspace index first / deep, ms | UniPay find first / deep, ms |',
    );
    lines.push('|---|---|---|---|---|');
    for (const s of r.scale) {
      const pair = (a, b) => `${ms(a.median)} / ${ms(b.median)}`;
      lines.push(
        `| ${s.customers_per_vendor} | ${pair(s.first_page_rackcorp, s.deep_page_rackcorp)} | ${pair(s.first_page_neucrm, s.deep_page_neucrm)} | ${pair(s.first_page_rackspace, s.deep_page_rackspace)} | ${pair(s.first_page_unipay, s.deep_page_unipay)} |`,
      );
    }
    const notes = [
      'first start (free to use every CPU; the other servers are pinned to CPU 0): target < 15000 ms; cached start (spawn to first 200 with the seed cache filled): target < 2000 ms; keyword and wildcard: target < 10 ms',
    ];
    if (r.scale.length >= 2) {
      const a = r.scale[0],
        b = r.scale[r.scale.length - 1];
      const g = b.get_by_id.median / a.get_by_id.median;
      notes.push(
        `get-by-id ${b.customers_per_vendor} / ${a.customers_per_vendor}: ${f(g, 2)} (target <= 1.2, ${ok(g <= 1.2)})`,
      );
    }
    const mixed = r.scenarios.find((s) => s.name.startsWith('mixed'));
    if (mixed)
      notes.push(
        `mixed read/write ratio (throughput part, shipped fixtures): ${f(mixed.ratio.median, 2)} (target >= ${mixed.target_ratio}, ${ok(mixed.ratio.median >= mixed.target_ratio)})`,
      );
    lines.push(notes.join('; '));
  }
  return lines.join('\n') + '\n';
}

main().catch((e) => {
  log(e.stack ?? String(e));
  process.exit(1);
});
