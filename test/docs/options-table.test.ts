/**
 * The README's options table is the one a user reads before `--help`: every option the CLI takes
 * (core and vendor ones) must have its flag, environment variable and default there, so an option
 * added to config.ts without a row fails here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { allOptionSpecs } from '../../src/server/config.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const rows = readme.split('\n').filter((l) => l.startsWith('| `--'));

describe('README options table', () => {
  it.each(allOptionSpecs().map((s) => [s.flag, s] as const))(
    'lists --%s with its environment variable and default',
    (flag, spec) => {
      const row = rows.find((r) => new RegExp(`\`--${flag}[\` ]`).test(r.split('|')[1]));
      expect(row, `no README row for --${flag}`).toBeDefined();
      expect(row).toContain(`\`${spec.env}\``);
      if (spec.type === 'integer' && typeof spec.default === 'number') expect(row).toContain(String(spec.default));
    },
  );
});
