#!/usr/bin/env node
/**
 * Second step of `npm run build` (after tsc): bundle the command line into one file. See
 * src/server/bundle.ts for why and how the CLI uses it.
 *
 *   dist/server/cli.bundle.cjs        dist/server/main.js and all it imports but better-sqlite3
 *                                     (a native addon), without white space, as one function expression
 *   dist/server/cli.bundle.cjs.map    its source map (to the TypeScript sources, through tsc's maps)
 *
 *   node scripts/bundle.mjs [--no-minify]   (--no-minify: one statement per line, for reading a profile of the bundle)
 */
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'dist');
const entry = path.join(DIST, 'server', 'main.js');
const outfile = path.join(DIST, 'server', 'cli.bundle.cjs');

if (!fs.existsSync(entry)) {
  process.stderr.write(
    `bundle: ${path.relative(ROOT, entry)} is missing; run tsc -p tsconfig.build.json first (npm run build does both)\n`,
  );
  process.exit(1);
}

/**
 * Inside one file every module would see the bundle's import.meta.url; give each module of ours
 * the URL its own file has in dist/ (the fixtures, ui/ and package.json are found relative to it).
 */
const ownModuleUrls = {
  name: 'own-module-urls',
  setup(build) {
    build.onLoad({ filter: /\.js$/ }, async (args) => {
      if (!args.path.startsWith(DIST + path.sep)) return undefined;
      const text = await fs.promises.readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const rel = path.relative(path.dirname(outfile), args.path).split(path.sep).join('/');
      return {
        contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, __bundleUrl).href`),
        loader: 'js',
        resolveDir: path.dirname(args.path),
      };
    });
  },
};

const result = await esbuild.build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['better-sqlite3'],
  // Whitespace and syntax only: a third fewer bytes to read and keep in memory, while names stay
  // as written (profiles, stack traces, and the constructor names pino's error serializer logs).
  // Not esbuild's keepNames: it wraps every named closure in a defineProperty call each time the
  // closure is made, which cost about 20 % more CPU per request (measured on REST Bearer).
  minifyWhitespace: !process.argv.includes('--no-minify'),
  minifySyntax: !process.argv.includes('--no-minify'),
  legalComments: 'none',
  charset: 'ascii',
  sourcemap: 'linked',
  // The ES modules were strict; so is the whole bundle. One function expression: see bundle.ts.
  banner: {
    js: `// vendor-api-emulator bundle\n(function (require, __filename, __dirname) {"use strict";var __bundleUrl=require("node:url").pathToFileURL(__filename).href;`,
  },
  footer: { js: '})' },
  plugins: [ownModuleUrls],
  write: false,
  metafile: true,
  logLevel: 'warning',
});

// The bundle runs as a vm.Script, which has no loader for import(): a dynamic import of anything
// left outside the bundle would fail at run time, so refuse it here (bundled ones are inlined).
const dynamic = Object.values(result.metafile.outputs)
  .flatMap((o) => o.imports ?? [])
  .filter((i) => i.kind === 'dynamic-import' && i.external);
if (dynamic.length > 0) {
  process.stderr.write(
    `bundle: import() of ${dynamic.map((i) => i.path).join(', ')} would fail in the one-file CLI: import it statically, or bundle it\n`,
  );
  process.exit(1);
}

let js, map;
for (const f of result.outputFiles) {
  if (f.path.endsWith('.map')) map = f.contents;
  else js = f.text;
}
const writeAtomic = (file, data) => {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
};
writeAtomic(`${outfile}.map`, map);
writeAtomic(outfile, js);
process.stdout.write(`bundle: ${path.relative(ROOT, outfile)} ${Math.round(fs.statSync(outfile).size / 1024)} KB\n`);
