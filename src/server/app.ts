/**
 * buildApp(options): the whole emulator as a Fastify instance, ready for `inject` or `listen`.
 * It opens the store, loads the fixtures, mounts one plugin per vendor and the control plane.
 * It never listens; src/server/start.ts and the CLI do.
 */
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { LazyChildLogger } from './lazy-logger.js';
import { keepTickShape } from './tick-shape.js';
import formbody from '@fastify/formbody';
import type { IncomingMessage } from 'node:http';
import { resolveConfig } from './config.js';
import type { Config } from '../core/config.js';
import { vendors } from '../vendors.js';
import type { VendorModule } from '../routes/shared/vendor.js';
import {
  StateRegistry,
  SESSION_ID_PATTERN,
  SessionLimitError,
  UnknownSessionError,
  defaultMemoryBudget,
  type EmulatorState,
} from '../store/state.js';
import { ResponseChecker } from './control/openapi.js';
import { ClientSlots, OriginGuard, registerControlPlane, installVendorHooks, refuse } from './control/index.js';
import { clientPath, genericNotFound, sendAnswer } from '../routes/shared/errors.js';
import { Coverage } from './control/coverage.js';
import { Drift } from './control/drift.js';
import { redactUrl } from './control/redact.js';

export const SESSION_HEADER = 'x-emulator-session';
const SESSION_PREFIX = /^\/_sessions\/([^/?#]*)(\/[^?#]*)?(.*)$/;

/** Per-request emulator data, set before routing. */
export interface RequestEmulatorInfo {
  state: EmulatorState;
  /** The session the request asked for (null = default state). */
  sessionId: string | null;
  /** Filled in by the vendor plugin that answers. */
  vendor: string | null;
  operation: string | null;
  /**
   * Deviations `--lenient` accepted (unknown fields, coerced types, ...). Vendors push a message here
   * where `--strict` would refuse the request; the journal entry carries them as `warnings`.
   */
  warnings: string[];
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    registry: StateRegistry<VendorModule>;
  }
  interface FastifyRequest {
    emulator: RequestEmulatorInfo;
  }
  interface FastifyContextConfig {
    /** The route makes the session the request names (POST /_emulator/sessions): it is not looked up first. */
    createsSession?: boolean;
  }
}

interface RawWithSession extends IncomingMessage {
  emulatorSession?: string;
}

/** Strip `/_sessions/<id>` and apply each vendor's own URL normalisation. */
function rewriteUrl(req: RawWithSession): string {
  let url = req.url ?? '/';
  // A path the router cannot decode (`%zz`, `%ff`) would get Fastify's own 400 before any vendor
  // sees it; read such a path literally instead, so the vendor answers in its own format.
  if (url.includes('%')) {
    const q = url.search(/[?#]/);
    const pathPart = q === -1 ? url : url.slice(0, q);
    try {
      decodeURIComponent(pathPart);
    } catch {
      url = pathPart.replace(/%/g, '%25') + (q === -1 ? '' : url.slice(q));
    }
  }
  const m = url.startsWith('/_sessions/') ? SESSION_PREFIX.exec(url) : null;
  if (m) {
    req.emulatorSession = decodeURIComponent(m[1]);
    url = (m[2] ?? '/') + m[3];
  }
  for (const v of vendors) {
    const r = v.rewriteUrl?.(url);
    if (r !== undefined) return r;
  }
  return url;
}

/** Route config key naming the vendor whose plugin declared the route. */
const VENDOR_ROUTE = 'emulatorVendor';

/**
 * Whether a request naming a session that does not exist may create it: the one place that
 * decides. Implicitly (the single-instance default) only a request routed to a vendor operation
 * does, unless the emulator refuses it before the vendor sees it (over the client's in-flight cap,
 * a browser write from a foreign origin); a control call does once authorised (controlState).
 * Health probes, refused or unknown requests and the dashboard do not, so a caller without
 * credentials cannot fill the session table and evict another job's session.
 */
export function mayCreateSession(
  request: FastifyRequest,
  refusals: { slots: ClientSlots; guard: OriginGuard },
): boolean {
  return (
    !request.is404 &&
    (request.routeOptions.config as unknown as Record<string, unknown> | undefined)?.[VENDOR_ROUTE] !== undefined &&
    !refusals.slots.full(request) &&
    !refusals.guard.refusesWrite(request)
  );
}

export function sessionIdOf(request: FastifyRequest): string | null {
  const fromPath = (request.raw as RawWithSession).emulatorSession;
  if (fromPath !== undefined) return fromPath;
  const h = request.headers[SESSION_HEADER];
  const v = Array.isArray(h) ? h[0] : h;
  return v === undefined || v === '' ? null : v;
}

/** --seed-cache: a folder, null for the default one, or false (--no-seed-cache, or "off" in the environment). */
export function seedCacheOption(value: string | false | null): string | false | null {
  return value === false || (typeof value === 'string' && /^(off|false|no|0)$/i.test(value)) ? false : value;
}

export async function buildApp(options: Partial<Config> = {}): Promise<FastifyInstance> {
  // The command line did this first thing; an app made by a library user (startEmulator) does it here.
  keepTickShape();
  const config = resolveConfig(options);
  const app = Fastify({
    // Request URLs are logged without the values of credential query parameters (APISECRET...).
    logger: {
      level: config.logLevel,
      serializers: {
        req: (req: { method: string; url: string; host?: string; ip?: string }) => ({
          method: req.method,
          url: redactUrl(req.url, new Set()),
          host: req.host,
          remoteAddress: req.ip,
        }),
      },
    },
    childLoggerFactory: (logger, bindings, opts) =>
      new LazyChildLogger(logger, bindings, opts) as unknown as FastifyBaseLogger,
    bodyLimit: config.maxBodyBytes,
    rewriteUrl,
    // A client that never finishes its request must not pin a connection forever. Node checks
    // for overdue requests every connectionsCheckingInterval, so keep that well below the timeout.
    requestTimeout: config.requestTimeout,
    http: { connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(config.requestTimeout / 4))) },
    // Node's requestTimeout does not fire once Fastify is reading a body (a client that promises a
    // Content-Length and stops is never cut by it), so the socket idle timeout backs it up.
    connectionTimeout: 2 * config.requestTimeout,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    // No router-level cap on a path parameter: Fastify would answer a bare 414 in its own format;
    // Node's header size limit already bounds the URL, and each vendor refuses a bad id its own way.
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: Number.MAX_SAFE_INTEGER },
  });

  const registry = new StateRegistry({
    vendors,
    fixturesDir: config.fixtures,
    dbFile: config.db,
    seedCache: seedCacheOption(config.seedCache),
    seedWriteLaterBytes: config.seedWriteLaterBytes,
    warn: (message) => app.log.warn(message),
    sessionIdleMs: config.sessionIdleSeconds * 1000,
    maxSessions: config.maxSessions,
    maxMemoryBytes: config.maxMemory > 0 ? config.maxMemory * 1_048_576 : defaultMemoryBudget(),
    explicitSessions: config.sessionMode === 'explicit',
    sessionCopyMaxBytes: config.sessionCopyMaxBytes,
  });
  app.decorate('config', config);
  app.decorate('registry', registry);
  const contracts = new ResponseChecker(vendors);
  const slots = new ClientSlots(config.maxInFlightPerClient);
  const guard = new OriginGuard(config);
  const refusals = { slots, guard };
  app.decorate('contracts', contracts);
  const coverage = new Coverage(() => contracts.documents);
  app.decorate('coverage', coverage);
  const drift = new Drift(app, config, vendors);
  app.decorate('drift', drift);
  app.decorateRequest('emulator', null as unknown as RequestEmulatorInfo);
  app.addHook('onClose', async () => registry.close());
  // A big seed compiled at this start is written to its file once the server answers (see PendingSeedWrite).
  app.addHook('onListen', (done) => {
    registry.writeSeedInBackground();
    done();
  });

  // Callback style (no promise per request). The default state is never evicted or retired, so
  // only a session counts its running requests: until the answer is out or the client is gone
  // (`close` follows `finish`), it is never evicted, and a dropped one closes after them.
  app.addHook('onRequest', (request, reply, done) => {
    const sessionId = sessionIdOf(request);
    if (sessionId === null) {
      request.emulator = { state: registry.defaultState, sessionId, vendor: null, operation: null, warnings: [] };
      return done();
    }
    if (!SESSION_ID_PATTERN.test(sessionId)) {
      reply.code(400).send({
        error: 'Bad Request',
        message: `Invalid session id "${sessionId}": use 1-64 letters, digits, '.', '_' or '-'`,
      });
      return;
    }
    // A session still to be made from a seed that is being written (a big one compiled at this
    // start) waits for the file; the other requests are answered meanwhile. Once the seed is
    // written (every request but those of a big first start's first seconds), nothing is looked up here.
    const seedReady =
      !registry.seedWritten && !request.routeOptions.config.createsSession && registry.find(sessionId) === undefined
        ? registry.seedReady()
        : null;
    if (seedReady) seedReady.then(() => enterSession(request, reply, sessionId, done)).catch(done);
    else enterSession(request, reply, sessionId, done);
  });

  /** The rest of the hook for a request naming a session: find or make its state, or refuse. */
  function enterSession(
    request: FastifyRequest,
    reply: FastifyReply,
    sessionId: string,
    done: (err?: Error) => void,
  ): void {
    let state: EmulatorState;
    try {
      // A session that does not exist yet is made only by a request that may make it; any other
      // runs in the default state (health, the dashboard, unknown paths). A control call makes
      // it once authorised, through controlState(). POST /_emulator/sessions makes its own.
      state = request.routeOptions.config.createsSession
        ? registry.defaultState
        : (registry.find(sessionId) ??
          (mayCreateSession(request, refusals) ? registry.get(sessionId) : registry.defaultState));
    } catch (e) {
      if (e instanceof SessionLimitError) {
        // A vendor's client gets the vendor's own "busy" answer (as when over its in-flight cap).
        const name = (request.routeOptions.config as unknown as Record<string, unknown> | undefined)?.[VENDOR_ROUTE];
        const vendor = vendors.find((v) => v.name === name);
        if (vendor) {
          refuse(request, reply, vendor, 'busy', e.message);
          return;
        }
        reply.code(503).header('retry-after', '1').send({ error: 'Service Unavailable', message: e.message });
        return;
      }
      if (e instanceof UnknownSessionError) {
        // The route's own error handler answers: the vendor's format on vendor routes, the control
        // plane's on /_emulator.
        request.emulator = { state: registry.defaultState, sessionId, vendor: null, operation: null, warnings: [] };
      }
      return done(e as Error);
    }
    if (state !== registry.defaultState) {
      state.acquire();
      // `on`: 'close' comes once, and `once` would wrap the listener in another function.
      reply.raw.on('close', () => state.release());
    }
    request.emulator = { state, sessionId, vendor: null, operation: null, warnings: [] };
    done();
  }

  await app.register(formbody);
  for (const v of vendors) {
    await app.register(
      async (scope) => {
        // Mark the vendor's routes (not its not-found handler): a request reaching one reaches a vendor operation.
        scope.addHook('onRoute', (route) => {
          route.config = { ...(route.config as object | undefined), [VENDOR_ROUTE]: v.name } as typeof route.config;
        });
        // Journal and fault injection, the same for every vendor (the first hook names the vendor).
        installVendorHooks(scope, v, config, contracts, slots, guard, config.coverage ? coverage : undefined, drift);
        await scope.register(v.plugin, { config });
      },
      { prefix: v.prefix },
    );
  }
  await registerControlPlane(app);

  // A path that reached no vendor's prefix but clearly aims at one (a case slip) gets that vendor's
  // not-found answer; only a path no vendor claims gets the emulator's own 404.
  app.setNotFoundHandler((request, reply) => {
    const path = clientPath(request);
    const vendor = vendors.find((v) => v.renderFailure && v.claimsPath?.(path));
    sendAnswer(
      reply,
      vendor
        ? vendor.renderFailure!({ kind: 'notFound', status: 404, method: request.method, path }, request)
        : genericNotFound(request),
    );
  });
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) request.log.error({ err }, 'unhandled error');
    reply.code(status).send({
      error: status === 500 ? 'Internal Server Error' : status === 404 ? 'Not Found' : 'Bad Request',
      message: err.message,
    });
  });

  await app.ready();
  return app;
}
