/**
 * Contract coverage: which documented operations, bindings, outcomes and request parameters a
 * client's requests exercised, per state (default state or session) and over the app's life.
 *
 * Everything the report lists comes from the served OpenAPI documents (app.contracts.documents),
 * never from a second list: an operation is an `x-operation`; its bindings are the ways the
 * documents say it is reached (a dispatcher path that lists it in `x-commands`, else the media
 * types of its answers, else of its request bodies); its outcomes are the documented responses
 * (status x alternative schema of a oneOf/anyOf, refined by an `x-outcomes` list on a schema: the
 * error kinds of RackCorp's FAULT or NeuCRM's error string); its parameters are the documented
 * query parameters and request body fields. A new operation or error kind in a contract shows up
 * here with no code change.
 *
 * What is kept per request is a few counters (bounded: documented names, plus at most
 * MAX_EXTRA undocumented ones per operation), derived when the request is answered: the journal
 * keeps bounded body text only, so "which parameters were sent" is read from the parsed request
 * at that moment, not from the journal later. Counting must stay cheap on every request: what an
 * answer is classified as is remembered per operation, status and media type (and, where the body
 * decides, per body text up to a bound), so a repeated answer is not parsed and validated again.
 *
 *   GET    /_emulator/coverage[?session=<id>|*][&format=json|markdown|junit][&vendor=]
 *   DELETE /_emulator/coverage[?session=<id>|*]
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ValidateFunction } from 'ajv';
import type { EmulatorState } from '../../store/state.js';
import {
  resolveRef,
  xmlRootName,
  xmlToJson,
  type JsonSchema,
  type OpenApiOperation,
} from '../../routes/shared/contract.js';
import { parseXml } from '../../routes/shared/xml.js';
import { mediaType } from '../../routes/shared/negotiate.js';
import { SchemaValidators, type OpenApiDocument } from './openapi.js';
import { ControlError, controlSessionId, controlState } from './common.js';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
/** Undocumented parameter names / outcomes kept per operation (the rest are counted, not named). */
const MAX_EXTRA = 32;
const MAX_NAME = 64;
/** The name of an XML document's root element, after its declaration and any comments. */
const XML_ROOT = /^\s*(?:<\?[^]*?\?>\s*)?(?:<!--[^]*?-->\s*)*<([A-Za-z_][\w.:-]*)/;
/** Answers longer than this are classified by status and media type alone (not parsed). */
const MAX_CLASSIFIED_BODY = 256 * 1024;
/** Statuses that say something about the transport, not the operation: listed apart. */
const TRANSPORT = new Set([405, 406, 413, 415, 500, 502, 503]);

// ---- the model, derived from the documents ----------------------------------------------------

interface Alternative {
  kind: string;
  schema: JsonSchema;
  /** `x-outcomes` of the schema: sub-kinds tried in order. */
  subs: { name: string; when: JsonSchema; description?: string }[];
  /**
   * Text that only a compact JSON body of this schema holds (a required property's `const`, as
   * `"code":"OK"`, or the one key of a wrapper, as `{"badRequestFault":`): most answers are told
   * apart by it without being parsed.
   */
  marker?: string;
}

function markerOf(s: JsonSchema): string | undefined {
  const props = (s.properties ?? {}) as Record<string, JsonSchema>;
  const required = Array.isArray(s.required) ? (s.required as string[]) : [];
  for (const name of required) {
    const c = props[name]?.const;
    if (c !== undefined && (typeof c === 'string' || typeof c === 'number' || typeof c === 'boolean'))
      return `${JSON.stringify(name)}:${JSON.stringify(c)}`;
  }
  if (required.length === 1 && s.additionalProperties === false && Object.keys(props).length === 1)
    return `{${JSON.stringify(required[0])}:`;
  return undefined;
}

interface OutcomeModel {
  id: string;
  status: string;
  kind: string | null;
  description: string;
  transport: boolean;
}

interface ResponseModel {
  /** media type -> alternatives */
  media: Map<string, Alternative[]>;
  /** Several kinds at this status (then the body decides). */
  ambiguous: boolean;
  description: string;
}

export interface OperationModel {
  vendor: string;
  operation: string;
  /** `METHOD path` of every documented entry point. */
  paths: string[];
  bindings: string[];
  bindingBy: 'dispatcher' | 'response-media' | 'request-media' | 'none';
  outcomes: OutcomeModel[];
  responses: Map<string, ResponseModel>;
  parameters: string[];
}

export interface VendorModel {
  vendor: string;
  document: OpenApiDocument;
  operations: Map<string, OperationModel>;
  /** cmd -> dispatcher binding labels; dispatcher route patterns. */
  dispatched: Map<string, string[]>;
  dispatchers: { pattern: RegExp; label: (method: string) => string }[];
}

const mediaFamily = (type: string): string => {
  const t = mediaType(type);
  if (/[/+]json$/.test(t)) return 'JSON';
  if (/[/+]xml$/.test(t)) return 'XML';
  if (t === 'application/x-www-form-urlencoded') return 'form';
  return t || 'none';
};

const refName = (s: JsonSchema): string | undefined =>
  typeof s.$ref === 'string' ? s.$ref.split('/').pop() : undefined;

function kindName(vendorPrefix: string, s: JsonSchema, fallback: string): string {
  const n = refName(s);
  if (!n) return fallback;
  let k = n.startsWith(vendorPrefix) ? n.slice(vendorPrefix.length) : n;
  k = k.replace(/Xml$/, '');
  if (/Ok$|Result$/.test(k) && !/Fault|Error/.test(k)) return 'success';
  return k.length ? k[0].toLowerCase() + k.slice(1) : fallback;
}

function pathPattern(path: string): RegExp {
  return new RegExp(
    `^${path
      .split(/\{[^}]+\}/)
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/]+')}/?$`,
  );
}

function outcomeId(status: string, kind: string | null): string {
  return kind ? `${status} ${kind}` : status;
}

export function buildModel(vendor: string, doc: OpenApiDocument): VendorModel {
  const prefix = vendor[0].toUpperCase() + vendor.slice(1);
  const model: VendorModel = { vendor, document: doc, operations: new Map(), dispatched: new Map(), dispatchers: [] };
  const get = (name: string): OperationModel => {
    let m = model.operations.get(name);
    if (!m) {
      m = {
        vendor,
        operation: name,
        paths: [],
        bindings: [],
        bindingBy: 'none',
        outcomes: [],
        responses: new Map(),
        parameters: [],
      };
      model.operations.set(name, m);
    }
    return m;
  };
  const requestMedia = new Map<string, Set<string>>();
  const responseMedia = new Map<string, Set<string>>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method] as OpenApiOperation | undefined;
      if (!op) continue;
      const m = get(op['x-operation']);
      m.paths.push(`${method.toUpperCase()} ${path}`);
      const commands = op['x-commands'];
      if (Array.isArray(commands)) {
        const label = `${path.split('/').pop()} ${method.toUpperCase()}`;
        for (const c of commands as string[]) {
          const list = model.dispatched.get(c) ?? [];
          if (!list.includes(label)) list.push(label);
          model.dispatched.set(c, list);
        }
        if (!model.dispatchers.some((d) => d.pattern.source === pathPattern(path).source)) {
          model.dispatchers.push({ pattern: pathPattern(path), label: (mth) => `${path.split('/').pop()} ${mth}` });
        }
      }
      // Parameters: documented query parameters and body fields (path and header ones are always sent).
      const params = new Set(m.parameters);
      for (const p of op.parameters ?? []) {
        const s = (p.schema ?? {}) as JsonSchema;
        if (p.in === 'query' && s.type !== 'object') params.add(String(p.name));
      }
      const rm = requestMedia.get(m.operation) ?? new Set<string>();
      for (const [type, media] of Object.entries(
        (op.requestBody?.content ?? {}) as Record<string, { schema?: JsonSchema }>,
      )) {
        rm.add(mediaFamily(type));
        const s = media.schema ? resolveRef(media.schema, doc) : {};
        if (s.properties && typeof s.properties === 'object') {
          for (const k of Object.keys(s.properties as object))
            if (!(Array.isArray(commands) && k === 'cmd')) params.add(k);
        }
      }
      if (!Array.isArray(commands)) requestMedia.set(m.operation, rm);
      m.parameters = [...params];
      // Outcomes.
      const resm = responseMedia.get(m.operation) ?? new Set<string>();
      for (const [status, r] of Object.entries(op.responses)) {
        let rmodel = m.responses.get(status);
        if (!rmodel) {
          rmodel = { media: new Map(), ambiguous: false, description: r.description };
          m.responses.set(status, rmodel);
        }
        const content = r.content ?? {};
        if (Object.keys(content).length === 0) {
          if (!m.outcomes.some((o) => o.id === status))
            m.outcomes.push({
              id: status,
              status,
              kind: null,
              description: r.description,
              transport: TRANSPORT.has(Number(status)),
            });
          continue;
        }
        for (const [type, media] of Object.entries(content)) {
          if (!Array.isArray(commands)) resm.add(mediaFamily(type));
          const top = resolveRef(media.schema, doc);
          const branches = (top.oneOf ?? top.anyOf) as JsonSchema[] | undefined;
          const list: Alternative[] = (branches && branches.length ? branches : [media.schema]).map((b) => {
            const target = resolveRef(b, doc);
            const subs = Array.isArray(target['x-outcomes']) ? (target['x-outcomes'] as Alternative['subs']) : [];
            return {
              kind: kindName(prefix, b, 'body'),
              schema: b,
              subs,
              marker: /json/.test(type) ? markerOf(target) : undefined,
            };
          });
          if (!rmodel.media.has(type)) rmodel.media.set(type, list);
        }
      }
      responseMedia.set(m.operation, resm);
    }
  }
  // Outcome ids: a status with one kind is just the status (unless the kind has sub-kinds).
  for (const m of model.operations.values()) {
    for (const [status, r] of m.responses) {
      const kinds = new Map<string, Alternative>();
      for (const list of r.media.values()) for (const a of list) if (!kinds.has(a.kind)) kinds.set(a.kind, a);
      // Sub-kinds tell apart errors answered with a success status (RackCorp's FAULT, NeuCRM's error
      // string, both HTTP 200); at an error status the status already says it.
      if (!status.startsWith('2')) for (const list of r.media.values()) for (const a of list) a.subs = [];
      // One schema per media type (a JSON and an XML form of one answer) is one outcome: the status.
      r.ambiguous = [...r.media.values()].some((list) => list.length > 1 || list.some((a) => a.subs.length > 0));
      const description = r.description;
      for (const a of kinds.values()) {
        const names = a.subs.length ? [...a.subs.map((s) => `${a.kind}: ${s.name}`)] : [r.ambiguous ? a.kind : null];
        for (const n of names) {
          const id = outcomeId(status, n);
          if (!m.outcomes.some((o) => o.id === id)) {
            m.outcomes.push({
              id,
              status,
              kind: n,
              description: a.subs.find((s) => `${a.kind}: ${s.name}` === n)?.description ?? description,
              transport: TRANSPORT.has(Number(status)),
            });
          }
        }
      }
    }
    m.outcomes.sort((a, b) => (a.status === b.status ? 0 : a.status < b.status ? -1 : 1));
    const dispatched = model.dispatched.get(m.operation);
    const rm = requestMedia.get(m.operation) ?? new Set();
    const resm = [...(responseMedia.get(m.operation) ?? new Set())].filter((f) => f === 'JSON' || f === 'XML');
    if (dispatched) {
      m.bindingBy = 'dispatcher';
      m.bindings = ['REST', ...dispatched];
    } else if (resm.length > 1) {
      m.bindingBy = 'response-media';
      m.bindings = resm.sort();
    } else if (rm.size > 1) {
      m.bindingBy = 'request-media';
      m.bindings = [...rm].filter((f) => f === 'JSON' || f === 'XML' || f === 'form').sort();
    } else {
      m.bindings = ['HTTP'];
    }
  }
  return model;
}

// ---- recording ------------------------------------------------------------------------------------

interface OpCounters {
  requests: number;
  bindings: Map<string, number>;
  outcomes: Map<string, number>;
  params: Map<string, number>;
  /** Requests whose answer came from an injected fault. */
  viaFault: number;
}

/** Counters for one state, or for the whole app. Keys are bounded by the documents. */
export class CoverageRecorder {
  readonly ops = new Map<string, OpCounters>();
  /** The same counters by vendor, then operation: found per request without building a key. */
  private readonly byVendor = new Map<string, Map<string, OpCounters>>();
  /** Requests a vendor answered without naming an operation. */
  readonly unnamed = new Map<string, number>();
  since = new Date().toISOString();

  add(
    vendor: string,
    operation: string,
    binding: string,
    outcome: string,
    params: Iterable<string>,
    documented: ReadonlySet<string> | null,
    viaFault: boolean,
  ): void {
    let ofVendor = this.byVendor.get(vendor);
    let c = ofVendor?.get(operation);
    if (!c) {
      // An operation no document names: at most MAX_EXTRA per recorder.
      if (documented === null && this.ops.size >= 1000) return;
      c = { requests: 0, bindings: new Map(), outcomes: new Map(), params: new Map(), viaFault: 0 };
      this.ops.set(`${vendor} ${operation}`, c);
      if (!ofVendor) this.byVendor.set(vendor, (ofVendor = new Map()));
      ofVendor.set(operation, c);
    }
    c.requests++;
    if (viaFault) c.viaFault++;
    bump(c.bindings, binding);
    bump(c.outcomes, outcome);
    for (const p of params) {
      if (documented?.has(p) || c.params.has(p) || c.params.size < (documented?.size ?? 0) + MAX_EXTRA)
        bump(c.params, p);
    }
  }

  addUnnamed(vendor: string): void {
    bump(this.unnamed, vendor);
  }

  clear(): void {
    this.ops.clear();
    this.byVendor.clear();
    this.unnamed.clear();
    this.since = new Date().toISOString();
  }
}

const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

export function coverageOf(state: EmulatorState): CoverageRecorder {
  return state.extra('coverage', () => new CoverageRecorder());
}

/** Top-level field names a request sent: query keys and body fields (XML: the root's children and attributes). */
function sentParameters(request: FastifyRequest): string[] {
  const out: string[] = [];
  // Names are unique within the query and within a body; a cut name, or one both sent, is counted once.
  const add = (k: string, check: boolean) => {
    if (out.length >= MAX_EXTRA * 4) return;
    const name = k.length > MAX_NAME ? k.slice(0, MAX_NAME) : k;
    if ((!check && name === k) || !out.includes(name)) out.push(name);
  };
  const q = request.query;
  if (q && typeof q === 'object') for (const k in q) add(k, false);
  let b = request.body as unknown;
  if (b && typeof b === 'object' && !Array.isArray(b) && !Buffer.isBuffer(b)) {
    const check = out.length > 0;
    const ct = request.headers['content-type'];
    // An XML body parses as { root: {...} }: the fields are the root's children and attributes.
    if (ct !== undefined && /xml/i.test(ct)) {
      const keys = Object.keys(b).filter((k) => !k.startsWith('?'));
      if (keys.length === 1 && typeof (b as Record<string, unknown>)[keys[0]] === 'object')
        b = (b as Record<string, unknown>)[keys[0]];
    }
    if (b && typeof b === 'object')
      for (const k of Object.keys(b))
        if (!k.startsWith('?') && k !== '#text') add(k.startsWith('@_') ? k.slice(2) : k, check);
  }
  return out;
}

// ---- classification ---------------------------------------------------------------------------------

/**
 * What an operation's answers at one status and media type are classified as: the same outcome
 * whatever the body, or (several documented alternatives) the outcome of each body text already
 * seen. classify() is a function of these alone, so a repeated answer (a remembered read, the same
 * error) is classified once instead of parsed and validated on every request.
 */
type KnownOutcomes = { fixed: string } | { fixed: null; byBody: Map<string, string> };

/** Bodies longer than this are classified each time (not remembered). */
const MAX_REMEMBERED_BODY = 16 * 1024;
/** Characters of body text the outcome memory holds in all (past it, it starts again empty). */
const MAX_REMEMBERED_CHARS = 2 * 1024 * 1024;

export class Coverage {
  private models: Map<string, VendorModel> | null = null;
  private readonly validators = new SchemaValidators(false);
  readonly all = new CoverageRecorder();
  private readonly documentedParams = new Map<OperationModel, Set<string>>();
  /** operation -> status -> answer media type -> outcomes (see KnownOutcomes). */
  private known = new Map<OperationModel, Map<number, Map<string, KnownOutcomes>>>();
  private knownChars = 0;
  /** Dispatcher binding labels by operation, route and method; media families by Content-Type value. */
  private readonly dispatcherLabels = new Map<VendorModel, Map<string, Map<string, string>>>();
  private readonly families = new Map<string, string>();

  constructor(private readonly documents: () => Map<string, OpenApiDocument>) {}

  get vendorModels(): Map<string, VendorModel> {
    if (!this.models) {
      this.models = new Map();
      for (const [vendor, doc] of this.documents()) this.models.set(vendor, buildModel(vendor, doc));
    }
    return this.models;
  }

  private validator(schema: JsonSchema, doc: OpenApiDocument): ValidateFunction {
    return this.validators.get(schema, doc);
  }

  /** The outcome every answer of this status and media type is, or null when the body decides. */
  private fixedOutcome(op: OperationModel, status: number, contentType: string | undefined): string | null {
    const key = responseKey(op, status);
    if (key === null) return `${status} undocumented`;
    const r = op.responses.get(key)!;
    if (r.media.size === 0 || !r.ambiguous) return key;
    // One documented answer in this media type (Rackspace's XML customer list, whose JSON form has two): that one,
    // whatever the body, as classify() takes its last candidate (whether the body matches it is --validate-responses'
    // question). Classifying each new 50-customer page cost 30-50 us of a request in the mixed bench.
    const alternatives = r.media.get(mediaType(contentType));
    if (alternatives?.length === 1 && alternatives[0].subs.length === 0) return outcomeId(key, alternatives[0].kind);
    return null;
  }

  /** classify(), remembering what does not need the body and the outcome of bodies already seen. */
  private outcome(
    vendor: string,
    operation: string,
    status: number,
    contentType: string | undefined,
    payload: unknown,
  ): string {
    const op = this.vendorModels.get(vendor)?.operations.get(operation);
    if (!op) return String(status);
    let byStatus = this.known.get(op);
    if (!byStatus) this.known.set(op, (byStatus = new Map()));
    let byType = byStatus.get(status);
    if (!byType) byStatus.set(status, (byType = new Map()));
    const typeKey = contentType ?? '';
    let k = byType.get(typeKey);
    if (!k) {
      if (byType.size >= 16) byType.clear();
      const fixed = this.fixedOutcome(op, status, contentType);
      k = fixed === null ? { fixed: null, byBody: new Map() } : { fixed };
      byType.set(typeKey, k);
    }
    if (k.fixed !== null) return k.fixed;
    const body =
      typeof payload === 'string'
        ? payload
        : Buffer.isBuffer(payload)
          ? payload.length <= MAX_CLASSIFIED_BODY
            ? payload.toString('utf8')
            : null
          : payload == null
            ? ''
            : null;
    if (body === null || body.length > MAX_REMEMBERED_BODY)
      return this.classifySafe(vendor, operation, status, contentType, body);
    let outcome = k.byBody.get(body);
    if (outcome === undefined) {
      outcome = this.classifySafe(vendor, operation, status, contentType, body);
      if (this.knownChars + body.length > MAX_REMEMBERED_CHARS) {
        this.known = new Map();
        this.knownChars = 0;
      } else {
        k.byBody.set(body, outcome);
        this.knownChars += body.length;
      }
    }
    return outcome;
  }

  /** classify(), with an answer it cannot read counted as undocumented. */
  private classifySafe(...args: Parameters<Coverage['classify']>): string {
    try {
      return this.classify(...args);
    } catch {
      return `${args[2]} undocumented`;
    }
  }

  /** The documented outcome an answer is, or `<status> undocumented`. */
  classify(
    vendor: string,
    operation: string,
    status: number,
    contentType: string | undefined,
    body: string | null,
  ): string {
    const model = this.vendorModels.get(vendor);
    const op = model?.operations.get(operation);
    if (!model || !op) return String(status);
    const key = responseKey(op, status);
    if (key === null) return `${status} undocumented`;
    const r = op.responses.get(key)!;
    if (r.media.size === 0) return key;
    const type = mediaType(contentType);
    const alternatives = r.media.get(type) ?? [...r.media.values()][0];
    if (!r.ambiguous) return key;
    if (body === null || body.length > MAX_CLASSIFIED_BODY) {
      // Not parsed (a stream, or very long): error envelopes are short, so it is the first answer without error kinds.
      const a = alternatives.find((x) => x.subs.length === 0) ?? alternatives[0];
      return outcomeId(key, a.subs.length ? `${a.kind}: other` : a.kind);
    }
    if (alternatives.length > 1 && alternatives.every((a) => a.marker !== undefined)) {
      const hits = alternatives.filter((a) =>
        a.marker!.startsWith('{') ? body.startsWith(a.marker!) : body.includes(a.marker!),
      );
      if (hits.length === 1 && hits[0].subs.length === 0) return outcomeId(key, hits[0].kind);
    }
    const doc = model.document;
    const isXml = /xml/.test(type);
    if (isXml) {
      // The root element tells the alternatives apart (a Rackspace list from one customer) without
      // parsing: parsing, converting and validating a 50-customer page on every request cut the
      // Rackspace Index bench from 0.36 to 0.03 of the ceiling.
      const root = XML_ROOT.exec(body)?.[1];
      const hits = alternatives.filter((a) => xmlRootName(a.schema, doc) === root);
      if (hits.length === 1 && hits[0].subs.length === 0) return outcomeId(key, hits[0].kind);
    }
    let parsedXml: Record<string, unknown> | null = null;
    let parsedJson: unknown;
    try {
      if (isXml) parsedXml = parseXml(body);
      else parsedJson = JSON.parse(body);
    } catch {
      return `${status} undocumented`;
    }
    // Error envelopes (with sub-kinds) first: they are small and refuse a success body at once.
    const ordered = [...alternatives].sort((a, b) => b.subs.length - a.subs.length);
    for (let i = 0; i < ordered.length; i++) {
      const a = ordered[i];
      let value: unknown = parsedJson;
      if (isXml) {
        const root = xmlRootName(a.schema, doc);
        if (!root || !(root in parsedXml!)) continue;
        value = xmlToJson(parsedXml![root], a.schema, doc);
      }
      // The last candidate without kinds is taken as it is: whether the answer matches its schema
      // is --validate-responses' question, and a long success body is not validated twice.
      const last = i === ordered.length - 1 && a.subs.length === 0 && !isXml;
      if (!last && !this.validator(a.schema, doc)(value)) continue;
      for (const sub of a.subs)
        if (this.validator(sub.when, doc)(value)) return outcomeId(key, `${a.kind}: ${sub.name}`);
      return outcomeId(key, a.subs.length ? `${a.kind}: other` : a.kind);
    }
    return `${status} undocumented`;
  }

  private documented(vendor: string, operation: string): Set<string> | null {
    const op = this.vendorModels.get(vendor)?.operations.get(operation);
    if (!op) return null;
    let s = this.documentedParams.get(op);
    if (!s) {
      s = new Set(op.parameters);
      this.documentedParams.set(op, s);
    }
    return s;
  }

  private family(contentType: string): string {
    let f = this.families.get(contentType);
    if (f === undefined) {
      f = mediaFamily(contentType);
      // Content-Type values come from clients: remembered up to a bound.
      if (this.families.size < 256 && contentType.length <= 256) this.families.set(contentType, f);
    }
    return f;
  }

  private binding(vendor: string, operation: string, request: FastifyRequest, contentType: string | undefined): string {
    const model = this.vendorModels.get(vendor);
    const op = model?.operations.get(operation);
    if (!model || !op) return 'HTTP';
    switch (op.bindingBy) {
      case 'dispatcher': {
        // Routes and methods are the app's own (a bounded set): the label of each is worked out once.
        const route = request.routeOptions?.url ?? '';
        let byRoute = this.dispatcherLabels.get(model);
        if (!byRoute) this.dispatcherLabels.set(model, (byRoute = new Map()));
        let byMethod = byRoute.get(route);
        if (!byMethod) byRoute.set(route, (byMethod = new Map()));
        let label = byMethod.get(request.method);
        if (label === undefined) {
          const d = model.dispatchers.find((x) => x.pattern.test(route));
          label = d ? d.label(request.method) : 'REST';
          byMethod.set(request.method, label);
        }
        return label;
      }
      case 'response-media':
        return this.family(contentType ?? '');
      case 'request-media':
        return this.family(String(request.headers['content-type'] ?? ''));
      default:
        return 'HTTP';
    }
  }

  /** Count one answered vendor request (onSend, with the payload that goes out). */
  record(request: FastifyRequest, reply: FastifyReply, payload: unknown, viaFault: boolean): void {
    const info = request.emulator;
    if (!info || !info.vendor) return;
    const recorder = coverageOf(info.state);
    if (!info.operation) {
      recorder.addUnnamed(info.vendor);
      this.all.addUnnamed(info.vendor);
      return;
    }
    const contentType = reply.getHeader('content-type') as string | undefined;
    const outcome = this.outcome(info.vendor, info.operation, reply.statusCode, contentType, payload);
    const binding = this.binding(info.vendor, info.operation, request, contentType);
    const params = sentParameters(request);
    const documented = this.documented(info.vendor, info.operation);
    recorder.add(info.vendor, info.operation, binding, outcome, params, documented, viaFault);
    this.all.add(info.vendor, info.operation, binding, outcome, params, documented, viaFault);
  }

  // ---- reports ----

  report(recorder: CoverageRecorder, scope: string, vendorFilter?: string): CoverageReport {
    const vendors: VendorCoverage[] = [];
    for (const [vendor, model] of this.vendorModels) {
      if (vendorFilter && vendor !== vendorFilter) continue;
      const operations: OperationCoverage[] = [];
      for (const op of model.operations.values()) {
        const c = recorder.ops.get(`${vendor} ${op.operation}`);
        const outcomes = op.outcomes.map((o) => ({
          outcome: o.id,
          status: o.status,
          description: o.description,
          transport: o.transport,
          count: c?.outcomes.get(o.id) ?? 0,
        }));
        const known = new Set(op.outcomes.map((o) => o.id));
        const documentedParams = new Set(op.parameters);
        operations.push({
          operation: op.operation,
          paths: op.paths,
          requests: c?.requests ?? 0,
          viaFault: c?.viaFault ?? 0,
          bindings: op.bindings.map((b) => ({ binding: b, count: c?.bindings.get(b) ?? 0 })),
          outcomes,
          undocumentedOutcomes: [...(c?.outcomes ?? [])]
            .filter(([k]) => !known.has(k))
            .map(([outcome, count]) => ({ outcome, count })),
          parameters: op.parameters.map((p) => ({ name: p, count: c?.params.get(p) ?? 0 })),
          undocumentedParameters: [...(c?.params ?? [])]
            .filter(([k]) => !documentedParams.has(k))
            .map(([name, count]) => ({ name, count })),
        });
      }
      const unexercised = operations.filter((o) => o.requests === 0).map((o) => o.operation);
      const missing = operations.flatMap((o) =>
        o.outcomes.filter((x) => x.count === 0 && !x.transport).map((x) => `${o.operation} -> ${x.outcome}`),
      );
      const total = operations.reduce((n, o) => n + o.outcomes.filter((x) => !x.transport).length, 0);
      // Requests that reached no operation (x-unmatched-requests: 404s, 405s) or one no document names.
      const otherRequests = [...recorder.ops]
        .filter(([k]) => k.startsWith(`${vendor} `) && !model.operations.has(k.slice(vendor.length + 1)))
        .map(([k, c]) => ({
          name: k.slice(vendor.length + 1),
          requests: c.requests,
          outcomes: Object.fromEntries(c.outcomes),
        }));
      vendors.push({
        vendor,
        unnamedRequests: recorder.unnamed.get(vendor) ?? 0,
        otherRequests,
        summary: {
          operations: operations.length,
          operationsExercised: operations.length - unexercised.length,
          outcomes: total,
          outcomesSeen: total - missing.length,
        },
        neverExercised: unexercised,
        outcomesNeverSeen: missing,
        operations,
      });
    }
    return { scope, since: recorder.since, generatedAt: new Date().toISOString(), vendors };
  }
}

export interface OperationCoverage {
  operation: string;
  paths: string[];
  requests: number;
  viaFault: number;
  bindings: { binding: string; count: number }[];
  outcomes: { outcome: string; status: string; description: string; transport: boolean; count: number }[];
  undocumentedOutcomes: { outcome: string; count: number }[];
  parameters: { name: string; count: number }[];
  undocumentedParameters: { name: string; count: number }[];
}

export interface VendorCoverage {
  vendor: string;
  unnamedRequests: number;
  otherRequests: { name: string; requests: number; outcomes: Record<string, number> }[];
  summary: { operations: number; operationsExercised: number; outcomes: number; outcomesSeen: number };
  neverExercised: string[];
  outcomesNeverSeen: string[];
  operations: OperationCoverage[];
}

export interface CoverageReport {
  scope: string;
  since: string;
  generatedAt: string;
  vendors: VendorCoverage[];
}

/** Several reports of the same documents as one (counts added up), e.g. one per test file's app. */
export function mergeCoverageReports(reports: CoverageReport[], scope: string): CoverageReport {
  const base = structuredClone(reports[0]);
  base.scope = scope;
  base.since = reports.map((r) => r.since).sort()[0];
  const add = <T extends { count: number }>(into: T[], from: T[], key: (x: T) => string) => {
    for (const x of from) {
      const hit = into.find((y) => key(y) === key(x));
      if (hit) hit.count += x.count;
      else into.push({ ...x });
    }
  };
  for (const r of reports.slice(1)) {
    for (const v of r.vendors) {
      const bv = base.vendors.find((x) => x.vendor === v.vendor);
      if (!bv) {
        base.vendors.push(structuredClone(v));
        continue;
      }
      bv.unnamedRequests += v.unnamedRequests;
      for (const o of v.operations) {
        const bo = bv.operations.find((x) => x.operation === o.operation);
        if (!bo) {
          bv.operations.push(structuredClone(o));
          continue;
        }
        bo.requests += o.requests;
        bo.viaFault += o.viaFault;
        add(bo.bindings, o.bindings, (x) => x.binding);
        add(bo.outcomes, o.outcomes, (x) => x.outcome);
        add(bo.undocumentedOutcomes, o.undocumentedOutcomes, (x) => x.outcome);
        add(bo.parameters, o.parameters, (x) => x.name);
        add(bo.undocumentedParameters, o.undocumentedParameters, (x) => x.name);
      }
      for (const o of v.otherRequests) {
        const bo = bv.otherRequests.find((x) => x.name === o.name);
        if (bo) bo.requests += o.requests;
        else bv.otherRequests.push({ ...o });
      }
    }
  }
  for (const v of base.vendors) {
    v.neverExercised = v.operations.filter((o) => o.requests === 0).map((o) => o.operation);
    v.outcomesNeverSeen = v.operations.flatMap((o) =>
      o.outcomes.filter((x) => x.count === 0 && !x.transport).map((x) => `${o.operation} -> ${x.outcome}`),
    );
    const total = v.operations.reduce((n, o) => n + o.outcomes.filter((x) => !x.transport).length, 0);
    v.summary = {
      operations: v.operations.length,
      operationsExercised: v.operations.length - v.neverExercised.length,
      outcomes: total,
      outcomesSeen: total - v.outcomesNeverSeen.length,
    };
  }
  base.generatedAt = new Date().toISOString();
  return base;
}

const md = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function coverageMarkdown(r: CoverageReport): string {
  const lines = [
    `# Contract coverage (${r.scope})`,
    '',
    `Since ${r.since}. Transport outcomes (405, 406, 413, 415, 5xx) are listed per operation but not counted.`,
    '',
  ];
  lines.push('| Vendor | Operations exercised | Outcomes seen |', '|---|---|---|');
  for (const v of r.vendors)
    lines.push(
      `| ${v.vendor} | ${v.summary.operationsExercised}/${v.summary.operations} | ${v.summary.outcomesSeen}/${v.summary.outcomes} |`,
    );
  for (const v of r.vendors) {
    lines.push('', `## ${v.vendor}`, '');
    if (v.neverExercised.length)
      lines.push(
        `**Operations never exercised (${v.neverExercised.length}):** ${v.neverExercised.map((o) => `\`${o}\``).join(', ')}`,
        '',
      );
    if (v.outcomesNeverSeen.length) {
      lines.push(`**Outcomes never seen (${v.outcomesNeverSeen.length}):**`, '');
      for (const o of v.outcomesNeverSeen) lines.push(`- \`${o}\``);
      lines.push('');
    }
    lines.push('| Operation | Requests | Bindings | Outcomes seen | Parameters never sent |', '|---|---|---|---|---|');
    for (const o of v.operations) {
      const counted = o.outcomes.filter((x) => !x.transport);
      lines.push(
        `| \`${md(o.operation)}\` | ${o.requests} | ${o.bindings.map((b) => `${b.binding}: ${b.count}`).join(', ')} | ` +
          `${counted.filter((x) => x.count > 0).length}/${counted.length} | ${
            md(
              o.parameters
                .filter((p) => p.count === 0)
                .map((p) => p.name)
                .join(', '),
            ) || '-'
          } |`,
      );
    }
  }
  return lines.join('\n') + '\n';
}

const xmlEscape = (s: string) =>
  s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);

/** One test case per operation x outcome (skipped when never seen), one suite per vendor. */
export function coverageJunit(r: CoverageReport): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  let tests = 0;
  let skipped = 0;
  const suites: string[] = [];
  for (const v of r.vendors) {
    const cases: string[] = [];
    let vs = 0;
    for (const o of v.operations) {
      for (const x of o.outcomes) {
        const name = xmlEscape(`${o.operation} -> ${x.outcome}`);
        const cls = xmlEscape(`${v.vendor}.${o.operation}`);
        if (x.count > 0)
          cases.push(
            `    <testcase classname="${cls}" name="${name}"><system-out>${x.count} response(s)</system-out></testcase>`,
          );
        else {
          vs++;
          cases.push(
            `    <testcase classname="${cls}" name="${name}"><skipped message="${xmlEscape(`not exercised${x.transport ? ' (transport outcome)' : ''}: ${x.description}`)}"/></testcase>`,
          );
        }
      }
    }
    tests += cases.length;
    skipped += vs;
    suites.push(
      `  <testsuite name="contract coverage: ${xmlEscape(v.vendor)}" tests="${cases.length}" failures="0" errors="0" skipped="${vs}">`,
      ...cases,
      '  </testsuite>',
    );
  }
  out.push(
    `<testsuites name="contract coverage (${xmlEscape(r.scope)})" tests="${tests}" failures="0" errors="0" skipped="${skipped}">`,
    ...suites,
    '</testsuites>',
  );
  return out.join('\n') + '\n';
}

/** The report as text in a format (what the route and --coverage-out write). */
export function renderCoverage(r: CoverageReport, format: 'json' | 'markdown' | 'junit'): string {
  if (format === 'markdown') return coverageMarkdown(r);
  if (format === 'junit') return coverageJunit(r);
  return JSON.stringify(r, null, 2) + '\n';
}

export function formatFromPath(file: string): 'json' | 'markdown' | 'junit' {
  if (/\.md$/i.test(file)) return 'markdown';
  if (/\.xml$/i.test(file)) return 'junit';
  return 'json';
}

declare module 'fastify' {
  interface FastifyInstance {
    coverage: Coverage;
  }
}

const Query = Type.Object(
  {
    session: Type.Optional(Type.String()),
    format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('markdown'), Type.Literal('junit')])),
    vendor: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export async function coverageRoutes(app: FastifyInstance, scope: FastifyInstance): Promise<void> {
  const pick = (request: FastifyRequest): { recorder: CoverageRecorder; scope: string } => {
    const q = request.query as { session?: string };
    if (q.session === '*') return { recorder: app.coverage.all, scope: 'every session, since start' };
    const id = controlSessionId(request);
    return { recorder: coverageOf(controlState(app, request)), scope: id === null ? 'default state' : `session ${id}` };
  };
  scope.get('/coverage', { schema: { querystring: Query } }, async (request, reply) => {
    const q = request.query as { format?: 'json' | 'markdown' | 'junit'; vendor?: string };
    if (q.vendor && !app.coverage.vendorModels.has(q.vendor))
      throw new ControlError(
        400,
        `Unknown vendor "${q.vendor}"; one of ${[...app.coverage.vendorModels.keys()].join(', ')}`,
      );
    const { recorder, scope: name } = pick(request);
    const report = app.coverage.report(recorder, name, q.vendor);
    if (q.format === 'markdown') return reply.type('text/markdown; charset=utf-8').send(coverageMarkdown(report));
    if (q.format === 'junit') return reply.type('application/xml; charset=utf-8').send(coverageJunit(report));
    return report;
  });
  scope.delete(
    '/coverage',
    {
      schema: { querystring: Type.Object({ session: Type.Optional(Type.String()) }, { additionalProperties: false }) },
    },
    async (request) => {
      const q = request.query as { session?: string };
      if (q.session === '*') {
        app.coverage.all.clear();
        for (const s of [app.registry.defaultState, ...app.registry.sessions.values()]) coverageOf(s).clear();
        return { cleared: '*' };
      }
      coverageOf(controlState(app, request)).clear();
      return { cleared: controlSessionId(request) ?? 'default' };
    },
  );
}

/** The documented response an answer of `status` falls under: the exact code, its `NXX` range, or `default`. */
function responseKey(op: OperationModel, status: number): string | null {
  const s = String(status);
  if (op.responses.has(s)) return s;
  if (op.responses.has(`${s[0]}XX`)) return `${s[0]}XX`;
  return op.responses.has('default') ? 'default' : null;
}
