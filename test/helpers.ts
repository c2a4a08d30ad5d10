import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/server/app.js';
import type { Config } from '../src/server/config.js';

/** A fresh emulator per test file (or per test): default fixtures, in-memory, silent. */
export async function makeApp(options: Partial<Config> = {}): Promise<FastifyInstance> {
  // Responses are checked against the vendors' OpenAPI contracts in every test: drift fails loudly.
  return buildApp({ logLevel: 'silent', validateResponses: true, ...options });
}
