/**
 * The control plane: everything under /_emulator, JSON in and out.
 *   health                      GET                 (never needs the token, never delayed by faults)
 *   sessions                    GET, POST (makes the named session), DELETE /:id
 *   reset                       POST [?vendor=]
 *   snapshots                   GET, POST /:name, POST /:name/restore, GET /:name/fixtures, DELETE /:name
 *   requests                    GET, GET /count, DELETE
 *   faults                      GET, POST, DELETE, DELETE /:id
 *   clock                       GET, PUT
 *   outbox                      GET
 *   vendors                     GET                 (names, base paths, tables, sandbox credentials)
 *   data                        GET, GET /:vendor/:table   (row counts; rows of one table)
 *   ui                          GET                 (the dashboard page and its assets: no token needed)
 *   coverage                    GET, DELETE         (which documented operations and outcomes were exercised)
 *   drift                       GET, GET /export, DELETE   (shadow mode: the emulator against --upstream)
 * Routes acting on one state take it from `X-Emulator-Session` or `?session=` (default state without).
 * Bad requests get 400 `{ error, message }`; with --control-token every route but health needs
 * `Authorization: Bearer <token>` (401 otherwise).
 */
import { timingSafeEqual } from 'node:crypto';
import { Ajv, type ValidateFunction } from 'ajv';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, preParsingHookHandler } from 'fastify';
import { Type } from '@sinclair/typebox';
import { vendors } from '../../vendors.js';
import { DEFAULT_STATE_ID } from '../../store/state.js';
import { VERSION } from '../../core/version.js';
import type { Config } from '../../core/config.js';
import type { FaultPresetAnswer, VendorModule } from '../../routes/shared/vendor.js';
import { compiledOnFirstCall } from '../../routes/shared/validation.js';
import { ControlError, STATUS_TEXT, controlSessionId, controlState } from './common.js';
import { dataRoutes, resetState } from './data.js';
import { activeFaults, faultRoutes, faultPending, faultsOf, faultsOnRequest, faultsOnSend } from './faults.js';
import {
  journalBudget,
  journalOf,
  journalRoutes,
  keepResponse,
  record,
  startTrace,
  teeBody,
  traceOf,
} from './journal.js';
import { SnapshotStore, snapshotRoutes } from './snapshots.js';
import { clockRoutes } from './clock.js';
import { outboxRoutes } from './outbox.js';
import { isUiAsset, uiRoutes } from './ui.js';
import { OriginGuard } from './origin.js';

export { OriginGuard } from './origin.js';
import { coverageRoutes, type Coverage } from './coverage.js';
import { driftRoutes, type Drift } from './drift.js';

export { ControlError } from './common.js';
import { ResponseChecker, installResponseValidation, openapiRoutes } from './openapi.js';
export { ResponseChecker };

declare module 'fastify' {
  interface FastifyInstance {
    snapshots: SnapshotStore;
  }
}

/**
 * The hooks every vendor scope gets, one per lifecycle step, callback style (no promise per
 * hook): the first names the vendor, starts the request's trace and applies fault rules when the
 * state has any (before the vendor's own onRequest hooks, so a fault answers whatever the request
 * holds) and keeps a GET's body as it arrives, as preParsing does on routes that take a body; onSend lets an armed
 * fault replace or
 * delay the answer, then keeps its text; onResponse writes the journal entry. A request whose
 * client left before the answer was out is journalled (status null) by the one 'close' listener
 * that also frees its in-flight slot: no onRequestAbort hook, which would make Fastify add a
 * second 'close' listener (another closure) to every request.
 * Response validation (--validate-responses) checks the answer before the journal keeps it and
 * skips what a fault answered.
 */
export function installVendorHooks(
  scope: FastifyInstance,
  vendor: VendorModule,
  config: Config,
  contracts: ResponseChecker,
  slots: ClientSlots,
  guard: OriginGuard,
  coverage?: Coverage,
  drift?: Drift,
): void {
  const journalOn = config.journalSize > 0;
  const maxBody = config.journalBodyBytes;
  const onDropped = (request: FastifyRequest) => record(request, null, config);
  // Answered requests were journalled by onResponse; this keeps one whose client left first.
  const onClosed = journalOn ? onDropped : undefined;
  scope.addHook('onRequest', (request, reply, done) => {
    request.emulator.vendor = vendor.name;
    startTrace(request);
    if (guard.refusesWrite(request)) {
      refuse(
        request,
        reply,
        vendor,
        'forbidden',
        `A browser write from origin "${request.headers.origin}" is refused (a web page must not change the emulator's data); allow the origin with --allowed-origins`,
      );
      return;
    }
    if (!slots.take(request, reply, onClosed)) {
      refuse(
        request,
        reply,
        vendor,
        'busy',
        `Too many requests running from this client (${slots.max}, see --max-in-flight-per-client); retry when one has finished`,
      );
      return;
    }
    const rules = activeFaults(request);
    // Fastify never reads the body of a GET, HEAD or TRACE, and a not-found answer runs no route's preParsing hook:
    // those bodies are kept from here, as they arrive. (Fastify's own reader joins in this same tick, before any
    // data flows, unless a fault rule could delay the request: then a not-found body is kept as parsed.)
    if (journalOn && hasBody(request) && (BODYLESS.has(request.method) || (request.is404 && !rules)))
      teeBody(traceOf(request)!, request.raw, maxBody);
    if (rules) faultsOnRequest(request, reply, vendor, rules, onDropped, done);
    else done();
  });
  // --upstream: forward to the real vendor and compare (a request it answers goes no further).
  if (drift?.shadows(vendor.name)) drift.install(scope, vendor);
  if (journalOn) {
    // Only routes that take a body get the hook that keeps it: a GET runs no preParsing hook at all.
    // A not-found answer runs none either: its body is kept by the first hook.
    const keepBody: preParsingHookHandler = (request, _reply, payload, done) => {
      if (hasBody(request)) {
        const trace = traceOf(request);
        if (trace) teeBody(trace, payload, maxBody);
      }
      done(null, payload);
    };
    scope.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      if (methods.every((m) => BODYLESS.has(m))) return;
      const own = route.preParsing;
      // First, as the scope's hook it replaces was: it sees the body as it arrived.
      route.preParsing = [keepBody, ...(own === undefined ? [] : Array.isArray(own) ? own : [own])];
    });
  }
  if (config.validateResponses) installResponseValidation(scope, vendor, contracts);
  const sent = (request: FastifyRequest, reply: FastifyReply, out: unknown): void => {
    const trace = journalOn ? traceOf(request) : undefined;
    if (trace) keepResponse(trace, out, maxBody);
    // The emulator's leg of a shadowed request is counted by the drift report, not here.
    if (coverage && !drift?.isCopy(request))
      coverage.record(request, reply, out, traceOf(request)?.fault !== undefined);
  };
  scope.addHook('onSend', (request, reply, payload, done) => {
    // Without an armed fault (the common case) the answer goes out as it is, with no callback made for it.
    if (!faultPending(request)) {
      sent(request, reply, payload);
      done(null, payload);
      return;
    }
    faultsOnSend(request, reply, payload, (out) => {
      sent(request, reply, out);
      done(null, out);
    });
  });
  if (journalOn) {
    scope.addHook('onResponse', (request, reply, done) => {
      record(request, reply, config);
      done();
    });
  }
}

/** The methods whose body Fastify never reads (its own `bodyless` list). */
const BODYLESS = new Set(['GET', 'HEAD', 'TRACE']);

function hasBody(request: FastifyRequest): boolean {
  const h = request.headers;
  return h['transfer-encoding'] !== undefined || (h['content-length'] !== undefined && h['content-length'] !== '0');
}

/** Client addresses kept at 0 requests running (past this, an idle one's entry is deleted). */
const IDLE_CLIENTS_KEPT = 64;

/**
 * Requests running per client address (--max-in-flight-per-client). A request keeps its slot until
 * its connection is done with it (answered, or the client gone), so a caller sending bodies that
 * never finish holds at most this many: it cannot keep every session busy (a session with a
 * request running is never evicted) and so make every new session answer 503.
 */
export class ClientSlots {
  private running = new Map<string, number>();
  constructor(readonly max: number) {}

  /** Has the request's client as many requests running as it may? */
  full(request: FastifyRequest): boolean {
    return (this.running.get(request.ip ?? '') ?? 0) >= this.max;
  }

  /**
   * Take a slot for the request until its response closes (answered, or the client gone);
   * `closed` runs then too (one listener for both).
   */
  take(request: FastifyRequest, reply: FastifyReply, closed?: (request: FastifyRequest) => void): boolean {
    const who = request.ip ?? '';
    const n = this.running.get(who) ?? 0;
    if (n >= this.max) return false;
    this.running.set(who, n + 1);
    // 'close' comes once per response: `on`, not `once`, which would wrap the listener in another function.
    reply.raw.on('close', () => {
      const left = (this.running.get(who) ?? 1) - 1;
      // An idle client keeps its entry (at 0) while few are kept: deleting it and adding it back on
      // its next request made V8 shrink and grow the map on most requests (Runtime_MapShrink).
      if (left <= 0 && this.running.size > IDLE_CLIENTS_KEPT) this.running.delete(who);
      else this.running.set(who, Math.max(0, left));
      closed?.(request);
    });
    return true;
  }
}

/** The vendor's own answer to one of the emulator's refusals (its preset; plain JSON for a vendor without one). */
function refusal(
  vendor: VendorModule,
  kind: 'busy' | 'forbidden',
  request: FastifyRequest,
  message: string,
): FaultPresetAnswer {
  const name = vendor.refusalPresets?.[kind];
  const preset = name !== undefined ? vendor.faultPresets?.[name] : undefined;
  const accept = request.headers.accept;
  if (preset) return preset({ accept: Array.isArray(accept) ? accept[0] : accept, message });
  const status = kind === 'busy' ? 503 : 403;
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ error: STATUS_TEXT[status], message }),
  };
}

/** Answer a vendor request with the emulator's refusal (not a vendor answer: response validation skips it). */
export function refuse(
  request: FastifyRequest,
  reply: FastifyReply,
  vendor: VendorModule,
  kind: 'busy' | 'forbidden',
  message: string,
): void {
  const a = refusal(vendor, kind, request, message);
  const trace = traceOf(request);
  if (trace) trace.refused = true;
  reply.code(a.status).headers(a.headers ?? {});
  if (kind === 'busy') reply.header('retry-after', '1');
  reply.send(a.body);
}

function isHealth(url: string): boolean {
  return url.split('?')[0].replace(/\/$/, '') === '/_emulator/health';
}

function tokenMatches(request: FastifyRequest, token: string): boolean {
  const h = request.headers.authorization;
  const m = typeof h === 'string' ? /^Bearer\s+(.+)$/i.exec(h.trim()) : null;
  if (!m) return false;
  const a = Buffer.from(m[1]);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function registerControlPlane(app: FastifyInstance): Promise<void> {
  app.decorate(
    'snapshots',
    new SnapshotStore(app.registry, { maxSnapshots: app.config.maxSnapshots, maxBytes: app.config.maxSnapshotBytes }),
  );

  await app.register(
    async (scope) => {
      // Control bodies are typed JSON (refused on a wrong type or an unknown field); query strings and
      // path parameters are text, coerced to the schema's types.
      // Compiled on a route's first request, not at start-up (about 40 ms of CPU at start).
      let bodyAjv: Ajv | undefined;
      let textAjv: Ajv | undefined;
      const compile = (schema: object, body: boolean): ValidateFunction =>
        body
          ? (bodyAjv ??= new Ajv({
              allErrors: false,
              coerceTypes: false,
              removeAdditional: false,
              strict: false,
              validateSchema: false,
            })).compile(schema)
          : (textAjv ??= new Ajv({
              allErrors: false,
              coerceTypes: true,
              removeAdditional: false,
              strict: false,
              validateSchema: false,
            })).compile(schema);
      scope.setValidatorCompiler(({ schema, httpPart }) =>
        compiledOnFirstCall(() => compile(schema, httpPart === 'body')),
      );
      scope.setErrorHandler((err: FastifyError | ControlError, request, reply) => {
        let status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
        if ((err as FastifyError).validation) status = 400;
        if (status >= 500 && !(err instanceof ControlError)) request.log.error({ err }, 'control request failed');
        const message = (err as FastifyError).validation
          ? `Invalid ${(err as FastifyError).validationContext ?? 'request'}: ${err.message.replace(/^(querystring|body|params|headers)\/?/, '')}`
          : err.message;
        reply
          .code(status)
          .send({ error: STATUS_TEXT[status] ?? (status >= 500 ? 'Internal Server Error' : 'Bad Request'), message });
      });
      scope.setNotFoundHandler((request, reply) => {
        reply.code(404).send({
          error: 'Not Found',
          message: `No control route ${request.method} ${request.url.split('?')[0]}; see the README section "Control plane"`,
        });
      });

      const token = app.config.controlToken;
      // Before the token check: a page must not drive the control plane, nor read it through DNS
      // rebinding (see origin.ts).
      const guard = new OriginGuard(app.config);
      scope.addHook('onRequest', (request, reply, done) => {
        const host = request.headers.host;
        const origin = request.headers.origin;
        const authorised = token !== null && tokenMatches(request, token);
        if (origin !== undefined && !guard.originAllowed(origin, host, authorised)) {
          reply.code(403).send({
            error: 'Forbidden',
            message: `Control requests from the browser origin "${origin}" are refused (a web page must not drive the emulator); allow the origin with --allowed-origins`,
          });
          return;
        }
        // Health is answered whatever the Host (it holds nothing secret), so a service name works in a readiness loop.
        if (!authorised && !guard.hostAllowed(host) && !isHealth(request.url)) {
          reply.code(403).send({
            error: 'Forbidden',
            message: `The control plane answers Host "${host}" only when it is localhost, an IP address or a name in --allowed-hosts (a page using DNS rebinding sends its own name); add it there${token ? ' or send the control token' : ''}`,
          });
          return;
        }
        done();
      });
      if (token) {
        scope.addHook('onRequest', async (request, reply) => {
          const path = request.url.split('?')[0];
          if (isHealth(path) || isUiAsset(path)) return;
          if (!tokenMatches(request, token)) {
            return reply.code(401).header('www-authenticate', 'Bearer realm="vendor-api-emulator control plane"').send({
              error: 'Unauthorized',
              message:
                'This emulator requires "Authorization: Bearer <control token>" on /_emulator routes (see --control-token)',
            });
          }
        });
      }

      // A write (a session made, a reset, a restore, an import) may need the seed file: while a big
      // seed compiled at this start is being written, it waits for the file and the other requests
      // are answered meanwhile. After the token check: a caller without it never waits.
      scope.addHook('preHandler', (request, _reply, done) => {
        const ready = request.method === 'GET' || request.method === 'HEAD' ? null : app.registry.seedReady();
        if (ready) ready.then(() => done(), done);
        else done();
      });

      scope.get('/health', async (_request, reply) => {
        const db = app.registry.defaultState.db;
        // Ready means: the store answers a query and the fixtures were loaded into it.
        let seeded: boolean;
        try {
          seeded = !!db.open && !!db.prepare("SELECT value FROM _emulator_meta WHERE key = 'seeded'").get();
        } catch {
          seeded = false;
        }
        if (!seeded) return reply.code(503).send({ status: 'starting', version: VERSION });
        return {
          status: 'ok',
          version: VERSION,
          store: app.registry.persistent ? 'file' : 'memory',
          sessions: app.registry.sessions.size,
          // How the fixtures were had at start: `cached` when the seed came from the seed cache (or a
          // SQLite fixture file) instead of being compiled from the fixture files; `written` false
          // while a big seed compiled at this start is still being written to the cache.
          seed: {
            source: app.registry.seed.source,
            cached: app.registry.seed.cached,
            ms: app.registry.seed.ms,
            written: app.registry.seedWritten,
          },
          vendors: vendors.map((v) => ({ name: v.name, title: v.title, basePaths: v.basePaths })),
        };
      });

      // Sessions.
      scope.get('/sessions', async () => {
        const r = app.registry;
        return {
          max: r.maxSessions,
          idleSeconds: Math.round(r.sessionIdleMs / 1000),
          evicted: r.evicted,
          expired: r.expired,
          journalBytes: journalBudget(app.config).bytes,
          sessions: [...r.sessions.values()].map((s) => ({
            id: s.id,
            createdAt: new Date(s.createdAt).toISOString(),
            lastUsedAt: new Date(s.lastUsedAt).toISOString(),
            inFlight: s.inFlight,
            requests: journalOf(s, app.config).length,
            journalBytes: journalOf(s, app.config).bytes,
            faults: faultsOf(s).size,
            clock: s.clock.describe(),
          })),
        };
      });
      // Makes the session the request names (?session=, X-Emulator-Session or /_sessions/<id>/), from the
      // fixtures: the only way a session comes to be with --session-mode explicit, and allowed in both modes.
      scope.post(
        '/sessions',
        {
          config: { createsSession: true },
          schema: {
            querystring: Type.Object({ session: Type.Optional(Type.String()) }, { additionalProperties: false }),
          },
        },
        async (request, reply) => {
          if (request.body !== undefined && request.body !== null && request.body !== '') {
            throw new ControlError(
              400,
              'POST /_emulator/sessions takes no body: name the session with ?session=<id> or the X-Emulator-Session header (what a load balancer can route on)',
            );
          }
          const id = controlSessionId(request);
          if (id === null || id === DEFAULT_STATE_ID)
            throw new ControlError(
              400,
              "Name the session to create: POST /_emulator/sessions?session=<id> or the X-Emulator-Session header (1-64 letters, digits, '.', '_' or '-'; not \"default\")",
            );
          if (!app.registry.create(id))
            throw new ControlError(
              409,
              `Session "${id}" already exists; DELETE /_emulator/sessions/${id} first to start it again from the fixtures`,
            );
          return reply.code(201).send({ created: id, mode: app.config.sessionMode });
        },
      );
      scope.delete(
        '/sessions/:id',
        { schema: { params: Type.Object({ id: Type.String({ minLength: 1 }) }) } },
        async (request) => {
          const { id } = request.params as { id: string };
          if (!app.registry.drop(id)) throw new ControlError(404, `No session "${id}"`);
          return { deleted: id };
        },
      );

      // Reset.
      scope.post(
        '/reset',
        {
          schema: {
            querystring: Type.Object({ vendor: Type.Optional(Type.String()), session: Type.Optional(Type.String()) }),
          },
        },
        async (request) => {
          const { vendor: vendorName } = request.query as { vendor?: string };
          const state = controlState(app, request);
          let vendor: VendorModule | undefined;
          if (vendorName !== undefined) {
            vendor = vendors.find((v) => v.name === vendorName);
            if (!vendor)
              throw new ControlError(
                400,
                `Unknown vendor "${vendorName}"; one of ${vendors.map((v) => v.name).join(', ')}`,
              );
          }
          resetState(app.registry, state, vendor);
          if (!vendor) {
            // A full reset makes the state exactly like a new one: fixtures, real clock, empty journal, no faults.
            state.clock.real();
            journalOf(state, app.config).clear();
            faultsOf(state).clear();
          }
          return { reset: vendor ? vendor.name : 'all', session: controlSessionId(request) };
        },
      );

      await snapshotRoutes(app, scope, app.snapshots);
      await journalRoutes(app, scope);
      await faultRoutes(app, scope);
      await clockRoutes(app, scope);
      await outboxRoutes(app, scope);
      await openapiRoutes(app, scope, vendors);
      await coverageRoutes(app, scope);
      await driftRoutes(app, scope);
      await dataRoutes(app, scope);
      await uiRoutes(app, scope);
    },
    { prefix: '/_emulator' },
  );
}
