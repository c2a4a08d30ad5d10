/**
 * ISP CRM (NeuCRM) store: ISPs, their resellers, CRM login users, customers, the customers'
 * services (PPPoE usernames) and the password-reset messages NeuCRM would send.
 *
 * Dates are stored as NeuCRM shows them (MySQL DATETIME, `yyyy-mm-dd hh:mm:ss`, UTC) so that
 * the `created_from` / `created_upto` filters compare the first ten characters.
 */
import type { DB } from './db.js';
import type { VendorTable } from '../routes/shared/vendor.js';
import { trigramIndexDdl, trigramQuery } from './trigram.js';

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
  const row = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'ispcrm_customers'").get() as { seq: number } | undefined;
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
export const CUSTOMER_FIELDS = ['type', 'name', 'surname', 'dob', 'mobile', 'email', 'uniqueid', 'zipcode', 'state', 'city', 'street', 'notes'] as const;
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

// One WHERE clause for every combination of filters: an absent filter is NULL and drops out.
// Text comparisons are case-insensitive, as NeuCRM's MySQL (_ci collation) compares them.
const WHERE = `
  c.ispid = @scopeIsp
  AND (@scopeReseller IS NULL OR c.resellerid = @scopeReseller)
  AND (@ispid IS NULL OR c.ispid = @ispid)
  AND (@resellerid IS NULL OR c.resellerid = @resellerid)
  AND (@customerid IS NULL OR c.id = @customerid)
  AND (@serviceid IS NULL OR EXISTS (SELECT 1 FROM ispcrm_services s WHERE s.customerid = c.id AND s.id = @serviceid))
  AND (@username IS NULL OR EXISTS (SELECT 1 FROM ispcrm_services s WHERE s.customerid = c.id AND s.username LIKE @username ESCAPE '\\'))
  AND (@name IS NULL OR c.name LIKE @name ESCAPE '\\')
  AND (@type IS NULL OR c.type = @type)
  AND (@mobile IS NULL OR c.mobile = @mobile)
  AND (@email IS NULL OR c.email = @email COLLATE NOCASE)
  AND (@zipcode IS NULL OR c.zipcode = @zipcode COLLATE NOCASE)
  AND (@state IS NULL OR c.state = @state COLLATE NOCASE)
  AND (@city IS NULL OR c.city = @city COLLATE NOCASE)
  AND (@createdFrom IS NULL OR substr(c.created, 1, 10) >= @createdFrom)
  AND (@createdUpto IS NULL OR substr(c.created, 1, 10) <= @createdUpto)`;

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
    else if (ch === '%') { runs.push(cur); cur = ''; }
    else cur += ch;
  }
  runs.push(cur);
  const best = runs.reduce((a, b) => ([...b].length > [...a].length ? b : a), '');
  return trigramQuery(best);
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
  const userByKey = db.prepare('SELECT userid, login, name, ispid, resellerid FROM ispcrm_users WHERE userid = ? AND api_key = ? AND active = 1');
  const resellerById = db.prepare('SELECT id, ispid, name FROM ispcrm_resellers WHERE id = ?');
  const countStmt = db.prepare(`SELECT COUNT(*) AS n FROM ispcrm_customers c WHERE ${WHERE}`);
  // The same with the name candidates from the trigram index first (CROSS JOIN keeps that order).
  const FTS_FROM = 'fts_ispcrm_customers CROSS JOIN ispcrm_customers c ON c.id = fts_ispcrm_customers.rowid';
  const countFtsStmt = db.prepare(`SELECT COUNT(*) AS n FROM ${FTS_FROM} WHERE fts_ispcrm_customers MATCH @fts AND ${WHERE}`);
  const pageStmts = new Map<string, ReturnType<DB['prepare']>>();
  const servicesOf = db.prepare('SELECT id, customerid, username, plan, status, created FROM ispcrm_services WHERE customerid = ? ORDER BY id');
  const customerInScope = db.prepare(`SELECT * FROM ispcrm_customers c
    WHERE c.id = @id AND c.ispid = @scopeIsp AND (@scopeReseller IS NULL OR c.resellerid = @scopeReseller)`);
  const insertCustomer = db.prepare(`INSERT INTO ispcrm_customers
    (ispid, resellerid, type, name, surname, dob, mobile, email, uniqueid, zipcode, state, city, street, notes, created, updated)
    VALUES (@ispid, @resellerid, @type, @name, @surname, @dob, @mobile, @email, @uniqueid, @zipcode, @state, @city, @street, @notes, @created, @created)`);
  const activeServices = db.prepare("SELECT COUNT(*) AS n FROM ispcrm_services WHERE customerid = ? AND status = 'Active'");
  const deleteServices = db.prepare('DELETE FROM ispcrm_services WHERE customerid = ?');
  const deleteCustomer = db.prepare('DELETE FROM ispcrm_customers WHERE id = ?');
  const insertReset = db.prepare(`INSERT INTO ispcrm_password_resets (customerid, userid, email, mobile, subject, body, created)
    VALUES (@customerid, @userid, @email, @mobile, @subject, @body, @created)`);
  const updateStmts = new Map<string, ReturnType<DB['prepare']>>();

  function scopeParams(scope: IspcrmScope) {
    return { scopeIsp: scope.ispid, scopeReseller: scope.resellerid };
  }

  function pageStmt(field: IspcrmSortField, order: IspcrmSortOrder, fts: boolean) {
    const key = `${field} ${order} ${fts}`;
    let stmt = pageStmts.get(key);
    if (!stmt) {
      const dir = order === 'desc' ? 'DESC' : 'ASC';
      const tie = field === 'id' ? '' : `, c.id ${dir}`;
      const from = fts ? `${FTS_FROM} WHERE fts_ispcrm_customers MATCH @fts AND` : 'ispcrm_customers c WHERE';
      stmt = db.prepare(`SELECT c.* FROM ${from} ${WHERE} ORDER BY ${SORT_SQL[field]} ${dir}${tie} LIMIT @limit OFFSET @offset`);
      pageStmts.set(key, stmt);
    }
    return stmt;
  }

  return {
    authenticate(userid: number, apiKey: string): IspcrmUser | undefined {
      return userByKey.get(userid, apiKey) as IspcrmUser | undefined;
    },

    reseller(id: number): IspcrmReseller | undefined {
      return resellerById.get(id) as IspcrmReseller | undefined;
    },

    count(scope: IspcrmScope, filter: IspcrmListFilter): number {
      const fts = filter.name === null ? null : trigramPhrase(filter.name);
      if (fts !== null) return (countFtsStmt.get({ ...scopeParams(scope), ...filter, fts }) as { n: number }).n;
      return (countStmt.get({ ...scopeParams(scope), ...filter }) as { n: number }).n;
    },

    page(scope: IspcrmScope, filter: IspcrmListFilter, sort: IspcrmSortField, order: IspcrmSortOrder, limit: number, offset: number): IspcrmCustomerRow[] {
      const fts = filter.name === null ? null : trigramPhrase(filter.name);
      const params = { ...scopeParams(scope), ...filter, limit, offset, ...(fts !== null ? { fts } : {}) };
      return pageStmt(sort, order, fts !== null).all(params) as IspcrmCustomerRow[];
    },

    services(customerid: number): IspcrmServiceRow[] {
      return servicesOf.all(customerid) as IspcrmServiceRow[];
    },

    /** The customer when it is within the scope, else undefined (missing and foreign look alike). */
    customer(scope: IspcrmScope, id: number): IspcrmCustomerRow | undefined {
      return customerInScope.get({ id, ...scopeParams(scope) }) as IspcrmCustomerRow | undefined;
    },

    create(c: NewCustomer): number {
      return Number(insertCustomer.run(c).lastInsertRowid);
    },

    /** Write the given columns (and the update time) of one customer, plus an optional reset message, atomically. */
    update(id: number, changes: Partial<Record<CustomerField, string | null>>, updated: string, reset: PasswordReset | null): void {
      const cols = CUSTOMER_FIELDS.filter((f) => f in changes);
      const key = cols.join(',');
      let stmt = updateStmts.get(key);
      if (!stmt) {
        const sets = [...cols.map((c) => `${c} = @${c}`), 'updated = @updated'];
        stmt = db.prepare(`UPDATE ispcrm_customers SET ${sets.join(', ')} WHERE id = @id`);
        updateStmts.set(key, stmt);
      }
      const s = stmt;
      db.transaction(() => {
        s.run({ ...changes, updated, id });
        if (reset) insertReset.run(reset);
      })();
    },

    activeServiceCount(customerid: number): number {
      return (activeServices.get(customerid) as { n: number }).n;
    },

    /** Delete a customer and its (inactive) services. */
    remove(id: number): void {
      db.transaction(() => {
        deleteServices.run(id);
        deleteCustomer.run(id);
      })();
    },
  };
}

export type IspcrmStore = ReturnType<typeof createIspcrmStore>;
