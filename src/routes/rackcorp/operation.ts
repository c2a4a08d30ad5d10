/**
 * One definition per RackCorp operation: its cmd name, the REST paths that reach it, its input
 * schema and its handler. The REST binding and the json.php dispatcher (src/routes/rackcorp/index.ts)
 * both read the same table and both end in `runOperation`, so an operation cannot behave
 * differently depending on how it was reached.
 */
import { Type, type TObject, type Static } from '@sinclair/typebox';
import type { HTTPMethods } from 'fastify';
import type { Config } from '../../server/config.js';
import type { EmulatorState } from '../../store/state.js';
import type { Clock } from '../shared/clock.js';
import { compile, fieldErrors } from '../shared/validation.js';
import { createRackcorpStore, type RackcorpStore } from '../../store/rackcorp.js';
import { authenticate, type Credentials, type RackcorpAuth, type TokenService } from './auth.js';
import { RackcorpFault } from './envelope.js';

export interface RackcorpContext {
  state: EmulatorState;
  store: RackcorpStore;
  clock: Clock;
  /** The authenticated customer. Public operations (session.login) never read it. */
  auth: RackcorpAuth;
  tokens: TokenService;
  config: Config;
}

export interface RestBinding {
  method: HTTPMethods;
  /** Path below /api/rest/v2.9, e.g. `/customers/:id`. */
  path: string;
}

export interface OperationResult {
  /** Fields of the OK envelope after `code`. */
  body: Record<string, unknown>;
  /** Cookies to set (session.login). */
  cookies?: Record<string, string>;
}

export interface RackcorpOperation<S extends TObject = TObject> {
  cmd: string;
  summary: string;
  rest: RestBinding[];
  input: S;
  /** No credentials needed. */
  public?: boolean;
  handler(input: Static<S>, ctx: RackcorpContext): OperationResult | Promise<OperationResult>;
}

/** Identity function that keeps the input type of each operation while the table is heterogeneous. */
export function defineOperation<S extends TObject>(op: RackcorpOperation<S>): RackcorpOperation<TObject> {
  return op as unknown as RackcorpOperation<TObject>;
}

/** Booleans as PHP clients send them: true/false, 1/0, "true"/"false", "1"/"0". */
export const Flag = Type.Unsafe<boolean | number | string>({ type: ['boolean', 'integer', 'string'], enum: [true, false, 1, 0, 'true', 'false', '1', '0', ''] });
export function isTrue(v: unknown): boolean {
  return v === true || v === 1 || v === 'true' || v === '1';
}

/** Fields that carry credentials, never operation input. */
const CREDENTIAL_FIELDS = ['APIUUID', 'APISECRET'] as const;

export interface PreparedOperation {
  op: RackcorpOperation;
  validate: ReturnType<typeof compile>;
}

export function prepareOperations(ops: RackcorpOperation[]): Map<string, PreparedOperation> {
  const out = new Map<string, PreparedOperation>();
  for (const op of ops) {
    if (out.has(op.cmd)) throw new Error(`RackCorp operation ${op.cmd} defined twice`);
    out.set(op.cmd, { op, validate: compile(op.input, true) });
  }
  return out;
}

export interface RunInput {
  /** Query, body and path parameters merged (path wins). */
  params: Record<string, unknown>;
  credentials: Credentials;
}

/** Authenticate, validate, run: the one pipeline behind every binding. */
export async function runOperation(
  prepared: PreparedOperation,
  input: RunInput,
  base: { state: EmulatorState; tokens: TokenService; config: Config },
): Promise<OperationResult> {
  const { op, validate } = prepared;
  const params: Record<string, unknown> = { ...input.params };
  const credentials: Credentials = { ...input.credentials, bodyUuid: params.APIUUID, bodySecret: params.APISECRET };
  for (const f of CREDENTIAL_FIELDS) delete params[f];
  delete params.cmd;

  const store = base.state.use(createRackcorpStore);
  const clock = base.state.clock;
  const auth = op.public ? (undefined as unknown as RackcorpAuth) : await authenticate(credentials, store, base.tokens, clock);

  if (!validate(params)) {
    const errs = fieldErrors(validate.errors);
    const fields = Object.fromEntries(errs.map((e) => [e.field, e.message]));
    throw new RackcorpFault(`Invalid parameters: ${errs.map((e) => e.message).join('; ')}`, fields);
  }
  return op.handler(params as Static<TObject>, { state: base.state, store, clock, auth, tokens: base.tokens, config: base.config });
}
