/**
 * The command line: flags and env -> config -> startEmulator; SIGINT/SIGTERM close it cleanly.
 * `vendor-api-emulator` (dist/server/cli.js) runs this from the one-file build when there is one
 * (see cli.ts); `node dist/server/main.js` runs it from the separate modules.
 */
import fs from 'node:fs';
import { parseArgs, helpText, ConfigError } from './config.js';
import type { Config } from '../core/config.js';
import { startEmulator } from './start.js';
import { seedCacheOption } from './app.js';
import { compileSeed } from '../store/seed.js';
import { vendors } from '../vendors.js';

/** --export-seed: the seed of --fixtures (from the cache when it holds it) copied to a SQLite file anyone can read. */
function exportSeed(config: Config, out: string): void {
  const seed = compileSeed({ vendors, fixtures: config.fixtures, cacheDir: seedCacheOption(config.seedCache) });
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    fs.copyFileSync(seed.file, tmp);
    fs.chmodSync(tmp, 0o644);
    fs.renameSync(tmp, out);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  } finally {
    seed.release();
  }
  process.stdout.write(
    `vendor-api-emulator: wrote the seed of ${config.fixtures} to ${out} (${seed.cached ? 'from the seed cache' : 'compiled'} in ${seed.ms} ms); start with --fixtures ${out}\n`,
  );
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs(process.argv.slice(2), process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`vendor-api-emulator: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  if (parsed.help) {
    process.stdout.write(helpText() + '\n');
    return;
  }
  const config = parsed.config;
  if (config.exportSeed) {
    try {
      exportSeed(config, config.exportSeed);
    } catch (e) {
      process.stderr.write(`vendor-api-emulator: cannot export the seed: ${(e as Error).message}\n`);
      process.exit(1);
    }
    return;
  }
  let running;
  try {
    running = await startEmulator(config);
  } catch (e) {
    process.stderr.write(`vendor-api-emulator: cannot start: ${(e as Error).message}\n`);
    process.exit(1);
  }
  // Handlers first: a supervisor may send SIGTERM as soon as it reads the start line.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    running.app.log.info({ signal }, 'closing');
    running.close().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`vendor-api-emulator: error while closing: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  const store = config.db ? `store ${config.db}` : 'in-memory store';
  const loopback = /^(127\.|::1$|localhost$)/.test(config.host);
  const warn =
    !loopback && !config.controlToken
      ? ' WARNING: listening beyond loopback without --control-token: anyone who reaches this port can reset or read it.'
      : '';
  process.stdout.write(
    `vendor-api-emulator listening on ${running.url} (${store}); sandbox credentials: README.md#sandbox-credentials${warn}\n`,
  );
}

void main();
