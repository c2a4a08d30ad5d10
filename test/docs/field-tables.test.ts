/**
 * Each vendor page holds a table of the fields every write operation accepts. The tables are made
 * from the vendor's OpenAPI contract (the schemas the routes validate with), and this test fails
 * when a page's tables differ from what the contract says now. `UPDATE_DOCS=1 npx vitest run
 * test/docs/field-tables.test.ts` rewrites them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { makeApp } from '../helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BEGIN =
  '<!-- fields:begin: made from the OpenAPI contract by test/docs/field-tables.test.ts; UPDATE_DOCS=1 rewrites it -->';
const END = '<!-- fields:end -->';

/** Operations that take a body but write nothing, and the routes that only answer errors. */
const NOT_WRITES = new Set([
  'session.login',
  'customer.list',
  'json.php',
  'unknown-path',
  'notFound',
  'methodNotAllowed',
]);
const METHODS = ['post', 'put', 'patch', 'delete'];

type Schema = Record<string, any>;

function resolver(doc: Schema) {
  return function resolve(s: Schema | undefined): Schema {
    let out = s ?? {};
    while (out.$ref) out = doc.components.schemas[String(out.$ref).replace('#/components/schemas/', '')];
    return out;
  };
}

/** The object schema's properties and required names, through allOf / anyOf / oneOf. */
function objectShape(
  s: Schema,
  resolve: (s?: Schema) => Schema,
): { properties: Record<string, Schema>; required: Set<string> } {
  s = resolve(s);
  const properties: Record<string, Schema> = { ...(s.properties ?? {}) };
  const required = new Set<string>(s.required ?? []);
  for (const part of s.allOf ?? []) {
    const sub = objectShape(part, resolve);
    Object.assign(properties, sub.properties);
    sub.required.forEach((r) => required.add(r));
  }
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives && !s.properties) {
    const subs = alternatives.map((a: Schema) => objectShape(a, resolve));
    for (const sub of subs) for (const [k, v] of Object.entries<Schema>(sub.properties)) properties[k] ??= v;
    for (const name of subs[0]?.required ?? [])
      if (subs.every((sub: { required: Set<string> }) => sub.required.has(name))) required.add(name);
  }
  return { properties, required };
}

function typeOf(s: Schema, resolve: (s?: Schema) => Schema): string {
  s = resolve(s);
  if (s.const !== undefined) return typeof s.const;
  if (Array.isArray(s.type)) return s.type.join(' or ');
  if (s.type === 'array') return `array of ${typeOf(s.items ?? {}, resolve)}`;
  if (s.type) return s.type;
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return [...new Set(alternatives.map((a: Schema) => typeOf(a, resolve)))].join(' or ');
  return 'any';
}

function rules(s: Schema, resolve: (s?: Schema) => Schema): string {
  s = resolve(s);
  const out: string[] = [];
  const values =
    s.enum ?? (s.anyOf ?? s.oneOf)?.map((a: Schema) => resolve(a).const).filter((v: unknown) => v !== undefined);
  if (values?.length) out.push(`one of ${values.map((v: unknown) => `\`${v}\``).join(', ')}`);
  if (s.const !== undefined) out.push(`\`${s.const}\``);
  if (s.minLength !== undefined && s.maxLength !== undefined) out.push(`${s.minLength}-${s.maxLength} characters`);
  else if (s.maxLength !== undefined) out.push(`at most ${s.maxLength} characters`);
  else if (s.minLength !== undefined) out.push(`at least ${s.minLength} character${s.minLength === 1 ? '' : 's'}`);
  if (s.minimum !== undefined || s.maximum !== undefined) out.push(`${s.minimum ?? ''}..${s.maximum ?? ''}`);
  if (s.minItems !== undefined || s.maxItems !== undefined) out.push(`${s.minItems ?? 0}-${s.maxItems ?? 'any'} items`);
  if (s.format) out.push(`format ${s.format}`);
  if (s.pattern && !values?.length) out.push(`pattern \`${s.pattern}\``);
  return out.join('; ');
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

function rows(s: Schema, resolve: (s?: Schema) => Schema, prefix: string, depth: number): string[] {
  const { properties, required } = objectShape(s, resolve);
  const out: string[] = [];
  for (const [name, prop] of Object.entries(properties)) {
    const p = resolve(prop);
    const field = `${prefix}${name}`;
    out.push(
      `| \`${field}\` | ${cell(typeOf(p, resolve))} | ${required.has(name) ? 'yes' : ''} | ${cell(rules(p, resolve))} | ${cell(p.description ?? '')} |`,
    );
    const items = p.type === 'array' ? resolve(p.items) : undefined;
    if (depth < 2 && items && (items.properties || items.allOf))
      out.push(...rows(items, resolve, `${field}[].`, depth + 1));
    if (depth < 2 && p.type === 'object' && p.properties) out.push(...rows(p, resolve, `${field}.`, depth + 1));
  }
  return out;
}

/** The markdown for one vendor's contract: a table per write operation, in the contract's order. */
export function fieldTables(doc: Schema): string {
  const resolve = resolver(doc);
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const [url, item] of Object.entries<Schema>(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      const name = op?.['x-operation'];
      if (!op || !name || NOT_WRITES.has(name) || seen.has(name)) continue;
      seen.add(name);
      const content = op.requestBody?.content ?? {};
      const types = Object.keys(content);
      const params = (op.parameters ?? []).map((p: Schema) => resolve(p)).filter((p: Schema) => p.in === 'path');
      parts.push(`### \`${name}\`: \`${method.toUpperCase()} ${url}\``, '');
      parts.push(types.length ? `Body: ${types.map((t) => `\`${t}\``).join(', ')}.` : 'No body.');
      if (params.length) parts.push(`Path: ${params.map((p: Schema) => `\`${p.name}\``).join(', ')}.`);
      const schema = content['application/json']?.schema ?? content[types[0]]?.schema;
      if (schema) {
        parts.push(
          '',
          '| field | type | required | rules | notes |',
          '|---|---|---|---|---|',
          ...rows(schema, resolve, '', 0),
        );
      }
      parts.push('');
    }
  }
  return parts.join('\n').trimEnd();
}

const PAGES: Record<string, string> = {
  rackcorp: 'docs/rackcorp.md',
  emailsrvr: 'docs/emailsrvr.md',
  ispcrm: 'docs/ispcrm.md',
  mgmt: 'docs/mgmt.md',
};

describe('each vendor page lists the fields of every write operation, as the contract has them', async () => {
  const app = await makeApp();
  const docs: Record<string, Schema> = {};
  for (const vendor of Object.keys(PAGES))
    docs[vendor] = (await app.inject({ url: `/_emulator/openapi/${vendor}.json` })).json();
  await app.close();

  for (const [vendor, page] of Object.entries(PAGES)) {
    it(`${page} holds the generated tables`, () => {
      const file = path.join(root, page);
      const text = readFileSync(file, 'utf8');
      const generated = `${BEGIN}\n\n${fieldTables(docs[vendor])}\n\n${END}`;
      expect(generated).toContain('| field | type | required |');
      const start = text.indexOf(BEGIN);
      const end = text.indexOf(END);
      if (process.env.UPDATE_DOCS === '1') {
        const next =
          start >= 0 && end > start
            ? text.slice(0, start) + generated + text.slice(end + END.length)
            : `${text.trimEnd()}\n\n## Fields of each write\n\nWhat each write operation accepts, from the contract (\`/_emulator/openapi/${vendor}.json\`).\n\n${generated}\n`;
        writeFileSync(file, next);
        return;
      }
      expect(
        start,
        `${page} has no generated field tables; run UPDATE_DOCS=1 npx vitest run test/docs/field-tables.test.ts`,
      ).toBeGreaterThanOrEqual(0);
      expect(
        text.slice(start, end + END.length),
        `${page}: the field tables differ from the contract; run UPDATE_DOCS=1 npx vitest run test/docs/field-tables.test.ts`,
      ).toBe(generated);
    });
  }

  it('the generator follows $ref, allOf and anyOf, and marks required fields', () => {
    const doc = {
      components: {
        schemas: {
          Body: {
            allOf: [
              { type: 'object', required: ['a'], properties: { a: { type: 'string', maxLength: 5 } } },
              {
                type: 'object',
                properties: {
                  b: {
                    anyOf: [
                      { const: 'X', type: 'string' },
                      { const: 'Y', type: 'string' },
                    ],
                  },
                },
              },
            ],
          },
        },
      },
      paths: {
        '/x': {
          post: {
            'x-operation': 'x.create',
            requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Body' } } } },
          },
          get: { 'x-operation': 'x.get' },
        },
      },
    };
    expect(fieldTables(doc)).toBe(
      [
        '### `x.create`: `POST /x`',
        '',
        'Body: `application/json`.',
        '',
        '| field | type | required | rules | notes |',
        '|---|---|---|---|---|',
        '| `a` | string | yes | at most 5 characters |  |',
        '| `b` | string | | one of `X`, `Y` |  |',
      ]
        .join('\n')
        .replace('| string | | one of', '| string |  | one of'),
    );
  });
});
