#!/usr/bin/env node
/**
 * Makes dist/server/cli.bundle.cjs.cache (run by scripts/bundle.mjs, in its own process).
 *
 * Starts the bundled command line in this process, exactly as dist/server/cli.js does, on a free
 * loopback port; sends it the request a client usually sends first (RackCorp customer.get) and a
 * health check; then saves the bytecode V8 compiled for the bundle so far (the start and those two
 * requests), behind the bundle's build id, and exits.
 */
import fs from 'node:fs';
import { BUNDLE_FILE, CACHE_FILE, loadBundle } from '../dist/server/bundle.js';

const bundle = loadBundle({ force: true, useCache: false });
if (!bundle) {
  process.stderr.write(`code-cache: no bundle at ${BUNDLE_FILE}\n`);
  process.exit(1);
}

// The sandbox RackCorp API key of the default fixtures (README.md#sandbox-credentials).
const BASIC = `Basic ${Buffer.from('11111111-2222-4333-8444-555555555555:rackcorp-sandbox-secret').toString('base64')}`;
const WARM_UP = [
  ['/api/rest/v2.9/json.php?cmd=customer.get&id=123', { authorization: BASIC }],
  ['/_emulator/health', {}],
];

async function warmUp(base) {
  for (const [p, headers] of WARM_UP) {
    const res = await fetch(base + p, { headers });
    await res.arrayBuffer();
  }
  const data = bundle.script.createCachedData();
  const tmp = `${CACHE_FILE}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, Buffer.concat([Buffer.from(bundle.id, 'latin1'), data]));
  fs.renameSync(tmp, CACHE_FILE);
  process.exit(0);
}

const fail = (e) => {
  process.stderr.write(`code-cache: ${e?.stack ?? e}\n`);
  process.exit(1);
};
setTimeout(() => fail(new Error('the bundled server did not start within 30 s')), 30_000).unref();

// The CLI prints its URL on stdout; read it there instead of printing it.
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) => {
  const m = /listening on (http:\/\/\S+)/.exec(String(chunk));
  if (!m) return write(chunk, ...rest);
  warmUp(m[1]).catch(fail);
  return true;
};
process.argv = [process.argv[0], BUNDLE_FILE, '--port', '0', '--host', '127.0.0.1', '--log-level', 'warn'];
bundle.run();
