/**
 * Shadow mode (`--upstream <vendor>=<base URL>`): does the emulator still answer the way the real
 * vendor does?
 *
 * For a shadowed vendor, each request is
 *   1. forwarded with the client's own credentials to the real vendor, whose answer goes back to
 *      the client;
 *   2. answered by the emulator too, in a scratch session (`drift-<vendor>`, seeded from the
 *      fixtures like the default state) through app.inject, marked with a per-app random header
 *      so it is not forwarded again;
 *   3. compared by structure: status, media type, the envelope (JSON top-level keys, XML root)
 *      and every field or element path with its type. Values are compared only where the
 *      contract enumerates them (a `const` or `enum` in the vendor's OpenAPI document: RackCorp's
 *      `code` and `faultcode`, UniPay's error `code`...); every other value (ids, names, dates,
 *      tokens, counts) is data the two sides need not share.
 * Differences go on the journal entry (`drift`) and into a summary per vendor and operation
 * (count, first seen, an example pair) at /_emulator/drift; the real exchanges, redacted, at
 * /_emulator/drift/export. An upstream that fails or times out is reported as such, and the
 * client then gets the emulator's own answer (header `x-emulator-upstream-error`).
 *
 *   GET    /_emulator/drift[?format=json|markdown]
 *   GET    /_emulator/drift/export        { cases: [{ file, vendor, operation, request, response }] }
 *   DELETE /_emulator/drift
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { VendorModule } from '../../routes/shared/vendor.js';
import { parseXml } from '../../routes/shared/xml.js';
import { ConfigError } from '../config.js';
import type { Config } from '../../core/config.js';
import type { OpenApiDocument } from './openapi.js';
import { traceOf } from './journal.js';
import { redactBody, redactHeaders, redactUrl } from './redact.js';

const SHADOW_HEADER = 'x-emulator-shadow';
const OPERATION_HEADER = 'x-emulator-operation';
/** Hop-by-hop and framing headers: never copied between the two legs. */
const HOP = new Set([
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-connection',
  'content-length',
  'expect',
  'accept-encoding',
  'content-encoding',
  'x-emulator-session',
  SHADOW_HEADER,
]);
const MAX_DIFFERENCES = 50;
const MAX_EXAMPLE_BODY = 4096;
const MAX_CASES = 1000;
const MAX_ERRORS = 20;

export function parseUpstreams(list: string[] | null | undefined, vendors: readonly VendorModule[]): Map<string, URL> {
  const out = new Map<string, URL>();
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    const name = eq === -1 ? '' : item.slice(0, eq).trim();
    if (!vendors.some((v) => v.name === name))
      throw new ConfigError(
        `--upstream ${item}: expected <vendor>=<base URL> with a vendor among ${vendors.map((v) => v.name).join(', ')}`,
      );
    let url: URL;
    try {
      url = new URL(item.slice(eq + 1).trim());
    } catch {
      throw new ConfigError(`--upstream ${item}: "${item.slice(eq + 1)}" is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new ConfigError(`--upstream ${item}: only http and https URLs`);
    out.set(name, url);
  }
  return out;
}

// ---- structure ------------------------------------------------------------------------------------

interface Answer {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

interface Shape {
  media: string;
  /** path -> type */
  fields: Map<string, string>;
  /** array paths that were empty (nothing below them can be compared) */
  empty: Set<string>;
  /** path -> first scalar value */
  values: Map<string, unknown>;
  unreadable?: string;
}

const mediaOf = (h: string | string[] | undefined): string =>
  String(Array.isArray(h) ? h[0] : (h ?? ''))
    .split(';')[0]
    .trim()
    .toLowerCase();
const typeOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

function walk(v: unknown, path: string, s: Shape, xml: boolean): void {
  if (Array.isArray(v)) {
    if (xml) {
      for (const x of v) walk(x, path, s, xml);
      return;
    } // a repeated element: the same path
    s.fields.set(path, 'array');
    if (v.length === 0) s.empty.add(path);
    for (const x of v) walk(x, `${path}[]`, s, xml);
    return;
  }
  if (v !== null && typeof v === 'object') {
    if (!s.fields.has(path)) s.fields.set(path, 'object');
    for (const [k, x] of Object.entries(v)) {
      if (xml && k.startsWith('?')) continue;
      const name = xml && k.startsWith('@_') ? `@${k.slice(2)}` : k;
      walk(x, path === '' ? name : `${path}.${name}`, s, xml);
    }
    return;
  }
  // In XML every leaf is text; an empty element and a text element are both "text".
  const t = xml ? 'text' : typeOf(v);
  const prev = s.fields.get(path);
  if (!prev || prev === 'null') s.fields.set(path, t);
  if (!s.values.has(path)) s.values.set(path, v);
}

function shapeOf(a: Answer): Shape {
  const media = mediaOf(a.headers['content-type']);
  const s: Shape = { media, fields: new Map(), empty: new Set(), values: new Map() };
  const text = a.body.toString('utf8');
  if (text.trim() === '') return s;
  try {
    if (/[/+]json$/.test(media)) walk(JSON.parse(text), '$', s, false);
    else if (/[/+]xml$/.test(media)) walk(parseXml(text), '', s, true);
    else s.fields.set('(body)', 'text');
  } catch (e) {
    s.unreadable = (e as Error).message.slice(0, 200);
  }
  return s;
}

/** Values both sides must agree on: property name -> the values the contract enumerates for it. */
export function agreedValues(doc: OpenApiDocument | undefined): Map<string, Set<unknown>> {
  const out = new Map<string, Set<unknown>>();
  const seen = new Set<unknown>();
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object' || seen.has(node)) return;
    seen.add(node);
    if (Array.isArray(node)) {
      for (const x of node) visit(x);
      return;
    }
    const o = node as Record<string, unknown>;
    if (o.properties && typeof o.properties === 'object') {
      for (const [name, ps] of Object.entries(o.properties as Record<string, Record<string, unknown>>)) {
        const vals = ps && 'const' in ps ? [ps.const] : Array.isArray(ps?.enum) ? ps.enum : [];
        for (const v of vals)
          if (v === null || typeof v !== 'object') (out.get(name) ?? out.set(name, new Set()).get(name)!).add(v);
      }
    }
    for (const [k, x] of Object.entries(o)) if (k !== 'examples' && k !== 'example') visit(x);
  };
  if (doc) {
    visit(doc.components);
    visit(doc.paths);
  }
  return out;
}

const show = (v: unknown) =>
  typeof v === 'string' ? JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}...` : v) : String(v);

/** The differences between the real vendor's answer and the emulator's, each one line. */
export function compareAnswers(upstream: Answer, emulator: Answer, agreed: Map<string, Set<unknown>>): string[] {
  const out: string[] = [];
  if (upstream.status !== emulator.status) out.push(`status: upstream ${upstream.status}, emulator ${emulator.status}`);
  const u = shapeOf(upstream);
  const e = shapeOf(emulator);
  if (u.media !== e.media) out.push(`content-type: upstream ${u.media || '(none)'}, emulator ${e.media || '(none)'}`);
  if (u.unreadable || e.unreadable) {
    if (u.unreadable) out.push(`body: upstream unreadable as ${u.media}`);
    if (e.unreadable) out.push(`body: emulator unreadable as ${e.media}`);
    return out;
  }
  const below = (path: string) => [...u.empty, ...e.empty].some((p) => path.startsWith(`${p}[]`));
  const leaf = (p: string) => p.split('.').pop()!.replace(/^@/, '').replace(/\[\]$/, '');
  for (const [path, t] of u.fields) {
    if (below(path)) continue;
    const et = e.fields.get(path);
    if (et === undefined) out.push(`field ${path}: only upstream (${t})`);
    else if (et !== t && t !== 'null' && et !== 'null') out.push(`type ${path}: upstream ${t}, emulator ${et}`);
    else if (u.values.has(path) && e.values.has(path)) {
      const allowed = agreed.get(leaf(path));
      const uv = u.values.get(path);
      const ev = e.values.get(path);
      const norm = (v: unknown) => (typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v);
      if (
        allowed &&
        (allowed.has(norm(uv)) || allowed.has(norm(ev)) || allowed.has(uv) || allowed.has(ev)) &&
        norm(uv) !== norm(ev)
      ) {
        out.push(`value ${path}: upstream ${show(uv)}, emulator ${show(ev)}`);
      }
    }
  }
  for (const [path, t] of e.fields)
    if (!u.fields.has(path) && !below(path)) out.push(`field ${path}: only emulator (${t})`);
  return out;
}

// ---- the record -----------------------------------------------------------------------------------

interface Example {
  request: { method: string; url: string };
  upstream: { status: number; contentType: string; body: string };
  emulator: { status: number; contentType: string; body: string };
}

interface DifferenceRecord {
  difference: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
  example: Example;
}
interface OperationRecord {
  compared: number;
  withDrift: number;
  differences: Map<string, DifferenceRecord>;
}
interface VendorRecord {
  compared: number;
  withDrift: number;
  upstreamErrors: number;
  operations: Map<string, OperationRecord>;
  errors: Map<string, { count: number; firstSeen: string; lastSeen: string }>;
}

export interface DriftCase {
  seq: number;
  time: string;
  vendor: string;
  operation: string | null;
  request: {
    method: string;
    url: string;
    headers: Record<string, unknown>;
    body: string | null;
    bodyTruncated?: boolean;
  };
  response: { status: number; headers: Record<string, unknown>; body: string; bodyTruncated?: boolean };
  redacted: string[];
}

function bounded(b: Buffer, max: number): { text: string; truncated: boolean } {
  return b.length <= max
    ? { text: b.toString('utf8'), truncated: false }
    : { text: b.subarray(0, max).toString('utf8'), truncated: true };
}

async function readBody(stream: NodeJS.ReadableStream, max: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    if (n >= max) continue; // drain, keep nothing more
    parts.push(n + b.length > max ? b.subarray(0, max - n) : b);
    n += b.length;
  }
  return Buffer.concat(parts);
}

function stripSession(url: string): string {
  const m = /^\/_sessions\/[^/?#]*(\/[^?#]*)?(.*)$/.exec(url);
  return m ? (m[1] ?? '/') + m[2] : url;
}

export class Drift {
  readonly nonce = randomUUID();
  readonly upstreams: Map<string, URL>;
  private readonly vendors = new Map<string, VendorRecord>();
  private cases: DriftCase[] = [];
  private seq = 0;
  private agreed = new Map<string, Map<string, Set<unknown>>>();

  constructor(
    private readonly app: FastifyInstance,
    private readonly config: Config,
    vendors: readonly VendorModule[],
  ) {
    this.upstreams = parseUpstreams(config.upstream, vendors);
  }

  shadows(vendor: string): boolean {
    return this.upstreams.has(vendor);
  }

  isCopy(request: FastifyRequest): boolean {
    return this.upstreams.size > 0 && request.headers[SHADOW_HEADER] === this.nonce;
  }

  private agreedFor(vendor: string): Map<string, Set<unknown>> {
    let a = this.agreed.get(vendor);
    if (!a) {
      a = agreedValues(this.app.contracts.documents.get(vendor));
      this.agreed.set(vendor, a);
    }
    return a;
  }

  /** The hooks of a shadowed vendor's scope (after the one that names the vendor and starts the trace). */
  install(scope: FastifyInstance, vendor: VendorModule): void {
    scope.addHook('onRequest', async (request, reply) => {
      const trace = traceOf(request);
      if (trace) trace.redact = true;
      if (this.isCopy(request)) return; // the emulator's leg: answered as usual
      return this.shadow(vendor.name, request, reply);
    });
    scope.addHook('onSend', (request, reply, payload, done) => {
      if (this.isCopy(request)) reply.header(OPERATION_HEADER, request.emulator.operation ?? '');
      done(null, payload);
    });
  }

  private async shadow(vendor: string, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const body = await readBody(request.raw, this.config.maxBodyBytes + 1);
    const trace = traceOf(request);
    if (trace && body.length > 0) {
      const max = this.config.journalBodyBytes;
      trace.parts = [body.length > max ? Buffer.from(body.subarray(0, max)) : body];
      trace.truncated = body.length > max;
    }
    const path = stripSession(request.originalUrl);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(request.headers))
      if (v !== undefined && !HOP.has(k)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    const [up, em] = await Promise.all([
      this.forward(vendor, request.method, path, headers, body),
      this.emulate(vendor, request.method, path, headers, body),
    ]);
    const operation =
      typeof em.headers[OPERATION_HEADER] === 'string' && em.headers[OPERATION_HEADER] !== ''
        ? (em.headers[OPERATION_HEADER] as string)
        : null;
    request.emulator.operation = operation;
    const now = new Date().toISOString();
    const v = this.vendorRecord(vendor);
    if ('error' in up) {
      v.upstreamErrors++;
      const e =
        v.errors.get(up.error) ??
        (v.errors.size < MAX_ERRORS
          ? v.errors.set(up.error, { count: 0, firstSeen: now, lastSeen: now }).get(up.error)
          : undefined);
      if (e) {
        e.count++;
        e.lastSeen = now;
      }
      if (trace) trace.drift = { upstreamError: up.error };
      return this.send(reply, em, { 'x-emulator-upstream-error': up.error });
    }
    const differences = compareAnswers(up, em, this.agreedFor(vendor));
    if (trace) trace.drift = { compared: true, differences, upstreamStatus: up.status, emulatorStatus: em.status };
    this.note(vendor, operation ?? '(unnamed)', differences, { method: request.method, path, up, em, now });
    this.keepCase(vendor, operation, request.method, path, headers, body, up, now);
    return this.send(reply, up);
  }

  private send(reply: FastifyReply, a: Answer, extra: Record<string, string> = {}): FastifyReply {
    reply.code(a.status);
    for (const [k, v] of Object.entries(a.headers))
      if (!HOP.has(k) && k !== OPERATION_HEADER && k !== 'date') reply.header(k, v);
    for (const [k, v] of Object.entries(extra)) reply.header(k, v);
    return reply.send(a.body);
  }

  private async forward(
    vendor: string,
    method: string,
    path: string,
    headers: Record<string, string>,
    body: Buffer,
  ): Promise<Answer | { error: string }> {
    const base = this.upstreams.get(vendor)!;
    const url = base.origin + base.pathname.replace(/\/$/, '') + path;
    try {
      const res = await fetch(url, {
        method,
        headers,
        redirect: 'manual',
        body: method === 'GET' || method === 'HEAD' || body.length === 0 ? undefined : new Uint8Array(body),
        signal: AbortSignal.timeout(this.config.upstreamTimeout),
      });
      const out: Record<string, string | string[]> = {};
      res.headers.forEach((value, key) => {
        if (key !== 'set-cookie') out[key] = value;
      });
      const cookies = res.headers.getSetCookie();
      if (cookies.length) out['set-cookie'] = cookies;
      const buf = Buffer.from(await res.arrayBuffer());
      return { status: res.status, headers: out, body: buf };
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string } };
      if (err.name === 'TimeoutError' || err.name === 'AbortError')
        return { error: `upstream timeout after ${this.config.upstreamTimeout} ms` };
      return { error: `upstream error: ${err.cause?.code ?? err.cause?.message ?? err.message}` };
    }
  }

  private async emulate(
    vendor: string,
    method: string,
    path: string,
    headers: Record<string, string>,
    body: Buffer,
  ): Promise<Answer> {
    const res = await this.app.inject({
      method: method as 'GET',
      url: `/_sessions/drift-${vendor}${path}`,
      headers: { ...headers, [SHADOW_HEADER]: this.nonce },
      ...(body.length > 0 ? { payload: body } : {}),
    });
    return { status: res.statusCode, headers: res.headers as Record<string, string | string[]>, body: res.rawPayload };
  }

  private vendorRecord(vendor: string): VendorRecord {
    let v = this.vendors.get(vendor);
    if (!v) {
      v = { compared: 0, withDrift: 0, upstreamErrors: 0, operations: new Map(), errors: new Map() };
      this.vendors.set(vendor, v);
    }
    return v;
  }

  private note(
    vendor: string,
    operation: string,
    differences: string[],
    x: { method: string; path: string; up: Answer; em: Answer; now: string },
  ): void {
    const v = this.vendorRecord(vendor);
    let o = v.operations.get(operation);
    if (!o) {
      o = { compared: 0, withDrift: 0, differences: new Map() };
      v.operations.set(operation, o);
    }
    v.compared++;
    o.compared++;
    if (differences.length === 0) return;
    v.withDrift++;
    o.withDrift++;
    for (const d of differences) {
      let r = o.differences.get(d);
      if (!r) {
        if (o.differences.size >= MAX_DIFFERENCES) continue;
        const names = new Set<string>();
        const side = (a: Answer) => ({
          status: a.status,
          contentType: mediaOf(a.headers['content-type']),
          body: redactBody(bounded(a.body, MAX_EXAMPLE_BODY).text, mediaOf(a.headers['content-type']), 'body', names),
        });
        r = {
          difference: d,
          count: 0,
          firstSeen: x.now,
          lastSeen: x.now,
          example: {
            request: { method: x.method, url: redactUrl(x.path, names) },
            upstream: side(x.up),
            emulator: side(x.em),
          },
        };
        o.differences.set(d, r);
      }
      r.count++;
      r.lastSeen = x.now;
    }
  }

  private keepCase(
    vendor: string,
    operation: string | null,
    method: string,
    path: string,
    headers: Record<string, string>,
    body: Buffer,
    up: Answer,
    now: string,
  ): void {
    const names = new Set<string>();
    const max = this.config.journalBodyBytes;
    const req = bounded(body, max);
    const res = bounded(up.body, max);
    const c: DriftCase = {
      seq: ++this.seq,
      time: now,
      vendor,
      operation,
      request: {
        method,
        url: redactUrl(path, names),
        headers: redactHeaders(headers, 'header', names),
        body: body.length ? redactBody(req.text, headers['content-type'], 'body', names) : null,
        ...(req.truncated ? { bodyTruncated: true } : {}),
      },
      response: {
        status: up.status,
        headers: redactHeaders(up.headers, 'response-header', names),
        body: redactBody(res.text, mediaOf(up.headers['content-type']), 'response-body', names),
        ...(res.truncated ? { bodyTruncated: true } : {}),
      },
      redacted: [],
    };
    c.redacted = [...names];
    this.cases.push(c);
    if (this.cases.length > MAX_CASES) this.cases.shift();
  }

  report() {
    return {
      upstreams: [...this.upstreams].map(([vendor, url]) => ({ vendor, url: url.origin + url.pathname })),
      vendors: [...this.upstreams.keys()].map((vendor) => {
        const v = this.vendors.get(vendor);
        return {
          vendor,
          compared: v?.compared ?? 0,
          withDrift: v?.withDrift ?? 0,
          upstreamErrors: v?.upstreamErrors ?? 0,
          errors: [...(v?.errors ?? [])].map(([error, e]) => ({ error, ...e })),
          operations: [...(v?.operations ?? [])].map(([operation, o]) => ({
            operation,
            compared: o.compared,
            withDrift: o.withDrift,
            differences: [...o.differences.values()],
          })),
        };
      }),
    };
  }

  exportCases() {
    return {
      cases: this.cases.map((c) => ({
        file: `${c.vendor}/${String(c.seq).padStart(4, '0')}-${(c.operation ?? 'unnamed').replace(/[^\w.-]+/g, '_')}.json`,
        ...c,
      })),
    };
  }

  clear(): void {
    this.vendors.clear();
    this.cases = [];
  }
}

export function driftMarkdown(r: ReturnType<Drift['report']>): string {
  const lines = ['# Drift: the emulator against the real vendor', ''];
  if (r.upstreams.length === 0)
    return lines.concat(['No --upstream is configured: nothing is compared.', '']).join('\n');
  lines.push('| Vendor | Upstream | Compared | With drift | Upstream errors |', '|---|---|---|---|---|');
  for (const v of r.vendors)
    lines.push(
      `| ${v.vendor} | ${r.upstreams.find((u) => u.vendor === v.vendor)!.url} | ${v.compared} | ${v.withDrift} | ${v.upstreamErrors} |`,
    );
  for (const v of r.vendors) {
    lines.push('', `## ${v.vendor}`, '');
    for (const e of v.errors) lines.push(`- upstream failure \`${e.error}\`: ${e.count} (first ${e.firstSeen})`);
    const drifting = v.operations.filter((o) => o.differences.length > 0);
    if (drifting.length === 0) lines.push(v.compared ? 'No drift in the answers compared.' : 'Nothing compared yet.');
    for (const o of drifting) {
      lines.push(
        '',
        `### \`${o.operation}\`: ${o.withDrift} of ${o.compared} answers differ`,
        '',
        '| Difference | Count | First seen | Example request |',
        '|---|---|---|---|',
      );
      for (const d of o.differences)
        lines.push(
          `| ${d.difference.replace(/\|/g, '\\|')} | ${d.count} | ${d.firstSeen} | \`${d.example.request.method} ${d.example.request.url.replace(/\|/g, '\\|')}\` |`,
        );
    }
  }
  return lines.join('\n') + '\n';
}

declare module 'fastify' {
  interface FastifyInstance {
    drift: Drift;
  }
}

export async function driftRoutes(app: FastifyInstance, scope: FastifyInstance): Promise<void> {
  // The drift record is the app's, not a session's: `session` (which the dashboard sends with every
  // call) is accepted and changes nothing.
  const query = Type.Object(
    {
      format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('markdown')])),
      session: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  );
  scope.get('/drift', { schema: { querystring: query } }, async (request, reply) => {
    const r = app.drift.report();
    if ((request.query as { format?: string }).format === 'markdown')
      return reply.type('text/markdown; charset=utf-8').send(driftMarkdown(r));
    return r;
  });
  scope.get('/drift/export', async () => app.drift.exportCases());
  scope.delete('/drift', async () => {
    app.drift.clear();
    return { cleared: true };
  });
}
