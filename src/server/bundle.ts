/**
 * The one-file build of the command line, and its V8 code cache.
 *
 * `npm run build` compiles the sources with tsc into dist/ (one module per file: what the library
 * entry and `node dist/server/main.js` use), then scripts/bundle.mjs bundles dist/server/main.js
 * and everything it imports, except better-sqlite3, into dist/server/cli.bundle.cjs, and writes
 * the bytecode V8 made while that bundle served a first request into cli.bundle.cjs.cache.
 * Resolving, reading and compiling some 250 modules one by one was most of the time from spawn to
 * the first answer; one file with its bytecode takes a fraction of it. Same code, same behaviour.
 *
 * The bundle file is one function expression `(function (require, __filename, __dirname) {...})`
 * whose first line names its build: `// vendor-api-emulator bundle <id>`. The cache file starts
 * with the same id, so a cache is only ever used with the bundle it was made from; V8 itself
 * refuses a cache made by another Node.js version or with other V8 flags (then it just compiles).
 */
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const BUNDLE_FILE = fileURLToPath(new URL('./cli.bundle.cjs', import.meta.url));
export const CACHE_FILE = `${BUNDLE_FILE}.cache`;
/** The tsc output the bundle was made from. */
const MAIN_FILE = fileURLToPath(new URL('./main.js', import.meta.url));
const ID_LINE = /^\/\/ vendor-api-emulator bundle ([0-9a-f]{16})\n/;
export const ID_BYTES = 16;

/** Profilers and debuggers get the separate modules: real file names, lines and source maps. */
const TOOLING_FLAG = /^--(cpu-prof|heap-prof|prof|inspect)/;

export interface LoadedBundle {
  /** The build id on the bundle's first line. */
  id: string;
  script: vm.Script;
  /** Whether V8 took the code cache: 'used', 'rejected' (other Node.js or flags), or 'none' (no cache file, or another build's). */
  cache: 'used' | 'rejected' | 'none';
  /** Run the command line (as main.js would when imported). */
  run(): void;
}

/**
 * The bundle, compiled (with its code cache when there is a matching one), or null when the
 * separate modules should run instead: no bundle, a bundle older than the tsc output (tsc ran
 * since the last `npm run build`), or a profiler/debugger flag. `force` skips those checks and
 * `useCache: false` compiles from source (scripts/bundle.mjs, making the cache).
 */
export function loadBundle(opts: { force?: boolean; useCache?: boolean } = {}): LoadedBundle | null {
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
  const m = ID_LINE.exec(source);
  if (!m) return null;
  const id = m[1];
  let cachedData: Buffer | undefined;
  if (opts.useCache !== false) {
    try {
      const c = fs.readFileSync(CACHE_FILE);
      if (c.length > ID_BYTES && c.toString('latin1', 0, ID_BYTES) === id) cachedData = c.subarray(ID_BYTES);
    } catch { /* no cache: compile from source */ }
  }
  const script = new vm.Script(source, { filename: BUNDLE_FILE, cachedData });
  const cache = cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'used';
  return {
    id,
    script,
    cache,
    run() {
      const fn = script.runInThisContext() as (require: NodeJS.Require, filename: string, dirname: string) => void;
      fn(createRequire(BUNDLE_FILE), BUNDLE_FILE, path.dirname(BUNDLE_FILE));
    },
  };
}
