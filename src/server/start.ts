/** startEmulator(options): build the app and listen; what the CLI and test suites call. */
import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { buildApp } from './app.js';
import type { Config } from '../core/config.js';
import { ControlClient } from './control/client.js';
import { writeFileSync } from 'node:fs';
import { formatFromPath, renderCoverage } from './control/coverage.js';

/** How long close() lets in-flight requests finish before it cuts their connections. */
const CLOSE_GRACE_MS = 5000;

export { ControlClient, ControlRequestError } from './control/client.js';
export type { FaultRule, RequestFilter, ClockChange } from './control/client.js';

/**
 * A running emulator. Besides its URL it carries the control plane as methods (the same as the
 * /_emulator routes, acting on the default state): `reset()`, `snapshot(name)`, `restore(name)`,
 * `requests(filter)`, `addFault(rule)`, `setClock(...)`, ... and `session(id)` returns the same
 * methods acting on one session (plus `url`, the base URL that joins it through /_sessions/<id>).
 */
export interface RunningEmulator extends ControlClient {
  /** Base URL it really listens on, e.g. http://127.0.0.1:43127 */
  url: string;
  port: number;
  app: FastifyInstance;
  /** Stop accepting connections, let in-flight requests finish (at most CLOSE_GRACE_MS), close the store. */
  close(): Promise<void>;
  session(id: string): SessionControl;
}

export interface SessionControl extends ControlClient {
  /** Base URL that puts a vendor client into this session: `<url>/_sessions/<id>`. */
  url: string;
}

export async function startEmulator(options: Partial<Config> = {}): Promise<RunningEmulator> {
  const app = await buildApp(options);
  await app.listen({ port: app.config.port, host: app.config.host });
  const addr = app.server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  let closing: Promise<void> | null = null;
  const control = ControlClient.inject(app, app.config.controlToken);
  const running = Object.assign(control, {
    url,
    port: addr.port,
    app,
    close: () =>
      (closing ??= Promise.resolve()
        .then(() => {
          // --coverage-out: the report of every session since start, written before the store closes.
          const out = app.config.coverageOut;
          if (out)
            writeFileSync(
              out,
              renderCoverage(app.coverage.report(app.coverage.all, 'every session, since start'), formatFromPath(out)),
            );
        })
        .finally(() => {
          // A client that keeps a request open (a stuck test, a browser tab) must not hold the close
          // forever: in-flight requests get CLOSE_GRACE_MS to finish, then their connections are cut.
          const cut = setTimeout(() => app.server.closeAllConnections(), CLOSE_GRACE_MS);
          cut.unref();
          return app.close().finally(() => clearTimeout(cut));
        })
        .then(() => undefined)),
    session(id: string): SessionControl {
      return Object.assign(ControlClient.prototype.session.call(control, id), {
        url: `${url}/_sessions/${encodeURIComponent(id)}`,
      });
    },
  });
  return running as RunningEmulator;
}
