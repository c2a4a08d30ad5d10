/**
 * ISP CRM (NeuCRM) store: ISPs, their resellers, CRM login users, customers, the customers'
 * services (PPPoE usernames) and the password-reset messages NeuCRM would send.
 *
 * Dates are stored as NeuCRM shows them (MySQL DATETIME, `yyyy-mm-dd hh:mm:ss`, UTC) so that
 * the `created_from` / `created_upto` filters compare the first ten characters.
 */
import type { Statement } from 'better-sqlite3';
import { likeParam, pageClause, preparedByShape, type DB } from './db.js';
import type { VendorTable } from '../core/vendor.js';
import { trigramIndexDdl, trigramQuery } from './trigram.js';
import { readCache } from './read-cache.js';
import { MARK_EVERY, pageFrom, type MarkedList } from './page-marks.js';
import { memoize } from '../core/memoize.js';
import { insertedId, isOverlay } from './overlay.js';

/** The doc's create example answers 1243 on a fresh start: new customer ids never start below. */
export const ISPCRM_FIRST_NEW_CUSTOMER_ID = 1243;

export const ispcrmTables: VendorTable[] = [
  {
    name: 'ispcrm_isps',
    ddl: `CREATE TABLE ispcrm_isps (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      name TEXT NOT NULL
    )`,
  },
  {
    name: 'ispcrm_resellers',
    ddl: `CREATE TABLE ispcrm_resellers (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      ispid INTEGER NOT NULL REFERENCES ispcrm_isps(id),
      name TEXT NOT NULL
    );
    CREATE INDEX ispcrm_resellers_isp ON ispcrm_resellers(ispid)`,
  },
  {
    name: 'ispcrm_users',
    ddl: `CREATE TABLE ispcrm_users (
      userid INTEGER PRIMARY KEY AUTOINCREMENT,
      login TEXT NOT NULL UNIQUE,
      name TEXT NOT NULL,
      api_key TEXT NOT NULL,
      ispid INTEGER NOT NULL REFERENCES ispcrm_isps(id),
      resellerid INTEGER REFERENCES ispcrm_resellers(id),
      active INTEGER NOT NULL DEFAULT 1
    )`,
  },
  {
    name: 'ispcrm_customers',
    ddl: `CREATE TABLE ispcrm_customers (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      ispid INTEGER NOT NULL REFERENCES ispcrm_isps(id),
      resellerid INTEGER NOT NULL REFERENCES ispcrm_resellers(id),
      type TEXT NOT NULL CHECK (type IN ('Individual', 'Organisation')),
      name TEXT NOT NULL,
      surname TEXT,
      dob TEXT,
      mobile TEXT NOT NULL,
      email TEXT NOT NULL,
      uniqueid TEXT,
      zipcode TEXT NOT NULL,
      state TEXT NOT NULL,
      city TEXT NOT NULL,
      street TEXT NOT NULL,
      notes TEXT,
      created TEXT NOT NULL,
      updated TEXT NOT NULL
    );
    CREATE INDEX ispcrm_customers_scope ON ispcrm_customers(ispid, resellerid);
    ${trigramIndexDdl('fts_ispcrm_customers', ['name'])};
    CREATE TRIGGER fts_ispcrm_customers_ai AFTER INSERT ON ispcrm_customers BEGIN
      INSERT INTO fts_ispcrm_customers (rowid, name) VALUES (new.id, new.name);
    END;
    CREATE TRIGGER fts_ispcrm_customers_ad AFTER DELETE ON ispcrm_customers BEGIN
      DELETE FROM fts_ispcrm_customers WHERE rowid = old.id;
    END;
    CREATE TRIGGER fts_ispcrm_customers_au AFTER UPDATE OF name ON ispcrm_customers BEGIN
      DELETE FROM fts_ispcrm_customers WHERE rowid = old.id;
      INSERT INTO fts_ispcrm_customers (rowid, name) VALUES (new.id, new.name);
    END`,
  },
  {
    name: 'ispcrm_services',
    ddl: `CREATE TABLE ispcrm_services (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      customerid INTEGER NOT NULL REFERENCES ispcrm_customers(id) ON DELETE CASCADE,
      username TEXT NOT NULL UNIQUE,
      plan TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('Active', 'Suspended', 'Terminated')),
      created TEXT NOT NULL
    );
    CREATE INDEX ispcrm_services_customer ON ispcrm_services(customerid)`,
  },
  {
    // Messages NeuCRM would send: one row per reset_password=Y (the new portal password goes to
    // the customer by email and SMS). No foreign key: the message outlives a deleted customer.
    name: 'ispcrm_password_resets',
    outbox: true,
    ddl: `CREATE TABLE ispcrm_password_resets (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      customerid INTEGER NOT NULL,
      userid INTEGER NOT NULL,
      email TEXT NOT NULL,
      mobile TEXT NOT NULL,
      subject TEXT NOT NULL,
      body TEXT NOT NULL,
      created TEXT NOT NULL
    )`,
  },
];

/** Keep the customer id sequence at or above 1242 so the first create answers 1243 (or more). */
export function ispcrmAfterFixtures(db: DB): void {
  const floor = ISPCRM_FIRST_NEW_CUSTOMER_ID - 1;
  const row = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'ispcrm_customers'").get() as
    { seq: number } | undefined;
  if (!row) db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('ispcrm_customers', ?)").run(floor);
  else if (row.seq < floor) db.prepare("UPDATE sqlite_sequence SET seq = ? WHERE name = 'ispcrm_customers'").run(floor);
}

export interface IspcrmUser {
  userid: number;
  login: string;
  name: string;
  ispid: number;
  resellerid: number | null;
}

export interface IspcrmReseller {
  id: number;
  ispid: number;
  name: string;
}

export interface IspcrmCustomerRow {
  id: number;
  ispid: number;
  resellerid: number;
  type: 'Individual' | 'Organisation';
  name: string;
  surname: string | null;
  dob: string | null;
  mobile: string;
  email: string;
  uniqueid: string | null;
  zipcode: string;
  state: string;
  city: string;
  street: string;
  notes: string | null;
  created: string;
  updated: string;
}

export interface IspcrmServiceRow {
  id: number;
  customerid: number;
  username: string;
  plan: string;
  status: 'Active' | 'Suspended' | 'Terminated';
  created: string;
}

/** Columns a caller may write on create/update. */
export const CUSTOMER_FIELDS = [
  'type',
  'name',
  'surname',
  'dob',
  'mobile',
  'email',
  'uniqueid',
  'zipcode',
  'state',
  'city',
  'street',
  'notes',
] as const;
export type CustomerField = (typeof CUSTOMER_FIELDS)[number];

/** Who may be seen: always one ISP, and one reseller of it when the user is a reseller's. */
export interface IspcrmScope {
  ispid: number;
  resellerid: number | null;
}

export interface IspcrmListFilter {
  ispid: number | null;
  resellerid: number | null;
  customerid: number | null;
  serviceid: number | null;
  /** LIKE patterns, already escaped (only `%` is a wildcard). */
  username: string | null;
  name: string | null;
  type: string | null;
  mobile: string | null;
  email: string | null;
  zipcode: string | null;
  state: string | null;
  city: string | null;
  createdFrom: string | null;
  createdUpto: string | null;
}

export type IspcrmSortField = 'id' | 'name' | 'mobile' | 'email';
export type IspcrmSortOrder = 'asc' | 'desc';

/**
 * Escape a user's search text for `LIKE ... ESCAPE '\'`: `%` stays the wildcard, everything else
 * (`_`, the escape character itself) is literal. Without `%` the pattern is an exact match.
 */
export function likePattern(input: string): string {
  return input.replace(/[\\_]/g, (c) => `\\${c}`);
}

/**
 * `column` against a pattern made by likePattern. SQLite reads a LIKE pattern (and the value it
 * tests) up to the first NUL, so "%\0" would match every row: a pattern holding a NUL is matched
 * by ispcrm_like (made by the store), which reads both whole.
 */
function like(column: string, pattern: string): string {
  return pattern.includes('\u0000') ? `ispcrm_like(?, ${column})` : `${column} LIKE ${likeParam()} ESCAPE '\\'`;
}

/** What LIKE folds: ASCII letters only. */
function foldAscii(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/** LIKE over whole texts (NULs included): a pattern made by likePattern, `%` the one wildcard, ASCII case folded. */
export function likeWhole(pattern: string, value: string): boolean {
  const parts: string[] = [''];
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\' && i + 1 < pattern.length) parts[parts.length - 1] += pattern[++i];
    else if (ch === '%') parts.push('');
    else parts[parts.length - 1] += ch;
  }
  const v = foldAscii(value);
  const p = parts.map(foldAscii);
  if (p.length === 1) return v === p[0];
  const first = p[0];
  const last = p[p.length - 1];
  if (!v.startsWith(first) || v.length < first.length + last.length || !v.endsWith(last)) return false;
  let at = first.length;
  const end = v.length - last.length;
  for (let i = 1; i < p.length - 1; i++) {
    const found = v.indexOf(p[i], at);
    if (found === -1 || found + p[i].length > end) return false;
    at = found + p[i].length;
  }
  return true;
}

/**
 * The WHERE clause for the filters present (an absent filter drops out) and the values to bind,
 * in order. Text comparisons are case-insensitive, as NeuCRM's MySQL (_ci collation) compares
 * them. The clause depends only on which filters are present, so few distinct statements exist
 * and each is prepared once per database; a statement without the unused filters also costs
 * SQLite nothing per row for them.
 */
function whereOf(scope: IspcrmScope, f: IspcrmListFilter): { clause: string; params: unknown[] } {
  const conds = ['c.ispid = ?'];
  const params: unknown[] = [scope.ispid];
  const add = (cond: string, value: unknown) => {
    conds.push(cond);
    params.push(value);
  };
  if (scope.resellerid !== null) add('c.resellerid = ?', scope.resellerid);
  if (f.ispid !== null) add('c.ispid = ?', f.ispid);
  if (f.resellerid !== null) add('c.resellerid = ?', f.resellerid);
  if (f.customerid !== null) add('c.id = ?', f.customerid);
  if (f.serviceid !== null)
    add('EXISTS (SELECT 1 FROM ispcrm_services s WHERE s.customerid = c.id AND s.id = ?)', f.serviceid);
  if (f.username !== null)
    add(
      `EXISTS (SELECT 1 FROM ispcrm_services s WHERE s.customerid = c.id AND ${like('s.username', f.username)})`,
      f.username,
    );
  if (f.name !== null) add(like('c.name', f.name), f.name);
  if (f.type !== null) add('c.type = ?', f.type);
  if (f.mobile !== null) add('c.mobile = ?', f.mobile);
  if (f.email !== null) add('c.email = ? COLLATE NOCASE', f.email);
  if (f.zipcode !== null) add('c.zipcode = ? COLLATE NOCASE', f.zipcode);
  if (f.state !== null) add('c.state = ? COLLATE NOCASE', f.state);
  if (f.city !== null) add('c.city = ? COLLATE NOCASE', f.city);
  if (f.createdFrom !== null) add('substr(c.created, 1, 10) >= ?', f.createdFrom);
  if (f.createdUpto !== null) add('substr(c.created, 1, 10) <= ?', f.createdUpto);
  return { clause: conds.join(' AND '), params };
}

/**
 * The longest literal run of a `name` LIKE pattern (between `%` wildcards, escapes undone), as an
 * FTS5 phrase for the trigram index, or null when no run has three characters (the index cannot
 * help; the plain scan answers). Every row LIKE accepts contains that run, and the trigram index
 * (case-insensitive) finds every row containing it; LIKE then decides, so the answer is unchanged.
 */
function trigramPhrase(pattern: string): string | null {
  const runs: string[] = [];
  let cur = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\' && i + 1 < pattern.length) cur += pattern[++i];
    else if (ch === '%') {
      runs.push(cur);
      cur = '';
    } else cur += ch;
  }
  runs.push(cur);
  const best = runs.reduce((a, b) => ([...b].length > [...a].length ? b : a), '');
  return trigramQuery(best);
}

/** A list query: whether the trigram index gives the candidates, the WHERE clause, and its values in order. */
interface Query {
  fts: boolean;
  clause: string;
  params: unknown[];
}

/** The trigram phrases of recent name patterns (a pure function of the pattern), up to 1024 of them. */
const trigramPhraseOf = memoize(trigramPhrase, 1024);

/** The columns of a page's customer rows, in NeuCRM's field order. */
export const PAGE_CUSTOMER_COLUMNS = ['id', 'ispid', 'resellerid', ...CUSTOMER_FIELDS, 'created', 'updated'] as const;
const PAGE_COLUMNS = PAGE_CUSTOMER_COLUMNS.map((c) => `c.${c}`).join(', ');

/**
 * One page of customers as raw rows: `customers` in PAGE_CUSTOMER_COLUMNS order, and the services
 * of those customers as `[customerid, id, username, plan, status, created]`, ordered by customer
 * id, then service id.
 */
export interface IspcrmPage {
  customers: unknown[][];
  services: unknown[][];
}

const SORT_SQL: Record<IspcrmSortField, string> = {
  id: 'c.id',
  name: 'c.name COLLATE NOCASE',
  mobile: 'c.mobile',
  email: 'c.email COLLATE NOCASE',
};

/** A customer row before the store gives it an id (created and updated are the same instant). */
export type NewCustomer = Omit<IspcrmCustomerRow, 'id' | 'updated' | 'type'> & { type: string };

export interface PasswordReset {
  customerid: number;
  userid: number;
  email: string;
  mobile: string;
  subject: string;
  body: string;
  created: string;
}

export function createIspcrmStore(db: DB) {
  db.function('ispcrm_like', { deterministic: true }, (pattern: unknown, value: unknown) =>
    typeof pattern === 'string' && typeof value === 'string' && likeWhole(pattern, value) ? 1 : 0,
  );
  const userByKey = db.prepare(
    'SELECT userid, login, name, ispid, resellerid FROM ispcrm_users WHERE userid = ? AND api_key = ? AND active = 1',
  );
  const resellerById = db.prepare('SELECT id, ispid, name FROM ispcrm_resellers WHERE id = ?');
  // With a name pattern, the candidates come from the trigram index first (CROSS JOIN keeps that order).
  // In a session the seed's index does not know the session's own rows: they are all candidates too.
  // There the candidates are an IN list (made once per run, each arm of the view looks its rows up
  // by id): a join to the view ran the index search once per arm and built an automatic index on
  // every run (measured 245 -> 100 us for a page of a name search with 30 rows of the session's own).
  const FTS_FROM = isOverlay(db)
    ? 'ispcrm_customers c WHERE c.id IN (SELECT rowid FROM fts_ispcrm_customers WHERE fts_ispcrm_customers MATCH ? UNION ALL SELECT id FROM main.ispcrm_customers) AND'
    : 'fts_ispcrm_customers CROSS JOIN ispcrm_customers c ON c.id = fts_ispcrm_customers.rowid WHERE fts_ispcrm_customers MATCH ? AND';
  // Statements whose SQL depends on the request's filters, order or page size.
  const stmt = preparedByShape<Statement>();
  // Page marks and credential checks, remembered until the next write to this database.
  const reads = readCache(db);
  const customerInScope = db.prepare(`SELECT * FROM ispcrm_customers c
    WHERE c.id = @id AND c.ispid = @scopeIsp AND (@scopeReseller IS NULL OR c.resellerid = @scopeReseller)`);
  const insertCustomer = db.prepare(`INSERT INTO ispcrm_customers
    (ispid, resellerid, type, name, surname, dob, mobile, email, uniqueid, zipcode, state, city, street, notes, created, updated)
    VALUES (@ispid, @resellerid, @type, @name, @surname, @dob, @mobile, @email, @uniqueid, @zipcode, @state, @city, @street, @notes, @created, @created)`);
  const deleteServices = db.prepare('DELETE FROM ispcrm_services WHERE customerid = ?');
  const deleteCustomer = db.prepare('DELETE FROM ispcrm_customers WHERE id = ?');
  const insertReset =
    db.prepare(`INSERT INTO ispcrm_password_resets (customerid, userid, email, mobile, subject, body, created)
    VALUES (@customerid, @userid, @email, @mobile, @subject, @body, @created)`);

  function scopeParams(scope: IspcrmScope) {
    return { scopeIsp: scope.ispid, scopeReseller: scope.resellerid };
  }

  /** The statement's shape and its values for a filter: the trigram candidates first when the name pattern allows. */
  function query(scope: IspcrmScope, filter: IspcrmListFilter): Query {
    const { clause, params } = whereOf(scope, filter);
    const phrase = filter.name === null ? null : trigramPhraseOf(filter.name);
    if (phrase === null) return { fts: false, clause, params };
    params.unshift(phrase);
    return { fts: true, clause, params };
  }

  function countStmt(fts: boolean, clause: string): Statement {
    return stmt(`count ${fts} ${clause}`, () =>
      db.prepare(`SELECT COUNT(*) FROM ${fts ? FTS_FROM : 'ispcrm_customers c WHERE'} ${clause}`).pluck(),
    );
  }

  function pageStmt(field: IspcrmSortField, order: IspcrmSortOrder, fts: boolean, clause: string): Statement {
    return stmt(`page ${field} ${order} ${fts} ${clause}`, () => {
      const dir = order === 'desc' ? 'DESC' : 'ASC';
      const tie = field === 'id' ? '' : `, c.id ${dir}`;
      return db
        .prepare(
          `SELECT ${PAGE_COLUMNS} FROM ${fts ? FTS_FROM : 'ispcrm_customers c WHERE'} ${clause} ORDER BY ${SORT_SQL[field]} ${dir}${tie} ${pageClause()}`,
        )
        .raw();
    });
  }

  /**
   * In id order (the default) and without the trigram index, a page at or past MARK_EVERY starts
   * from a page mark (page-marks.ts): `c.id >= mark` (`<=` descending) on the scope index, which
   * ends with the id, so the rows before the mark are never walked. Null when that does not apply.
   */
  function markedRows(
    q: Query,
    sort: IspcrmSortField,
    order: IspcrmSortOrder,
    limit: number,
    offset: number,
  ): unknown[][] | null {
    if (sort !== 'id' || q.fts || offset < MARK_EVERY) return null;
    const desc = order === 'desc';
    const cond = `${q.clause} AND c.id ${desc ? '<=' : '>='} ?`;
    const orderBy = `ORDER BY c.id ${desc ? 'DESC' : 'ASC'}`;
    const step = stmt(`step ${cond} ${orderBy}`, () =>
      db.prepare(`SELECT c.id FROM ispcrm_customers c WHERE ${cond} ${orderBy} ${pageClause('1')}`).pluck(),
    );
    const list: MarkedList<[number]> = {
      key: `ispcrm ${order} ${q.clause} ${JSON.stringify(q.params)}`,
      step: (from, skip) => {
        const id = step.get(
          ...q.params,
          from === null ? (desc ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER) : from[0],
          skip,
        ) as number | undefined;
        return id === undefined ? undefined : [id];
      },
    };
    const at = pageFrom(reads, list, offset);
    if (at === null) return [];
    const page = stmt(`marked ${cond} ${orderBy}`, () =>
      db.prepare(`SELECT ${PAGE_COLUMNS} FROM ispcrm_customers c WHERE ${cond} ${orderBy} ${pageClause()}`).raw(),
    );
    return page.all(...q.params, at.from[0], limit, at.skip) as unknown[][];
  }

  /** The services of up to `n` customers in one query (n rounded up to a power of two: few statements). */
  function pageServicesStmt(n: number): { stmt: Statement; size: number } {
    let size = 1;
    while (size < n) size *= 2;
    return {
      stmt: stmt(`services ${size}`, () =>
        db
          .prepare(
            `SELECT customerid, id, username, plan, status, created FROM ispcrm_services
        WHERE customerid IN (${Array.from({ length: size }, () => '?').join(', ')}) ORDER BY customerid, id`,
          )
          .raw(),
      ),
      size,
    };
  }

  /** One page of customers and, read by one query, every service of theirs. */
  function pageRows(
    q: Query,
    sort: IspcrmSortField,
    order: IspcrmSortOrder,
    limit: number,
    offset: number,
  ): IspcrmPage {
    const customers =
      markedRows(q, sort, order, limit, offset) ??
      (pageStmt(sort, order, q.fts, q.clause).all(...q.params, limit, offset) as unknown[][]);
    if (customers.length === 0) return { customers, services: [] };
    const { stmt, size } = pageServicesStmt(customers.length);
    const ids: unknown[] = new Array(size);
    for (let i = 0; i < size; i++) ids[i] = customers[i < customers.length ? i : customers.length - 1][0];
    return { customers, services: stmt.all(...ids) as unknown[][] };
  }

  return {
    /** The active user with these credentials (remembered, like counts, until the database changes). */
    authenticate(userid: number, apiKey: string): IspcrmUser | undefined {
      // Frozen: one object answers every call until the next write. A miss is not remembered.
      return reads.get(
        `isp user ${userid} ${apiKey}`,
        () => {
          const row = userByKey.get(userid, apiKey) as IspcrmUser | undefined;
          return row ? Object.freeze(row) : undefined;
        },
        () => 256,
      );
    },

    reseller(id: number): IspcrmReseller | undefined {
      return resellerById.get(id) as IspcrmReseller | undefined;
    },

    count(scope: IspcrmScope, filter: IspcrmListFilter): number {
      const q = query(scope, filter);
      return countStmt(q.fts, q.clause).get(...q.params) as number;
    },

    /** One page of customers with their services. */
    page(
      scope: IspcrmScope,
      filter: IspcrmListFilter,
      sort: IspcrmSortField,
      order: IspcrmSortOrder,
      limit: number,
      offset: number,
    ): IspcrmPage {
      return pageRows(query(scope, filter), sort, order, limit, offset);
    },

    /** The customer when it is within the scope, else undefined (missing and foreign look alike). */
    customer(scope: IspcrmScope, id: number): IspcrmCustomerRow | undefined {
      return customerInScope.get({ id, ...scopeParams(scope) }) as IspcrmCustomerRow | undefined;
    },

    create(c: NewCustomer): number {
      return insertedId(db, insertCustomer.run(c));
    },

    /** Write the given columns (and the update time) of one customer, plus an optional reset message, atomically. */
    update(
      id: number,
      changes: Partial<Record<CustomerField, string | null>>,
      updated: string,
      reset: PasswordReset | null,
    ): void {
      const cols = CUSTOMER_FIELDS.filter((f) => f in changes);
      const s = stmt(`update ${cols.join(',')}`, () => {
        const sets = [...cols.map((c) => `${c} = @${c}`), 'updated = @updated'];
        return db.prepare(`UPDATE ispcrm_customers SET ${sets.join(', ')} WHERE id = @id`);
      });
      db.transaction(() => {
        s.run({ ...changes, updated, id });
        if (reset) insertReset.run(reset);
      })();
    },

    /** Delete a customer and its services, whatever their status. */
    remove(id: number): void {
      db.transaction(() => {
        deleteServices.run(id);
        deleteCustomer.run(id);
      })();
    },
  };
}

export type IspcrmStore = ReturnType<typeof createIspcrmStore>;
