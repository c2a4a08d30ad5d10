/**
 * Rackspace Email & Apps API v0/v1: the customers resource.
 *
 * Public paths `/v0/customers...`, `/v1/customers...` and `/customers...` (the documentation's
 * add/edit form) all reach this plugin, mounted at `/v0/customers`. Every request goes through
 * one pipeline: negotiate the format (406 when nothing in Accept can be served), authenticate
 * the X-Api-Signature (403), throttle per user key (403), then the operation; every failure,
 * body-parse errors and unknown paths included, answers a Rackspace fault in the negotiated format.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { VendorModule, FaultPresetAnswer } from '../shared/vendor.js';
import { addXmlBodyParser } from '../shared/xml.js';
import { installErrorPath } from '../shared/errors.js';
import { createEmailsrvrStore } from '../../store/emailsrvr.js';
import { emailsrvrData } from '../../store/vendor-data.js';
import { readCache } from '../../store/read-cache.js';
import { authenticate, throttle, type AuthSettings } from './auth.js';
import { operations, type Context, type Result } from './customers.js';
import { emailsrvrContract } from './contract.js';
import {
  EmailsrvrFault,
  faults,
  faultBody,
  formatFor,
  formatOrDefault,
  customerBody,
  customerListBody,
  emailsrvrFaultKind,
  renderFailure,
  type Format,
} from './envelope.js';

export const PREFIX = '/v0/customers';
const PUBLIC_PATH = /^(\/v[01])?\/customers(?=$|[/?#])/;

/** `/v1/customers...` and `/customers...` -> `/v0/customers...` (query kept); other URLs untouched. */
export function rewriteUrl(url: string): string | undefined {
  const m = PUBLIC_PATH.exec(url);
  if (!m) return undefined;
  return PREFIX + url.slice(m[0].length);
}

export const DEFAULT_SKEW_SECONDS = 86_400;
const XML_TYPE = /xml/i;

interface EmailsrvrRequestData {
  format: Format;
  /** The authenticated account, once the signature is checked. */
  accountNumber?: number;
}
declare module 'fastify' {
  interface FastifyRequest {
    emailsrvr?: EmailsrvrRequestData;
  }
}

/** The format for an answer to this request (the fallback when negotiation failed or never ran). */
function formatOf(request: FastifyRequest): Format {
  return request.emailsrvr?.format ?? formatOrDefault(request.headers.accept);
}

/** Where the client can find an account: the path form it used (and its session prefix), plus the number. */
function locationOf(request: FastifyRequest, accountNumber: number): string {
  const path = request.originalUrl.split('?')[0];
  const m = /^(.*?)((?:\/v[01])?\/customers)(?=$|\/)/.exec(path);
  return m ? `${m[1]}${m[2]}/${accountNumber}` : `${PREFIX}/${accountNumber}`;
}

function sendResult(request: FastifyRequest, reply: FastifyReply, result: Result): FastifyReply {
  const format = formatOf(request);
  switch (result.kind) {
    case 'list': {
      const b = customerListBody(result.list, format);
      return reply.code(200).type(b.contentType).send(b.payload);
    }
    case 'customer': {
      const b = customerBody(result.customer, format);
      return reply.code(200).type(b.contentType).send(b.payload);
    }
    case 'created': {
      const b = customerBody(result.customer, format);
      return reply
        .code(200)
        .header('location', locationOf(request, result.customer.accountNumber))
        .type(b.contentType)
        .send(b.payload);
    }
    case 'deleted':
      return reply.code(200).send();
  }
}

function preset(fault: EmailsrvrFault) {
  return (input: { accept?: string; message?: string }): FaultPresetAnswer => {
    const body = faultBody(
      fault.fault,
      fault.code,
      input.message ?? fault.message,
      input.message ?? fault.details,
      formatOrDefault(input.accept),
    );
    return { status: fault.code, headers: { 'content-type': body.contentType }, body: body.payload };
  };
}

export const emailsrvr: VendorModule = {
  ...emailsrvrData,
  title: 'Rackspace Email & Apps API',
  prefix: PREFIX,
  basePaths: ['/v0/customers', '/v1/customers', '/customers'],
  rewriteUrl,
  // `/v0/...`, `/v1/...` and `/customers...` in any case: only Rackspace's API lives there.
  claimsPath: (path) => /^\/(?:v[01]|customers)(?:\/|$)/i.test(path),
  renderFailure,
  contract: emailsrvrContract,
  options: [
    {
      key: 'emailsrvrSkewSeconds',
      flag: 'emailsrvr-skew-seconds',
      env: 'EMAILSRVR_SKEW_SECONDS',
      type: 'integer',
      default: DEFAULT_SKEW_SECONDS,
      min: 0,
      help: 'Rackspace: allowed difference between the X-Api-Signature timestamp and the server clock, seconds, each way',
    },
    {
      key: 'emailsrvrRateLimit',
      flag: 'emailsrvr-rate-limit',
      env: 'EMAILSRVR_RATE_LIMIT',
      type: 'integer',
      default: 0,
      min: 0,
      help: 'Rackspace: requests per user key per minute before 403 "Exceeded request limits" (0 = no limit)',
    },
  ],
  sandbox: [
    {
      label: 'X-Api-Signature user key / secret key (account 460180)',
      value: 'emailsrvr-sandbox-user-key / emailsrvr-sandbox-secret-key',
    },
    { label: 'Other reseller (account 460100)', value: 'emailsrvr-other-user-key / emailsrvr-other-secret-key' },
  ],
  refusalPresets: { busy: 'throttle', forbidden: 'unauthorized' },
  faultPresets: {
    throttle: preset(faults.throttled()),
    appsFault: preset(faults.apps()),
    unauthorized: preset(faults.unauthorized('Invalid X-Api-Signature hash')),
  },
  plugin: async (scope, opts) => {
    const settings: AuthSettings = {
      skewSeconds: Number(opts.config.emailsrvrSkewSeconds ?? DEFAULT_SKEW_SECONDS),
      rateLimit: Number(opts.config.emailsrvrRateLimit ?? 0),
    };
    const strict = opts.config.strict !== false;
    const routes = installErrorPath(scope, {
      prefix: PREFIX,
      routes: operations.map((o) => ({ method: o.method, url: o.url, operation: o.name })),
      own: emailsrvrFaultKind,
      render: renderFailure,
      bodyLimit: opts.config.maxBodyBytes,
      notFoundOperation: 'notFound',
      methodNotAllowedOperation: 'notFound',
      // Rackspace checks the signature on every call, an unknown path included (403 before 404).
      early: false,
    });

    addXmlBodyParser(scope);
    // Some clients send `Content-Type: application/json` with no body (even on DELETE): that is no body.
    const jsonParser = scope.getDefaultJsonParser('error', 'error');
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
      if ((body as string).trim() === '') {
        done(null, undefined);
        return;
      }
      jsonParser(req, body as string, done);
    });

    // Format first (a 406 needs no credentials), then the signature and the throttle.
    // Synchronous (nothing here waits): a fault thrown here reaches the error handler as from an async hook.
    scope.addHook('onRequest', (request, _reply, done) => {
      // Name the operation before anything can refuse the request, so the journal says what was tried.
      const route = request.routeOptions.url;
      const op = route === undefined ? undefined : routes.operationOf(request.method, route);
      if (op !== undefined) request.emulator.operation = op;
      const format = formatFor(request.headers.accept);
      if (format === null) {
        request.emailsrvr = { format: formatOrDefault(undefined) };
        throw new EmailsrvrFault(
          'badRequestFault',
          406,
          'Invalid format',
          `Accept "${request.headers.accept}" names no format served: use text/xml, application/xml or application/json`,
        );
      }
      request.emailsrvr = { format };
      const state = request.emulator.state;
      const store = state.use(createEmailsrvrStore);
      const sig = request.headers['x-api-signature'];
      const { account, userKey } = authenticate(
        store,
        state.clock.now(),
        Array.isArray(sig) ? sig[0] : sig,
        request.headers['user-agent'],
        settings,
      );
      throttle(state, userKey, settings.rateLimit);
      request.emailsrvr.accountNumber = account.account_number;
      done();
    });

    for (const op of operations) {
      scope.route({
        method: op.method,
        url: op.url,
        // Synchronous: a fault thrown here reaches the error handler as from an async handler.
        handler: (request, reply) => {
          request.emulator.operation = op.name;
          const state = request.emulator.state;
          const store = state.use(createEmailsrvrStore);
          const me = store.account(request.emailsrvr?.accountNumber ?? -1);
          if (!me) throw faults.unauthorized('Unknown user key');
          const warnings = request.emulator.warnings;
          const warn = (m: string) => {
            warnings.push(m);
          };
          const ctx: Context = { store, reads: readCache(state.db), me, warn };
          const ct = request.headers['content-type'];
          const input = op.input({
            params: request.params as Record<string, string>,
            query: request.query,
            body: request.body,
            xmlBody: ct !== undefined && XML_TYPE.test(ct),
            mode: { strict, warn },
          });
          const result = op.handler(input, ctx);
          // ?referenceNumber= answers a Show: journal (and check) it as one.
          if (op.name === 'customers.index' && result.kind === 'customer')
            request.emulator.operation = 'customers.show';
          sendResult(request, reply, result);
        },
      });
    }
  },
};
