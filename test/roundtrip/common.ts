/**
 * Shared pieces of the round-trip properties: the OpenAPI documents the emulator serves (the
 * request schemas are read from them, never written here again), the request encodings a client
 * may use, and the run parameters.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { expect } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { resolveRef, xmlRootName, xmlToJson, type JsonSchema } from '../../src/routes/shared/contract.js';
import { XMLParser } from 'fast-xml-parser';

/** Cases per write operation (all its bindings together); ROUNDTRIP_RUNS raises it for a long run. */
export const RUNS = Math.max(200, Number(process.env.ROUNDTRIP_RUNS ?? 200));

/**
 * fast-check parameters: a fixed seed in CI (a submission's result does not depend on the draw),
 * ROUNDTRIP_SEED replays.
 */
export function fcParams(runs: number): fc.Parameters<unknown> {
  return {
    numRuns: runs,
    ...(process.env.ROUNDTRIP_SEED
      ? { seed: Number(process.env.ROUNDTRIP_SEED) }
      : process.env.CI === 'true'
        ? { seed: 20261206 }
        : {}),
    endOnFailure: true,
  };
}

export type OpenApiDoc = {
  paths: Record<string, Record<string, any>>;
  components: { schemas: Record<string, JsonSchema> };
};

export async function openapi(app: FastifyInstance, vendor: string): Promise<OpenApiDoc> {
  const res = await app.inject({ method: 'GET', url: `/_emulator/openapi/${vendor}.json` });
  expect(res.statusCode).toBe(200);
  return res.json() as OpenApiDoc;
}

/** Every operation of a document: `x-operation` -> { method, path, op } (the first binding documented). */
export function operationsOf(doc: OpenApiDoc): Map<string, { method: string; path: string; op: any }[]> {
  const out = new Map<string, { method: string; path: string; op: any }[]>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!op || typeof op !== 'object' || !op['x-operation']) continue;
      const list = out.get(op['x-operation']) ?? [];
      list.push({ method: method.toUpperCase(), path, op });
      out.set(op['x-operation'], list);
    }
  }
  return out;
}

/** The request-body schema of an operation for one media type, resolved. */
export function bodySchema(doc: OpenApiDoc, op: any, mediaType: string): JsonSchema {
  const media = op.requestBody?.content?.[mediaType];
  if (!media) throw new Error(`${op.operationId}: no ${mediaType} request body documented`);
  return resolveRef(media.schema as JsonSchema, doc);
}

/** Text of a value as PHP, a form or a query string carries it. */
export function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'boolean') return v ? '1' : '0';
  return String(v);
}

/**
 * PHP's bracket notation (`locations[0][suburb]=Sydney`): how PHP clients (http_build_query,
 * curl with an array) send nested values in a query string, a form or a multipart body.
 */
export function phpPairs(value: Record<string, unknown>, prefix = ''): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(value)) {
    const key = prefix ? `${prefix}[${k}]` : k;
    if (v !== null && typeof v === 'object') out.push(...phpPairs(v as Record<string, unknown>, key));
    else out.push([key, text(v)]);
  }
  return out;
}

export function formBody(value: Record<string, unknown>): string {
  return new URLSearchParams(phpPairs(value)).toString();
}

/**
 * A multipart/form-data body with every value's bytes as given, as `curl -F` and PHP's curl send
 * it. (FormData is not used: the HTML serialisation it follows turns every line break of a value
 * into CRLF, so what reached the server would not be what the property drew.)
 */
export async function multipartBody(value: Record<string, unknown>): Promise<{ payload: Buffer; contentType: string }> {
  const boundary = `----roundtrip${randomBytes(12).toString('hex')}`;
  const parts: Buffer[] = [];
  // A name's quote and line breaks are percent-encoded, as browsers and curl do.
  const quoted = (name: string) => name.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  for (const [k, v] of phpPairs(value)) {
    parts.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${quoted(k)}"\r\n\r\n${v}\r\n`, 'utf8'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`, 'utf8'));
  return { payload: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** XML text content: escaped, and carriage returns as references so that the parser keeps them. */
export function xmlEscape(v: string): string {
  return v
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\r/g, '&#13;');
}

/** Counts accepted and refused cases so a property that only ever sees refusals fails. */
export class Tally {
  accepted = 0;
  refused = 0;
  readonly reasons = new Map<string, number>();
  refuse(reason: string): void {
    this.refused++;
    this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
  }
  /** At least `share` of the cases were accepted (the generator draws mostly valid writes). */
  expectAccepted(what: string, share = 0.2): void {
    const total = this.accepted + this.refused;
    const top = [...this.reasons.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([r, n]) => `${n}x ${r}`)
      .join('\n  ');
    expect(this.accepted, `${what}: ${this.accepted} of ${total} accepted; refusals:\n  ${top}`).toBeGreaterThanOrEqual(
      Math.ceil(total * share),
    );
  }
}

/** Total rows written by a state's connection: unchanged means a refused write wrote nothing. */
export function writes(app: FastifyInstance, session: string): number {
  return (app.registry.get(session).db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
}

/**
 * Answers are read as a client reads them: text as it is (the emulator's own request parser trims,
 * which a client's need not), character references decoded.
 */
const ANSWER_PARSER = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  removeNSPrefix: true,
  processEntities: true,
  htmlEntities: { amp: '&', apos: "'", gt: '>', lt: '<', quot: '"' } as unknown as boolean,
});

/**
 * An answer as the JSON value its documented schema describes: JSON as it is, XML through the
 * schema's `xml` annotations (the same reading the contract checker does).
 */
export function answerValue(
  res: { statusCode: number; body: string; headers: Record<string, unknown> },
  op: any,
  doc: OpenApiDoc,
): Record<string, unknown> {
  const type = String(res.headers['content-type'] ?? '')
    .split(';')[0]
    .trim();
  if (!/xml/.test(type)) return JSON.parse(res.body) as Record<string, unknown>;
  const documented = op.responses[String(res.statusCode)]?.content?.[type]?.schema as JsonSchema | undefined;
  if (!documented) throw new Error(`${op.operationId}: ${res.statusCode} ${type} is not documented`);
  const root = xmlRootName(documented, doc)!;
  const parsed = ANSWER_PARSER.parse(res.body) as Record<string, unknown>;
  expect(
    Object.keys(parsed).filter((k) => !k.startsWith('?')),
    res.body,
  ).toEqual([root]);
  return xmlToJson(parsed[root], documented, doc) as Record<string, unknown>;
}

/** A body as XML: the root element the schema names, attributes and child elements as its `xml` annotations say. */
export function xmlBody(value: Record<string, unknown>, schema: JsonSchema, doc: OpenApiDoc): string {
  const props = (resolveRef(schema, doc).properties ?? {}) as Record<string, JsonSchema>;
  const root = xmlRootName(schema, doc) ?? 'root';
  const attrs: string[] = [];
  const children: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const s = props[k] ? resolveRef(props[k], doc) : {};
    const t = v === null || v === undefined ? '' : String(v);
    if ((s.xml as { attribute?: boolean } | undefined)?.attribute)
      attrs.push(` ${k}="${xmlEscape(t).replace(/\n/g, '&#10;').replace(/\t/g, '&#9;')}"`);
    else children.push(`<${k}>${xmlEscape(t)}</${k}>`);
  }
  return `<?xml version="1.0" encoding="UTF-8"?><${root}${attrs.join('')}>${children.join('')}</${root}>`;
}
