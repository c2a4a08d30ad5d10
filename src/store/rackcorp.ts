/**
 * RackCorp customer data: customers in a parent/child tree, their locations and contacts, API
 * keys and portal users, reseller portals, and the contact e-mails the API "sends".
 * Column names follow the API's field names, so fixtures read like API objects.
 */
import type { Statement } from 'better-sqlite3';
import { likeParam, pageClause, preparedByShape, preparedOnUse, type DB } from './db.js';
import type { VendorTable } from '../core/vendor.js';
import { trigramIndexDdl, trigramQuery } from './trigram.js';
import { readCache, textBytes } from './read-cache.js';
import { MARK_EVERY, markedTotal, pageFrom, type MarkedList } from './page-marks.js';
import { insertedId, isOverlay } from './overlay.js';

/**
 * The text the keyword index holds for one customer: every field `keyword` searches, joined by a
 * separator. A trigram FTS5 index over it finds the candidates of a keyword of three or more
 * characters without scanning the table; the exact LIKE test then runs on those candidates only,
 * so matches are exactly those of the plain LIKE scan (the index folds case at least as widely).
 */
const KEYWORD_TEXT = (
  r: string,
) => `(CASE WHEN ${r}.stdName IN (${r}.companyName, ${r}.firstName || ' ' || ${r}.lastName) THEN '' ELSE ${r}.stdName END)
      || char(31) || ${r}.companyName || char(31) || ${r}.firstName || ' ' || ${r}.lastName
      || char(31) || ${r}.customID || char(31) || ${r}.companyABN || char(31) || ${r}.companyACN`;

export const rackcorpCustomerTables: VendorTable[] = [
  {
    name: 'rackcorp_customers',
    ddl: `CREATE TABLE rackcorp_customers (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      parentID INTEGER REFERENCES rackcorp_customers(id),
      companyName TEXT NOT NULL DEFAULT '',
      firstName TEXT NOT NULL DEFAULT '',
      lastName TEXT NOT NULL DEFAULT '',
      stdName TEXT NOT NULL DEFAULT '',
      companyABN TEXT NOT NULL DEFAULT '',
      companyACN TEXT NOT NULL DEFAULT '',
      customID TEXT NOT NULL DEFAULT '',
      status TEXT NOT NULL DEFAULT 'ACTIVE',
      currency TEXT NOT NULL DEFAULT 'AUD',
      customerTierID TEXT NOT NULL DEFAULT 'DEFAULT',
      isreseller INTEGER NOT NULL DEFAULT 0,
      autobilling INTEGER NOT NULL DEFAULT 0,
      promoCode TEXT NOT NULL DEFAULT '',
      partnerCode TEXT UNIQUE,
      dateCreated INTEGER NOT NULL,
      dateModified INTEGER NOT NULL
    );
    CREATE INDEX rackcorp_customers_parent ON rackcorp_customers(parentID);
    CREATE INDEX rackcorp_customers_stdname ON rackcorp_customers(stdName);
    ${trigramIndexDdl('fts_rackcorp_customers', ['text'])};
    -- New rows wait here, out of the keyword index, until a batch of them is written to it at once
    -- (flushKeywordIndex): FTS5 writes a segment on every commit that changed it, which would be about
    -- half of customer.create. A keyword search also scans the rows waiting here (a few dozen at most
    -- after creates), so it finds exactly what an index of every row would. A row is never in both.
    CREATE TABLE fts_rackcorp_unindexed (id INTEGER PRIMARY KEY);
    CREATE TRIGGER fts_rackcorp_customers_ai AFTER INSERT ON rackcorp_customers BEGIN
      INSERT INTO fts_rackcorp_unindexed (id) VALUES (new.id);
    END;
    CREATE TRIGGER fts_rackcorp_customers_ad AFTER DELETE ON rackcorp_customers BEGIN
      DELETE FROM fts_rackcorp_customers WHERE rowid = old.id;
      DELETE FROM fts_rackcorp_unindexed WHERE id = old.id;
    END;
    CREATE TRIGGER fts_rackcorp_customers_au AFTER UPDATE ON rackcorp_customers BEGIN
      DELETE FROM fts_rackcorp_customers WHERE rowid = old.id;
      INSERT INTO fts_rackcorp_customers (rowid, text) SELECT new.id, ${KEYWORD_TEXT('new')}
        WHERE NOT EXISTS (SELECT 1 FROM fts_rackcorp_unindexed WHERE id = old.id);
      UPDATE fts_rackcorp_unindexed SET id = new.id WHERE id = old.id AND new.id <> old.id;
    END;`,
  },
  {
    name: 'rackcorp_locations',
    ddl: `CREATE TABLE rackcorp_locations (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      customerId INTEGER NOT NULL REFERENCES rackcorp_customers(id) ON DELETE CASCADE,
      typeOfAddress TEXT NOT NULL DEFAULT 'primary',
      addressLine1 TEXT NOT NULL DEFAULT '',
      addressLine2 TEXT NOT NULL DEFAULT '',
      addressLine3 TEXT NOT NULL DEFAULT '',
      suburb TEXT NOT NULL DEFAULT '',
      state TEXT NOT NULL DEFAULT '',
      postcode TEXT NOT NULL DEFAULT '',
      country TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX rackcorp_locations_customer ON rackcorp_locations(customerId);`,
  },
  {
    name: 'rackcorp_contacts',
    ddl: `CREATE TABLE rackcorp_contacts (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      customerId INTEGER NOT NULL REFERENCES rackcorp_customers(id) ON DELETE CASCADE,
      typeOfContact TEXT NOT NULL DEFAULT 'administrative',
      name TEXT NOT NULL DEFAULT '',
      phoneNumber TEXT NOT NULL DEFAULT '',
      mobileNumber TEXT NOT NULL DEFAULT '',
      faxNumber TEXT NOT NULL DEFAULT '',
      email TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX rackcorp_contacts_customer ON rackcorp_contacts(customerId);`,
  },
  {
    name: 'rackcorp_api_keys',
    ddl: `CREATE TABLE rackcorp_api_keys (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      uuid TEXT NOT NULL UNIQUE,
      secret TEXT NOT NULL,
      customerId INTEGER NOT NULL REFERENCES rackcorp_customers(id),
      description TEXT NOT NULL DEFAULT ''
    );`,
  },
  {
    name: 'rackcorp_users',
    ddl: `CREATE TABLE rackcorp_users (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      customerId INTEGER NOT NULL REFERENCES rackcorp_customers(id),
      login TEXT NOT NULL UNIQUE,
      password TEXT NOT NULL,
      status TEXT NOT NULL DEFAULT 'ACTIVE',
      dateCreated INTEGER NOT NULL
    );`,
  },
  {
    name: 'rackcorp_reseller_portals',
    ddl: `CREATE TABLE rackcorp_reseller_portals (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      customerId INTEGER NOT NULL REFERENCES rackcorp_customers(id),
      name TEXT NOT NULL,
      url TEXT NOT NULL,
      dateCreated INTEGER NOT NULL
    );`,
  },
  {
    name: 'rackcorp_contact_emails',
    outbox: true,
    ddl: `CREATE TABLE rackcorp_contact_emails (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      customerId INTEGER NOT NULL,
      companyname TEXT NOT NULL,
      name TEXT NOT NULL,
      email TEXT NOT NULL,
      phone TEXT NOT NULL DEFAULT '',
      message TEXT NOT NULL,
      dateCreated INTEGER NOT NULL
    );`,
  },
];

export interface CustomerRow {
  id: number;
  parentID: number | null;
  companyName: string;
  firstName: string;
  lastName: string;
  stdName: string;
  companyABN: string;
  companyACN: string;
  customID: string;
  status: string;
  currency: string;
  customerTierID: string;
  isreseller: number;
  autobilling: number;
  promoCode: string;
  partnerCode: string | null;
  dateCreated: number;
  dateModified: number;
}

/** The columns a customer list shows (customer.getall's summary and minimal forms). */
const SUMMARY_COLS = [
  'id',
  'companyName',
  'stdName',
  'firstName',
  'lastName',
  'status',
  'dateCreated',
  'dateModified',
  'currency',
  'isreseller',
] as const;
export type CustomerSummaryRow = Pick<CustomerRow, (typeof SUMMARY_COLS)[number]>;
/** A summary row as an array, in SUMMARY_COLS order (read raw: see detailById). */
type SummaryRaw = [number, string, string, string, string, string, number, number, string, number];
const toSummary = (r: SummaryRaw): CustomerSummaryRow => ({
  id: r[0],
  companyName: r[1],
  stdName: r[2],
  firstName: r[3],
  lastName: r[4],
  status: r[5],
  dateCreated: r[6],
  dateModified: r[7],
  currency: r[8],
  isreseller: r[9],
});

/** What customer.get shows of the customer row, with its parent's stdName (null: no parent). */
export type CustomerDetailRow = Pick<
  CustomerRow,
  | 'id'
  | 'companyName'
  | 'stdName'
  | 'firstName'
  | 'lastName'
  | 'companyABN'
  | 'companyACN'
  | 'customID'
  | 'status'
  | 'parentID'
  | 'dateCreated'
  | 'dateModified'
  | 'currency'
  | 'isreseller'
  | 'autobilling'
> & { parentStdName: string | null };

/** customer.get's statements' rows, as arrays in their SELECT's column order. */
type DetailRaw = [
  number,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  number | null,
  string | null,
  number,
  number,
  string,
  number,
  number,
];
type LocationRaw = [string, string, string, string, string, string, string, string];
type ContactRaw = [string, string, string, string, string, string];

export interface LocationInput {
  typeOfAddress?: string;
  addressLine1?: string;
  addressLine2?: string;
  addressLine3?: string;
  suburb?: string;
  state?: string;
  postcode?: string;
  country?: string;
}

export interface ContactInput {
  typeOfContact?: string;
  name?: string;
  phoneNumber?: string;
  mobileNumber?: string;
  faxNumber?: string;
  email?: string;
}

/**
 * A customer to create: the columns a caller gives (the store derives stdName and the dates from `now`), and its lists.
 */
export interface NewCustomer extends Pick<
  CustomerRow,
  | 'parentID'
  | 'companyName'
  | 'firstName'
  | 'lastName'
  | 'companyABN'
  | 'companyACN'
  | 'customID'
  | 'status'
  | 'currency'
  | 'customerTierID'
  | 'autobilling'
  | 'promoCode'
> {
  now: number;
  locations: LocationInput[];
  contacts: ContactInput[];
}

/** Lists customer.update replaces when given. */
export interface CustomerLists {
  locations?: LocationInput[];
  contacts?: ContactInput[];
}

export interface CustomerFilter {
  id?: number;
  keyword?: string;
  stdName?: string;
  companyName?: string;
  status?: string;
  customerParentId?: number;
}

/** The standard name RackCorp shows: the company name, or "First Last" for a person. */
export function standardName(c: { companyName?: string; firstName?: string; lastName?: string }): string {
  const company = (c.companyName ?? '').trim();
  if (company) return company;
  return `${(c.firstName ?? '').trim()} ${(c.lastName ?? '').trim()}`.trim();
}

/** The filters that compare a column with the value given: field, SQL parameter, clause. */
const EXACT_FILTERS: readonly (readonly [Exclude<keyof CustomerFilter, 'keyword'>, string, string])[] = [
  ['id', 'id', 'c.id = @id'],
  ['stdName', 'stdName', 'c.stdName = @stdName COLLATE NOCASE'],
  ['companyName', 'companyName', 'c.companyName = @companyName COLLATE NOCASE'],
  ['status', 'status', 'c.status = @status COLLATE NOCASE'],
  ['customerParentId', 'parent', 'c.parentID = @parent'],
];

/** Rows waiting out of the keyword index that make customer.create write them to it. */
const KEYWORD_BATCH = 64;
/** Past this many rows to write at once, the index gets a larger in-memory hash while it takes them. */
const BULK_ROWS = 10_000;

/**
 * Write the rows waiting in fts_rackcorp_unindexed to the keyword index (and forget them there).
 * Run inside the caller's transaction: after a fixture load, and by customer.create once a batch
 * has gathered.
 */
export function flushKeywordIndex(db: DB): void {
  // A session's rows never enter the seed's index: they are all read beside it (see overlay.ts).
  if (isOverlay(db)) return;
  const n = db.prepare('SELECT COUNT(*) FROM fts_rackcorp_unindexed').pluck().get() as number;
  if (n === 0) return;
  // As the fixture loader does for a big load: fewer, larger segments to write and merge.
  const bulk = n >= BULK_ROWS;
  if (bulk) db.exec("INSERT INTO fts_rackcorp_customers (fts_rackcorp_customers, rank) VALUES ('hashsize', 33554432)");
  db.exec(FLUSH_SQL);
  if (bulk) db.exec("INSERT INTO fts_rackcorp_customers (fts_rackcorp_customers, rank) VALUES ('hashsize', 1048576)");
}
const FLUSH_SQL = `INSERT INTO fts_rackcorp_customers (rowid, text)
    SELECT new.id, ${KEYWORD_TEXT('new')} FROM fts_rackcorp_unindexed u CROSS JOIN rackcorp_customers new ON new.id = u.id;
  DELETE FROM fts_rackcorp_unindexed;`;

/** Escape LIKE metacharacters so user text matches literally (used with ESCAPE '\'). */
export function likeLiteral(s: string): string {
  return s.replace(/[\\%_]/g, (m) => `\\${m}`);
}

/** What `keyword` searches. */
const KEYWORD_COLUMNS = [
  'c.stdName',
  'c.companyName',
  'c.firstName',
  'c.lastName',
  "(c.firstName || ' ' || c.lastName)",
  'c.customID',
  'c.companyABN',
  'c.companyACN',
];

/** `WITH RECURSIVE` that lists a customer and every descendant through parentID. */
const TREE = `WITH RECURSIVE tree(id) AS (
  SELECT id FROM rackcorp_customers WHERE id = @root
  UNION ALL SELECT c.id FROM rackcorp_customers c JOIN tree t ON c.parentID = t.id)`;

/**
 * True when customer c is @root or below it: its parent is, or an ancestor is (walked up the
 * parent links, a point lookup per level; UNION stops at a cycle). A row's own test, so a list
 * can be read by id from any point without walking the tree.
 */
const UNDER = `(c.id = @root OR c.parentID = @root OR EXISTS (WITH RECURSIVE up(id) AS (
  SELECT c.parentID UNION SELECT a.parentID FROM rackcorp_customers a JOIN up ON a.id = up.id) SELECT 1 FROM up WHERE up.id = @root))`;

/** Trees up to this size are listed by walking them; bigger ones by page marks. */
const SMALL_TREE = 1000;

export function createRackcorpStore(db: DB) {
  const s = preparedOnUse({
    byId: () => db.prepare<[number], CustomerRow>('SELECT * FROM rackcorp_customers WHERE id = ?'),
    // Rows as arrays, made into objects in JS (toDetail etc. below): better-sqlite3 sets an object
    // row's properties one by one by name, about three times the cost for rows this wide.
    detailById: () =>
      db
        .prepare<[number], DetailRaw>(
          `SELECT c.id, c.companyName, c.stdName, c.firstName, c.lastName, c.companyABN, c.companyACN,
      c.customID, c.status, c.parentID, (SELECT p.stdName FROM rackcorp_customers p WHERE p.id = c.parentID) AS parentStdName, c.dateCreated,
      c.dateModified, c.currency, c.isreseller, c.autobilling FROM rackcorp_customers c WHERE c.id = ?`,
        )
        .raw(),
    summaryById: () =>
      db.prepare<[number], SummaryRaw>(`SELECT ${SUMMARY_COLS.join(', ')} FROM rackcorp_customers WHERE id = ?`).raw(),
    // A column per value costs about as much as a statement (better-sqlite3 builds each key and value):
    // the point lookups below read only what their caller needs.
    parentOf: () => db.prepare<[number], number | null>('SELECT parentID FROM rackcorp_customers WHERE id = ?').pluck(),
    currencyOf: () => db.prepare<[number], string>('SELECT currency FROM rackcorp_customers WHERE id = ?').pluck(),
    locationsNoId: () =>
      db
        .prepare<[number], LocationRaw>(
          'SELECT typeOfAddress, addressLine1, addressLine2, addressLine3, suburb, state, postcode, country FROM rackcorp_locations WHERE customerId = ? ORDER BY id',
        )
        .raw(),
    contactsNoId: () =>
      db
        .prepare<[number], ContactRaw>(
          'SELECT typeOfContact, name, phoneNumber, mobileNumber, faxNumber, email FROM rackcorp_contacts WHERE customerId = ? ORDER BY id',
        )
        .raw(),
    userByLogin: () =>
      db.prepare<[string], { id: number; customerId: number; login: string; password: string; status: string }>(
        'SELECT id, customerId, login, password, status FROM rackcorp_users WHERE login = ? COLLATE NOCASE',
      ),
    activeUser: () =>
      db
        .prepare<[number, number], number>(
          "SELECT 1 FROM rackcorp_users WHERE id = ? AND customerId = ? AND status = 'ACTIVE'",
        )
        .pluck(),
    keySecret: () =>
      db.prepare<[string], [string, number]>('SELECT secret, customerId FROM rackcorp_api_keys WHERE uuid = ?').raw(),
    partner: () => db.prepare<[string], { id: number }>('SELECT id FROM rackcorp_customers WHERE partnerCode = ?'),
    // Positional parameters: a named one is a property read by name per value (about 0.5 us a row).
    insertCustomer: () =>
      db.prepare<
        [
          number | null,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          number,
          string,
          number,
          number,
        ]
      >(`INSERT INTO rackcorp_customers
      (parentID, companyName, firstName, lastName, stdName, companyABN, companyACN, customID, status, currency, customerTierID, autobilling, promoCode, dateCreated, dateModified)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    deleteLocations: () => db.prepare<[number]>('DELETE FROM rackcorp_locations WHERE customerId = ?'),
    deleteContacts: () => db.prepare<[number]>('DELETE FROM rackcorp_contacts WHERE customerId = ?'),
    insertLocation: () =>
      db.prepare<
        [number, string, string, string, string, string, string, string, string]
      >(`INSERT INTO rackcorp_locations
      (customerId, typeOfAddress, addressLine1, addressLine2, addressLine3, suburb, state, postcode, country)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    insertContact: () =>
      db.prepare<[number, string, string, string, string, string, string]>(`INSERT INTO rackcorp_contacts
      (customerId, typeOfContact, name, phoneNumber, mobileNumber, faxNumber, email)
      VALUES (?, ?, ?, ?, ?, ?, ?)`),
    unindexedCount: () => db.prepare<[], number>('SELECT COUNT(*) FROM fts_rackcorp_unindexed').pluck(),
    // The size of a tree, counted up to one row past SMALL_TREE (the walk stops there).
    treeProbe: () =>
      db
        .prepare<[number], number>(
          `WITH RECURSIVE tree(id) AS (
      SELECT id FROM rackcorp_customers WHERE id = ?
      UNION ALL SELECT c.id FROM rackcorp_customers c JOIN tree t ON c.parentID = t.id LIMIT ${SMALL_TREE + 1}) SELECT COUNT(*) FROM tree`,
        )
        .pluck(),
    anyUnindexed: () => db.prepare<[], number>('SELECT EXISTS (SELECT 1 FROM fts_rackcorp_unindexed)').pluck(),
    insertUser: () =>
      db.prepare(
        'INSERT INTO rackcorp_users (customerId, login, password, status, dateCreated) VALUES (?, ?, ?, ?, ?)',
      ),
    markReseller: () => db.prepare('UPDATE rackcorp_customers SET isreseller = 1, dateModified = ? WHERE id = ?'),
    insertPortal: () =>
      db.prepare('INSERT INTO rackcorp_reseller_portals (customerId, name, url, dateCreated) VALUES (?, ?, ?, ?)'),
    portals: () =>
      db.prepare<
        [number],
        { id: number; customerId: number; stdName: string; name: string; url: string; dateCreated: number }
      >(
        `${TREE.replace('@root', '?')} SELECT p.id, p.customerId, c.stdName, p.name, p.url, p.dateCreated FROM rackcorp_reseller_portals p
       JOIN tree t ON t.id = p.customerId JOIN rackcorp_customers c ON c.id = p.customerId ORDER BY p.id`,
      ),
    insertEmail: () =>
      db.prepare(`INSERT INTO rackcorp_contact_emails (customerId, companyname, name, email, phone, message, dateCreated)
      VALUES (@customerId, @companyname, @name, @email, @phone, @message, @now)`),
  });

  function filterSql(root: number, f: CustomerFilter): { where: string; params: Record<string, unknown> } {
    const clauses: string[] = [];
    const params: Record<string, unknown> = { root };
    for (const [field, param, clause] of EXACT_FILTERS) {
      if (f[field] === undefined) continue;
      clauses.push(clause);
      params[param] = f[field];
    }
    if (f.keyword !== undefined && f.keyword !== '') {
      if (f.keyword.includes('\u0000')) {
        // SQLite reads a LIKE pattern up to its first NUL ("a\0" would be "%a%", "\0" every row):
        // instr() compares bytes, NULs included, so the keyword stays literal. lower() folds ASCII
        // only, as LIKE does.
        clauses.push(`(${KEYWORD_COLUMNS.map((col) => `instr(lower(${col}), @kw) > 0`).join(' OR ')})`);
        params.kw = f.keyword.replace(/[A-Z]+/g, (m) => m.toLowerCase());
      } else {
        clauses.push(`(${KEYWORD_COLUMNS.map((col) => `${col} LIKE ${likeParam('@kw')} ESCAPE '\\'`).join(' OR ')})`);
        params.kw = `%${likeLiteral(f.keyword)}%`;
      }
    }
    return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
  }
  // Derived data (parent links, list totals and page marks) lives in the database's read cache,
  // kept until the data changes (read-cache.ts).
  const cache = readCache(db);
  /** Parent links one call keeps at most (a keyword list tests many candidates). */
  const MAX_PARENT_LINKS = 50_000;

  // Statements built from a filter or column set are prepared once per shape and reused.
  const stmt = preparedByShape<Statement>();
  const treeStmts = preparedByShape<{ count: Statement; page: Statement }>();

  /** The parent of customer `id` (null: none; undefined: no such customer), remembered until the data changes. */
  const parentLink = (id: number): number | null | undefined =>
    cache.get(
      `rc parent ${id}`,
      () => s.parentOf.get(id),
      () => 8,
    );

  /**
   * Whether `id` is an existing customer that is `root` or below it: walk up the parent links (a
   * point lookup per level; the caller's tree is never listed, so this costs the same however big
   * it is). `parents` keeps links for one call that tests many ids; such a call (`bulk`) reads
   * each id's own link directly, so only the few inner nodes above them go to the read cache.
   */
  function visibleWith(parents: Map<number, number | null>, root: number, id: number, bulk = false): boolean {
    let cur = id;
    for (let depth = 0; depth < 1000; depth++) {
      // An ancestor reached through a parent link exists (foreign key): no lookup needed to stop at root.
      if (depth > 0 && cur === root) return true;
      let p = parents.get(cur);
      if (p === undefined) {
        const parentID = bulk && depth === 0 ? s.parentOf.get(cur) : parentLink(cur);
        if (parentID === undefined) return false;
        p = parentID;
        if (parents.size >= MAX_PARENT_LINKS) parents.clear();
        parents.set(cur, p);
      }
      if (cur === root) return true;
      if (p === null) return false;
      cur = p;
    }
    return false; // a cycle in the data: not below root
  }

  /**
   * A keyword list through the trigram index: the candidates matching every filter, by id, then
   * the visibility test walking up the parent links (no walk of the caller's whole tree).
   */
  function listByKeyword(
    root: number,
    f: CustomerFilter,
    start: number,
    window: number,
  ): { count: number; rows: CustomerSummaryRow[] } {
    const { where, params } = filterSql(root, f);
    // The rows not in the index yet (see fts_rackcorp_unindexed; in a session, every row it changed,
    // which the index may also offer under its old text: UNION, not UNION ALL) are read only while there are any:
    // the union with them costs a sort of every candidate, a few milliseconds at a million rows.
    const waiting = s.anyUnindexed.get() === 1;
    const st = stmt(`fts ${waiting} ${where}`, () => {
      // The index's candidates (and the waiting rows), each tested by the same filters, by id.
      const indexed = `SELECT c.id AS id FROM fts_rackcorp_customers CROSS JOIN rackcorp_customers c ON c.id = fts_rackcorp_customers.rowid
        ${where} AND fts_rackcorp_customers MATCH @fts`;
      return db
        .prepare(
          waiting
            ? `${indexed} UNION SELECT c.id AS id FROM fts_rackcorp_unindexed u CROSS JOIN rackcorp_customers c ON c.id = u.id ${where} ORDER BY 1`
            : `${indexed} ORDER BY c.id`,
        )
        .pluck();
    });
    delete params.root;
    params.fts = trigramQuery(f.keyword!);
    const parents = new Map<number, number | null>();
    const ids = (st.all(params) as number[]).filter((id) => visibleWith(parents, root, id, true));
    const rows = ids.slice(start, start + window).map((id) => toSummary(s.summaryById.get(id)!));
    return { count: ids.length, rows };
  }

  /**
   * A list of a big tree, in id order, by page marks (page-marks.ts): the rows are read from the
   * table by id and tested by UNDER, so a page walks fewer than MARK_EVERY rows before its own,
   * and the total is counted once per data version (a walk of the table by id, in SQLite).
   */
  function listByMarks(
    root: number,
    where: string,
    params: Record<string, unknown>,
    start: number,
    window: number,
  ): { count: number; rows: CustomerSummaryRow[] } {
    const cond = `c.id >= @from AND ${UNDER}${where ? ` AND ${where.slice('WHERE '.length)}` : ''}`;
    const step = stmt(`step ${cond}`, () =>
      db
        .prepare(`SELECT c.id FROM rackcorp_customers c WHERE ${cond} ORDER BY c.id ${pageClause('1', '@skip')}`)
        .pluck(),
    );
    const tail = stmt(`tail ${cond}`, () =>
      db
        .prepare(
          `SELECT COUNT(*) FROM (SELECT 1 FROM rackcorp_customers c WHERE ${cond} ORDER BY c.id ${pageClause('@limit', '0')})`,
        )
        .pluck(),
    );
    const page = stmt(`page ${cond}`, () =>
      db
        .prepare(
          `SELECT ${SUMMARY_COLS.map((c) => `c.${c}`).join(', ')} FROM rackcorp_customers c
      WHERE ${cond} ORDER BY c.id ${pageClause('@limit', '@skip')}`,
        )
        .raw(),
    );
    const list: MarkedList<[number]> = {
      key: `rackcorp ${cond} ${JSON.stringify(params)}`,
      step: (from, skip) => {
        const id = step.get({ ...params, from: from === null ? Number.MIN_SAFE_INTEGER : from[0], skip }) as
          number | undefined;
        return id === undefined ? undefined : [id];
      },
    };
    const count = markedTotal(
      cache,
      list,
      (from) => tail.get({ ...params, from: from[0], limit: MARK_EVERY + 1 }) as number,
    );
    const at = start < count ? pageFrom(cache, list, start) : null;
    const rows =
      at === null
        ? []
        : (page.all({ ...params, from: at.from[0], skip: at.skip, limit: window }) as SummaryRaw[]).map(toSummary);
    return { count, rows };
  }

  function insertLocations(id: number, locations: LocationInput[]): void {
    for (const l of locations) {
      s.insertLocation.run(
        id,
        l.typeOfAddress ?? 'primary',
        l.addressLine1 ?? '',
        l.addressLine2 ?? '',
        l.addressLine3 ?? '',
        l.suburb ?? '',
        l.state ?? '',
        l.postcode ?? '',
        l.country ?? '',
      );
    }
  }
  function insertContacts(id: number, contacts: ContactInput[]): void {
    for (const ct of contacts) {
      s.insertContact.run(
        id,
        ct.typeOfContact ?? 'administrative',
        ct.name ?? '',
        ct.phoneNumber ?? '',
        ct.mobileNumber ?? '',
        ct.faxNumber ?? '',
        ct.email ?? '',
      );
    }
  }

  // Transactions made once, on first use (db.transaction builds a new wrapper on every call).
  const tx = preparedOnUse({
    create: () =>
      db.transaction((c: NewCustomer): number => {
        const id = insertedId(
          db,
          s.insertCustomer.run(
            c.parentID,
            c.companyName,
            c.firstName,
            c.lastName,
            standardName(c),
            c.companyABN,
            c.companyACN,
            c.customID,
            c.status,
            c.currency,
            c.customerTierID,
            c.autobilling,
            c.promoCode,
            c.now,
            c.now,
          ),
        );
        insertLocations(id, c.locations);
        insertContacts(id, c.contacts);
        if (s.unindexedCount.get()! >= KEYWORD_BATCH) flushKeywordIndex(db);
        return id;
      }),
    update: () =>
      db.transaction((id: number, fields: Partial<CustomerRow>, now: number, lists: CustomerLists) => {
        const cols = Object.keys(fields);
        const merged = { ...s.byId.get(id)!, ...fields };
        const update = stmt(`update ${cols.sort().join(',')}`, () => {
          const set = [...cols.map((c) => `"${c}" = @${c}`), 'stdName = @stdName', 'dateModified = @now'];
          return db.prepare(`UPDATE rackcorp_customers SET ${set.join(', ')} WHERE id = @id`);
        });
        update.run({ ...fields, stdName: standardName(merged), now, id });
        // The lists given replace the customer's: the API shows them without row ids, in order.
        if (lists.locations) {
          s.deleteLocations.run(id);
          insertLocations(id, lists.locations);
        }
        if (lists.contacts) {
          s.deleteContacts.run(id);
          insertContacts(id, lists.contacts);
        }
      }),
  });

  return {
    get(id: number): CustomerRow | undefined {
      return s.byId.get(id);
    },
    /** True when `id` is `root` or one of its descendants. */
    visible(root: number, id: number): boolean {
      return visibleWith(new Map(), root, id);
    },
    /** The customer as customer.get shows it (one statement, parent's stdName included), or undefined. */
    detail(id: number): CustomerDetailRow | undefined {
      const r = s.detailById.get(id);
      if (r === undefined) return undefined;
      return {
        id: r[0],
        companyName: r[1],
        stdName: r[2],
        firstName: r[3],
        lastName: r[4],
        companyABN: r[5],
        companyACN: r[6],
        customID: r[7],
        status: r[8],
        parentID: r[9],
        parentStdName: r[10],
        dateCreated: r[11],
        dateModified: r[12],
        currency: r[13],
        isreseller: r[14],
        autobilling: r[15],
      };
    },
    /** The customer's currency, or undefined when there is no such customer. */
    currency: (id: number) => s.currencyOf.get(id),
    /** The customer's locations (or contacts) as the API shows them: in id order, without the row id. */
    locationsWithoutId(id: number): Record<string, unknown>[] {
      const raw = s.locationsNoId.all(id);
      const out: Record<string, unknown>[] = new Array(raw.length);
      for (let i = 0; i < raw.length; i++) {
        const r = raw[i];
        out[i] = {
          typeOfAddress: r[0],
          addressLine1: r[1],
          addressLine2: r[2],
          addressLine3: r[3],
          suburb: r[4],
          state: r[5],
          postcode: r[6],
          country: r[7],
        };
      }
      return out;
    },
    contactsWithoutId(id: number): Record<string, unknown>[] {
      const raw = s.contactsNoId.all(id);
      const out: Record<string, unknown>[] = new Array(raw.length);
      for (let i = 0; i < raw.length; i++) {
        const r = raw[i];
        out[i] = {
          typeOfContact: r[0],
          name: r[1],
          phoneNumber: r[2],
          mobileNumber: r[3],
          faxNumber: r[4],
          email: r[5],
        };
      }
      return out;
    },
    /**
     * The API key's secret and customer, as `[secret, customerId]` (one array, no object: read on
     * every request); remembered until the data changes, an unknown key never.
     */
    apiKeySecret: (uuid: string) =>
      cache.get(
        `rc key ${uuid}`,
        () => s.keySecret.get(uuid),
        (k) => (k ? textBytes(k[0]) + 64 : 0),
      ),
    /**
     * Whether user `id` (of a verified session token) exists, belongs to `customerId` and is ACTIVE (exact,
     * case-sensitive status).
     */
    isActiveUser: (id: number, customerId: number) =>
      cache.get(
        `rc active ${id} ${customerId}`,
        () => s.activeUser.get(id, customerId) !== undefined,
        () => 8,
      ),
    userByLogin: (login: string) => s.userByLogin.get(login),
    partnerCustomer: (code: string) => s.partner.get(code)?.id,
    /** Customers of `root`'s tree matching the filter: total count and one page, ordered by id. */
    list(
      root: number,
      f: CustomerFilter,
      start: number,
      window: number,
    ): { count: number; rows: CustomerSummaryRow[] } {
      // A trigram index needs three characters; shorter keywords take the scan below.
      if (f.keyword !== undefined && trigramQuery(f.keyword) !== null) return listByKeyword(root, f, start, window);
      const { where, params } = filterSql(root, f);
      // A small tree is listed by walking it (a few hundred rows); a big one by page marks, which
      // never walks it on a page (see listByMarks). The probe stops walking past SMALL_TREE rows.
      if (
        cache.get(
          `rc small ${root}`,
          () => s.treeProbe.get(root)! <= SMALL_TREE,
          () => 8,
        )
      ) {
        const st = treeStmts(where, () => {
          // CROSS JOIN: the tree first, its rows looked up by id (SQLite otherwise scans the whole
          // table in id order, probing the tree: every row of a million for a tree of twelve).
          const from = `${TREE} SELECT %COLS% FROM tree t CROSS JOIN rackcorp_customers c ON c.id = t.id ${where}`;
          return {
            count: db.prepare(from.replace('%COLS%', 'COUNT(*) AS n')),
            page: db
              .prepare(
                `${from.replace('%COLS%', SUMMARY_COLS.map((c) => `c.${c}`).join(', '))} ORDER BY c.id ${pageClause('@limit', '@offset')}`,
              )
              .raw(),
          };
        });
        const count = (st.count.get(params) as { n: number }).n;
        const rows = (st.page.all({ ...params, limit: window, offset: start }) as SummaryRaw[]).map(toSummary);
        return { count, rows };
      }
      return listByMarks(root, where, params, start, window);
    },
    create(c: NewCustomer): number {
      return tx.create(c);
    },
    createWithUser(c: NewCustomer, login: string, password: string): { customerId: number; userId: number } {
      return db.transaction(() => {
        const customerId = this.create(c);
        const userId = insertedId(db, s.insertUser.run(customerId, login, password, 'INACTIVE', c.now));
        return { customerId, userId };
      })();
    },
    /**
     * Set the given columns (already validated names) and dateModified, and replace the lists
     * given, in one transaction.
     */
    update(id: number, fields: Partial<CustomerRow>, now: number, lists: CustomerLists = {}): void {
      tx.update(id, fields, now, lists);
    },
    /** Run `fn` in one transaction (a write of this store and the billing store's together). */
    atomically<T>(fn: () => T): T {
      return db.transaction(fn)();
    },
    createPortal(customerId: number, name: string, url: string, now: number): number {
      return db.transaction(() => {
        s.markReseller.run(now, customerId);
        return insertedId(db, s.insertPortal.run(customerId, name, url, now));
      })();
    },
    portals: (root: number) => s.portals.all(root),
    recordContactEmail(e: {
      customerId: number;
      companyname: string;
      name: string;
      email: string;
      phone: string;
      message: string;
      now: number;
    }): number {
      return insertedId(db, s.insertEmail.run(e));
    },
  };
}

export type RackcorpStore = ReturnType<typeof createRackcorpStore>;
