#!/usr/bin/env node
/**
 * The contract coverage of the emulator's own test suite: runs vitest (all files, or the ones
 * given) with EMULATOR_TEST_COVERAGE_DIR set, so every app test/helpers.ts makeApp() builds leaves
 * its /_emulator/coverage report when it closes, then adds them up and prints the Markdown report.
 * Apps started otherwise (startEmulator, the CLI) are not counted.
 *   node scripts/self-coverage.mjs [--out report.md] [vitest file filters...]   (after `npm run build`)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mergeCoverageReports, renderCoverage } from '../dist/server/control/coverage.js';

const args = process.argv.slice(2);
let out = null;
const i = args.indexOf('--out');
if (i !== -1) {
  out = args[i + 1];
  args.splice(i, 2);
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'self-coverage-'));
const run = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...args], {
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, EMULATOR_TEST_COVERAGE_DIR: dir },
});
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
if (files.length === 0) {
  process.stderr.write('self-coverage: no test app left a report\n');
  process.exit(1);
}
const merged = mergeCoverageReports(
  files.map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))),
  `the test suite (${files.length} apps)`,
);
fs.rmSync(dir, { recursive: true, force: true });
const md = renderCoverage(merged, 'markdown');
if (out) fs.writeFileSync(out, md);
else process.stdout.write(md);
process.exit(run.status ?? 1);
