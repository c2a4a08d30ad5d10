/**
 * ISP CRM (NeuCRM) customers API under /api/customer: list, create, update, delete.
 *
 * One pipeline for every operation: read the fields (form or JSON), authenticate `userid` +
 * `api_key`, run the operation's handler, wrap the result in NeuCRM's envelope. Every failure,
 * including the transport-level ones (wrong method, unknown path, unreadable, unsupported or
 * oversized body), answers in the same envelope; see envelope.ts for the status codes.
 */
import type { FastifyRequest } from 'fastify';
import type { VendorModule } from '../shared/vendor.js';
import { createIspcrmStore } from '../../store/ispcrm.js';
import { ispcrmData } from '../../store/vendor-data.js';
import { readCache, textBytes } from '../../store/read-cache.js';
import { operations, type IspcrmOperation } from './customers.js';
import {
  IspcrmError,
  JSON_CONTENT_TYPE,
  RawJson,
  failureBody,
  failureRenderer,
  ispcrmErrorKind,
  successBody,
} from './envelope.js';
import { installErrorPath } from '../shared/errors.js';
import { rememberCall } from '../shared/remember.js';
import { Input } from './input.js';
import type { AnyRequest } from './schemas.js';
import { ispcrmContract } from './contract.js';
import { usePhpFormParsers } from '../shared/php-form.js';

const PREFIX = '/api/customer';

/** `userid` + `api_key` on every call: checked before anything else, so a stranger learns nothing. */
function authenticate(input: Input<typeof AnyRequest>, request: FastifyRequest) {
  const store = request.emulator.state.use(createIspcrmStore);
  const userid = input.get('userid')!;
  const apiKey = input.get('api_key')!;
  const user = store.authenticate(userid, apiKey);
  if (!user) throw new IspcrmError('Invalid userid or api_key');
  return { store, user };
}

/** Bodies whose fields are all a call reads (a multipart body may carry files). */
const MEMO_TYPES = /^\s*(?:application\/x-www-form-urlencoded|application\/json)\s*(?:;|$)/i;

/**
 * A read-only operation's answer for the same fields (and the same --strict) is remembered whole
 * until the state's data changes (rememberCall). Reading and checking the fields, checking the API
 * key and building the list's own cache key were most of a NeuCRM `%` list request: it now costs
 * 54 us of CPU instead of 75 (medians of 7 alternated runs; docs/performance.md).
 */
function run(op: IspcrmOperation, request: FastifyRequest, strict: boolean): unknown {
  if (!op.readOnly || !MEMO_TYPES.test(request.headers['content-type'] ?? '')) return call(op, request, strict);
  return rememberCall(
    readCache(request.emulator.state.db),
    `isp call ${op.name} ${strict ? 's' : 'l'} ${JSON.stringify(request.body ?? null)}`,
    request.emulator.warnings,
    () => call(op, request, strict),
    // Weighed whole, though the list's own entry holds the same text: this one may outlive that one.
    (result) => 64 + (result instanceof RawJson ? 2 * textBytes(result.json) : textBytes(JSON.stringify(result) ?? '')),
  );
}

function call(op: IspcrmOperation, request: FastifyRequest, strict: boolean): unknown {
  const warnings = request.emulator.warnings;
  const input = Input.from(request.body, op.request, { strict, warn: (m) => warnings.push(m) });
  const { store, user } = authenticate(input as unknown as Input<typeof AnyRequest>, request);
  return op.handler(input, {
    store,
    reads: readCache(request.emulator.state.db),
    user,
    clock: request.emulator.state.clock,
  });
}

const renderFailure = failureRenderer(operations.map((op) => PREFIX + op.path));

export const ispcrm: VendorModule = {
  ...ispcrmData,
  title: 'ISP CRM (NeuCRM) API',
  prefix: PREFIX,
  basePaths: [PREFIX],
  // `/api/customer/...` in another case, and the near miss `/api/customers/...`.
  claimsPath: (path) => /^\/api\/customers?(?:\/|$)/i.test(path),
  renderFailure,
  sandbox: [
    {
      label: 'userid / api_key (reseller 1 of ISP 1)',
      value: '5 / 0f9895fb407c83e5ea128082098b47681aa75d6944576423c4',
    },
    { label: 'userid / api_key (ISP 1, ISP level)', value: '1 / fc83e88dbada5d00dd34727d2ae2db1d951ddd72f43fb38d9f' },
  ],
  refusalPresets: { busy: 'error', forbidden: 'auth' },
  faultPresets: {
    /** NeuCRM's error envelope with any description (HTTP 200, as every NeuCRM error). */
    error: (input) => ({
      status: 200,
      headers: { 'content-type': JSON_CONTENT_TYPE },
      body: failureBody(input.message ?? 'Something went wrong. Please try again later'),
    }),
    /** What a revoked or mistyped API key gets. */
    auth: (input) => ({
      status: 200,
      headers: { 'content-type': JSON_CONTENT_TYPE },
      body: failureBody(input.message ?? 'Invalid userid or api_key'),
    }),
    /** The service failing outright (still in the envelope, with HTTP 500). */
    server_error: (input) => ({
      status: 500,
      headers: { 'content-type': JSON_CONTENT_TYPE },
      body: failureBody(input.message ?? 'Internal server error'),
    }),
  },
  contract: ispcrmContract,
  plugin: async (scope, opts) => {
    const strict = opts.config.strict !== false;
    // NeuCRM is PHP: form and multipart bodies are its $_POST (brackets, last value wins).
    usePhpFormParsers(scope, (e) => new IspcrmError(`Invalid request: ${e.message}`, 400));
    // Any other body (text/plain, XML, ...) PHP leaves out of $_POST: its fields are absent, so the
    // call answers as NeuCRM answers a missing field ("userid is required"). Still read within
    // --max-body-bytes (413), and named in a journal warning so the cause is visible.
    scope.removeContentTypeParser('text/plain');
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (request, _body, done) => {
      request.emulator?.warnings.push(
        `the ${JSON.stringify(request.headers['content-type'] ?? '')} body is not read: NeuCRM reads form (url-encoded or multipart) and JSON bodies only, so its fields are absent`,
      );
      done(null, undefined);
    });
    installErrorPath(scope, {
      prefix: PREFIX,
      routes: operations.map((op) => ({ method: 'POST', url: op.path, operation: op.name })),
      own: ispcrmErrorKind,
      render: renderFailure,
      bodyLimit: opts.config.maxBodyBytes,
      notFoundOperation: 'notFound',
      logInternal: (err, request) => request.log.error({ err }, 'ispcrm: unhandled error'),
    });

    for (const op of operations) {
      // Synchronous: nothing here awaits (a thrown IspcrmError reaches the error handler all the same).
      scope.post(op.path, (request, reply) => {
        request.emulator.operation = op.name;
        reply
          .code(200)
          .type(JSON_CONTENT_TYPE)
          .send(successBody(run(op, request, strict)));
      });
    }
  },
};
