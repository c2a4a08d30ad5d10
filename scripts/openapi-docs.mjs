#!/usr/bin/env node
/**
 * Write the four served OpenAPI documents (GET /_emulator/openapi/<vendor>.json) to a folder, for
 * checkers that read files: `redocly lint` and `openapi-typescript` in .ci/extra.
 *   node scripts/openapi-docs.mjs <dir>      (needs `npm run build` first)
 */
import fs from 'node:fs';
import path from 'node:path';
import { buildApp } from '../dist/index.js';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: node scripts/openapi-docs.mjs <dir>\n');
  process.exit(2);
}
fs.mkdirSync(dir, { recursive: true });
const app = await buildApp({ logLevel: 'silent' });
try {
  for (const vendor of app.contracts.documents.keys()) {
    const res = await app.inject({ method: 'GET', url: `/_emulator/openapi/${vendor}.json` });
    if (res.statusCode !== 200) throw new Error(`GET /_emulator/openapi/${vendor}.json: ${res.statusCode}`);
    const file = path.join(dir, `${vendor}.json`);
    fs.writeFileSync(file, JSON.stringify(res.json(), null, 2) + '\n');
    process.stdout.write(`${file}\n`);
  }
} finally {
  await app.close();
}
