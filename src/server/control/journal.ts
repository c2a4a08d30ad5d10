/**
 * The request journal: every vendor request, as received and as answered, in a bounded ring per
 * state (`--journal-size`, oldest dropped first). Bodies are kept up to `--journal-body-bytes`.
 *
 * Credentials are kept (contract tests check what a client sent) and named in `credentials`:
 * `header:<name>`, `query:<name>` or `body:<field>` for every header, query parameter or top-level
 * body field that looks like one (authorization, cookies, API keys, secrets, passwords, tokens,
 * signatures), whatever the vendor.
 */
import { Transform } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { Config } from '../config.js';
import type { EmulatorState } from '../../store/state.js';
import { ControlError, allStates, controlSessionId, controlState } from './common.js';

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
}

export class Journal {
  private ring: JournalEntry[] = [];
  private start = 0;
  private nextSeq = 1;
  constructor(readonly size: number) {}

  add(e: Omit<JournalEntry, 'seq'>): void {
    if (this.size <= 0) return;
    const entry = { seq: this.nextSeq++, ...e } as JournalEntry;
    if (this.ring.length < this.size) this.ring.push(entry);
    else {
      this.ring[this.start] = entry;
      this.start = (this.start + 1) % this.size;
    }
  }

  /** Oldest first. */
  entries(): JournalEntry[] {
    return [...this.ring.slice(this.start), ...this.ring.slice(0, this.start)];
  }

  clear(): number {
    const n = this.ring.length;
    this.ring = [];
    this.start = 0;
    return n;
  }

  get length(): number {
    return this.ring.length;
  }
}

export function journalOf(state: EmulatorState, config: Config): Journal {
  return state.extra('journal', () => new Journal(config.journalSize));
}

const CREDENTIAL = /^(authorization|proxy-authorization|cookie|x-api-key|api-?key|apiuuid|apisecret|.*(password|passwd|secret|token|signature|api_?key|apikey).*)$/i;

function credentialNames(where: string, obj: unknown): string[] {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return [];
  return Object.keys(obj).filter((k) => CREDENTIAL.test(k) && k.toLowerCase() !== 'x-emulator-session').map((k) => `${where}:${k}`);
}

interface Capture {
  startedAt: number;
  time: string;
  chunks: Buffer[];
  bytes: number;
  truncated: boolean;
  responseBody: string | null;
  responseTruncated: boolean;
  recorded: boolean;
  fault?: number;
  dropped?: boolean;
}

const CAPTURE = Symbol('journalCapture');
type WithCapture = FastifyRequest & { [CAPTURE]?: Capture };

export function captureOf(request: FastifyRequest): Capture | undefined {
  return (request as WithCapture)[CAPTURE];
}

function bounded(text: string, max: number): { text: string; truncated: boolean } {
  if (Buffer.byteLength(text) <= max) return { text, truncated: false };
  return { text: Buffer.from(text).subarray(0, max).toString('utf8'), truncated: true };
}

/** Write the journal entry of a vendor request (once). */
export function record(request: FastifyRequest, reply: FastifyReply | null, config: Config): void {
  const cap = captureOf(request);
  if (!cap || cap.recorded) return;
  cap.recorded = true;
  const info = request.emulator;
  let body: string | null = null;
  if (cap.bytes > 0) body = Buffer.concat(cap.chunks).toString('utf8');
  else if (request.body !== undefined && request.body !== null) body = typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
  let bodyTruncated = cap.truncated;
  if (body !== null) {
    const b = bounded(body, config.journalBodyBytes);
    body = b.text;
    bodyTruncated ||= b.truncated;
  }
  const query = (request.query ?? {}) as Record<string, unknown>;
  const url = request.originalUrl;
  const path = url.split('?')[0];
  const entry: Omit<JournalEntry, 'seq'> = {
    time: cap.time,
    session: info.sessionId,
    vendor: info.vendor ?? '',
    operation: info.operation,
    ...(info.warnings.length ? { warnings: [...info.warnings] } : {}),
    method: request.method,
    url,
    path,
    query: { ...query },
    headers: { ...request.headers },
    credentials: [
      ...credentialNames('header', request.headers),
      ...credentialNames('query', query),
      ...credentialNames('body', request.body),
    ],
    body,
    status: cap.dropped || !reply ? null : reply.statusCode,
    responseHeaders: cap.dropped || !reply ? {} : { ...reply.getHeaders() },
    responseBody: cap.responseBody,
    durationMs: Math.round((performance.now() - cap.startedAt) * 100) / 100,
  };
  if (bodyTruncated) entry.bodyTruncated = true;
  if (cap.responseTruncated) entry.responseBodyTruncated = true;
  if (cap.fault !== undefined) entry.fault = cap.fault;
  if (cap.dropped) entry.dropped = true;
  journalOf(info.state, config).add(entry);
}

/**
 * First hook of one vendor's scope: start the journal entry. It runs before the fault hooks, so a
 * request that a fault answers from its onRequest hook (which skips every later onRequest hook) is
 * journaled too.
 */
export function installJournalCapture(scope: FastifyInstance, config: Config): void {
  if (config.journalSize <= 0) return;
  scope.addHook('onRequest', async (request) => {
    (request as WithCapture)[CAPTURE] = {
      startedAt: performance.now(), time: request.emulator.state.clock.nowDate().toISOString(),
      chunks: [], bytes: 0, truncated: false, responseBody: null, responseTruncated: false, recorded: false,
    };
  });
}

/** Hooks of one vendor's scope, after the fault hooks: tee the request body, keep the response body, record. */
export function installJournalHooks(scope: FastifyInstance, config: Config): void {
  if (config.journalSize <= 0) return;
  const max = config.journalBodyBytes;
  scope.addHook('preParsing', async (request, _reply, payload) => {
    const cap = captureOf(request);
    const hasBody = request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
    if (!cap || !hasBody) return payload;
    const tee = new Transform({
      transform(chunk: Buffer, _enc, done) {
        if (cap.bytes < max) {
          const part = chunk.subarray(0, max - cap.bytes);
          cap.chunks.push(Buffer.from(part));
          cap.bytes += part.length;
          if (part.length < chunk.length) cap.truncated = true;
        } else if (chunk.length > 0) cap.truncated = true;
        done(null, chunk);
      },
    });
    // pipe(), not pipeline(): pipeline() makes an AbortController (and a DOMException) per request,
    // which showed as ~6 % of the server's CPU in the benchmark profile.
    payload.on('error', (err) => tee.destroy(err));
    payload.pipe(tee);
    return tee;
  });
  scope.addHook('onSend', async (request, _reply, payload) => {
    const cap = captureOf(request);
    if (!cap) return payload;
    if (typeof payload === 'string' || Buffer.isBuffer(payload)) {
      const text = typeof payload === 'string' ? payload : payload.toString('utf8');
      const b = bounded(text, max);
      cap.responseBody = b.text;
      cap.responseTruncated = b.truncated;
    } else if (payload !== null && payload !== undefined) {
      cap.responseBody = '[stream]';
    }
    return payload;
  });
  scope.addHook('onResponse', async (request, reply) => record(request, reply, config));
  scope.addHook('onRequestAbort', async (request) => record(request, null, config));
}

// ---- routes ----

const Filters = Type.Object({
  session: Type.Optional(Type.String()),
  vendor: Type.Optional(Type.String()),
  operation: Type.Optional(Type.String()),
  method: Type.Optional(Type.String()),
  status: Type.Optional(Type.String({ pattern: '^([1-5]\\d\\d|[1-5]xx)$' })),
  since: Type.Optional(Type.String()),
  limit: Type.Optional(Type.Integer({ minimum: 1 })),
}, { additionalProperties: false });
type Filters = Static<typeof Filters>;

function parseTime(v: string, name: string): number {
  const n = /^\d+$/.test(v) ? (Number(v) < 1e11 ? Number(v) * 1000 : Number(v)) : Date.parse(v);
  if (!Number.isFinite(n)) throw new ControlError(400, `${name} must be an ISO 8601 time or epoch seconds/milliseconds, got "${v}"`);
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
    list = list.filter((e) => e.status !== null && (s.endsWith('xx') ? String(e.status)[0] === s[0] : e.status === Number(s)));
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
  scope.delete('/requests', { schema: { querystring: Type.Object({ session: Type.Optional(Type.String()) }, { additionalProperties: false }) } }, async (request) => {
    const q = request.query as { session?: string };
    const states = q.session === '*' ? allStates(app) : [controlState(app, request)];
    let cleared = 0;
    for (const s of states) cleared += journalOf(s, app.config).clear();
    return { cleared, session: q.session === '*' ? '*' : controlSessionId(request) };
  });
}
