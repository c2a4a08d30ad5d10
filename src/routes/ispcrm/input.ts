/**
 * NeuCRM input: the form fields (or a JSON object of the same fields) of one call, read one
 * field at a time with the vendor's wording for each failure. Every error names its field.
 *
 * Values are trimmed; an empty value counts as not given (what PHP's `empty()` does), so
 * `-d name=` neither filters nor satisfies a required field. JSON numbers are accepted where a
 * string is expected (clients send ids as numbers); arrays and objects are refused per field.
 * Unknown fields are ignored, as NeuCRM ignores them.
 */
import { IspcrmError } from './envelope.js';

const INVALID = Symbol('invalid');
type Raw = string | typeof INVALID;

export class Input {
  private constructor(private readonly fields: Map<string, Raw>) {}

  static from(body: unknown): Input {
    const fields = new Map<string, Raw>();
    if (body === undefined || body === null || body === '') return new Input(fields);
    if (typeof body !== 'object' || Array.isArray(body)) {
      throw new IspcrmError('Invalid request: send the fields as form data or as a JSON object');
    }
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
      if (v === null || v === undefined) continue;
      if (typeof v === 'string') fields.set(k, v.trim());
      else if (typeof v === 'number' && Number.isFinite(v)) fields.set(k, String(v));
      else fields.set(k, INVALID);
    }
    return new Input(fields);
  }

  /** True when the field was sent with a (non-empty) value. */
  has(field: string): boolean {
    const v = this.fields.get(field);
    return v !== undefined && v !== '';
  }

  /** True when the field was sent at all, even empty (update uses it to clear optional fields). */
  sent(field: string): boolean {
    return this.fields.has(field);
  }

  /** The raw text of a field, undefined when absent or empty; a non-scalar JSON value is refused. */
  raw(field: string): string | undefined {
    const v = this.fields.get(field);
    if (v === INVALID) throw new IspcrmError(`Invalid ${field}`);
    return v === undefined || v === '' ? undefined : v;
  }

  required(field: string): string {
    const v = this.raw(field);
    if (v === undefined) throw new IspcrmError(`${field} is required`);
    return v;
  }

  /** A free-text field with NeuCRM's column length. */
  text(field: string, max: number, required = false): string | undefined {
    const v = required ? this.required(field) : this.raw(field);
    if (v !== undefined && v.length > max) throw new IspcrmError(`${field} is too long. Maximum ${max} characters allowed`);
    return v;
  }

  /** A positive whole number (ids). */
  id(field: string, required = false): number | undefined {
    const v = required ? this.required(field) : this.raw(field);
    if (v === undefined) return undefined;
    if (!/^[0-9]{1,10}$/.test(v) || Number(v) < 1 || Number(v) > 2_147_483_647) throw new IspcrmError(`Invalid ${field}`);
    return Number(v);
  }

  /** A whole number within bounds (paging). */
  int(field: string, min: number, what: string): number | undefined {
    const v = this.raw(field);
    if (v === undefined) return undefined;
    if (!/^[0-9]{1,10}$/.test(v) || Number(v) < min) throw new IspcrmError(`Invalid ${field}. ${what}`);
    return Number(v);
  }

  choice<T extends string>(field: string, allowed: readonly T[], required = false): T | undefined {
    const v = required ? this.required(field) : this.raw(field);
    if (v === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(v)) throw new IspcrmError(`Invalid ${field}. Allowed values are: ${allowed.join(', ')}`);
    return v as T;
  }

  /** A calendar date in yyyy-mm-dd format. */
  date(field: string): string | undefined {
    const v = this.raw(field);
    if (v === undefined) return undefined;
    if (!isDate(v)) throw new IspcrmError(`Invalid ${field}. Date must be a valid date in yyyy-mm-dd format`);
    return v;
  }

  email(field: string, required = false): string | undefined {
    const v = this.text(field, 100, required);
    if (v !== undefined && !/^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/.test(v)) throw new IspcrmError(`Invalid ${field}. Please provide a valid email address`);
    return v;
  }
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
