/**
 * Request fields as PHP reads them, for the vendors whose real service is PHP (RackCorp's
 * json.php, NeuCRM): a query string or a form body (url-encoded or multipart) becomes what
 * `$_GET` / `$_POST` hold.
 *   - Bracket notation builds arrays and objects: `locations[0][suburb]=Sydney`, `tags[]=a&tags[]=b`.
 *   - A field sent twice keeps its last value (`name=a&name=b` is "b"); a journal warning says so.
 *   - A dot or a space in a top-level name becomes `_` (`api.key` is `api_key`), as PHP renames them.
 *   - Multipart parts without a filename are fields, read by the same rules; file parts (`$_FILES`,
 *     which these APIs never read) are drained and named in a journal warning.
 * The parsing itself is qs (PHP's bracket rules, with limits), fast-querystring (fields without
 * brackets, the common case) and busboy (multipart): no hand-made parser. Everything is bounded:
 * the body by Fastify's bodyLimit (--max-body-bytes) before any parsing, the number of fields by
 * MAX_FIELDS (PHP's max_input_vars), the nesting by MAX_DEPTH
 * (PHP's max_input_nesting_level). What exceeds a limit is refused (never silently cut, as PHP cuts).
 *
 * Known differences from PHP, all for inputs no documented call uses: `a[][x]=1&a[][y]=2` makes one
 * element {x, y} (PHP: two), a name given both plain and with brackets (`a=1&a[x]=2`) makes a list
 * of both (PHP: the last one), and an array index above MAX_FIELDS is refused (PHP keeps it as a key).
 */
import qs from 'qs';
import fastQueryString from 'fast-querystring';
import { Busboy, type BusboyInstance } from '@fastify/busboy';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** PHP's max_input_vars default: fields per query string or body. */
export const MAX_FIELDS = 1000;
/** PHP's max_input_nesting_level default: brackets per field name. */
export const MAX_DEPTH = 64;
/** PHP's max_file_uploads default: file parts named in warnings; more are drained with one warning. */
const MAX_FILES = 20;
/** Header lines per multipart part (Content-Disposition, Content-Type, a few more). */
const MAX_PART_HEADERS = 16;

/** An unreadable or over-limit query string or body: a 400 each vendor words in its own format. */
export class PhpFormError extends Error {
  readonly statusCode = 400;
  constructor(
    message: string,
    readonly part: 'query' | 'body',
  ) {
    super(message);
  }
}

const QS_OPTIONS = {
  depth: MAX_DEPTH,
  strictDepth: true,
  parameterLimit: MAX_FIELDS,
  arrayLimit: MAX_FIELDS,
  throwOnLimitExceeded: true,
  duplicates: 'last',
  // Null-prototype objects: a field named `toString` or `constructor` is kept, as PHP keeps it.
  plainObjects: true,
  allowDots: false,
  comma: false,
} as const;

/** Characters PHP turns into `_` in a top-level field name. */
const RENAMED = /[. ]/g;
const HAS_RENAMED = /[. ]/;

/** A bracket, plain or percent-encoded: only then is there anything to nest. */
const BRACKET = /\[|%5b/i;

/**
 * `text` (a query string without `?`, or a url-encoded body) as PHP's `$_GET`/`$_POST`.
 * `warn` receives one message per field sent more than once.
 */
export function parsePhpFields(
  text: string,
  warn: (message: string) => void,
  part: 'query' | 'body' = 'body',
): Record<string, unknown> {
  if (text === '') return {};
  return (!BRACKET.test(text) && flatFields(text, warn)) || nestedFields(text, warn, part);
}

/**
 * The object the fields are kept in: no Object.prototype in its chain (a field named `__proto__`
 * or `constructor` is a field like any other), in V8's fast mode. `Object.create(null)` starts in
 * dictionary mode, which sent every later walk over the fields (the operation's Object.entries,
 * the journal's and coverage's for-in) through V8's runtime: about 2 % of a NeuCRM list request's
 * CPU. fast-querystring makes its result the same way.
 */
const Fields = function Fields() {} as unknown as new () => Record<string, unknown>;
Fields.prototype = Object.create(null) as object;

/**
 * Fields without brackets, split by fast-querystring (Fastify's own parser), then PHP's renaming
 * and last-wins. qs's option handling and bracket machinery cost ~4% of a whole cached
 * customer.get (20 of 530 us, measured in-process with app.inject), for nothing to nest.
 * Undefined when there are too many fields: the qs path refuses them in its own words.
 */
function flatFields(text: string, warn: (message: string) => void): Record<string, unknown> | undefined {
  const split = fastQueryString.parse(text) as Record<string, string | string[]>;
  const out = new Fields();
  let fields = 0;
  let counts: Map<string, number> | null = null;
  for (const name of Object.keys(split)) {
    if (name === '') continue; // PHP drops a field without a name, as qs does
    const key = HAS_RENAMED.test(name) ? name.replace(RENAMED, '_') : name;
    const v = split[name];
    const n = Array.isArray(v) ? v.length : 1;
    fields += n;
    // `a.b` and `a_b` are one field to PHP, counted as sent twice.
    const total = n + (key in out ? (counts?.get(key) ?? 1) : 0);
    if (total > 1) (counts ??= new Map()).set(key, total);
    out[key] = Array.isArray(v) ? v[v.length - 1] : v;
  }
  if (fields > MAX_FIELDS) return undefined;
  if (counts)
    for (const [key, n] of counts)
      warn(`${key} was sent ${n} times; the last value ${JSON.stringify(out[key])} is used (as PHP does)`);
  return out;
}

function nestedFields(text: string, warn: (message: string) => void, part: 'query' | 'body'): Record<string, unknown> {
  let counts: Map<string, number> | null = null;
  const seen = new Set<string>();
  let result: Record<string, unknown>;
  try {
    result = qs.parse(text, {
      ...QS_OPTIONS,
      decoder(str, defaultDecoder, charset, type) {
        const decoded = defaultDecoder(str, defaultDecoder, charset) as string;
        if (type !== 'key') return decoded;
        const open = decoded.indexOf('[');
        const base = open === -1 ? decoded : decoded.slice(0, open);
        const key = HAS_RENAMED.test(base)
          ? base.replace(RENAMED, '_') + (open === -1 ? '' : decoded.slice(open))
          : decoded;
        // `name[]` appends; any other name seen again replaces the first value.
        if (!key.endsWith('[]')) {
          if (seen.has(key)) {
            counts ??= new Map();
            counts.set(key, (counts.get(key) ?? 1) + 1);
          } else seen.add(key);
        }
        return key;
      },
    }) as Record<string, unknown>;
  } catch (e) {
    throw new PhpFormError(
      `The ${part === 'query' ? 'query string' : 'form body'} cannot be read: ${(e as Error).message}`,
      part,
    );
  }
  if (counts) {
    for (const [key, n] of counts as Map<string, number>) {
      const last = key in result && typeof result[key] !== 'object' ? ` ${JSON.stringify(result[key])}` : '';
      warn(`${key} was sent ${n} times; the last value${last} is used (as PHP does)`);
    }
  }
  return result;
}

/** The query string of a request URL as PHP's `$_GET`. */
export function phpQuery(url: string, warn: (message: string) => void): Record<string, unknown> {
  const q = url.indexOf('?');
  if (q === -1) return {};
  const hash = url.indexOf('#', q);
  return parsePhpFields(hash === -1 ? url.slice(q + 1) : url.slice(q + 1, hash), warn, 'query');
}

const percent = (s: string) => encodeURIComponent(s);

/**
 * A multipart/form-data body (already read, so within bodyLimit) as PHP's `$_POST`: the fields,
 * through the same bracket and last-wins rules as a url-encoded body.
 */
export function parsePhpMultipart(
  body: Buffer,
  contentType: string,
  warn: (message: string) => void,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let bb: BusboyInstance;
    try {
      bb = new Busboy({
        headers: { 'content-type': contentType },
        // PHP takes a part with a filename as a file, whatever its Content-Type; any other part is a field.
        isPartAFile: (_name, _type, filename) => filename !== undefined,
        limits: {
          // The whole body is already within bodyLimit: no name or value can be longer than it.
          fieldNameSize: body.length + 1,
          fieldSize: body.length + 1,
          fields: MAX_FIELDS,
          files: MAX_FILES,
          parts: MAX_FIELDS + MAX_FILES,
          headerPairs: MAX_PART_HEADERS,
        },
      });
    } catch (e) {
      reject(new PhpFormError(`The multipart body cannot be read: ${(e as Error).message}`, 'body'));
      return;
    }
    const pairs: string[] = [];
    let problem: string | null = null;
    let settled = false;
    const fail = (message: string) => {
      if (settled) return;
      settled = true;
      reject(new PhpFormError(message, 'body'));
    };
    bb.on('field', (name: string, value: string) => {
      try {
        pairs.push(`${percent(name)}=${percent(value)}`);
      } catch {
        // Text that is not well-formed Unicode (a lone surrogate, from a part's own charset).
        problem ??= `the field ${JSON.stringify(name)} is not well-formed text`;
      }
    });
    bb.on('file', (name: string, stream: NodeJS.ReadableStream, filename: string) => {
      warn(`file part ${JSON.stringify(name)} (${JSON.stringify(filename)}) ignored: the API reads form fields only`);
      stream.resume();
    });
    bb.on('filesLimit', () => warn(`more than ${MAX_FILES} file parts: the rest ignored too`));
    bb.on('fieldsLimit', () => {
      problem ??= `more than ${MAX_FIELDS} fields`;
    });
    bb.on('partsLimit', () => {
      problem ??= `more than ${MAX_FIELDS + MAX_FILES} parts`;
    });
    bb.on('error', (e: Error) => fail(`The multipart body cannot be read: ${e.message}`));
    bb.on('finish', () => {
      if (problem) return fail(`The multipart body cannot be read: ${problem}`);
      if (settled) return;
      try {
        const fields = parsePhpFields(pairs.join('&'), warn);
        settled = true;
        resolve(fields);
      } catch (e) {
        fail((e as Error).message);
      }
    });
    bb.end(body);
  });
}

function warnerOf(request: FastifyRequest): (message: string) => void {
  return (message) => {
    request.emulator?.warnings.push(message);
  };
}

/**
 * Url-encoded and multipart bodies read as PHP reads them, in this plugin scope only (the other
 * vendors keep the app's parsers). Fastify reads each body within bodyLimit before parsing.
 * `refusal` turns an unreadable body into the vendor's own error (default: the PhpFormError, a 400).
 */
export function usePhpFormParsers(scope: FastifyInstance, refusal: (e: PhpFormError) => Error = (e) => e): void {
  const failed = (e: unknown): Error => (e instanceof PhpFormError ? refusal(e) : (e as Error));
  if (scope.hasContentTypeParser('application/x-www-form-urlencoded'))
    scope.removeContentTypeParser('application/x-www-form-urlencoded');
  scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (request, body, done) => {
    try {
      done(null, parsePhpFields(body as string, warnerOf(request)));
    } catch (e) {
      done(failed(e), undefined);
    }
  });
  scope.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (request, body, done) => {
    parsePhpMultipart(body as Buffer, request.headers['content-type'] ?? '', warnerOf(request)).then(
      (fields) => done(null, fields),
      (e: unknown) => done(failed(e), undefined),
    );
  });
}
