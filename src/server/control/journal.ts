/**
 * The request journal: every vendor request, as received and as answered, in a bounded ring per
 * state (`--journal-size`, oldest dropped first). Bodies are kept up to `--journal-body-bytes`.
 *
 * Credentials are kept (contract tests check what a client sent) and named in `credentials`:
 * `header:<name>`, `query:<name>` or `body:<field>` for every header, query parameter or top-level
 * body field that looks like one (authorization, cookies, API keys, secrets, passwords, tokens,
 * signatures), whatever the vendor.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { Config } from '../../core/config.js';
import type { EmulatorState } from '../../store/state.js';
import { ControlError, allStates, controlSessionId, controlState } from './common.js';
import { redactBody, redactHeaders, redactQuery, redactUrl } from './redact.js';

export interface JournalEntry {
  /** Position in this state's journal (1, 2, ...; never reused, also after a clear). */
  seq: number;
  /** When it arrived, by the state's clock (ISO 8601). */
  time: string;
  session: string | null;
  vendor: string;
  operation: string | null;
  method: string;
  /** The URL exactly as the client sent it (with any /_sessions/<id> prefix). */
  url: string;
  path: string;
  query: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  /** Headers, query parameters and body fields that carry credentials (values kept above). */
  credentials: string[];
  /** The request body as received (text), or null when there was none. */
  body: string | null;
  bodyTruncated?: boolean;
  status: number | null;
  responseHeaders: Record<string, unknown>;
  responseBody: string | null;
  responseBodyTruncated?: boolean;
  durationMs: number;
  /** Id of the fault rule that answered (or delayed, or dropped) it. */
  fault?: number;
  /** The connection was dropped without an answer (a `drop` fault). */
  dropped?: boolean;
  /** What `--lenient` let through that `--strict` would have refused (see request.emulator.warn). */
  warnings?: string[];
  /**
   * Shadow mode (--upstream): the credentials whose values were replaced by `[redacted]` in this
   * entry (`header:authorization`, `query:APISECRET`, `body:api_key`, `response-header:set-cookie`, ...).
   */
  redacted?: string[];
  /** Shadow mode: how the emulator's answer differed from the real vendor's (see drift.ts). */
  drift?: unknown;
}

/**
 * What the journal keeps of one request until someone reads it: the body's first
 * `--journal-body-bytes` (as received), the answer's first as many, references to the headers and
 * query (bounded by Node's header size limit) and a few numbers. Nothing that grows with the
 * request beyond those bounds: not the parsed body (a 1 MB JSON body kept whole would be 1 MB per
 * entry whatever the byte limit says), only the names of its credential fields. The public entry (ISO
 * time, path, texts) is built when the journal is read, not on the request's path.
 *
 * Every field is there from the start (record() writes them all in one literal): an entry has one
 * shape and keeps its fields in itself, with no second object for the ones added later.
 */
interface StoredEntry {
  seq: number;
  timeMs: number;
  session: string | null;
  vendor: string;
  operation: string | null;
  warnings: string[] | null;
  method: string;
  url: string;
  /** The query (see Flat). */
  query: Flat;
  /**
   * The request's header lines as they arrived (Node's `rawHeaders`) as JSON text, made into the
   * headers object when read (headersOfLines); null when `headers` holds the map instead (redacted).
   */
  headerLines: string | null;
  headers: Flat;
  /** The request body's text as received (bounded); null when none was read. */
  rawBody: string | null;
  /** `body:<field>` for the top-level body fields that carry credentials. */
  bodyCredentials: string[];
  bodyTruncated: boolean;
  status: number | null;
  /**
   * The answer's header block as Node wrote it to the socket (a text it made anyway, kept by
   * reference), made into the map when read (headersOfBlock); null when `responseHeaders` holds it.
   */
  headerBlock: string | null;
  responseHeaders: Flat;
  responseBody: string | Buffer | null;
  responseBodyTruncated: boolean;
  /** In hundredths of a millisecond: a small integer, kept in the entry itself (a fraction is one more object). */
  duration: number;
  fault: number | undefined;
  dropped: boolean;
  /** What keeping it costs, in bytes (an estimate that errs high). */
  bytes: number;
  /** Still held by its journal (the process-wide budget skips entries already dropped). */
  held: boolean;
  owner: Journal | null;
  redacted: string[] | undefined;
  drift: unknown;
  built: JournalEntry | undefined;
}

/**
 * A header or query map as the journal keeps it: one text, `name\nvalue\nname\nvalue...`, when every
 * name and value is a string without a line feed (HTTP allows none in a header: every request and
 * answer header, and almost every query); otherwise one flat array, name then value, in the object's
 * order; and one shared empty array for an empty map. What the journal keeps for the last 1,000
 * requests is what it costs: the objects themselves (Fastify's reply headers copy, Node's request
 * headers, the parsed query) cost RackCorp customer.get 44-50 us of CPU per request against 34-38
 * with the answer's headers kept as pairs; the pairs still cost 46-49 against 32-43 with one text
 * (the builds alternated, 4 runs each). A text is one object the garbage collector copies and never
 * traces; an array is one more object, and each of its strings another.
 */
type Flat = string | unknown[];

const NO_PAIRS: readonly unknown[] = Object.freeze([]);

function flatOf(obj: object | null | undefined): Flat {
  if (!obj) return NO_PAIRS as unknown[];
  const out: unknown[] = [];
  let text = true;
  for (const k in obj) {
    const v = (obj as Record<string, unknown>)[k];
    out.push(k, v);
    if (text && (typeof v !== 'string' || v.includes('\n') || k.includes('\n'))) text = false;
  }
  if (out.length === 0) return NO_PAIRS as unknown[];
  return text ? out.join('\n') : out;
}

/** The map again, as a plain object (defineProperty: a name such as `__proto__` stays a name). */
function objectOf(flat: Flat): Record<string, unknown> {
  const pairs = typeof flat === 'string' ? flat.split('\n') : flat;
  const out: Record<string, unknown> = {};
  for (let i = 0; i < pairs.length; i += 2) define(out, pairs[i] as string, pairs[i + 1]);
  return out;
}

/**
 * Headers kept as the texts the request and its answer already were. Making the maps on the
 * request's path (Node's headers object and Fastify's `reply.getHeaders()` copied into name/value
 * texts) cost RackCorp customer.get about 10 us of CPU per request of 50 (bundles alternated, 6 runs
 * of 60,000 requests); the raw lines as one JSON text, and a reference to the header block Node
 * wrote, cost next to nothing. The maps are made when the journal is read, as Node and Fastify made them.
 */

/**
 * The request's headers object from its raw lines, by Node's documented rules (`message.headers`):
 * names in lower case; a repeated age, authorization, content-length, content-type, etag, expires,
 * from, host, if-modified-since, if-unmodified-since, last-modified, location, max-forwards,
 * proxy-authorization, referer, retry-after, server or user-agent is dropped; set-cookie is a list;
 * repeated cookies are joined with "; ", any other repeated header with ", ". (A request made by
 * `inject` has one line per name, its value as given.)
 */
function headersOfLines(lines: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const name = String(lines[i]).toLowerCase();
    // Node assigns each header to a plain object, where a `__proto__` header is no property at all.
    if (name === '__proto__') continue;
    const value = lines[i + 1];
    const had = Object.hasOwn(out, name);
    if (name === 'set-cookie') {
      if (had) (out[name] as unknown[]).push(value);
      else define(out, name, typeof value === 'string' ? [value] : value);
    } else if (!had) define(out, name, value);
    else if (!SINGLE_HEADERS.has(name) && typeof out[name] === 'string')
      out[name] = `${out[name] as string}${name === 'cookie' ? '; ' : ', '}${String(value)}`;
  }
  return out;
}

const SINGLE_HEADERS = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
]);

/** Headers Node adds to an answer itself, in its own spelling (the emulator's are in lower case). */
const NODE_HEADERS = new Set(['Date', 'Connection', 'Keep-Alive', 'Transfer-Encoding']);

/**
 * The answer's headers from the block Node wrote (`HTTP/1.1 200 OK\r\nname: value\r\n...`): what
 * the emulator set (Fastify's `reply.getHeaders()`), without the ones Node adds itself; a name
 * written on several lines (set-cookie) is a list. Values are the texts sent.
 */
function headersOfBlock(block: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const lines = block.split('\r\n');
  for (let i = 1; i < lines.length; i++) {
    const colon = lines[i].indexOf(': ');
    if (colon <= 0) continue;
    const name = lines[i].slice(0, colon);
    if (NODE_HEADERS.has(name)) continue;
    const value = lines[i].slice(colon + 2);
    if (!Object.hasOwn(out, name)) define(out, name, value);
    else if (Array.isArray(out[name])) (out[name] as unknown[]).push(value);
    else out[name] = [out[name], value];
  }
  return out;
}

/**
 * The header block Node wrote for the answer (null: none written, or a Node without it), flat:
 * Node makes it by concatenation, a string of one piece per header; kept as it is, the garbage
 * collector copied every piece of it for each of the last 1,000 entries (scavenges took 5.4 ms
 * instead of 2.2). Reading it as a number makes V8 join it into one text in place.
 */
function headerBlockOf(reply: FastifyReply): string | null {
  const block = (reply.raw as { _header?: unknown })._header;
  if (typeof block !== 'string') return null;
  void Number(block);
  return block;
}

function storedHeaders(e: StoredEntry): Record<string, unknown> {
  return e.headerLines !== null ? headersOfLines(JSON.parse(e.headerLines) as unknown[]) : objectOf(e.headers);
}

function storedResponseHeaders(e: StoredEntry): Record<string, unknown> {
  return e.headerBlock !== null ? headersOfBlock(e.headerBlock) : objectOf(e.responseHeaders);
}

/** out[name] = value, a name such as `__proto__` staying a name. */
function define(out: Record<string, unknown>, name: string, value: unknown): void {
  Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
}

/** Bytes an entry costs besides the texts counted on their own (the object, its numbers, the query). */
const ENTRY_OVERHEAD = 512;

/**
 * The bytes all journals of one app may hold together (`--journal-total-bytes`). Entries are
 * queued in arrival order; past the bound the oldest of the process goes first, whatever its
 * state (the oldest entry of the process is always the oldest of its own journal).
 */
export class JournalBudget {
  bytes = 0;
  private queue: StoredEntry[] = [];
  private head = 0;
  private live = 0;
  constructor(readonly max: number) {}

  add(e: StoredEntry): void {
    this.queue.push(e);
    this.bytes += e.bytes;
    this.live++;
    while (this.bytes > this.max && this.head < this.queue.length) {
      const oldest = this.queue[this.head];
      if (oldest.held) oldest.owner!.dropOldest();
      else this.head++;
    }
    this.compact();
  }

  /** An entry left its journal (pushed out, cleared, or its state closed). */
  released(e: StoredEntry): void {
    this.bytes -= e.bytes;
    this.live--;
    this.compact();
  }

  /** Forget the queue's dropped entries once they are most of it (amortised O(1) per entry). */
  private compact(): void {
    while (this.head < this.queue.length && !this.queue[this.head].held) this.head++;
    if (this.queue.length - this.head > 2 * this.live + 64 || this.head > 1024) {
      this.queue = this.queue.slice(this.head).filter((x) => x.held);
      this.head = 0;
    }
  }
}

export class Journal {
  /** Oldest first, from `head` (dropping the oldest is O(1); the array is compacted now and then). */
  private items: StoredEntry[] = [];
  private head = 0;
  private nextSeq = 1;
  private disposed = false;
  /** Bytes the entries held cost (see StoredEntry.bytes). */
  bytes = 0;
  constructor(
    readonly size: number,
    private readonly maxBody = Number.MAX_SAFE_INTEGER,
    private readonly maxBytes = Number.MAX_SAFE_INTEGER,
    private readonly budget: JournalBudget | null = null,
  ) {}

  /** Keep an entry (the oldest go while the count or the bytes are past their bounds). */
  keep(entry: StoredEntry): void {
    if (
      this.disposed ||
      this.size <= 0 ||
      entry.bytes > this.maxBytes ||
      (this.budget && entry.bytes > this.budget.max)
    )
      return;
    entry.seq = this.nextSeq++;
    entry.held = true;
    entry.owner = this;
    this.items.push(entry);
    this.bytes += entry.bytes;
    while (this.items.length - this.head > this.size || this.bytes > this.maxBytes) this.dropOldest();
    this.budget?.add(entry);
  }

  /** Drop the oldest entry (by the count, the state's bytes or the process's bytes). */
  dropOldest(): void {
    if (this.head >= this.items.length) return;
    const e = this.items[this.head];
    this.items[this.head++] = undefined as unknown as StoredEntry;
    this.release(e);
    if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  private release(e: StoredEntry): void {
    e.held = false;
    this.bytes -= e.bytes;
    this.budget?.released(e);
  }

  /** Oldest first. */
  entries(): JournalEntry[] {
    const out: JournalEntry[] = [];
    for (let i = this.head; i < this.items.length; i++) out.push(built(this.items[i], this.maxBody));
    return out;
  }

  clear(): number {
    const n = this.items.length - this.head;
    for (let i = this.head; i < this.items.length; i++) this.release(this.items[i]);
    this.items = [];
    this.head = 0;
    return n;
  }

  /** Its state closed: what it held leaves the process's budget. */
  dispose(): void {
    this.disposed = true;
    this.clear();
  }

  get length(): number {
    return this.items.length - this.head;
  }
}

const budgets = new WeakMap<Config, JournalBudget>();

/** The process-wide journal budget of the app configured by `config`. */
export function journalBudget(config: Config): JournalBudget {
  let b = budgets.get(config);
  if (b === undefined) {
    b = new JournalBudget(config.journalTotalBytes ?? Number.MAX_SAFE_INTEGER);
    budgets.set(config, b);
  }
  return b;
}

export function journalOf(state: EmulatorState, config: Config): Journal {
  return state.extra(
    'journal',
    () =>
      new Journal(
        config.journalSize,
        config.journalBodyBytes,
        config.journalStateBytes ?? Number.MAX_SAFE_INTEGER,
        journalBudget(config),
      ),
  );
}

const CREDENTIAL =
  /^(authorization|proxy-authorization|cookie|x-api-key|api-?key|apiuuid|apisecret|.*(password|passwd|secret|token|signature|api_?key|apikey).*)$/i;

function credentialNames(where: string, obj: unknown): string[] {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return [];
  return Object.keys(obj)
    .filter((k) => CREDENTIAL.test(k) && k.toLowerCase() !== 'x-emulator-session')
    .map((k) => `${where}:${k}`);
}

function text(v: string | Buffer | (string | Buffer)[]): string {
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (v.every((p) => typeof p === 'string')) return v.join('');
  return Buffer.concat(v.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))).toString('utf8');
}

function bounded(value: string, max: number): { text: string; truncated: boolean } {
  // A UTF-8 byte is at most one UTF-16 unit: a short text needs no byte count.
  if (value.length <= max / 3 || Buffer.byteLength(value) <= max) return { text: value, truncated: false };
  return { text: Buffer.from(value).subarray(0, max).toString('utf8'), truncated: true };
}

/** A kept body as text within `max` bytes (null: none), and whether it was cut, when kept or now. */
function boundedBody(
  kept: string | Buffer | (string | Buffer)[] | null,
  truncated: boolean,
  max: number,
): { text: string | null; truncated: boolean } {
  if (kept === null) return { text: null, truncated };
  const b = bounded(text(kept), max);
  return { text: b.text, truncated: truncated || b.truncated };
}

/** The public form of a stored entry, built once; its texts then replace the stored parts. */
function built(e: StoredEntry, max: number): JournalEntry {
  if (e.built) return e.built;
  const { text: body, truncated: bodyTruncated } = boundedBody(e.rawBody, e.bodyTruncated, max);
  e.rawBody = body;
  const { text: responseBody, truncated: responseTruncated } = boundedBody(
    e.responseBody,
    e.responseBodyTruncated,
    max,
  );
  e.responseBody = responseBody;
  const query = objectOf(e.query);
  const headers = storedHeaders(e);
  const entry: JournalEntry = {
    seq: e.seq,
    time: new Date(e.timeMs).toISOString(),
    session: e.session,
    vendor: e.vendor,
    operation: e.operation,
    ...(e.warnings && e.warnings.length ? { warnings: [...e.warnings] } : {}),
    method: e.method,
    url: e.url,
    path: e.url.split('?')[0],
    query,
    headers: headers as JournalEntry['headers'],
    credentials: [...credentialNames('header', headers), ...credentialNames('query', query), ...e.bodyCredentials],
    body,
    status: e.status,
    responseHeaders: storedResponseHeaders(e),
    responseBody,
    durationMs: e.duration / 100,
  };
  if (bodyTruncated) entry.bodyTruncated = true;
  if (responseTruncated) entry.responseBodyTruncated = true;
  if (e.fault !== undefined) entry.fault = e.fault;
  if (e.dropped) entry.dropped = true;
  if (e.redacted) entry.redacted = e.redacted;
  if (e.drift !== undefined) entry.drift = e.drift;
  return (e.built = entry);
}

/**
 * What the pipeline keeps of one vendor request while it runs: when it started, the body as it
 * arrives, the answer's text, the fault that touched it. Made by the vendor scope's first hook.
 */
export class Trace {
  readonly startedAt = performance.now();
  /** The request body as received (within the journal's body bound). */
  parts: (string | Buffer)[] | null = null;
  bytes = 0;
  truncated = false;
  responseBody: string | Buffer | null = null;
  responseTruncated = false;
  recorded = false;
  /** Id of the fault rule that answered, delayed or dropped the request. */
  fault?: number;
  dropped?: boolean;
  /** The emulator refused it itself (in-flight cap, foreign origin), in the vendor's format. */
  refused?: boolean;
  /** Shadow mode: keep this request with its credentials redacted. */
  redact = false;
  /** Shadow mode: the comparison with the real vendor's answer. */
  drift?: unknown;
  constructor(readonly timeMs: number) {}
}

const TRACE = Symbol('emulatorTrace');
type WithTrace = FastifyRequest & { [TRACE]?: Trace };

export function traceOf(request: FastifyRequest): Trace | undefined {
  return (request as WithTrace)[TRACE];
}

export function startTrace(request: FastifyRequest): Trace {
  const t = new Trace(request.emulator.state.clock.now());
  (request as WithTrace)[TRACE] = t;
  return t;
}

/** Keep the request body's text as it arrives (a listener beside the body parser's own, no extra stream). */
export function teeBody(trace: Trace, payload: NodeJS.ReadableStream, max: number): void {
  payload.on('data', (chunk: string | Buffer) => {
    if (trace.bytes >= max) {
      if (chunk.length > 0) trace.truncated = true;
      return;
    }
    const n = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    // References to what arrived: record() turns them into one text, so nothing here outlives the request.
    let part: string | Buffer = chunk;
    if (trace.bytes + n > max) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      part = buf.subarray(0, max - trace.bytes);
      trace.truncated = true;
    }
    (trace.parts ??= []).push(part);
    trace.bytes += typeof part === 'string' ? n : part.length;
  });
}

/** Keep the answer's text (a reference; bounded when it is long). */
export function keepResponse(trace: Trace, payload: unknown, max: number): void {
  if (typeof payload === 'string') {
    if (payload.length <= max / 3) trace.responseBody = payload;
    else {
      const b = bounded(payload, max);
      trace.responseBody = b.text;
      trace.responseTruncated = b.truncated;
    }
  } else if (Buffer.isBuffer(payload)) {
    trace.responseBody = payload.length <= max ? payload : Buffer.from(payload.subarray(0, max));
    trace.responseTruncated = payload.length > max;
  } else if (payload !== null && payload !== undefined) {
    trace.responseBody = '[stream]';
  }
}

/** Most credential field names of one body an entry keeps. */
const MAX_BODY_CREDENTIALS = 32;

function bodyCredentialNames(body: unknown): string[] {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return NO_PAIRS as string[];
  const out: string[] = [];
  for (const k in body) {
    if (Object.hasOwn(body, k) && CREDENTIAL.test(k) && k.length <= 256) {
      out.push(`body:${k}`);
      if (out.length === MAX_BODY_CREDENTIALS) break;
    }
  }
  return out.length === 0 ? (NO_PAIRS as string[]) : out;
}

/** The warnings of one request, up to `max` bytes of them (a note says how many more there were). */
function boundedWarnings(list: string[], max: number): string[] {
  let bytes = 0;
  for (let i = 0; i < list.length; i++) {
    bytes += list[i].length * 3;
    if (bytes > max)
      return [...list.slice(0, i), `... and ${list.length - i} more warnings (past --journal-body-bytes)`];
  }
  return list;
}

function textBytes(v: string | Buffer | (string | Buffer)[] | null): number {
  if (v === null) return 0;
  if (typeof v === 'string') return v.length * 2;
  if (Buffer.isBuffer(v)) return v.length;
  let n = 0;
  for (const p of v) n += typeof p === 'string' ? p.length * 2 : p.length;
  return n;
}

/** Write the journal entry of a vendor request (once). */
export function record(request: FastifyRequest, reply: FastifyReply | null, config: Config): void {
  const trace = traceOf(request);
  if (!trace || trace.recorded || config.journalSize <= 0) return;
  trace.recorded = true;
  const info = request.emulator;
  const answered = !trace.dropped && reply !== null;
  const parts = trace.parts;
  // Kept as text, not as the Buffers that arrived: a Buffer kept for each of the last 1,000 requests cost
  // json.php and NeuCRM list requests 10-12 us of CPU each (A/B, 5 runs); the text is the same the journal showed.
  let rawBody = parts === null ? null : text(parts.length === 1 ? parts[0] : parts);
  let bodyTruncated = trace.truncated;
  // A body no stream delivered (made by a hook): its text, bounded now; the object is not kept.
  if (rawBody === null && request.body !== undefined && request.body !== null) {
    const b = bounded(
      typeof request.body === 'string' ? request.body : (JSON.stringify(request.body) ?? ''),
      config.journalBodyBytes,
    );
    rawBody = b.text;
    bodyTruncated ||= b.truncated;
  }
  const warnings = info.warnings.length ? boundedWarnings(info.warnings, config.journalBodyBytes) : null;
  // Header and query texts are bounded by Node's header size limit (16 KiB): their raw size stands for them.
  let headerBytes = 0;
  const raw = request.raw.rawHeaders;
  for (let i = 0; i < raw.length; i++) headerBytes += raw[i].length;
  const url = request.originalUrl;
  const block = answered ? headerBlockOf(reply!) : null;
  const entry: StoredEntry = {
    seq: 0,
    timeMs: trace.timeMs,
    session: info.sessionId,
    vendor: info.vendor ?? '',
    operation: info.operation,
    warnings,
    method: request.method,
    url,
    query: flatOf(request.query as object | undefined),
    headerLines: JSON.stringify(request.raw.rawHeaders),
    headers: NO_PAIRS as unknown[],
    rawBody,
    bodyCredentials: bodyCredentialNames(request.body),
    bodyTruncated,
    status: answered ? reply!.statusCode : null,
    headerBlock: block,
    responseHeaders: answered && block === null ? flatOf(reply!.getHeaders()) : (NO_PAIRS as unknown[]),
    responseBody: trace.responseBody,
    responseBodyTruncated: trace.responseTruncated,
    duration: Math.round((performance.now() - trace.startedAt) * 100),
    fault: trace.fault,
    dropped: trace.dropped === true,
    bytes: 0,
    held: false,
    owner: null,
    redacted: undefined,
    drift: trace.drift,
    built: undefined,
  };
  if (trace.redact) redactEntry(entry, request);
  // Redaction may lengthen the texts a little ("<redacted>"); the comparison is counted as its JSON.
  entry.bytes =
    ENTRY_OVERHEAD +
    4 * url.length +
    4 * headerBytes +
    textBytes(entry.headerBlock) +
    textBytes(entry.rawBody) +
    textBytes(entry.responseBody) +
    (warnings === null ? 0 : 6 * warnings.reduce((n, w) => n + w.length, 0)) +
    (entry.drift === undefined ? 0 : 2 * JSON.stringify(entry.drift).length);
  journalOf(info.state, config).keep(entry);
}

/** Shadow mode: the entry without credential values (the texts are made now, bounded as they are). */
function redactEntry(entry: StoredEntry, request: FastifyRequest): void {
  const names = new Set<string>();
  entry.url = redactUrl(entry.url, names);
  entry.query = flatOf(redactQuery(objectOf(entry.query), names));
  entry.headers = flatOf(redactHeaders(storedHeaders(entry), 'header', names));
  entry.headerLines = null;
  // Only the kept text of the body exists (no parsed body is kept): that is what is redacted.
  if (entry.rawBody !== null) entry.rawBody = redactBody(entry.rawBody, request.headers['content-type'], 'body', names);
  const responseHeaders = redactHeaders(storedResponseHeaders(entry), 'response-header', names);
  entry.responseHeaders = flatOf(responseHeaders);
  entry.headerBlock = null;
  if (entry.responseBody !== null)
    entry.responseBody = redactBody(
      text(entry.responseBody),
      String(responseHeaders['content-type'] ?? ''),
      'response-body',
      names,
    );
  entry.redacted = [...names];
}

// ---- routes ----

const Filters = Type.Object(
  {
    session: Type.Optional(Type.String()),
    vendor: Type.Optional(Type.String()),
    operation: Type.Optional(Type.String()),
    method: Type.Optional(Type.String()),
    status: Type.Optional(Type.String({ pattern: '^([1-5]\\d\\d|[1-5]xx)$' })),
    since: Type.Optional(Type.String()),
    limit: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);
type Filters = Static<typeof Filters>;

function parseTime(v: string, name: string): number {
  const n = /^\d+$/.test(v) ? (Number(v) < 1e11 ? Number(v) * 1000 : Number(v)) : Date.parse(v);
  if (!Number.isFinite(n))
    throw new ControlError(400, `${name} must be an ISO 8601 time or epoch seconds/milliseconds, got "${v}"`);
  return n;
}

function select(app: FastifyInstance, request: FastifyRequest, f: Filters): JournalEntry[] {
  const states = f.session === '*' ? allStates(app) : [controlState(app, request)];
  let list = states.flatMap((s) => journalOf(s, app.config).entries());
  if (f.vendor) list = list.filter((e) => e.vendor === f.vendor);
  if (f.operation) list = list.filter((e) => e.operation === f.operation);
  if (f.method) list = list.filter((e) => e.method === f.method!.toUpperCase());
  if (f.status) {
    const s = f.status;
    list = list.filter(
      (e) => e.status !== null && (s.endsWith('xx') ? String(e.status)[0] === s[0] : e.status === Number(s)),
    );
  }
  if (f.since) {
    const t = parseTime(f.since, 'since');
    list = list.filter((e) => Date.parse(e.time) >= t);
  }
  // Newest first across states (time, then position).
  list.sort((a, b) => (a.time === b.time ? b.seq - a.seq : a.time < b.time ? 1 : -1));
  if (states.length === 1) list.sort((a, b) => b.seq - a.seq);
  return f.limit ? list.slice(0, f.limit) : list;
}

export async function journalRoutes(app: FastifyInstance, scope: FastifyInstance): Promise<void> {
  scope.get('/requests', { schema: { querystring: Filters } }, async (request) => {
    const list = select(app, request, request.query as Filters);
    return { count: list.length, requests: list };
  });
  scope.get('/requests/count', { schema: { querystring: Filters } }, async (request) => {
    return { count: select(app, request, request.query as Filters).length };
  });
  scope.delete(
    '/requests',
    {
      schema: { querystring: Type.Object({ session: Type.Optional(Type.String()) }, { additionalProperties: false }) },
    },
    async (request) => {
      const q = request.query as { session?: string };
      const states = q.session === '*' ? allStates(app) : [controlState(app, request)];
      let cleared = 0;
      for (const s of states) cleared += journalOf(s, app.config).clear();
      return { cleared, session: q.session === '*' ? '*' : controlSessionId(request) };
    },
  );
}
