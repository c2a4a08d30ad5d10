/**
 * The RackCorp plugin. Every operation of the table answers:
 *   - at its REST path below /api/rest/<ver> and /api/<ver> (any `v<major>[.<minor>]`; both are
 *     rewritten onto the mounted prefix /api/rest/v2.9 before routing);
 *   - through json.php: GET with `?cmd=NAME&...`, POST with a JSON (or form) body `{ "cmd": NAME, ... }`.
 * Both bindings read the same operation table and run the same pipeline (operation.ts).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { VendorModule, VendorPluginOptions } from '../shared/vendor.js';
import { rackcorpData } from '../../store/vendor-data.js';
import { customerOperations } from './customers.js';
import { billingOperations } from './billing.js';
import {
  mergeParams,
  prepareOperations,
  runOperation,
  type OperationResult,
  type PreparedOperation,
  type RackcorpOperation,
} from './operation.js';
import { TokenService, type Credentials } from './auth.js';
import { RackcorpFault, JSON_TYPE, faultBody, okBody, rackcorpFaultKind, renderFailure } from './envelope.js';
import { installErrorPath, type RouteEntry } from '../shared/errors.js';
import { rackcorpContract, JSON_PHP_OPERATION, UNKNOWN_PATH_OPERATION } from './contract.js';
import { PhpFormError, phpQuery, usePhpFormParsers } from '../shared/php-form.js';

export const MOUNT = '/api/rest/v2.9';
export const operations: RackcorpOperation[] = [...customerOperations, ...billingOperations];

/** Every route of the plugin: the REST bindings of the operation table and the json.php dispatcher. */
export const routes: RouteEntry[] = [
  ...operations.flatMap((op) => op.rest.map((r) => ({ method: r.method as string, url: r.path, operation: op.cmd }))),
  { method: 'GET', url: '/json.php', operation: JSON_PHP_OPERATION },
  { method: 'POST', url: '/json.php', operation: JSON_PHP_OPERATION },
];

/** `/api/rest/<ver>/...` and `/api/<ver>/...`, any `v<major>[.<minor>]` except UniPay's `v01`. */
const VERSIONED = /^\/api\/(?:rest\/)?(v\d+(?:\.\d+)?)(?=\/|\?|$)/;

export function rewriteRackcorpUrl(url: string): string | undefined {
  // Already the mounted prefix (the usual case): what the rewrite below would give, without a regex.
  if (url.startsWith(MOUNT)) {
    const next = url.charCodeAt(MOUNT.length);
    if (Number.isNaN(next) || next === 0x2f /* / */ || next === 0x3f /* ? */) return url;
  }
  const m = VERSIONED.exec(url);
  if (!m || m[1] === 'v01') return undefined;
  return MOUNT + url.slice(m[0].length);
}

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function credentialsOf(request: FastifyRequest): Credentials {
  return {
    authorization: header(request, 'authorization'),
    cookie: header(request, 'cookie'),
    headerUuid: header(request, 'apiuuid'),
    headerSecret: header(request, 'apisecret'),
  };
}

/** Bodies whose values are text (PHP's $_POST), not typed JSON. */
const FORM = /application\/x-www-form-urlencoded|multipart\/form-data/i;

/** No typed fields (never changed: callers only delete from a non-empty set). */
const NO_FIELDS: ReadonlySet<string> = new Set();

/** The names of the body's fields when the body is JSON (typed), none when it is a form (text). */
function typedFields(request: FastifyRequest, body: Record<string, unknown>): ReadonlySet<string> {
  const keys = Object.keys(body);
  if (keys.length === 0) return NO_FIELDS;
  const type = header(request, 'content-type') ?? '';
  return FORM.test(type) ? NO_FIELDS : new Set(keys);
}

/** No body: an empty object, never changed (the handlers only read it). */
const NO_BODY: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

function objectOrEmpty(v: unknown): Record<string, unknown> {
  if (v === undefined || v === null || v === '') return NO_BODY;
  if (typeof v !== 'object' || Array.isArray(v))
    throw new RackcorpFault('The request body must be a JSON object', { body: 'must be a JSON object' });
  return v as Record<string, unknown>;
}

/** The query string as the PHP service reads it ($_GET: brackets, last value wins); a FAULT when it cannot be read. */
function queryOf(request: FastifyRequest): Record<string, unknown> {
  try {
    return phpQuery(request.url, (m) => {
      request.emulator.warnings.push(m);
    });
  } catch (e) {
    if (e instanceof PhpFormError) throw new RackcorpFault(e.message, { query: e.message });
    throw e;
  }
}

export const rackcorp: VendorModule = {
  ...rackcorpData,
  title: 'RackCorp REST API v2.9',
  prefix: MOUNT,
  basePaths: ['/api/rest/v2.9', '/api/v2.9', '/api/rest/v2.9/json.php'],
  rewriteUrl: rewriteRackcorpUrl,
  // `/api/rest/...` whatever follows, and `/api/<ver>/...` in any case (`/API/V2.9`), except UniPay's v01.
  claimsPath: (path) => /^\/api\/(?:rest(?:\/|$)|v(?!01(?:\/|$))\d+(?:\.\d+)?(?:\/|$))/i.test(path),
  renderFailure,
  sandbox: [
    {
      label: 'API key (APIUUID / APISECRET, headers, body or HTTP Basic)',
      value: '11111111-2222-4333-8444-555555555555 / rackcorp-sandbox-secret',
    },
    { label: 'Login (cmd=session.login, jwt: 1)', value: 'sandbox@example.com / rackcorp-sandbox-password' },
    { label: 'Other tenant (customer 900)', value: '99999999-8888-4777-8666-555555555555 / rackcorp-other-secret' },
  ],
  contract: rackcorpContract(operations),
  refusalPresets: { busy: 'fault', forbidden: 'auth' },
  faultPresets: {
    fault: ({ message }) => ({
      status: 200,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(faultBody(message ?? 'Internal error, please try again later', undefined, 'Server')),
    }),
    auth: ({ message }) => ({
      status: 200,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(
        faultBody(message ?? 'Authentication failed', { credentials: message ?? 'Authentication failed' }, 'Auth'),
      ),
    }),
  },
  async plugin(scope, opts: VendorPluginOptions) {
    const config = opts.config;
    const tokens = new TokenService(config.jwtTtl);
    const table = prepareOperations(operations);
    const strict = config.strict !== false;
    installErrorPath(scope, {
      prefix: MOUNT,
      routes,
      own: rackcorpFaultKind,
      render: renderFailure,
      bodyLimit: config.maxBodyBytes,
      notFoundOperation: UNKNOWN_PATH_OPERATION,
      methodNotAllowedOperation: UNKNOWN_PATH_OPERATION,
      logInternal: (err, request) => request.log.error({ err }, 'RackCorp operation failed'),
    });

    // Clients send JSON with odd or missing content types (text/plain, none): try JSON, else FAULT.
    scope.removeContentTypeParser('text/plain');
    // Form and multipart bodies as PHP's $_POST (brackets, last value wins).
    usePhpFormParsers(scope, (e) => new RackcorpFault(e.message, { body: e.message }));
    scope.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
      const text = (body as string).trim();
      if (text === '') return done(null, undefined);
      try {
        done(null, JSON.parse(text));
      } catch {
        done(new RackcorpFault('The request body is not valid JSON', { body: 'not valid JSON' }), undefined);
      }
    });

    function respond(result: OperationResult, reply: FastifyReply): FastifyReply {
      if (result.cookies) {
        for (const [name, value] of Object.entries(result.cookies)) {
          reply.header('set-cookie', `${name}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Lax`);
        }
      }
      // A kept answer comes with its text: the same bytes and Content-Type Fastify would make of the object.
      if (result.text !== undefined) return reply.code(200).header('content-type', JSON_TYPE).send(result.text);
      return reply.code(200).send(okBody(result.body));
    }

    /**
     * Run the operation and send its answer. Synchronous (the handler returns nothing once the
     * answer is sent) unless the operation is not, then a promise that settles with the reply.
     */
    function answer(
      prepared: PreparedOperation,
      params: Record<string, unknown>,
      typed: ReadonlySet<string>,
      request: FastifyRequest,
      reply: FastifyReply,
    ): Promise<FastifyReply> | undefined {
      request.emulator.operation = prepared.op.cmd;
      const result = runOperation(
        prepared,
        { params, typed, credentials: credentialsOf(request), strict, warnings: request.emulator.warnings },
        { state: request.emulator.state, tokens, config },
      );
      if (result instanceof Promise) return result.then((r) => respond(r, reply));
      respond(result, reply);
      return undefined;
    }

    // REST: one route per binding of every operation.
    for (const prepared of table.values()) {
      for (const rest of prepared.op.rest) {
        scope.route({
          method: rest.method,
          url: rest.path,
          handler: (request, reply) => {
            const body = objectOrEmpty(request.body);
            const params = mergeParams([
              ['query', queryOf(request)],
              ['body', body],
              ['path', request.params as Record<string, unknown>],
            ]);
            const typed = typedFields(request, body);
            // A non-empty set is this request's own (typedFields made it).
            if (typed.size > 0) for (const k of Object.keys(request.params as object)) (typed as Set<string>).delete(k);
            return answer(prepared, params, typed, request, reply);
          },
        });
      }
    }

    // The json.php dispatcher.
    const dispatch = (request: FastifyRequest, reply: FastifyReply) => {
      request.emulator.operation = JSON_PHP_OPERATION;
      const body = objectOrEmpty(request.body);
      const params = mergeParams([
        ['query', queryOf(request)],
        ['body', body],
      ]);
      const cmd = params.cmd;
      if (cmd === undefined || cmd === '')
        throw new RackcorpFault('No command given: pass cmd', { cmd: 'cmd is required' });
      const prepared = typeof cmd === 'string' ? table.get(cmd) : undefined;
      if (!prepared) {
        throw new RackcorpFault(`Unknown command: ${String(cmd)}`, { cmd: `unknown command ${String(cmd)}` });
      }
      return answer(prepared, params, typedFields(request, body), request, reply);
    };
    scope.get('/json.php', dispatch);
    scope.post('/json.php', dispatch);
  },
};
