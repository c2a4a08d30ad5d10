/** startEmulator(options): build the app and listen; what the CLI and test suites call. */
import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { buildApp } from './app.js';
import type { Config } from './config.js';

export interface RunningEmulator {
  /** Base URL it really listens on, e.g. http://127.0.0.1:43127 */
  url: string;
  port: number;
  app: FastifyInstance;
  /** Stop accepting connections, let in-flight requests finish, close the store. */
  close(): Promise<void>;
}

export async function startEmulator(options: Partial<Config> = {}): Promise<RunningEmulator> {
  const app = await buildApp(options);
  await app.listen({ port: app.config.port, host: app.config.host });
  const addr = app.server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    app,
    close: () => (closing ??= app.close().then(() => undefined)),
  };
}
