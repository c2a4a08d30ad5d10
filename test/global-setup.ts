/**
 * Builds dist/ once before any test file runs, as `npm run build` does (tsc, then the one-file
 * CLI), so the tests that spawn the real CLI (test/server/cli.test.ts,
 * test/hardening/durability and load, the dashboard) run what ships and never race a build that
 * another test file started.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export default function setup(): void {
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  execFileSync(process.execPath, [path.join(root, 'scripts/bundle.mjs')], { cwd: root, stdio: 'inherit' });
}
