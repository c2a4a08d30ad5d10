/**
 * NeuCRM input: the form fields (or a JSON object of the same fields) of one call, read one field
 * at a time through the field's TypeBox schema in the operation's request schema (schemas.ts), so
 * the checks and the OpenAPI document are the same objects. Handlers read the fields in the doc's
 * table order and the first problem is the answer, worded as NeuCRM words it, naming the field.
 *
 * Form bodies arrive as PHP's $_POST (src/routes/shared/php-form.ts): a field sent twice already
 * holds its last value, with a journal warning. Values are trimmed; an empty value counts as not
 * given (what PHP's `empty()` does), so `-d name=` neither filters nor satisfies a required field.
 * JSON numbers are accepted where a string is expected and numeric strings where a number is
 * (form values are all strings). Unknown fields are ignored, as NeuCRM ignores them (with a
 * journal warning, as for everything answered without a refusal but not as asked).
 *
 * `--strict` (default) refuses what NeuCRM refuses. `--lenient` reads what it can and records a
 * warning for each deviation (request.emulator.warnings): a list where one value is expected (a
 * JSON array or `name[]=`: the last value), an enum value in another case (`individual`, `DESC`),
 * a date written `yyyy/m/d`, and an unreadable value of a field that has a default (the default).
 */
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import type { ErrorObject } from 'ajv';
import { compile } from '../shared/validation.js';
import { IspcrmError } from './envelope.js';

export interface InputMode {
  /** false with --lenient. */
  strict: boolean;
  /** Records a warning on the journal entry. */
  warn(message: string): void;
}

type Fields<S extends TObject> = Static<S>;
type Scalar = string | number;

const validators = new WeakMap<TSchema, ReturnType<typeof compile>>();
function validatorOf(schema: TSchema) {
  let v = validators.get(schema);
  if (!v) validators.set(schema, (v = compile(schema, false)));
  return v;
}

const isScalar = (v: unknown): v is Scalar => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
const isIntegerSchema = (s: TSchema) => s.type === 'integer';
const show = (v: unknown) => JSON.stringify(v);

export class Input<S extends TObject> {
  private readonly required: ReadonlySet<string>;

  private constructor(
    private readonly schema: S,
    private readonly fields: Map<string, unknown>,
    private readonly mode: InputMode,
  ) {
    this.required = new Set(schema.required ?? []);
  }

  /** The fields of a body; anything but an object (or nothing) is refused. */
  static from<S extends TObject>(body: unknown, schema: S, mode: InputMode): Input<S> {
    const fields = new Map<string, unknown>();
    if (body !== undefined && body !== null && body !== '') {
      if (typeof body !== 'object' || Array.isArray(body)) {
        throw new IspcrmError('Invalid request: send the fields as form data or as a JSON object');
      }
      for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
        if (v === null || v === undefined) continue;
        fields.set(k, typeof v === 'string' ? v.trim() : v);
      }
    }
    const input = new Input(schema, fields, mode);
    const unknown = [...fields.keys()].filter((k) => !(k in schema.properties));
    if (unknown.length)
      input.note(
        `unknown field${unknown.length === 1 ? '' : 's'} ${unknown.map(show).join(', ')} ignored (NeuCRM ignores unknown fields in both modes)`,
      );
    return input;
  }

  /**
   * A journal warning, in both modes: whatever is answered without a refusal but not as asked
   * (an unknown field ignored, a rows_limit capped; with --lenient, a value strict refuses) says so.
   */
  note(message: string): void {
    this.mode.warn(message);
  }

  get lenient(): boolean {
    return !this.mode.strict;
  }

  /** True when the field was sent at all, even empty (update clears optional fields with it). */
  sent(field: keyof Fields<S> & string): boolean {
    return this.fields.has(field);
  }

  /**
   * The field's value checked against its schema: undefined when absent or empty (unless the
   * schema requires it or forbids empty), else the value or the vendor's error for it.
   */
  get<K extends keyof Fields<S> & string>(field: K): Exclude<Fields<S>[K], undefined> | undefined {
    const schema = this.schema.properties[field] as TSchema | undefined;
    if (!schema) throw new Error(`ispcrm: field ${field} is not in the request schema`);
    let raw = this.fields.get(field);
    if (Array.isArray(raw)) {
      // A JSON array or `name[]=a&name[]=b`: a list where NeuCRM's checks expect one value.
      const last = raw.length ? raw[raw.length - 1] : undefined;
      if (this.mode.strict || !isScalar(last)) throw new IspcrmError(`Invalid ${field}`);
      this.note(`${field} is a list of ${raw.length} values; the last one ${show(last)} is used`);
      raw = typeof last === 'string' ? last.trim() : last;
    }
    if (raw !== undefined && !isScalar(raw)) throw new IspcrmError(`Invalid ${field}`);
    if (raw === undefined || raw === '') {
      if (this.required.has(field)) throw new IspcrmError(`${field} is required`);
      if (raw === '' && typeof schema.minLength === 'number' && schema.minLength >= 1)
        throw new IspcrmError(`${field} cannot be empty`);
      return undefined;
    }
    const value = decode(raw, schema);
    const check = validatorOf(schema);
    if (check(value)) return value as Exclude<Fields<S>[K], undefined>;
    const message = messageFor(field, schema, check.errors ?? []);
    if (!this.mode.strict) {
      const fixed = lenientValue(field, raw, schema, message, (m) => this.note(m));
      if (fixed !== undefined) return fixed as Exclude<Fields<S>[K], undefined>;
    }
    throw new IspcrmError(message);
  }
}

/** Form values are text: a whole number where the schema wants one, text where it wants text. */
function decode(raw: Scalar, schema: TSchema): Scalar {
  if (isIntegerSchema(schema)) return typeof raw === 'string' && /^[0-9]{1,10}$/.test(raw) ? Number(raw) : raw;
  return typeof raw === 'number' ? String(raw) : raw;
}

/** NeuCRM's wording for a value its schema refuses. */
function messageFor(field: string, schema: TSchema, errors: ErrorObject[]): string {
  const has = (k: string) => errors.some((e) => e.keyword === k);
  if (has('maxLength') && !has('type')) {
    return `${field} is too long. Maximum ${schema.maxLength as number} characters allowed`;
  }
  if (Array.isArray(schema.enum))
    return `Invalid ${field}. Allowed values are: ${(schema.enum as string[]).join(', ')}`;
  const custom = schema['x-ispcrm-error'];
  return typeof custom === 'string' ? custom.replace('{field}', field) : `Invalid ${field}`;
}

/** What --lenient makes of a value strict refuses, or undefined when nothing sensible. */
function lenientValue(
  field: string,
  raw: Scalar,
  schema: TSchema,
  refusal: string,
  note: (m: string) => void,
): unknown {
  const text = String(raw).trim();
  if (Array.isArray(schema.enum)) {
    const match = (schema.enum as string[]).find((v) => v.toLowerCase() === text.toLowerCase());
    if (match !== undefined) {
      note(
        `${field} ${show(raw)} read as ${show(match)} (NeuCRM accepts only ${(schema.enum as string[]).join(', ')})`,
      );
      return match;
    }
  }
  if (schema.format === 'date' || (schema.anyOf as TSchema[] | undefined)?.some((s) => s.format === 'date')) {
    const m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/.exec(text);
    if (m) {
      const iso = `${m[1]}-${m[2].padStart(2, '0')}-${m[3].padStart(2, '0')}`;
      if (isDate(iso)) {
        note(`${field} ${show(raw)} read as ${show(iso)} (NeuCRM accepts only yyyy-mm-dd)`);
        return iso;
      }
    }
  }
  if (schema.default !== undefined) {
    note(`${field} ${show(raw)} ignored, the default ${show(schema.default)} is used (NeuCRM answers "${refusal}")`);
    return schema.default;
  }
  return undefined;
}

export function isDate(v: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const dt = new Date(Date.UTC(y, mo - 1, d));
  return y >= 1000 && dt.getUTCFullYear() === y && dt.getUTCMonth() === mo - 1 && dt.getUTCDate() === d;
}

/** A clock instant as NeuCRM writes it (MySQL DATETIME, UTC). */
export function datetime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}
