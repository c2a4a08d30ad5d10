/**
 * The contract a vendor publishes: the OpenAPI 3.1 paths of every operation it serves, built by
 * the vendor from the same TypeBox schemas its routes validate with, plus recorded examples that
 * the self-check test sends. src/server/control/openapi.ts assembles the documents and checks live
 * responses against them; nothing here is vendor-specific.
 *
 * Conventions every vendor follows:
 *   - each OpenAPI operation carries `x-operation: <name>`, the name the vendor sets on
 *     `request.emulator.operation`, so a live response can be matched to its documented responses
 *     (RackCorp's REST path and json.php `cmd` of one operation share the name);
 *   - schema names in `components.schemas` start with the vendor's name (they share one document);
 *   - XML bodies are described with the OpenAPI `xml` object: the root schema has `xml.name` (and
 *     `xml.namespace`), attributes have `xml.attribute: true`, repeated elements are arrays with
 *     `xml.wrapped` and an item `xml.name`.
 */

export type JsonSchema = Record<string, unknown>;

export interface OpenApiOperation {
  operationId: string;
  'x-operation': string;
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: Record<string, unknown>[];
  requestBody?: Record<string, unknown>;
  responses: Record<
    string,
    {
      description: string;
      headers?: Record<string, unknown>;
      content?: Record<string, { schema: JsonSchema; example?: unknown }>;
    }
  >;
  security?: Record<string, string[]>[];
  [extension: `x-${string}`]: unknown;
}

export type OpenApiPaths = Record<
  string,
  Partial<Record<'get' | 'put' | 'post' | 'delete' | 'patch' | 'head', OpenApiOperation>> & { description?: string }
>;

export interface UnmatchedRequests {
  description: string;
  /** `METHOD /path` patterns that answer this way (`{x}` = any one segment). */
  requests: string[];
  responses: OpenApiOperation['responses'];
}

export interface ContractExample {
  /** Short name for test output. */
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  /** Public URL, e.g. `/api/rest/v2.9/customers/123`. */
  url: string;
  headers?: Record<string, string>;
  /** Body as sent on the wire (string) or a JSON value. */
  body?: string | Record<string, unknown> | unknown[];
  /** The status the example must answer (documented success or error). */
  status: number;
}

export interface VendorContract {
  /** A paragraph for `info.description` (choices the vendor made where its docs are silent). */
  description: string;
  paths: OpenApiPaths;
  components: {
    schemas?: Record<string, JsonSchema>;
    securitySchemes?: Record<string, Record<string, unknown>>;
  };
  /**
   * Requests that reach no operation (a method a path does not serve, a path that is not
   * emulated), keyed by the name the vendor sets on `request.emulator.operation` for them. They
   * are answered in the vendor's format, so they are documented and checked, but they are not
   * operations of the API (an operation with no 2xx answer is none), so they live under the
   * document's `x-unmatched-requests.<vendor>`, not in `paths`.
   */
  unmatched?: Record<string, UnmatchedRequests>;
  /** Document-level security requirement (operations may override). */
  security?: Record<string, string[]>[];
  /**
   * Recorded example requests: at least one per documented operation and media type, including
   * error answers. Built against the default fixtures; each runs in a fresh session.
   */
  examples(): ContractExample[];
}

/** Follow local `$ref`s (`#/components/schemas/X`) inside a document. */
export function resolveRef(schema: JsonSchema, root: Record<string, unknown>): JsonSchema {
  let s = schema;
  for (let i = 0; i < 32 && typeof s.$ref === 'string'; i++) {
    const ref = s.$ref as string;
    if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported: ${ref}`);
    let target: unknown = root;
    for (const part of ref.slice(2).split('/'))
      target = (target as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    if (!target || typeof target !== 'object') throw new Error(`unresolved $ref ${ref}`);
    s = target as JsonSchema;
  }
  return s;
}

interface XmlInfo {
  name?: string;
  attribute?: boolean;
  wrapped?: boolean;
}

const xmlOf = (s: JsonSchema): XmlInfo => (s.xml as XmlInfo | undefined) ?? {};

function typeOf(s: JsonSchema): string | undefined {
  const t = s.type;
  if (Array.isArray(t)) return t.find((x) => x !== 'null') as string | undefined;
  if (typeof t === 'string') return t;
  if (s.properties) return 'object';
  return undefined;
}

function scalar(v: unknown, s: JsonSchema): unknown {
  if (typeof v !== 'string') return v;
  switch (typeOf(s)) {
    case 'integer':
    case 'number':
      return /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(v.trim()) ? Number(v) : v;
    case 'boolean':
      return v === 'true' ? true : v === 'false' ? false : v;
    default:
      return v;
  }
}

/**
 * Turn a parsed XML element (fast-xml-parser objects, attributes as `@_name`) into the JSON value its
 * schema describes, following the schema's `xml` annotations. Elements the schema does not name are
 * kept under their own names, so `additionalProperties: false` reports them.
 */
export function xmlToJson(value: unknown, schema: JsonSchema, root: Record<string, unknown>): unknown {
  const s = resolveRef(schema, root);
  const type = typeOf(s);
  if (type === 'object') {
    const node = (value !== null && typeof value === 'object' ? value : {}) as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    const consumed = new Set<string>();
    for (const [prop, raw] of Object.entries((s.properties ?? {}) as Record<string, JsonSchema>)) {
      const ps = resolveRef(raw, root);
      const xml = { ...xmlOf(ps), ...xmlOf(raw) };
      const name = xml.name ?? prop;
      if (xml.attribute) {
        consumed.add(`@_${name}`);
        const v = node[`@_${name}`];
        if (v !== undefined) out[prop] = scalar(v, ps);
        continue;
      }
      if (typeOf(ps) === 'array') {
        const itemRaw = (ps.items ?? {}) as JsonSchema;
        const item = resolveRef(itemRaw, root);
        const itemName = xmlOf(itemRaw).name ?? xmlOf(item).name ?? name;
        let container: unknown = node;
        if (xml.wrapped) {
          consumed.add(name);
          if (!(name in node)) continue;
          container = node[name];
        } else {
          consumed.add(itemName);
          if (!(itemName in node)) continue;
        }
        const items =
          container !== null && typeof container === 'object'
            ? (container as Record<string, unknown>)[itemName]
            : undefined;
        const list = items === undefined ? [] : Array.isArray(items) ? items : [items];
        out[prop] = list.map((i) => xmlToJson(i, item, root));
        continue;
      }
      consumed.add(name);
      if (name in node) out[prop] = xmlToJson(node[name], ps, root);
    }
    for (const [k, v] of Object.entries(node)) {
      if (consumed.has(k) || k.startsWith('@_') || k === '#text' || k.startsWith('?')) continue;
      out[k] = v;
    }
    return out;
  }
  if (type === 'array') {
    const list = Array.isArray(value) ? value : [value];
    return list.map((i) => xmlToJson(i, (s.items ?? {}) as JsonSchema, root));
  }
  // An empty element parses as '' whatever its type.
  if (value === '' && type !== 'string') return undefined;
  return scalar(value, s);
}

/** The root element a schema names for an XML body. */
export function xmlRootName(schema: JsonSchema, root: Record<string, unknown>): string | undefined {
  return xmlOf(schema).name ?? xmlOf(resolveRef(schema, root)).name;
}
