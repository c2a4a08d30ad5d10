/**
 * fast-check arbitraries generated from the JSON Schemas of the OpenAPI documents the emulator
 * serves, so that a field added to a request schema is generated without anyone touching a test.
 *
 * Why not a library: json-schema-fast-check (the one package that maps JSON Schema to fast-check)
 * has one release, depends on fast-check 1.x (arbitraries do not mix across major versions) and on
 * faker 4; json-schema-faker is kept well but draws from its own random source, so fast-check can
 * neither replay (seed/path) nor shrink its values. The subset of JSON Schema the vendors' request
 * schemas use is small (type, const, enum, anyOf/oneOf, string lengths, pattern, the email and date
 * formats, minimum/maximum, arrays, objects), and an unknown keyword makes the generator throw, so
 * a schema that grows past this subset fails loudly instead of being generated wrongly.
 */
import fc from 'fast-check';
import { resolveRef, type JsonSchema } from '../../src/routes/shared/contract.js';

export interface ArbitraryOptions {
  /** Only characters XML 1.0 can carry (no C0 controls but tab/newline/CR, no U+FFFE/U+FFFF). */
  xmlSafe?: boolean;
  /** Longest string drawn below a schema's maxLength (the maxLength itself is drawn too). */
  shortString?: number;
}

/** Keywords that only describe (they never restrict the value). */
const ANNOTATIONS = new Set([
  'description',
  'examples',
  'example',
  'title',
  'default',
  'xml',
  'readOnly',
  'writeOnly',
  'deprecated',
  '$comment',
]);
const UNDERSTOOD = new Set([
  'type',
  'const',
  'enum',
  'anyOf',
  'oneOf',
  'minLength',
  'maxLength',
  'pattern',
  'format',
  'minimum',
  'maximum',
  'items',
  'minItems',
  'maxItems',
  'properties',
  'required',
  'additionalProperties',
  '$ref',
]);

const XML_UNSAFE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/u;

/** Any code point (not a lone surrogate), sometimes ASCII, sometimes white space, so trimming is exercised. */
function charArb(xmlSafe: boolean): fc.Arbitrary<string> {
  const c = fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        ' ',
        '\t',
        '\n',
        '\u00a0',
        '\u3000',
        '\ufeff',
        'é',
        'İ',
        'ß',
        '\u{1f600}',
        '%',
        '_',
        "'",
        '&',
        '<',
        '+',
        '=',
      ),
    },
  );
  return xmlSafe ? c.filter((s) => !XML_UNSAFE.test(s)) : c;
}

function stringArb(s: JsonSchema, opts: ArbitraryOptions): fc.Arbitrary<string> {
  const min = (s.minLength as number | undefined) ?? 0;
  const max = (s.maxLength as number | undefined) ?? 1000;
  const len = (v: string) => [...v].length >= min && [...v].length <= max;
  const xmlSafe = opts.xmlSafe ?? false;
  const safe = (v: string) => !xmlSafe || !XML_UNSAFE.test(v);
  if (typeof s.pattern === 'string')
    return fc.stringMatching(new RegExp(s.pattern, 'u')).filter((v) => len(v) && safe(v));
  if (s.format === 'email') {
    return fc.emailAddress().filter((v) => len(v) && safe(v));
  }
  if (s.format === 'date') {
    return fc
      .date({ min: new Date(Date.UTC(1900, 0, 1)), max: new Date(Date.UTC(2099, 11, 31)), noInvalidDate: true })
      .map((d) => d.toISOString().slice(0, 10));
  }
  if (s.format !== undefined) throw new Error(`arbitrary: string format ${String(s.format)} is not generated yet`);
  const short = Math.min(max, Math.max(min, opts.shortString ?? 24));
  const unit = charArb(xmlSafe);
  return fc.oneof(
    { weight: 8, arbitrary: fc.string({ unit, minLength: min, maxLength: short }) },
    // The limit itself, counted in code points as ajv counts it.
    {
      weight: 1,
      arbitrary: fc.string({ unit: fc.constantFrom('x', 'é', '\u{1f600}'), minLength: max, maxLength: max }),
    },
  );
}

function integerArb(s: JsonSchema): fc.Arbitrary<number> {
  const min = (s.minimum as number | undefined) ?? -(2 ** 31);
  const max = (s.maximum as number | undefined) ?? 2 ** 31 - 1;
  return fc.oneof(
    fc.integer({ min, max: Math.min(max, min + 1000) }),
    fc.integer({ min, max }),
    fc.constantFrom(min, max),
  );
}

function numberArb(s: JsonSchema): fc.Arbitrary<number> {
  const min = (s.minimum as number | undefined) ?? -1e6;
  const max = (s.maximum as number | undefined) ?? 1e6;
  return fc.oneof(
    // Money-like values (two decimals), the values a client sends most.
    fc.integer({ min: Math.ceil(min * 100), max: Math.floor(max * 100) }).map((c) => c / 100),
    fc.double({ min, max, noNaN: true, noDefaultInfinity: true }).map((d) => (Object.is(d, -0) ? 0 : d)),
  );
}

/**
 * An arbitrary of the values `schema` accepts. `overrides` replaces the arbitrary of a top-level
 * property (ids that must name existing rows are drawn from those rows as well as from the schema).
 */
export function arbitraryOf(
  schema: JsonSchema,
  root: Record<string, unknown>,
  opts: ArbitraryOptions = {},
  overrides: Record<string, fc.Arbitrary<unknown>> = {},
): fc.Arbitrary<unknown> {
  const s = resolveRef(schema, root);
  for (const k of Object.keys(s)) {
    if (!UNDERSTOOD.has(k) && !ANNOTATIONS.has(k) && !k.startsWith('x-'))
      throw new Error(`arbitrary: keyword ${k} is not generated yet (schema ${JSON.stringify(s).slice(0, 200)})`);
  }
  if ('const' in s) return fc.constant(s.const);
  if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as unknown[]));
  const branches = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined;
  if (branches) return fc.oneof(...branches.map((b) => arbitraryOf({ ...b }, root, opts)));
  const types = Array.isArray(s.type)
    ? (s.type as string[])
    : typeof s.type === 'string'
      ? [s.type]
      : s.properties
        ? ['object']
        : [];
  if (types.length === 0) throw new Error(`arbitrary: schema without a type: ${JSON.stringify(s).slice(0, 200)}`);
  if (types.length > 1) return fc.oneof(...types.map((t) => arbitraryOf({ ...s, type: t }, root, opts)));
  switch (types[0]) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'string':
      return stringArb(s, opts);
    case 'integer':
      return integerArb(s);
    case 'number':
      return numberArb(s);
    case 'array': {
      const min = (s.minItems as number | undefined) ?? 0;
      const max = Math.min((s.maxItems as number | undefined) ?? 3, Math.max(min, 3));
      return fc.array(arbitraryOf((s.items ?? {}) as JsonSchema, root, opts), { minLength: min, maxLength: max });
    }
    case 'object': {
      const props = (s.properties ?? {}) as Record<string, JsonSchema>;
      const required = (s.required as string[] | undefined) ?? [];
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, p] of Object.entries(props)) model[k] = overrides[k] ?? arbitraryOf(p, root, opts);
      // An override may draw `undefined` (see `rarely`): that key is then left out.
      return fc
        .record(model, { requiredKeys: required.filter((k) => k in model) })
        .map((o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)));
    }
    default:
      throw new Error(`arbitrary: type ${types[0]} is not generated yet`);
  }
}

/** The schema with some top-level properties left out (credentials, path parameters, `cmd`). */
export function without(schema: JsonSchema, root: Record<string, unknown>, names: readonly string[]): JsonSchema {
  const s = resolveRef(schema, root);
  const props = { ...((s.properties ?? {}) as Record<string, JsonSchema>) };
  for (const n of names) delete props[n];
  return {
    ...s,
    properties: props,
    required: ((s.required as string[] | undefined) ?? []).filter((r) => !names.includes(r)),
  };
}

/**
 * A field sent in about one case of `freq`: for fields whose only accepted value is the one the
 * server already holds (server-set fields a client may echo back) or a second spelling of another
 * field, which would otherwise be refused in nearly every case and leave little accepted to check.
 */
export function rarely<T>(arb: fc.Arbitrary<T>, freq = 8): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: freq - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
}
