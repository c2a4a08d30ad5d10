/**
 * OpenAPI 3.1 documents, one per vendor and one for all, assembled from each vendor's contract
 * (src/routes/shared/contract.ts), and the response checker behind `--validate-responses` and the
 * contract self-check test: a live response is matched to its documented operation by
 * `request.emulator.operation` (`x-operation` in the document), status and media type, and
 * validated against the documented schema (XML through the schema's `xml` annotations).
 */
import type { FastifyInstance, FastifyRequest, FastifyReply } from 'fastify';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import type { VendorModule } from '../../routes/shared/vendor.js';
import {
  resolveRef,
  xmlRootName,
  xmlToJson,
  type JsonSchema,
  type OpenApiOperation,
} from '../../routes/shared/contract.js';
import { parseXml } from '../../routes/shared/xml.js';
import { mediaType } from '../../routes/shared/negotiate.js';
import { VERSION } from '../../core/version.js';
import { traceOf } from './journal.js';

export type OpenApiDocument = Record<string, unknown> & {
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, unknown> };
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head'] as const;

/** The document of some vendors (one vendor, or all of them for /_emulator/openapi.json). */
export function buildDocument(list: readonly VendorModule[], title?: string): OpenApiDocument {
  const doc: OpenApiDocument = {
    openapi: '3.1.0',
    info: {
      title:
        title ?? (list.length === 1 ? `${list[0].title} (vendor-api-emulator)` : 'vendor-api-emulator: every vendor'),
      version: VERSION,
      description: list
        .map((v) => `**${v.title}**: ${v.contract?.description ?? 'no contract published'}`)
        .join('\n\n'),
      // The emulator's licence (package.json); the vendors' own API terms are theirs.
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/', description: 'this emulator; each vendor answers under its own base path' }],
    tags: list.map((v) => ({ name: v.name, description: v.title })),
    paths: {},
    components: { schemas: {}, securitySchemes: {} },
  };
  for (const v of list) {
    const c = v.contract;
    if (!c) continue;
    for (const [path, item] of Object.entries(c.paths)) {
      const target = (doc.paths[path] ??= {});
      for (const [k, op] of Object.entries(item)) {
        if (target[k] !== undefined) throw new Error(`${v.name}: ${k.toUpperCase()} ${path} is documented twice`);
        const withSecurity =
          op &&
          typeof op === 'object' &&
          (METHODS as readonly string[]).includes(k) &&
          c.security &&
          !(op as OpenApiOperation).security
            ? { ...op, security: c.security }
            : op;
        target[k] = withSecurity;
      }
    }
    if (c.unmatched) ((doc['x-unmatched-requests'] ??= {}) as Record<string, unknown>)[v.name] = c.unmatched;
    Object.assign(doc.components.schemas, c.components.schemas ?? {});
    Object.assign(doc.components.securitySchemes, c.components.securitySchemes ?? {});
  }
  return doc;
}

interface Documented {
  responses: OpenApiOperation['responses'];
}

export interface CheckResult {
  ok: boolean;
  errors: string[];
}

/**
 * Validators of a document's schemas, compiled on first use and kept per schema object. Compiled
 * with the document's components beside the schema so `#/components/...` refs resolve.
 */
export class SchemaValidators {
  private readonly ajv: Ajv2020;
  private readonly compiled = new Map<JsonSchema, ValidateFunction>();
  /** allErrors: every violation named (response checks); false stops at the first (a yes/no test). */
  constructor(allErrors: boolean) {
    this.ajv = new Ajv2020({ allErrors, strict: false, validateFormats: false });
  }

  get(schema: JsonSchema, doc: OpenApiDocument): ValidateFunction {
    let fn = this.compiled.get(schema);
    if (!fn) {
      fn = this.ajv.compile({ ...schema, components: doc.components });
      this.compiled.set(schema, fn);
    }
    return fn;
  }
}

/** Validates live responses against the documents. */
export class ResponseChecker {
  private readonly byOperation = new Map<string, Documented>();
  private readonly validators = new SchemaValidators(true);
  private docs: Map<string, OpenApiDocument> | null = null;

  /** Documents are built on first use (a request for one, or the first checked response), not at start. */
  constructor(private readonly vendors: readonly VendorModule[]) {}

  get documents(): Map<string, OpenApiDocument> {
    if (this.docs) return this.docs;
    const docs = new Map<string, OpenApiDocument>();
    for (const v of this.vendors) {
      if (!v.contract) continue;
      const doc = buildDocument([v]);
      docs.set(v.name, doc);
      for (const [name, u] of Object.entries(v.contract.unmatched ?? {}))
        this.byOperation.set(`${v.name} ${name}`, { responses: u.responses });
      for (const item of Object.values(doc.paths)) {
        for (const m of METHODS) {
          const op = item[m] as OpenApiOperation | undefined;
          if (!op) continue;
          const key = `${v.name} ${op['x-operation']}`;
          // REST and json.php bindings of one operation document the same responses; keep the first.
          if (!this.byOperation.has(key)) this.byOperation.set(key, { responses: op.responses });
        }
      }
    }
    this.docs = docs;
    return docs;
  }

  /** Does this vendor publish a contract (else its responses are not checked)? */
  covers(vendor: string): boolean {
    return this.vendors.some((v) => v.name === vendor && v.contract !== undefined);
  }

  private validator(schema: JsonSchema, doc: OpenApiDocument): ValidateFunction {
    return this.validators.get(schema, doc);
  }

  check(
    vendor: string,
    operation: string | null,
    status: number,
    contentType: string | undefined,
    body: string,
  ): CheckResult {
    const doc = this.documents.get(vendor);
    if (!doc) return { ok: true, errors: [] };
    if (!operation) return { ok: false, errors: ['the response names no operation'] };
    const documented = this.byOperation.get(`${vendor} ${operation}`);
    if (!documented) return { ok: false, errors: [`operation ${operation} is not in the ${vendor} contract`] };
    const r =
      documented.responses[String(status)] ??
      documented.responses[`${String(status)[0]}XX`] ??
      documented.responses.default;
    if (!r) return { ok: false, errors: [`status ${status} is not documented for ${operation}`] };
    if (!r.content || Object.keys(r.content).length === 0) {
      return body.length === 0
        ? { ok: true, errors: [] }
        : { ok: false, errors: [`${operation} ${status} is documented without a body but has one`] };
    }
    const type = mediaType(contentType);
    const media = r.content[type];
    if (!media)
      return {
        ok: false,
        errors: [
          `media type "${type}" is not documented for ${operation} ${status} (documented: ${Object.keys(r.content).join(', ')})`,
        ],
      };
    let value: unknown;
    let schema = media.schema;
    try {
      if (/xml/.test(type)) {
        const parsed = parseXml(body);
        // The schema, or (when its own root is absent) the anyOf/oneOf branch whose root element is present.
        const candidates = [
          media.schema,
          ...((resolveRef(media.schema, doc).anyOf ?? resolveRef(media.schema, doc).oneOf ?? []) as JsonSchema[]),
        ];
        const names = candidates.map((c) => xmlRootName(c, doc)).filter((n): n is string => !!n);
        if (names.length === 0)
          return { ok: false, errors: [`the XML schema of ${operation} ${status} names no root element`] };
        const hit = candidates.find((c) => {
          const n = xmlRootName(c, doc);
          return n !== undefined && n in parsed;
        });
        if (!hit)
          return {
            ok: false,
            errors: [
              `root element <${names.join('> or <')}> expected, got <${Object.keys(parsed)
                .filter((k) => !k.startsWith('?'))
                .join(', ')}>`,
            ],
          };
        schema = hit;
        value = xmlToJson(parsed[xmlRootName(hit, doc)!], hit, doc);
      } else if (/json/.test(type)) {
        value = JSON.parse(body);
      } else {
        value = body;
      }
    } catch (e) {
      return {
        ok: false,
        errors: [`the body is not valid ${/xml/.test(type) ? 'XML' : 'JSON'}: ${(e as Error).message}`],
      };
    }
    const fn = this.validator(schema, doc);
    if (fn(value)) return { ok: true, errors: [] };
    return {
      ok: false,
      errors: (fn.errors ?? []).map(
        (e) =>
          `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}${e.params && 'additionalProperty' in e.params ? `: ${String((e.params as { additionalProperty: string }).additionalProperty)}` : ''}`,
      ),
    };
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    contracts: ResponseChecker;
  }
}

/** With --validate-responses: every vendor answer is checked; a violation becomes a 500 naming it. */
export function installResponseValidation(
  scope: FastifyInstance,
  vendor: VendorModule,
  checker: ResponseChecker,
): void {
  if (!checker.covers(vendor.name)) return;
  scope.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    // Answered before the request reached the vendor (a bad or unknown session id, every session busy;
    // the vendor's first hook names it): not a vendor answer.
    if (!request.emulator || request.emulator.vendor === null) return payload;
    const trace = traceOf(request);
    if (trace?.fault !== undefined || trace?.refused) return payload; // an injected fault or the emulator's own refusal answers on purpose
    const body =
      typeof payload === 'string'
        ? payload
        : Buffer.isBuffer(payload)
          ? payload.toString('utf8')
          : payload == null
            ? ''
            : null;
    if (body === null) return payload; // a stream: not checked
    const status = reply.statusCode;
    const result = checker.check(
      vendor.name,
      request.emulator.operation,
      status,
      reply.getHeader('content-type') as string | undefined,
      body,
    );
    if (result.ok) return payload;
    request.log.error(
      { vendor: vendor.name, operation: request.emulator.operation, status, violations: result.errors },
      'response does not match the contract',
    );
    reply.code(500).header('content-type', 'application/json; charset=utf-8');
    return JSON.stringify({
      error: 'Response validation failed',
      message: `The ${vendor.name} response to ${request.emulator.operation ?? 'an unnamed operation'} (status ${status}) does not match its OpenAPI schema`,
      violations: result.errors,
    });
  });
}

export async function openapiRoutes(
  app: FastifyInstance,
  scope: FastifyInstance,
  vendors: readonly VendorModule[],
): Promise<void> {
  let all: OpenApiDocument | null = null;
  scope.get('/openapi.json', async () => (all ??= buildDocument(vendors)));
  scope.get('/openapi/:file', async (request, reply) => {
    const { file } = request.params as { file: string };
    const name = file.replace(/\.json$/, '');
    const doc = app.contracts.documents.get(name);
    if (!doc) {
      return reply.code(404).send({
        error: 'Not Found',
        message: `No OpenAPI document "${file}": use one of ${[...app.contracts.documents.keys()].map((n) => `${n}.json`).join(', ') || '(none yet)'}`,
      });
    }
    return doc;
  });
}
