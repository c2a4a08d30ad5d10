/**
 * One definition per RackCorp operation: its cmd name, the REST paths that reach it, its input
 * schema and its handler. The REST binding and the json.php dispatcher (src/routes/rackcorp/index.ts)
 * both read the same table and both end in `runOperation`, so an operation cannot behave
 * differently depending on how it was reached.
 */
import { Type, type TObject, type Static } from '@sinclair/typebox';
import type { ErrorObject } from 'ajv';
import type { HTTPMethods } from 'fastify';
import type { Config } from '../../core/config.js';
import type { EmulatorState } from '../../store/state.js';
import type { Clock } from '../../core/clock.js';
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
  /**
   * When given: the answer's JSON text, exactly `JSON.stringify(okBody(body))` (a handler that
   * keeps its answer keeps the text too, and the binding sends it as it is).
   */
  text?: string;
  /** Cookies to set (session.login). */
  cookies?: Record<string, string>;
}

export interface RackcorpOperation<S extends TObject = TObject> {
  cmd: string;
  summary: string;
  rest: RestBinding[];
  input: S;
  /**
   * The fields of the OK envelope after `code` (the contract's response schema is
   * `{ code: "OK", ...output }`; tests and --validate-responses hold the handler to it).
   */
  output: TObject;
  /** No credentials needed. */
  public?: boolean;
  handler(input: Static<S>, ctx: RackcorpContext): OperationResult | Promise<OperationResult>;
}

/** Identity function that keeps the input type of each operation while the table is heterogeneous. */
export function defineOperation<S extends TObject>(op: RackcorpOperation<S>): RackcorpOperation<TObject> {
  return op as unknown as RackcorpOperation<TObject>;
}

/** A response `message`: any text, with the one the real service sends as its example. */
export const Message = (text: string) => Type.String({ description: text, examples: [text] });

/** Booleans as PHP clients send them: true/false, 1/0, "true"/"false", "1"/"0". */
export const Flag = Type.Unsafe<boolean | number | string>({
  type: ['boolean', 'integer', 'string'],
  enum: [true, false, 1, 0, 'true', 'false', '1', '0', ''],
  description:
    'A flag: true/false, 1/0, "true"/"false", "1"/"0" ("" is false). With --lenient also "yes"/"no", "on"/"off" (with a warning).',
});
const isFlag = (s: Record<string, unknown>) =>
  Array.isArray(s.enum) && s.enum.includes(true) && s.enum.includes('true');
/** Words --lenient accepts for a flag, with a warning. */
const LENIENT_FLAG_WORDS: Record<string, boolean> = { yes: true, no: false, on: true, off: false, y: true, n: false };
export function isTrue(v: unknown): boolean {
  return v === true || v === 1 || v === 'true' || v === '1';
}

/** Fields that carry credentials, never operation input. */
const CREDENTIAL_FIELDS = ['APIUUID', 'APISECRET'] as const;

export interface PreparedOperation {
  op: RackcorpOperation;
  /** The whole input, coercing (query strings and form fields are text on the wire). */
  validate: ReturnType<typeof compile>;
  /** The JSON body's fields alone, not coercing, nothing required: where strict refuses a wrong JSON type. */
  validateTyped: ReturnType<typeof compile>;
  /** `op.input.properties`. */
  props: Record<string, Schema>;
  /**
   * Whether a `default` appears below the top level of the input schema: only then can
   * `validateTyped` (useDefaults, no coercion) change a nested value, so only then does the typed
   * check need its own copy of an object or array value.
   */
  nestedDefaults: boolean;
}

/** Whether `default` appears anywhere inside `schema` (the schema itself included). */
function hasDefault(schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.some(hasDefault);
  if (!schema || typeof schema !== 'object') return false;
  if ('default' in schema) return true;
  return Object.values(schema as Record<string, unknown>).some(hasDefault);
}

export function prepareOperations(ops: RackcorpOperation[]): Map<string, PreparedOperation> {
  const out = new Map<string, PreparedOperation>();
  for (const op of ops) {
    if (out.has(op.cmd)) throw new Error(`RackCorp operation ${op.cmd} defined twice`);
    const props = (op.input.properties ?? {}) as Record<string, Schema>;
    out.set(op.cmd, {
      op,
      validate: compile(op.input, true),
      validateTyped: compile(Type.Partial(op.input), false),
      props,
      nestedDefaults: Object.values(props).some(hasNestedDefault),
    });
  }
  return out;
}

/**
 * A default inside a property's schema, not on the property itself (a top-level default fills the
 * typed copy, not `params`).
 */
function hasNestedDefault(prop: Schema): boolean {
  return Object.entries(prop).some(([k, v]) => k !== 'default' && hasDefault(v));
}

export interface RunInput {
  /** Query, body and path parameters merged (path wins). */
  params: Record<string, unknown>;
  /** The names of `params` whose values came from a JSON body (typed on the wire, not text). */
  typed?: ReadonlySet<string>;
  credentials: Credentials;
  /** --strict (default) or --lenient. */
  strict?: boolean;
  /** Where --lenient records what --strict would have refused. */
  warnings?: string[];
}

type Schema = Record<string, unknown>;
const schemaTypes = (s: Schema): string[] =>
  Array.isArray(s.type) ? (s.type as string[]) : typeof s.type === 'string' ? [s.type] : [];
const branches = (s: Schema): Schema[] => [s, ...(((s.anyOf ?? s.oneOf) as Schema[] | undefined) ?? [])];
const NUMERIC = /^\s*-?\d+(\.\d+)?\s*$/;

/** What `normalize` reads of a schema, worked out once per schema object. */
interface SchemaFacts {
  flag: boolean;
  /** The types of the schema and its anyOf/oneOf branches. */
  types: string[];
}
const schemaFacts = new WeakMap<object, SchemaFacts>();
function factsOf(schema: Schema): SchemaFacts {
  let f = schemaFacts.get(schema);
  if (!f) {
    f = { flag: isFlag(schema), types: branches(schema).flatMap(schemaTypes) };
    schemaFacts.set(schema, f);
  }
  return f;
}

/**
 * What the PHP service does with a typed (JSON) value before any check, in both modes: a number
 * where a string is expected is read as its text ("postcode": 2000), and a numeric string where a
 * number is expected as the number (ids sent as "123", vendor-notes.md). With --lenient, flag words
 * ("yes"/"no", "on"/"off") become booleans, with a warning (strict refuses them: not a flag value).
 */
function normalize(
  value: unknown,
  schema: Schema,
  path: string,
  typed: boolean,
  strict: boolean,
  warnings: string[],
): unknown {
  const facts = factsOf(schema);
  if (facts.flag) {
    if (!strict && typeof value === 'string' && value.trim().toLowerCase() in LENIENT_FLAG_WORDS) {
      const b = LENIENT_FLAG_WORDS[value.trim().toLowerCase()];
      warnings.push(`${path}: "${value}" is not a flag value (true/false, 1/0); read as ${b} (--lenient)`);
      return b;
    }
    return value;
  }
  if (!typed) return value; // text values are coerced by the schema (ajv coerceTypes)
  const types = facts.types;
  if (typeof value === 'number' && !types.includes('number') && !types.includes('integer') && types.includes('string'))
    return String(value);
  if (
    typeof value === 'string' &&
    NUMERIC.test(value) &&
    !types.includes('string') &&
    (types.includes('integer') || types.includes('number'))
  )
    return Number(value);
  if (Array.isArray(value) && schema.items)
    return value.map((v, i) => normalize(v, schema.items as Schema, `${path}.${i}`, typed, strict, warnings));
  if (value && typeof value === 'object' && !Array.isArray(value) && schema.properties) {
    const props = schema.properties as Record<string, Schema>;
    const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    for (const k of Object.keys(out))
      if (props[k]) out[k] = normalize(out[k], props[k], path ? `${path}.${k}` : k, typed, strict, warnings);
    return out;
  }
  return value;
}

function invalid(errors: ErrorObject[] | null | undefined): RackcorpFault {
  const errs = fieldErrors(errors);
  const fields = Object.fromEntries(errs.map((e) => [e.field, e.message]));
  return new RackcorpFault(`Invalid parameters: ${errs.map((e) => e.message).join('; ')}`, fields);
}

/**
 * Check an operation's input. Unknown fields are ignored in both modes (the PHP service ignores
 * them), each named in a journal warning. Text values (query, path, form) carry no type, so they are coerced to the
 * schema's. JSON values
 * are typed: after `normalize`, a JSON value of the wrong type (true or null for a number or a
 * string, a string for a flag, ...) is refused by --strict with the usual FAULT; --lenient lets
 * ajv coerce it and records a warning per field. What cannot be coerced ("abc" for an integer)
 * is refused in both modes.
 */
export function checkInput(
  prepared: PreparedOperation,
  raw: Record<string, unknown>,
  typed: ReadonlySet<string>,
  strict: boolean,
  warnings: string[],
): Record<string, unknown> {
  return checkParams(prepared, raw, typed, strict, warnings, false);
}

/**
 * `checkInput`; with `dropCredentials`, the fields APIUUID, APISECRET and cmd of `raw` are left
 * out, as if deleted from a copy first (runOperation's input still holds them).
 */
function checkParams(
  prepared: PreparedOperation,
  raw: Record<string, unknown>,
  typed: ReadonlySet<string>,
  strict: boolean,
  warnings: string[],
  dropCredentials: boolean,
): Record<string, unknown> {
  const props = prepared.props;
  const params: Record<string, unknown> = {};
  const anyTyped = typed.size > 0;
  for (const k of Object.keys(raw)) {
    if (dropCredentials && (k === 'APIUUID' || k === 'APISECRET' || k === 'cmd')) continue;
    const v = raw[k];
    const schema = props[k];
    // The PHP service ignores fields it does not read; a misspelt one should still be visible.
    if (!schema) warnings.push(`${k} is not a field of ${prepared.op.cmd}: ignored`);
    // normalize() returns a text value as it is, and a flag's too under --strict: skip the call then.
    params[k] =
      schema && ((anyTyped && typed.has(k)) || (!strict && factsOf(schema).flag))
        ? normalize(v, schema, k, typed.has(k), strict, warnings)
        : v;
  }
  if (anyTyped) {
    const typedPart: Record<string, unknown> = {};
    let n = 0;
    for (const k of typed) {
      if (dropCredentials && (k === 'APIUUID' || k === 'APISECRET' || k === 'cmd')) continue;
      if (k in params && props[k]) {
        const v = params[k];
        // validateTyped neither coerces nor removes: without nested defaults it cannot change a nested value.
        typedPart[k] = prepared.nestedDefaults && typeof v === 'object' && v !== null ? structuredClone(v) : v;
        n++;
      }
    }
    if (n > 0 && !prepared.validateTyped(typedPart)) {
      if (strict) throw invalid(prepared.validateTyped.errors);
      for (const e of fieldErrors(prepared.validateTyped.errors))
        warnings.push(`${e.field}: ${e.message}; the JSON value was coerced (--lenient)`);
    }
  }
  if (!prepared.validate(params)) throw invalid(prepared.validate.errors);
  return params;
}

const NO_FIELDS: ReadonlySet<string> = new Set();

/** A value as the wire compares it: ids sent as "123" and as 123 are the same value. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a === 'object' || typeof b === 'object')
    return JSON.stringify(a) === JSON.stringify(b);
  return String(a).trim() === String(b).trim();
}

/** A value for a message, at most 64 characters of it. */
function shown(v: unknown): string {
  const t = typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
  return t.length > 64 ? `${t.slice(0, 61)}...` : t;
}

/**
 * The parameters of one request, from its sources in order of precedence (the last wins): a field
 * given by two sources with different values is a FAULT naming it, never a silent choice
 * (`PUT /customers/123` with `{"id": 5}` must not update 123 while the caller meant 5).
 */
export function mergeParams(sources: [where: string, values: Record<string, unknown>][]): Record<string, unknown> {
  // Usually one source has fields (a GET's query, a POST's body, a path's id): nothing to compare.
  let filled = 0;
  let only: Record<string, unknown> | undefined;
  for (const [, values] of sources) {
    for (const _ in values) {
      filled++;
      only = values;
      break;
    }
  }
  if (filled <= 1) return { ...only };
  const out: Record<string, unknown> = {};
  const from: Record<string, string> = {};
  for (const [where, values] of sources) {
    for (const k of Object.keys(values)) {
      const v = values[k];
      if (k in from && !sameValue(out[k], v)) {
        // A credential's values are never echoed (the FAULT is journalled).
        const msg = (CREDENTIAL_FIELDS as readonly string[]).includes(k)
          ? `${k} in the ${where} differs from ${k} in the ${from[k]}`
          : `${k} in the ${where} (${shown(v)}) differs from ${k} in the ${from[k]} (${shown(out[k])})`;
        throw new RackcorpFault(`Invalid parameters: ${msg}`, { [k]: msg });
      }
      out[k] = v;
      from[k] = where;
    }
  }
  return out;
}

/**
 * Authenticate, validate, run: the one pipeline behind every binding. Synchronous unless
 * something in it is not (a JWT not seen before, an async handler such as session.login): the
 * answer or a promise of it; a FAULT is thrown, or rejects the promise.
 */
export function runOperation(
  prepared: PreparedOperation,
  input: RunInput,
  base: { state: EmulatorState; tokens: TokenService; config: Config },
): OperationResult | Promise<OperationResult> {
  const store = base.state.use(createRackcorpStore);
  if (prepared.op.public) return execute(prepared, input, base, store, undefined as unknown as RackcorpAuth);
  const raw = input.params;
  const c = input.credentials;
  // Field by field: a spread here costs a few percent of the server's CPU on authenticated requests.
  const credentials: Credentials = {
    authorization: c.authorization,
    cookie: c.cookie,
    headerUuid: c.headerUuid,
    headerSecret: c.headerSecret,
    bodyUuid: raw[CREDENTIAL_FIELDS[0]],
    bodySecret: raw[CREDENTIAL_FIELDS[1]],
  };
  const auth = authenticate(credentials, store, base.tokens, base.state.clock);
  return auth instanceof Promise
    ? auth.then((a) => execute(prepared, input, base, store, a))
    : execute(prepared, input, base, store, auth);
}

/** Validate the input (credentials and cmd left out) and run the handler. */
function execute(
  prepared: PreparedOperation,
  input: RunInput,
  base: { state: EmulatorState; tokens: TokenService; config: Config },
  store: RackcorpStore,
  auth: RackcorpAuth,
): OperationResult | Promise<OperationResult> {
  const checked = checkParams(
    prepared,
    input.params,
    input.typed ?? NO_FIELDS,
    input.strict ?? true,
    input.warnings ?? [],
    true,
  );
  return prepared.op.handler(checked as Static<TObject>, {
    state: base.state,
    store,
    clock: base.state.clock,
    auth,
    tokens: base.tokens,
    config: base.config,
  });
}
