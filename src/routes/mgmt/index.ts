/**
 * Payment gateway Management API (UniPay), customers resource: `PUT/GET /api/v01/customers` and
 * `GET /api/v01/customers/{id}`. The plugin binds the operations of customers.ts, authenticates
 * (HTTP Basic service users), negotiates formats, and answers every failure, its own and
 * Fastify's, in the UniPay error body of envelope.ts.
 */
import type { FastifyReply } from 'fastify';
import type { VendorModule } from '../shared/vendor.js';
import { addXmlBodyParser } from '../shared/xml.js';
import { installErrorPath } from '../shared/errors.js';
import { rememberCall } from '../shared/remember.js';
import { createMgmtStore } from '../../store/mgmt.js';
import { mgmtData } from '../../store/vendor-data.js';
import { readCache, textBytes } from '../../store/read-cache.js';
import { authenticate, PasswordCheckCache } from './auth.js';
import { operations, type InputMode, type MgmtContext } from './customers.js';
import { MgmtError } from './errors.js';
import { mgmtContract } from './contract.js';
import {
  bodyFormatOf,
  customerFromXml,
  formatFor,
  mgmtErrorKind,
  renderError,
  renderFailure,
  renderResult,
  type WireAnswer,
} from './envelope.js';

export const PREFIX = '/api/v01';

/** XML customer bodies are small: refuse anything bigger or deeper long before the app-wide body limit. */
const XML_LIMITS = { maxDepth: 8, maxBytes: 65_536 };

function send(reply: FastifyReply, a: WireAnswer): FastifyReply {
  return reply.code(a.status).headers(a.headers).send(a.body);
}

const answerSize = (a: WireAnswer) => textBytes(a.body) + 128;

export const mgmt: VendorModule = {
  ...mgmtData,
  title: 'Payment gateway Management API (UniPay)',
  prefix: PREFIX,
  basePaths: ['/api/v01/customers'],
  // `/api/v01/...` in another case (`/api/V01/customers`).
  claimsPath: (path) => /^\/api\/v01(?:\/|$)/i.test(path),
  renderFailure,
  sandbox: [
    { label: 'HTTP Basic (accounts 2001, 2002)', value: 'api-sandbox / mgmt-sandbox-password' },
    { label: 'HTTP Basic (account 3001)', value: 'api-other / mgmt-other-password' },
  ],
  refusalPresets: { busy: 'unavailable', forbidden: 'forbidden' },
  faultPresets: {
    /** A validation failure as the gateway words one. */
    badRequest: (input) =>
      renderError(
        'E400',
        400,
        input.message ?? 'lastName must be at most 125 characters',
        formatFor(input.accept) ?? 'json',
        input.message ? undefined : 'lastName',
      ),
    unauthorized: (input) =>
      renderError(
        'E401',
        401,
        input.message ?? 'Invalid login or password',
        formatFor(input.accept) ?? 'json',
        undefined,
        { 'WWW-Authenticate': 'Basic realm="UniPay Management API", charset="UTF-8"' },
      ),
    notFound: (input) =>
      renderError('E404', 404, input.message ?? 'Customer not found', formatFor(input.accept) ?? 'json', 'id'),
    /**
     * The gateway refusing a request it will not serve (the emulator's answer to a browser write
     * from a foreign origin).
     */
    forbidden: (input) => renderError('E403', 403, input.message ?? 'Forbidden', formatFor(input.accept) ?? 'json'),
    serverError: (input) =>
      renderError(
        'E500',
        500,
        input.message ?? 'Internal error: the request could not be processed',
        formatFor(input.accept) ?? 'json',
      ),
    unavailable: (input) =>
      renderError(
        'E503',
        503,
        input.message ?? 'Service temporarily unavailable, try again later',
        formatFor(input.accept) ?? 'json',
        undefined,
        { 'Retry-After': '5' },
      ),
  },
  contract: mgmtContract,
  plugin: async (scope, opts) => {
    const passwords = new PasswordCheckCache();
    const strict = opts.config.strict !== false;
    installErrorPath(scope, {
      prefix: PREFIX,
      routes: operations.map((op) => ({ method: op.method, url: op.url, operation: op.name })),
      own: mgmtErrorKind,
      render: renderFailure,
      bodyLimit: opts.config.maxBodyBytes,
      notFoundOperation: 'notFound',
      methodNotAllowedOperation: 'methodNotAllowed',
      logInternal: (err, request) => request.log.error({ err }, 'unhandled error in the UniPay emulator'),
    });
    addXmlBodyParser(scope, XML_LIMITS);
    scope.decorateRequest('emulatorMgmtAuth', undefined);

    for (const op of operations) {
      scope.route({
        method: op.method,
        url: op.url,
        // Synchronous hooks and handler: nothing here awaits (Fastify's hook runner hands a thrown
        // MgmtError to the error handler, as it does a rejected promise).
        onRequest: (request, _reply, done) => {
          request.emulator.operation = op.name;
          // Order: who you are, then what you can read, then what you sent. Nothing is parsed before all three pass.
          const state = request.emulator.state;
          request.emulatorMgmtAuth = authenticate(
            request.headers.authorization,
            state.use(createMgmtStore),
            passwords,
            readCache(state.db),
          );
          if (formatFor(request.headers.accept) === null) {
            throw new MgmtError(
              'E406',
              `Cannot produce ${request.headers.accept}: ask for application/json or application/xml`,
            );
          }
          if (op.consumesBody) {
            const ct = request.headers['content-type'];
            const hasBody =
              (request.headers['content-length'] !== undefined && request.headers['content-length'] !== '0') ||
              request.headers['transfer-encoding'] !== undefined;
            if (bodyFormatOf(ct) === null && (ct !== undefined || hasBody)) {
              throw new MgmtError(
                'E415',
                `Unsupported Content-Type ${ct ?? '(none)'}: send the Customer as application/json or application/xml`,
              );
            }
          }
          done();
        },
        handler: (request, reply) => {
          const format = formatFor(request.headers.accept) ?? 'json';
          const ctx: MgmtContext = {
            store: request.emulator.state.use(createMgmtStore),
            auth: request.emulatorMgmtAuth!,
            clock: request.emulator.state.clock,
          };
          const mode: InputMode = {
            strict,
            warn: (message) => {
              request.emulator.warnings.push(message);
            },
          };
          const reads = readCache(request.emulator.state.db);
          const answer = (): WireAnswer => {
            let body: unknown = request.body;
            if (op.consumesBody && bodyFormatOf(request.headers['content-type']) === 'xml' && body !== undefined) {
              body = customerFromXml(body as Record<string, unknown>, mode);
            }
            const input = op.input(
              { body, query: request.query, params: request.params as Record<string, string> },
              mode,
            );
            if (op.readOnly) {
              // A read's answer depends on the input, the format and the accounts the user may act on,
              // all in the key, and on the database, whose every change empties the state's read cache.
              const key = `${op.name} ${format} ${ctx.auth.accountIds.join(',')} ${JSON.stringify(input)}`;
              return reads.get(`mgmt ${key}`, () => renderResult(op.handler(input, ctx), format), answerSize);
            }
            const result = op.handler(input, ctx);
            const extra: Record<string, string> = {};
            if (op.name === 'create' && result.kind === 'customer')
              extra.Location = `${PREFIX}/customers/${result.customer.id}`;
            return renderResult(result, format, 200, extra);
          };
          if (!op.readOnly) {
            send(reply, answer());
            return;
          }
          // A read asked again (the same URL, format and user, while the data is the same) answers what
          // it answered, with the warnings its query gave, without reading the query again.
          const key = `mgmt call ${strict ? 's' : 'l'} ${format} ${ctx.auth.userId} ${request.url}`;
          send(reply, rememberCall(reads, key, request.emulator.warnings, answer, answerSize));
        },
      });
    }
  },
};

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated UniPay service user (set by the route's onRequest hook). */
    emulatorMgmtAuth?: import('./auth.js').MgmtAuth;
  }
}
