/**
 * The command line: flags and env -> config -> startEmulator; SIGINT/SIGTERM close it cleanly.
 * `vendor-api-emulator` (dist/server/cli.js) runs this from the one-file build when there is one
 * (see cli.ts); `node dist/server/main.js` runs it from the separate modules.
 */
import { parseArgs, helpText, ConfigError } from './config.js';
import { startEmulator } from './start.js';

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
  const warn = !loopback && !config.controlToken
    ? ' WARNING: listening beyond loopback without --control-token: anyone who reaches this port can reset or read it.'
    : '';
  process.stdout.write(`vendor-api-emulator listening on ${running.url} (${store}); sandbox credentials: README.md#sandbox-credentials${warn}\n`);
}

void main();
