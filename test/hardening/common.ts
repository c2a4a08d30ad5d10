/**
 * Shared pieces of the hardening suites: run counts, nasty values, request breakers and a cheap
 * "did anything change" watcher over one vendor's tables.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { tableDigest } from '../helpers.js';

/** Cases per vendor property; FUZZ_RUNS=20000 for a long run. FUZZ_SEED replays a failure. */
export const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
export const fcParams = (runs = RUNS): fc.Parameters<unknown> => ({
  numRuns: runs,
  // FUZZ_SEED replays a run. In CI the seed is fixed, so a submission's result does not depend on
  // the draw; locally every run draws a new one (fast-check prints it on failure).
  ...(process.env.FUZZ_SEED
    ? { seed: Number(process.env.FUZZ_SEED) }
    : process.env.CI === 'true'
      ? { seed: 20261123 }
      : {}),
  endOnFailure: true,
});

/**
 * Watches one state's tables. `total_changes()` counts every row written by the connection, so an
 * unchanged count proves nothing was written; only when it moved is the (slower) digest computed.
 */
export class ChangeWatcher {
  private changes: number;
  private digest: string;
  constructor(
    private app: FastifyInstance,
    private prefix: string,
    private session: string | null = null,
  ) {
    this.changes = this.totalChanges();
    this.digest = tableDigest(app, prefix, session);
  }
  private totalChanges(): number {
    return (this.app.registry.get(this.session).db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
  }
  /** After a request: did the tables change? Rebases on the new content. */
  changed(): boolean {
    const n = this.totalChanges();
    if (n === this.changes) return false;
    this.changes = n;
    const d = tableDigest(this.app, this.prefix, this.session);
    const moved = d !== this.digest;
    this.digest = d;
    return moved;
  }
}

/** Characters that break naive SQL, LIKE, XML, JSON or URL handling. */
export const META = [
  "'",
  '"',
  '%',
  '_',
  '\\',
  '%_',
  "' OR 1=1 --",
  '\\%',
  '[',
  ']',
  '*',
  '?',
  '&',
  '=',
  '#',
  '+',
  ';',
  '<',
  '>',
  '&amp;',
  '\u0000',
  '\n',
  '\r\n',
  '\t',
];

/** Strings no handler should choke on. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '   ',
    ...META,
    'null',
    'undefined',
    'NaN',
    '-1',
    '0',
    '1e309',
    '9'.repeat(40),
    '0x10',
    ' 1',
    '1 ',
    '١٢٣',
    'true',
    '[]',
    '{}',
    '__proto__',
    'constructor',
    '\u202e',
    '\ufeff',
    '\ud83d\ude00',
    'é',
    'Ⅻ',
    'İ',
    'ß',
    '\u0301',
    '<![CDATA[x]]>',
    '<a>',
    '${x}',
    '../..',
    '%00',
    '%zz',
  ),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ maxLength: 10 }).map((s) => s + META.join('')),
  fc.integer({ min: 1, max: 6 }).map((n) => 'x'.repeat(10 ** n / 2)),
);

/** Values of the wrong type for any field. */
export const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  nastyString,
  fc.constantFrom(
    null,
    true,
    false,
    0,
    -1,
    -2147483649,
    2147483648,
    2 ** 53,
    1e308,
    -1e308,
    0.5,
    [],
    {},
    [1, 2],
    { a: 1 },
    ['x'],
    { $gt: '' },
    { __proto__: { x: 1 } },
  ),
  fc.integer(),
  fc.double(),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
);

/** Paging numbers nobody should send. */
export const absurdNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    -1,
    0,
    1e308,
    -1e308,
    2 ** 31,
    2 ** 53 + 2,
    2 ** 63,
    1.5,
    '1e3',
    '-0',
    '00',
    '',
    ' ',
    'abc',
    '9'.repeat(400),
    '0x1F',
    'Infinity',
    '1,000',
  ),
  fc.integer(),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
);

export type Mutation =
  | { kind: 'drop'; index: number }
  | { kind: 'set'; index: number; value: unknown }
  | { kind: 'extra'; key: string; value: unknown }
  | { kind: 'dup'; index: number; value: unknown };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('drop' as const), index: fc.nat() }),
  fc.record({ kind: fc.constant('set' as const), index: fc.nat(), value: wrongValue }),
  fc.record({ kind: fc.constant('set' as const), index: fc.nat(), value: absurdNumber }),
  fc.record({
    kind: fc.constant('extra' as const),
    key: fc.oneof(
      fc.constantFrom('__proto__', 'constructor', 'cmd', 'APIUUID', 'id', 'x', '', 'a[b]', 'a.b'),
      fc.string({ maxLength: 8 }),
    ),
    value: wrongValue,
  }),
  fc.record({ kind: fc.constant('dup' as const), index: fc.nat(), value: wrongValue }),
);

/**
 * Apply mutations to a flat parameter object. `dup` turns the value into an array of two (what a
 * query string or form with a repeated parameter parses to).
 */
export function mutate(params: Record<string, unknown>, muts: Mutation[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...params };
  for (const m of muts) {
    const keys = Object.keys(out);
    if (m.kind === 'extra') {
      Object.defineProperty(out, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
      continue;
    }
    if (keys.length === 0) continue;
    const k = keys[m.index % keys.length];
    if (m.kind === 'drop') delete out[k];
    else if (m.kind === 'set') out[k] = m.value;
    else out[k] = [out[k], m.value];
  }
  return out;
}

/** Flat params -> query string / form body, keeping repeated parameters repeated. */
export function toQuery(params: Record<string, unknown>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) for (const x of v) q.append(k, scalar(x));
    else q.append(k, scalar(v));
  }
  return q.toString();
}

function scalar(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Bodies that are not what their content type says. */
export const malformedBody: fc.Arbitrary<{ contentType: string | undefined; payload: string | Buffer }> = fc.oneof(
  fc.record({
    contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', undefined),
    payload: fc.oneof(
      fc.constantFrom(
        '{',
        '}',
        '[',
        '{"a":',
        '{"a":1,}',
        "{'a':1}",
        'null',
        'true',
        '1',
        '"x"',
        '[]',
        '[{}]',
        '{"__proto__":{"x":1}}',
        '{"constructor":{"prototype":{"x":1}}}',
        '\ufeff{}',
        '{}{}',
        'NaN',
        ' ',
      ),
      fc.string({ maxLength: 40 }),
    ),
  }),
  fc.record({
    contentType: fc.constantFrom('application/xml', 'text/xml', 'application/xml; charset=utf-8'),
    payload: fc.oneof(
      fc.constantFrom(
        '<',
        '<a>',
        '<a></b>',
        '<?xml version="1.0"?>',
        '<a><b></a>',
        '<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>',
        '<a>&unknown;</a>',
        '<a xmlns:x="u"><x:b/></a>',
        '<customer><name>x</name><name>y</name></customer>',
        '<a>\u0000</a>',
      ),
      fc.string({ maxLength: 40 }),
    ),
  }),
  fc.record({
    contentType: fc.constantFrom('application/x-www-form-urlencoded'),
    payload: fc.oneof(
      fc.constantFrom('=', '&&&', 'a=%zz', '%', 'a[=1', 'a=1&a=2&a=3', '__proto__[x]=1', 'a'.repeat(2000) + '=1'),
      fc.string({ maxLength: 40 }),
    ),
  }),
  fc.record({
    contentType: fc.constantFrom(
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      'image/png',
      'text/html',
      ';;;',
      'application/json; charset=latin1',
      'application/jsonx',
    ),
    payload: fc.string({ maxLength: 40 }),
  }),
  fc.record({
    contentType: fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'application/xml'),
    payload: fc
      .uint8Array({ maxLength: 40 })
      .map((a) => Buffer.concat([Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(a)])),
  }),
);

export const isServerError = (status: number) => status >= 500;

/** One generated request: built for a session (sessions rotate so writes never pile up). */
export type CaseBuilder = (session: string) => import('fastify').InjectOptions;

/**
 * The shared property: never a 5xx, `classify` accepts the answer as the vendor's own success or
 * error format (it throws otherwise), and a refused request leaves the vendor's tables unchanged.
 */
export async function fuzzVendor(
  app: FastifyInstance,
  opts: {
    prefix: string;
    name: string;
    cases: fc.Arbitrary<CaseBuilder>;
    runs?: number;
    classify: (res: import('fastify').LightMyRequestResponse, req: import('fastify').InjectOptions) => 'ok' | 'refused';
  },
): Promise<void> {
  let n = 0;
  let session = '';
  let watcher: ChangeWatcher | null = null;
  await fc.assert(
    fc.asyncProperty(opts.cases, async (build) => {
      if (n++ % 250 === 0 || watcher === null) {
        session = `fuzz-${opts.name}-${n}`;
        app.registry.get(session);
        watcher = new ChangeWatcher(app, opts.prefix, session);
      }
      const req = build(session);
      const res = await app.inject(req);
      const what = `${req.method} ${String(req.url).slice(0, 300)} ${JSON.stringify(req.headers).slice(0, 400)} ${String(req.payload ?? '').slice(0, 200)} -> ${res.statusCode} ${res.body.slice(0, 300)}`;
      expect(res.statusCode, what).toBeLessThan(500);
      let kind: 'ok' | 'refused';
      try {
        kind = opts.classify(res, req);
      } catch (e) {
        throw new Error(`${what}\n${(e as Error).message}`, { cause: e });
      }
      const changed = watcher.changed();
      if (kind === 'refused') expect(changed, `refused but wrote: ${what}`).toBe(false);
    }),
    fcParams(opts.runs),
  );
}

/** Fields -> a body in one of the common encodings. */
export function encodeBody(
  fields: Record<string, unknown>,
  as: 'json' | 'form' | 'xml',
  root = 'customer',
): { contentType: string; payload: string } {
  if (as === 'json') return { contentType: 'application/json', payload: JSON.stringify(fields) };
  if (as === 'form') return { contentType: 'application/x-www-form-urlencoded', payload: toQuery(fields) };
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const inner = Object.entries(fields)
    .map(([k, v]) => {
      const tag = /^[A-Za-z_][\w.-]*$/.test(k) ? k : 'x';
      const vals = Array.isArray(v) ? v : [v];
      return vals
        .map(
          (x) => `<${tag}>${esc(typeof x === 'object' && x !== null ? JSON.stringify(x) : String(x ?? ''))}</${tag}>`,
        )
        .join('');
    })
    .join('');
  return {
    contentType: 'application/xml',
    payload: `<?xml version="1.0" encoding="UTF-8"?><${root}>${inner}</${root}>`,
  };
}

/** Apply an optional broken body to a request that carries one. */
export function withBroken(
  req: import('fastify').InjectOptions,
  broken: { contentType: string | undefined; payload: string | Buffer } | null,
): import('fastify').InjectOptions {
  if (!broken || req.method === 'GET' || req.method === 'DELETE') return req;
  const headers = { ...(req.headers as Record<string, string>) };
  if (broken.contentType) headers['content-type'] = broken.contentType;
  else delete headers['content-type'];
  return { ...req, headers, payload: broken.payload };
}
