/**
 * RackCorp round trip: every write operation of the served OpenAPI document (each cmd whose REST
 * binding is not a GET, but session.login), with its fields drawn from the cmd's request schema
 * (`<Cmd>Request`, the json.php body schema; the REST body is the same fields), is sent through every
 * binding the document lists: the REST path in each media type of its request body, json.php GET
 * (query string, PHP bracket notation for nested values) and json.php POST in each media type of its
 * body. An accepted write (`code: "OK"`) is followed by reads that show every field it set, in the
 * reads' own representation; anything else must be a FAULT naming a field, nothing written.
 *
 * Which read shows a field is the one hand-written part (READS below). A field added to a write
 * schema is generated at once; if no read shows it under its own name, the property fails and says
 * which field, so the read is written then, not forgotten.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { makeApp } from '../helpers.js';
import { arbitraryOf, rarely, without } from './arbitrary.js';
import {
  RUNS,
  Tally,
  fcParams,
  formBody,
  multipartBody,
  openapi,
  operationsOf,
  phpPairs,
  writes,
  type OpenApiDoc,
} from './common.js';
import { basic } from '../rackcorp/helpers.js';
import type { JsonSchema } from '../../src/routes/shared/contract.js';

/** The session the writes go to; contact.send moves to a fresh one now and then (see Spec.freshEvery). */
let SESSION = 'rt-rackcorp';
const BASE = '/api/rest/v2.9';
const AUTH = basic();
/** Not data: credentials and the dispatcher's own field. */
const NOT_DATA = ['cmd', 'APIUUID', 'APISECRET'];
/** The sandbox key's customer, and a customer of another tenant (fixtures). */
const ME = 1;
const OTHER_TENANT = 900;

interface Binding {
  name: string;
  send(fields: Record<string, unknown>): Promise<LightMyRequestResponse>;
}

interface Pools {
  customers: number[];
  promoIds: number[];
  promoCodes: string[];
  categories: string[];
}

type Row = Record<string, unknown>;

describe('RackCorp: every write round-trips', () => {
  let app: FastifyInstance;
  let doc: OpenApiDoc;
  let ops: Map<string, { method: string; path: string; op: any }[]>;
  const pools: Pools = { customers: [], promoIds: [], promoCodes: [], categories: [] };

  async function inject(
    method: string,
    url: string,
    headers: Record<string, string> = {},
    payload?: string | Buffer,
  ): Promise<LightMyRequestResponse> {
    return app.inject({
      method: method as 'GET',
      url,
      headers: { ...AUTH, 'x-emulator-session': SESSION, ...headers },
      payload,
    });
  }
  async function ok(url: string): Promise<any> {
    const res = await inject('GET', BASE + url);
    const body = res.json();
    expect(body.code, `${url}: ${res.body}`).toBe('OK');
    return body;
  }

  beforeAll(async () => {
    app = await makeApp();
    doc = await openapi(app, 'rackcorp');
    ops = operationsOf(doc);
    pools.customers = (await ok('/customers?resWindow=1000')).customers.map((c: Row) => c.id as number);
    const promos = (await ok('/billing/promocode')).promocodes as Row[];
    pools.promoIds = promos.map((p) => p.id as number);
    // Usable codes: drawn most often, so that most adds can succeed.
    pools.promoCodes = promos.filter((p) => p.status === 'ACTIVE').map((p) => p.code as string);
    pools.categories = ((await ok('/billing/options')).pricing as Row[]).find((o) => o.option === 'category')!
      .values as string[];
    expect(pools.customers).toContain(ME);
    expect(pools.promoCodes.length).toBeGreaterThan(0);
  });
  afterAll(async () => {
    await app.close();
  });

  /** Every write cmd the document lists: a REST binding that is not a GET (session.login reads). */
  function writeCommands(): string[] {
    const cmds = new Set<string>();
    for (const [name, list] of ops)
      if (
        name !== 'session.login' &&
        list.some((b) => b.method !== 'GET' && !b.path.includes('{unknownPath}') && !b.path.endsWith('json.php'))
      )
        cmds.add(name);
    return [...cmds].sort();
  }

  function requestSchema(cmd: string): JsonSchema {
    const name = `Rackcorp${cmd
      .split(/[._-]/)
      .map((p) => p[0].toUpperCase() + p.slice(1))
      .join('')}Request`;
    const s = doc.components.schemas[name];
    expect(s, name).toBeDefined();
    return s;
  }

  /** The bindings the document lists for a cmd: REST in each body media type, json.php GET, json.php POST in each. */
  function bindingsOf(cmd: string): Binding[] {
    const out: Binding[] = [];
    for (const route of ops.get(cmd)!) {
      const pathParams = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const url = (fields: Row) =>
        route.path.replace(/\{(\w+)\}/g, (_m, p: string) => encodeURIComponent(String(fields[p])));
      const rest = (fields: Row) => Object.fromEntries(Object.entries(fields).filter(([k]) => !pathParams.includes(k)));
      for (const mediaType of Object.keys(route.op.requestBody?.content ?? {})) {
        out.push({
          name: `REST ${route.method} ${mediaType}`,
          send: (f) => encoded(route.method, url(f), mediaType, rest(f)),
        });
      }
    }
    out.push({
      name: 'json.php GET',
      send: (f) => inject('GET', `${BASE}/json.php?${new URLSearchParams(phpPairs({ cmd, ...f })).toString()}`),
    });
    const post = doc.paths[`${BASE}/json.php`].post;
    // PHP reads multipart bodies (curl -F, PHP's curl with an array of fields) as it reads forms.
    for (const mediaType of new Set([...Object.keys(post.requestBody.content), 'multipart/form-data'])) {
      out.push({
        name: `json.php POST ${mediaType}`,
        send: (f) => encoded('POST', `${BASE}/json.php`, mediaType, { cmd, ...f }),
      });
    }
    return out;
  }

  async function encoded(method: string, url: string, mediaType: string, body: Row): Promise<LightMyRequestResponse> {
    if (mediaType === 'application/json')
      return inject(method, url, { 'content-type': mediaType }, JSON.stringify(body));
    if (mediaType === 'application/x-www-form-urlencoded')
      return inject(method, url, { 'content-type': mediaType }, formBody(body));
    if (mediaType === 'multipart/form-data') {
      const m = await multipartBody(body);
      return inject(method, url, { 'content-type': m.contentType }, m.payload);
    }
    throw new Error(`no encoder for ${mediaType}`);
  }

  /** A refusal: RackCorp's FAULT (HTTP 200) naming a field, and nothing written. */
  function expectFault(res: LightMyRequestResponse, before: number, tally: Tally): void {
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.code, res.body).toBe('FAULT');
    expect(typeof body.message).toBe('string');
    expect(Object.keys(body.error ?? {}).length, `a FAULT names the field: ${res.body}`).toBeGreaterThan(0);
    expect(body.fault).toEqual({ faultcode: 'Client', faultstring: body.message });
    expect(writes(app, SESSION), `a FAULT writes nothing: ${res.body}`).toBe(before);
    tally.refuse(String(body.message).replace(/\d+/g, 'N').slice(0, 90));
  }

  // ---- reads ----
  const customer = async (id: number): Promise<Row> => (await ok(`/customers/${id}`)).customer as Row;
  const promoById = async (id: number): Promise<Row | undefined> =>
    ((await ok('/billing/promocode')).promocodes as Row[]).find((p) => p.id === id);
  const promoByCode = async (code: string): Promise<Row | undefined> =>
    ((await ok('/billing/promocode')).promocodes as Row[]).find((p) => p.code === code);
  const tierOf = async (id: number): Promise<unknown> =>
    (await ok(`/billing/pricing?customerId=${id}`)).pricing.customerTierID;
  /** Whether the customer holds the code: adding it again is refused as already added (a refusal writes nothing). */
  const holds = async (id: number, code: string): Promise<boolean> => {
    const res = await inject(
      'POST',
      `${BASE}/billing/promocode/add`,
      { 'content-type': 'application/json' },
      JSON.stringify({ promocode: code, customerid: id }),
    );
    const body = res.json();
    expect(body.code, `re-adding ${code} to ${id} must be refused: ${res.body}`).toBe('FAULT');
    return /already been added/.test(body.message);
  };

  /** Text as a read shows it: the customer API trims what it stores. */
  const trimmed = (v: unknown) => (typeof v === 'string' ? v.trim() : v);
  const asNumber = (v: unknown) => (typeof v === 'string' ? Number(v.trim()) : v);
  /** Locations or contacts as sent, in order, each showing every key sent (a key not sent shows its default). */
  function expectListed(shown: unknown, sent: unknown, why: string): void {
    expect(Array.isArray(shown), why).toBe(true);
    expect((shown as Row[]).length, why).toBe((sent as Row[]).length);
    (sent as Row[]).forEach((item, i) => {
      for (const [k, v] of Object.entries(item))
        expect((shown as Row[])[i][k], `${why}: item ${i} ${k}`).toBe(String(v));
    });
  }

  /**
   * After an accepted write of a customer (create, signup, update): for each field sent, what the
   * reads show. `id` is the customer written, `before` its state before an update.
   */
  async function checkCustomer(
    cmd: string,
    id: number,
    sent: Row,
    schema: JsonSchema,
    before: Row | undefined,
  ): Promise<void> {
    const c = await customer(id);
    for (const [field, value] of Object.entries(sent)) {
      const why = `${cmd} ${field} = ${JSON.stringify(value)}, customer.get ${JSON.stringify(c)}`;
      switch (field) {
        case 'id':
          expect(c.id, why).toBe(asNumber(value));
          break;
        case 'currencycode':
        case 'currency':
          expect(c.currency, why).toBe(value);
          break;
        case 'customerTierID':
          expect(await tierOf(id), why).toBe(value);
          break;
        case 'parentID':
          expect(c.parentID, why).toBe(asNumber(value) === 0 ? ME : asNumber(value));
          break;
        case 'promoCode':
        case 'promocode':
          if (String(value).trim() !== '') expect(await holds(id, String(value).trim()), why).toBe(true);
          break;
        // Server-set: accepted only when it repeats what the customer shows (before or after the write).
        case 'stdName':
        case 'parentStdName':
        case 'dateCreated':
        case 'dateModified':
          expect([c[field], before?.[field]], why).toContainEqual(
            field === 'stdName' ? trimmed(value) : field === 'parentStdName' && value === '' ? null : value,
          );
          break;
        case 'isreseller':
          expect([c.isreseller, before?.isreseller], why).toContain(['true', '1', 1, true].includes(value as never));
          break;
        case 'locations':
        case 'contacts':
          expectListed(c[field], value, why);
          break;
        case 'userLogin':
          break; // with userPassword, below
        case 'userPassword': {
          // The portal user exists with this password, INACTIVE until activated (the doc).
          const res = await inject(
            'POST',
            `${BASE}/json.php`,
            { 'content-type': 'application/json' },
            JSON.stringify({ cmd: 'session.login', username: sent.userLogin, password: value }),
          );
          expect(res.json().message, why).toMatch(/INACTIVE/);
          break;
        }
        case 'autobilling':
          expect(c.autobilling, why).toBe(asNumber(value));
          break;
        default:
          expect(field in c, `${cmd}: no read shows ${field} (customer.get has ${Object.keys(c).join(', ')})`).toBe(
            true,
          );
          expect(c[field], why).toEqual(trimmed(value));
      }
    }
    if (before) {
      for (const [field, value] of Object.entries(before)) {
        if (
          field === 'dateModified' ||
          field in sent ||
          (field === 'currency' && 'currencycode' in sent) ||
          field === 'stdName' ||
          (field === 'parentStdName' && 'parentID' in sent)
        )
          continue;
        expect(c[field], `${cmd}: ${field} was not sent and is kept`).toEqual(value);
      }
    }
  }

  /** After an accepted promo code write: getall shows every field as sent. */
  function checkPromo(cmd: string, p: Row | undefined, sent: Row): void {
    expect(p, `${cmd}: the promo code is listed`).toBeDefined();
    for (const [field, value] of Object.entries(sent)) {
      if (field === 'id') continue;
      const why = `${cmd} ${field} = ${JSON.stringify(value)}: ${JSON.stringify(p)}`;
      if (field === 'discount') expect(p![field], why).toBe(asNumber(value));
      else if (field === 'maxUses') expect(p![field], why).toBe(asNumber(value));
      else if (field === 'expires' || field === 'serviceCategory' || field === 'campaign')
        expect(p![field], why).toBe(value === '' || value === null ? null : value);
      else {
        expect(field in p!, `${cmd}: no read shows ${field}`).toBe(true);
        expect(p![field], why).toEqual(value);
      }
    }
  }

  interface Spec {
    /** Values the business rules accept, drawn besides the schema's own (ids that exist, dates that are real). */
    hints(props: Record<string, JsonSchema>): Record<string, fc.Arbitrary<unknown>>;
    /** After an accepted write: the reads. */
    check(sent: Row, answer: Row, schema: JsonSchema, before: unknown): Promise<void>;
    /** State read before the write (an update's target), compared after a refusal too. */
    before?(sent: Row): Promise<unknown>;
    /** Start a fresh session every this many cases (its read, the outbox, grows with every case). */
    freshEvery?: number;
  }

  const mixed = (own: fc.Arbitrary<unknown>, schema: JsonSchema | undefined) =>
    schema ? fc.oneof({ weight: 6, arbitrary: own }, { weight: 1, arbitrary: arbitraryOf(schema, doc) }) : own;
  const futureDate = fc
    .date({ min: new Date('2027-01-01'), max: new Date('2099-12-31'), noInvalidDate: true })
    .map((d) => d.toISOString().slice(0, 10));
  /** Server-set customer fields (a write may only repeat them) and second spellings: sent now and then. */
  const RARE_CUSTOMER_FIELDS = [
    'stdName',
    'parentStdName',
    'dateCreated',
    'dateModified',
    'isreseller',
    'promocode',
    'currency',
  ];
  const rare = (props: Record<string, JsonSchema>, names: string[]) =>
    Object.fromEntries(names.filter((n) => props[n]).map((n) => [n, rarely(arbitraryOf(props[n], doc))]));
  const customerHints = (props: Record<string, JsonSchema>, isCreate: boolean) => ({
    ...rare(props, RARE_CUSTOMER_FIELDS),
    ...(props.parentID
      ? { parentID: mixed(fc.constantFrom(0, ...pools.customers.slice(0, 10), OTHER_TENANT), props.parentID) }
      : {}),
    ...(props.promoCode ? { promoCode: mixed(fc.constantFrom('', ...pools.promoCodes), props.promoCode) } : {}),
    // create refuses an id (it is assigned); update's id is its target.
    ...(props.id
      ? {
          id: isCreate
            ? rarely(arbitraryOf(props.id, doc))
            : mixed(fc.constantFrom(...pools.customers.slice(1), OTHER_TENANT), props.id),
        }
      : {}),
  });
  /** The customer a billing write names, by either spelling (given both, they must agree). */
  const customerHint = (props: Record<string, JsonSchema>) => ({
    ...(props.customerid
      ? { customerid: mixed(fc.constantFrom(...pools.customers, OTHER_TENANT), props.customerid) }
      : {}),
    ...(props.customerId
      ? { customerId: rarely(mixed(fc.constantFrom(...pools.customers, OTHER_TENANT), props.customerId)) }
      : {}),
  });
  const namedId = (sent: Row) => asNumber(sent.customerid ?? sent.customerId) as number;
  const promoHints = (props: Record<string, JsonSchema>) => ({
    discount: mixed(
      fc.integer({ min: 1, max: 10000 }).map((c) => c / 100),
      props.discount,
    ),
    expires: mixed(fc.oneof(futureDate, fc.constantFrom('', null)), props.expires),
    serviceCategory: mixed(fc.constantFrom('', ...pools.categories), props.serviceCategory),
    ...(props.id ? { id: mixed(fc.constantFrom(...pools.promoIds), props.id) } : {}),
  });

  const SPECS: Record<string, Spec> = {
    'customer.create': {
      hints: (props) => customerHints(props, true),
      check: (sent, answer, schema) =>
        checkCustomer('customer.create', answer.customerid as number, sent, schema, undefined),
    },
    'customer.signup': {
      hints: (props) => ({
        ...customerHints(props, true),
        userLogin: mixed(
          fc.uuid().map((u) => `${u}@example.com`),
          props.userLogin,
        ),
      }),
      check: (sent, answer, schema) =>
        checkCustomer('customer.signup', (answer.customer as Row).customerid as number, sent, schema, undefined),
    },
    'customer.update': {
      hints: (props) => customerHints(props, false),
      before: (sent) => customerOrNull(asNumber(sent.id) as number),
      check: (sent, _answer, schema, before) =>
        checkCustomer('customer.update', asNumber(sent.id) as number, sent, schema, before as Row),
    },
    'customer.reseller.create': {
      hints: (props) => ({
        customerid: mixed(fc.constantFrom(...pools.customers, OTHER_TENANT), props.customerid),
        url: mixed(fc.webUrl(), props.url),
      }),
      async check(sent) {
        const data = (await ok('/customers/reseller')).data as Row[];
        const mine = data.filter(
          (d) => d.customerid === asNumber(sent.customerid) && d.name === sent.name && d.url === sent.url,
        );
        expect(mine.length, `reseller portal ${JSON.stringify(sent)} is listed`).toBeGreaterThan(0);
      },
    },
    'customer.contact.send': {
      freshEvery: 40,
      hints: (props) => ({ id: mixed(fc.constantFrom(...pools.customers, OTHER_TENANT), props.id) }),
      async check(sent) {
        const res = await app.inject({
          method: 'GET',
          url: '/_emulator/outbox?vendor=rackcorp',
          headers: { 'x-emulator-session': SESSION },
        });
        const last = res.json().messages.find((m: Row) => m.table === 'rackcorp_contact_emails') as Row;
        for (const [field, value] of Object.entries(sent)) {
          if (field === 'id') expect(last.customerId).toBe(asNumber(value));
          else expect(last[field], `contact.send ${field}`).toBe(value);
        }
      },
    },
    'billing.promo.create': {
      hints: promoHints,
      check: async (sent) => checkPromo('billing.promo.create', await promoByCode(String(sent.code)), sent),
    },
    'billing.promo.update': {
      hints: promoHints,
      before: (sent) => promoById(asNumber(sent.id) as number),
      check: async (sent) => checkPromo('billing.promo.update', await promoById(asNumber(sent.id) as number), sent),
    },
    'billing.promo.addcode': {
      hints: (props) => ({
        ...customerHint(props),
        promocode: mixed(fc.constantFrom(...pools.promoCodes), props.promocode),
      }),
      before: (sent) => promoByCode(String(sent.promocode)),
      async check(sent, _answer, _schema, before) {
        const code = String(sent.promocode);
        expect(await holds(namedId(sent), code), `addcode: customer ${namedId(sent)} holds ${code}`).toBe(true);
        expect((await promoByCode(code))?.timesUsed, 'addcode counts one use').toBe(
          ((before as Row).timesUsed as number) + 1,
        );
      },
    },
  };

  async function customerOrNull(id: number): Promise<Row | null> {
    const res = await inject('GET', `${BASE}/customers/${id}`);
    const body = res.json();
    return body.code === 'OK' ? (body.customer as Row) : null;
  }

  it('every write cmd of the document has a round-trip spec (a new write operation needs its reads)', () => {
    expect(writeCommands()).toEqual(Object.keys(SPECS).sort());
  });

  /** Run the property for one cmd: every binding, every field its request schema has. */
  async function roundTrip(cmd: string): Promise<void> {
    const spec = SPECS[cmd];
    const schema = without(requestSchema(cmd), doc, NOT_DATA);
    const props = schema.properties as Record<string, JsonSchema>;
    const bindings = bindingsOf(cmd);
    const fieldsArb = arbitraryOf(schema, doc, {}, spec.hints(props)) as fc.Arbitrary<Row>;
    const tallies = new Map(bindings.map((b) => [b.name, new Tally()]));
    const all = new Tally();
    let cases = 0;
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: bindings.length - 1 }), fieldsArb, async (b, fields) => {
        if (spec.freshEvery && cases++ % spec.freshEvery === 0) SESSION = `rt-rackcorp-${cmd}-${cases}`;
        const binding = bindings[b];
        const tally = tallies.get(binding.name)!;
        const before = spec.before ? await spec.before(fields) : undefined;
        const n = writes(app, SESSION);
        const res = await binding.send(fields);
        const body = res.json();
        if (body.code !== 'OK') {
          expectFault(res, n, tally);
          all.refuse(`${binding.name}: ${String(body.message).replace(/\d+/g, 'N').slice(0, 80)}`);
          if (spec.before)
            expect(await spec.before(fields), 'a refused write leaves its target as it was').toEqual(before);
          return;
        }
        tally.accepted++;
        all.accepted++;
        try {
          await spec.check(fields, body as Row, requestSchema(cmd), before);
        } catch (e) {
          (e as Error).message = `through ${binding.name}: ${(e as Error).message}`;
          throw e;
        }
      }),
      fcParams(RUNS),
    );
    all.expectAccepted(cmd, 0.1);
    // Every binding accepted something: none of them refuses whatever is sent.
    const never = [...tallies.entries()]
      .filter(([, t]) => t.accepted === 0 && t.refused > 0)
      .map(([name, t]) => `${name}: ${[...t.reasons.keys()][0]}`);
    expect(never, `${cmd}: bindings that accepted nothing`).toEqual([]);
  }

  for (const cmd of Object.keys(SPECS).sort()) {
    it(`${cmd}: an accepted write is read back with every field it set, through every binding`, () => roundTrip(cmd));
  }
});
