/**
 * Input validation shared by the vendors: one ajv instance per coercion mode, and a translation
 * of ajv's errors into `{ field: message }` pairs that each vendor words in its own format.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsImport from 'ajv-formats';
import type { TSchema, Static } from '@sinclair/typebox';

// ajv-formats is CommonJS; under NodeNext its default export arrives as the module object.
const addFormats = ((addFormatsImport as unknown as { default?: unknown }).default ?? addFormatsImport) as (
  ajv: Ajv,
) => Ajv;

function makeAjv(coerce: boolean): Ajv {
  // validateSchema: false: the schemas are ours and tested; checking them against the meta-schema cost ~25 ms at start.
  const ajv = new Ajv({
    allErrors: true,
    coerceTypes: coerce,
    useDefaults: true,
    strict: false,
    validateSchema: false,
  });
  addFormats(ajv);
  return ajv;
}

/** Values from query strings and form bodies are strings: coerce them to the schema's types. */
export const coercingAjv = makeAjv(true);
/** For typed bodies (JSON, XML) where a wrong type must be refused. */
export const strictAjv = makeAjv(false);

export interface FieldError {
  field: string;
  message: string;
}

/** How a value is shown in a message: text as it is ("" as empty), anything else as JSON. */
function showValue(v: unknown): string {
  return typeof v === 'string' ? (v === '' ? '""' : v) : JSON.stringify(v);
}

/** What one failed branch of an anyOf asks for, as a phrase ("a valid email", "empty", "one of A, B"). */
function branchPhrase(e: ErrorObject): { values?: unknown[]; phrase?: string } | null {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'const':
      return { values: [p.allowedValue] };
    case 'enum':
      return { values: p.allowedValues as unknown[] };
    case 'type':
      return { phrase: String(p.type).split(',').map(typeWord).join(' or ') };
    case 'format':
      return { phrase: `a valid ${String(p.format)}` };
    case 'maxLength':
      return { phrase: `at most ${String(p.limit)} characters` };
    case 'minLength':
      return { phrase: `at least ${String(p.limit)} characters` };
    case 'pattern':
      return { phrase: 'in the expected format' };
    case 'minimum':
      return { phrase: `>= ${String(p.limit)}` };
    case 'maximum':
      return { phrase: `<= ${String(p.limit)}` };
    default:
      return null;
  }
}

/**
 * ajv words an anyOf of constants (TypeBox's `Union([Literal('A'), Literal('B')])`) as one
 * "must be equal to constant" per branch. Where every branch failed on the value itself, say
 * once what the value may be instead: "status must be one of ACTIVE, INACTIVE, SUSPENDED",
 * "contacts.0.email must be empty or a valid email". Returns the message of each such anyOf,
 * keyed by the first error of its branches (where the message goes), and the errors it replaces.
 */
function mergeAlternatives(errors: ErrorObject[]): { merged: Map<ErrorObject, string>; replaced: Set<ErrorObject> } {
  const merged = new Map<ErrorObject, string>();
  const replaced = new Set<ErrorObject>();
  for (const any of errors) {
    if (any.keyword !== 'anyOf' && any.keyword !== 'oneOf') continue;
    const prefix = `${any.schemaPath}/`;
    const branches = errors.filter((e) => e.schemaPath.startsWith(prefix));
    if (branches.length === 0 || branches.some((e) => e.instancePath !== any.instancePath)) continue;
    // One phrase per branch (its first error), in the schema's order.
    const byBranch = new Map<string, ErrorObject>();
    for (const e of branches) {
      const branch = e.schemaPath.slice(prefix.length).split('/')[0];
      if (!byBranch.has(branch)) byBranch.set(branch, e);
    }
    const phrases = [...byBranch.values()].map(branchPhrase);
    if (phrases.some((x) => x === null)) continue;
    const values = [...new Set(phrases.flatMap((x) => x!.values ?? []))];
    const words: string[] = [];
    if (values.includes('')) words.push('empty');
    const shown = values.filter((v) => v !== '').map(showValue);
    if (shown.length === 1) words.push(shown[0]);
    else if (shown.length > 1) words.push(`one of ${shown.join(', ')}`);
    for (const x of phrases) if (x!.phrase && !words.includes(x!.phrase)) words.push(x!.phrase);
    const field = any.instancePath.replace(/^\//, '').replace(/\//g, '.') || 'value';
    merged.set(branches[0], `${field} must be ${words.join(' or ')}`);
    for (const e of branches) replaced.add(e);
    replaced.add(any);
  }
  return { merged, replaced };
}

/** Turn ajv errors into one message per field (the first error for a field wins). */
export function fieldErrors(errors: ErrorObject[] | null | undefined): FieldError[] {
  const out: FieldError[] = [];
  const seen = new Set<string>();
  const list = errors ?? [];
  const { merged, replaced } = mergeAlternatives(list);
  for (const e of list) {
    let field = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
    let message: string;
    const alternatives = merged.get(e);
    if (alternatives === undefined && replaced.has(e)) continue;
    switch (alternatives === undefined ? e.keyword : 'alternatives') {
      case 'alternatives':
        message = alternatives!;
        break;
      case 'const':
        message = `${field || 'value'} must be ${showValue((e.params as { allowedValue: unknown }).allowedValue)}`;
        break;
      case 'required':
        field = field
          ? `${field}.${(e.params as { missingProperty: string }).missingProperty}`
          : (e.params as { missingProperty: string }).missingProperty;
        message = `${field} is required`;
        break;
      case 'type':
        message = `${field || 'value'} must be ${typeWord((e.params as { type: string }).type)}`;
        break;
      case 'enum':
        // Dedupe by text: a flag accepting true/"true"/1/"1" reads as "true, false, 1, 0".
        message = `${field} must be one of ${[...new Set((e.params as { allowedValues: unknown[] }).allowedValues.map(String))].filter((v) => v !== '').join(', ')}`;
        break;
      case 'additionalProperties':
        field = field
          ? `${field}.${(e.params as { additionalProperty: string }).additionalProperty}`
          : (e.params as { additionalProperty: string }).additionalProperty;
        message = `${field} is not a known field`;
        break;
      case 'maxLength':
        message = `${field} must be at most ${(e.params as { limit: number }).limit} characters`;
        break;
      case 'minLength':
        message =
          (e.params as { limit: number }).limit === 1
            ? `${field} cannot be empty`
            : `${field} must be at least ${(e.params as { limit: number }).limit} characters`;
        break;
      case 'minimum':
      case 'maximum':
        message = `${field} must be ${e.keyword === 'minimum' ? '>=' : '<='} ${(e.params as { limit: number }).limit}`;
        break;
      case 'minItems':
        message = `${field} needs at least ${(e.params as { limit: number }).limit} item${(e.params as { limit: number }).limit === 1 ? '' : 's'}`;
        break;
      case 'format':
        message = `${field} must be a valid ${(e.params as { format: string }).format}`;
        break;
      case 'pattern':
        message = `${field} has an invalid format`;
        break;
      default:
        message = `${field || 'value'} ${e.message ?? 'is invalid'}`;
    }
    if (!field) field = 'body';
    if (seen.has(field)) continue;
    seen.add(field);
    out.push({ field, message });
  }
  return out;
}

function typeWord(t: string): string {
  switch (t) {
    case 'integer':
      return 'an integer';
    case 'number':
      return 'a number';
    case 'string':
      return 'a string';
    case 'boolean':
      return 'a boolean';
    case 'array':
      return 'an array';
    case 'object':
      return 'an object';
    default:
      return t;
  }
}

export type Validator<S extends TSchema> = ValidateFunction<Static<S>>;

/**
 * A validator for `schema`, compiled on its first call. Compiling every operation's schemas at
 * start-up would be about a third of the time from spawn to the first answer, and
 * most operations of a given test run are never called. Same interface: call it, then read `errors`.
 */
export function compile<S extends TSchema>(schema: S, coerce = true): Validator<S> {
  return compiledOnFirstCall(() => (coerce ? coercingAjv : strictAjv).compile(schema)) as Validator<S>;
}

/**
 * A validator that runs `make()`'s, made on its first call (same interface: call it, then read
 * `errors`). What `compile` does for the vendor schemas, for any Ajv instance (the control plane
 * has its own).
 */
export function compiledOnFirstCall(make: () => ValidateFunction): ValidateFunction {
  let fn: ValidateFunction | undefined;
  const lazy = ((data: unknown) => {
    fn ??= make();
    const ok = fn(data);
    lazy.errors = fn.errors;
    return ok;
  }) as ValidateFunction;
  lazy.errors = null;
  return lazy;
}
