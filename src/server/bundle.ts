/**
 * The one-file build of the command line.
 *
 * `npm run build` compiles the sources with tsc into dist/ (one module per file: what the library
 * entry and `node dist/server/main.js` use), then scripts/bundle.mjs bundles dist/server/main.js
 * and everything it imports, except better-sqlite3, into dist/server/cli.bundle.cjs. Resolving,
 * reading and compiling some 250 modules one by one is most of the time from spawn to the first
 * answer; one file takes a fraction of it. Same code, same behaviour.
 *
 * The bundle file is one function expression `(function (require, __filename, __dirname) {...})`,
 * compiled here as a vm.Script. (A V8 code cache for it would make the start faster still, but the
 * server then needs about 14 % more CPU per request, so there is none.)
 */
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const BUNDLE_FILE = fileURLToPath(new URL('./cli.bundle.cjs', import.meta.url));
/** The tsc output the bundle was made from. */
const MAIN_FILE = fileURLToPath(new URL('./main.js', import.meta.url));
const FIRST_LINE = '// vendor-api-emulator bundle\n';

/** Profilers and debuggers get the separate modules: real file names, lines and source maps. */
const TOOLING_FLAG = /^--(cpu-prof|heap-prof|prof|inspect)/;

export interface LoadedBundle {
  script: vm.Script;
  /** Run the command line (as main.js would when imported). */
  run(): void;
}

/**
 * The bundle, compiled, or null when the separate modules should run instead: no bundle, a bundle
 * older than the tsc output (tsc ran since the last `npm run build`), or a profiler/debugger
 * flag. `force` skips those checks.
 */
export function loadBundle(opts: { force?: boolean } = {}): LoadedBundle | null {
  if (!opts.force && process.execArgv.some((a) => TOOLING_FLAG.test(a))) return null;
  let source: string;
  try {
    if (!opts.force) {
      const main = fs.statSync(MAIN_FILE, { throwIfNoEntry: false });
      if (main && main.mtimeMs > fs.statSync(BUNDLE_FILE).mtimeMs) return null;
    }
    // The bundle is ASCII (esbuild escapes the rest): latin1 reads it straight into a one-byte string.
    source = fs.readFileSync(BUNDLE_FILE, 'latin1');
  } catch {
    return null;
  }
  if (!source.startsWith(FIRST_LINE)) return null;
  const script = new vm.Script(source, { filename: BUNDLE_FILE });
  return {
    script,
    run() {
      const fn = script.runInThisContext() as (require: NodeJS.Require, filename: string, dirname: string) => void;
      fn(createRequire(BUNDLE_FILE), BUNDLE_FILE, path.dirname(BUNDLE_FILE));
    },
  };
}
