/**
 * One error path for every vendor. Whatever fails (a body Fastify could not read, a path or a
 * method no operation serves, a vendor's own error, a bug) is first classified into a kind with
 * its status; the vendor then only words it: `render(failure, request)` in its envelope.ts.
 * 404 versus 405 is worked out from the vendor's own operation table, not from a second list.
 *
 * Shaped like localstack's `aws/skeleton.py` (one place serializes every service exception) and
 * stripe-mock's `server/server.go` (every exit through one error writer).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { XmlError } from './xml.js';

export type FailureKind =
  | 'tooLarge'
  | 'unsupportedMediaType'
  | 'malformedBody'
  | 'validation'
  | 'notFound'
  | 'methodNotAllowed'
  | 'auth'
  | 'internal';

/** The HTTP status of each kind (a vendor may answer another, e.g. RackCorp's FAULTs are 200). */
export const FAILURE_STATUS: Readonly<Record<FailureKind, number>> = {
  tooLarge: 413,
  unsupportedMediaType: 415,
  malformedBody: 400,
  validation: 400,
  notFound: 404,
  methodNotAllowed: 405,
  auth: 401,
  internal: 500,
};

export interface Failure {
  kind: FailureKind;
  /** FAILURE_STATUS[kind], or the status of a vendor's own error. */
  status: number;
  method: string;
  /** The path as the client sent it: before any vendor rewrite, without `/_sessions/<id>` and query. */
  path: string;
  /** methodNotAllowed: what the path serves (HEAD wherever GET). */
  allow?: readonly string[];
  /** tooLarge: the body limit in bytes. */
  limit?: number;
  /** unsupportedMediaType and malformedBody: the request's Content-Type ('' when none). */
  contentType?: string;
  /** malformedBody: what the body failed to be. */
  syntax?: 'json' | 'xml' | 'body';
  /** malformedBody: the body was empty where one was announced (a JSON Content-Type with no body). */
  empty?: boolean;
  /** The parser's own words where they help (an XML error's reason); never Fastify's stock text. */
  reason?: string;
  /** What was thrown: a vendor's own error (already in its words) or the original failure. */
  error?: unknown;
  /**
   * notFound: the request named a session this instance does not hold (--session-mode explicit);
   * the message names it. Not the vendor's own answer (vendors have no sessions), so each vendor
   * words it as its not-found error with a 404.
   */
  unknownSession?: string;
}

/** A complete answer: status, headers (Content-Type among them) and the body text. */
export interface WireAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type RenderFailure = (failure: Failure, request: FastifyRequest) => WireAnswer;

/** One route of a vendor's operation table, relative to its mount prefix. */
export interface RouteEntry {
  method: string;
  url: string;
  /** The operation name the journal and the contract know it by. */
  operation: string;
}

const SESSION_PREFIX = /^\/_sessions\/[^/?#]*/;

/** The path the client sent (after its session prefix), for messages: never a rewritten one. */
export function clientPath(request: FastifyRequest): string {
  const url = request.originalUrl ?? request.url;
  const path = url.split('?')[0].replace(SESSION_PREFIX, '');
  return path === '' ? '/' : path;
}

function normalise(path: string): string {
  const p = path.replace(/\/{2,}/g, '/');
  return p.length > 1 ? p.replace(/\/$/, '') : p;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The order an Allow header lists methods in. */
const METHOD_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const methodRank = (m: string) => {
  const i = METHOD_ORDER.indexOf(m);
  return i === -1 ? METHOD_ORDER.length : i;
};

interface Pattern {
  re: RegExp;
  methods: Set<string>;
  operations: Map<string, string>;
}

/**
 * A vendor's routes, to tell an unknown path (404) from a method the path does not serve (405),
 * and to name the operation of a request refused before its handler ran.
 */
export class RouteTable {
  private readonly patterns: Pattern[] = [];
  private readonly byUrl = new Map<string, Pattern>();

  constructor(prefix: string, routes: readonly RouteEntry[]) {
    const byUrl = this.byUrl;
    for (const r of routes) {
      const url = normalise(prefix + (r.url === '/' ? '' : r.url));
      let p = byUrl.get(url);
      if (!p) {
        const source = url
          .split('/')
          .map((seg) => (seg.startsWith(':') ? '[^/]+' : escapeRegex(seg)))
          .join('/');
        p = { re: new RegExp(`^${source}$`), methods: new Set(), operations: new Map() };
        byUrl.set(url, p);
        this.patterns.push(p);
      }
      p.methods.add(r.method);
      p.operations.set(r.method, r.operation);
      // Fastify serves HEAD wherever GET is served (exposeHeadRoutes).
      if (r.method === 'GET') {
        p.methods.add('HEAD');
        p.operations.set('HEAD', r.operation);
      }
    }
  }

  /**
   * The methods some route serves at this concrete path (GET, HEAD, POST, PUT, PATCH, DELETE
   * order), or null when none matches it.
   */
  allowed(path: string): string[] | null {
    const p = normalise(path);
    const methods = new Set<string>();
    for (const pattern of this.patterns) if (pattern.re.test(p)) for (const m of pattern.methods) methods.add(m);
    return methods.size === 0 ? null : [...methods].sort((a, b) => methodRank(a) - methodRank(b));
  }

  /** The operation of a route (its full URL pattern, as Fastify's routeOptions.url) for a method. */
  operationOf(method: string, routeUrl: string): string | undefined {
    return this.byUrl.get(normalise(routeUrl))?.operations.get(method);
  }

  /** Any operation at this path, whatever the method. */
  anyOperationAt(path: string): string | undefined {
    const p = normalise(path);
    for (const pattern of this.patterns) if (pattern.re.test(p)) return pattern.operations.values().next().value;
    return undefined;
  }
}

/**
 * The kind of a thrown failure. `own` recognises the vendor's own error class (already in its
 * words) and says its kind and status; everything else is Fastify's or a bug.
 */
export function classify(
  err: unknown,
  request: FastifyRequest,
  own: (err: unknown) => { kind: FailureKind; status: number } | undefined,
  bodyLimit: number,
): Failure {
  const base = { method: request.method, path: clientPath(request), error: err };
  if ((err as Partial<FastifyError>)?.code === 'EMULATOR_UNKNOWN_SESSION') {
    return { ...base, kind: 'notFound', status: 404, unknownSession: (err as Error).message };
  }
  const mine = own(err);
  if (mine) return { ...base, ...mine };
  const contentType = String(request.headers['content-type'] ?? '');
  if (err instanceof XmlError)
    return { ...base, kind: 'malformedBody', status: 400, contentType, syntax: 'xml', reason: err.message };
  const e = err as Partial<FastifyError>;
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { ...base, kind: 'tooLarge', status: 413, limit: bodyLimit };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { ...base, kind: 'unsupportedMediaType', status: 415, contentType };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { ...base, kind: 'malformedBody', status: 400, contentType, syntax: 'json' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return {
        ...base,
        kind: 'malformedBody',
        status: 400,
        contentType,
        syntax: 'json',
        empty: true,
        reason: 'the body is empty',
      };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return {
        ...base,
        kind: 'malformedBody',
        status: 400,
        contentType,
        syntax: 'body',
        reason: 'the body does not match its Content-Length',
      };
    case 'FST_ERR_VALIDATION':
      return { ...base, kind: 'validation', status: 400 };
  }
  // A JSON parser's own SyntaxError (Fastify's wraps its own, `__proto__` keys included, in the code above).
  if (err instanceof SyntaxError) return { ...base, kind: 'malformedBody', status: 400, contentType, syntax: 'json' };
  const status = e.statusCode;
  if (status === 401 || status === 403) return { ...base, kind: 'auth', status };
  if (status === 404) return { ...base, kind: 'notFound', status };
  if (status === 413) return { ...base, kind: 'tooLarge', status, limit: bodyLimit };
  if (status === 415) return { ...base, kind: 'unsupportedMediaType', status, contentType };
  // Another parser's refusal (a form it cannot read): its own words, which are not Fastify's stock text.
  if (status !== undefined && status >= 400 && status < 500)
    return { ...base, kind: 'malformedBody', status, contentType, syntax: 'body', reason: e.message };
  return { ...base, kind: 'internal', status: 500 };
}

/**
 * How long and how much a connection whose body was refused as too large is still read after the
 * answer (nginx's lingering close, whose lingering_timeout is 5 s): enough that an ordinary
 * client's upload ends and it reads the 413, bounded so a client cannot keep the server busy.
 */
export const LINGER = { ms: 5_000, minBytes: 16 * 1_048_576, limitMultiple: 16 };

type LingeringSocket = Socket & { destroySoon(): void };

/**
 * Keep reading (and discarding) what the client still sends after the answer, then close. Node
 * closes a `Connection: close` socket as soon as the answer is written (`destroySoon`); a client
 * still uploading then gets an RST, and with it usually EPIPE or ECONNRESET instead of the answer.
 * Here the socket's write side is ended after the answer, and it is destroyed only once the body
 * has ended, `maxBytes` more were read, or `ms` passed.
 */
export function lingerAfterAnswer(raw: IncomingMessage, maxBytes: number, ms = LINGER.ms): void {
  const socket = raw.socket as LingeringSocket | null;
  // app.inject has no real socket, and a body already read leaves nothing to wait for.
  if (!(socket instanceof Socket) || raw.complete || socket.destroyed) return;
  let read = 0;
  /** Set once the socket is to be destroyed when draining stops (Node asked to close it, or a bound was hit). */
  let closing = false;
  const finish = (): void => {
    clearTimeout(timer);
    raw.off('data', onData);
    if (Object.prototype.hasOwnProperty.call(socket, 'destroySoon'))
      delete (socket as Partial<LingeringSocket>).destroySoon;
    if (closing) socket.destroy();
  };
  const onData = (chunk: Buffer): void => {
    read += chunk.length;
    if (read > maxBytes) {
      closing = true;
      finish();
    }
  };
  const timer = setTimeout(() => {
    closing = true;
    finish();
  }, ms);
  timer.unref();
  raw.on('data', onData);
  raw.once('end', finish);
  raw.once('error', () => {
    closing = true;
    finish();
  });
  // Node calls destroySoon once the answer is written: end our side, keep reading.
  socket.destroySoon = function lingeringClose(this: LingeringSocket) {
    delete (socket as Partial<LingeringSocket>).destroySoon;
    if (raw.complete) {
      this.destroySoon();
      clearTimeout(timer);
      raw.off('data', onData);
      return;
    }
    closing = true;
    this.end();
  };
}

export interface ErrorPathOptions {
  /** The mount prefix the routes are relative to. */
  prefix: string;
  routes: readonly RouteEntry[];
  /** The vendor's own errors: their kind and status (undefined: not one of them). */
  own(err: unknown): { kind: FailureKind; status: number } | undefined;
  render: RenderFailure;
  /** The operation name of a request no route serves. */
  notFoundOperation: string;
  /** The operation name of a method the path does not serve (default: the path's own operation). */
  methodNotAllowedOperation?: string;
  /** The body limit, for the 413's words and the lingering close. */
  bodyLimit: number;
  /**
   * Answer unknown paths and wrong methods in an onRequest hook of their own, before the vendor's
   * hooks (credentials) and before the body is read (default). false: the vendor's hooks run first,
   * for a vendor whose gateway checks credentials before it routes.
   */
  early?: boolean;
  /** Called with every internal failure (to log it). */
  logInternal?(err: unknown, request: FastifyRequest): void;
}

export function sendAnswer(reply: FastifyReply, a: WireAnswer): FastifyReply {
  return reply.code(a.status).headers(a.headers).send(a.body);
}

/**
 * Install the vendor's error handler and not-found handler, and answer unknown paths and wrong
 * methods before credentials or the body are looked at (a broken body never hides a 404/405).
 */
export function installErrorPath(scope: FastifyInstance, opts: ErrorPathOptions): RouteTable {
  const table = new RouteTable(opts.prefix, opts.routes);

  const notFound = (request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const path = request.url.split('?')[0];
    const allow = table.allowed(path);
    const base = { method: request.method, path: clientPath(request) };
    if (allow) {
      request.emulator.operation =
        opts.methodNotAllowedOperation ?? table.anyOperationAt(path) ?? opts.notFoundOperation;
      return sendAnswer(reply, opts.render({ ...base, kind: 'methodNotAllowed', status: 405, allow }, request));
    }
    request.emulator.operation = opts.notFoundOperation;
    return sendAnswer(reply, opts.render({ ...base, kind: 'notFound', status: 404 }, request));
  };

  if (opts.early !== false) {
    scope.addHook('onRequest', (request, reply, done) => {
      // Answered here, the request goes no further (done is not called), as with Fastify's early replies.
      if (request.is404) notFound(request, reply);
      else done();
    });
  }
  scope.setNotFoundHandler(notFound);

  scope.setErrorHandler((err: FastifyError, request, reply) => {
    // A request refused before its handler ran (a bad body, failed credentials) still names its operation.
    if (request.emulator && request.emulator.operation === null) {
      const route = request.routeOptions?.url;
      request.emulator.operation =
        (route !== undefined && table.operationOf(request.method, route)) || opts.notFoundOperation;
    }
    const failure = classify(err, request, opts.own, opts.bodyLimit);
    if (failure.kind === 'internal') {
      if (opts.logInternal) opts.logInternal(err, request);
      else request.log.error({ err }, 'unhandled error');
    }
    if (failure.kind === 'tooLarge') {
      const maxBytes = Math.max(LINGER.minBytes, LINGER.limitMultiple * opts.bodyLimit);
      lingerAfterAnswer(request.raw, maxBytes);
    }
    return sendAnswer(reply, opts.render(failure, request));
  });
  return table;
}

/** The generic 404 of a path no vendor claims. */
export function genericNotFound(request: FastifyRequest): WireAnswer {
  return {
    status: 404,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({
      error: 'Not Found',
      message: `Nothing is served at ${request.method} ${clientPath(request)}; see the README for the vendor base paths`,
    }),
  };
}
