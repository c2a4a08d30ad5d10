/**
 * UniPay Management API store: merchant accounts, service users (and which accounts each may act
 * on), and customers. Prepared statements only; no HTTP here.
 */
import type { Statement } from 'better-sqlite3';
import { likeParam, pageClause, preparedByShape, storedAsGiven, type DB } from './db.js';
import type { VendorTable } from '../core/vendor.js';
import { readCache } from './read-cache.js';
import { MARK_EVERY, pageFrom } from './page-marks.js';
import { insertedId } from './overlay.js';

export const mgmtTables: VendorTable[] = [
  {
    name: 'mgmt_accounts',
    ddl: `CREATE TABLE mgmt_accounts (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      name TEXT NOT NULL
    )`,
  },
  {
    name: 'mgmt_users',
    // password_hash is `scrypt$<N>$<salt hex>$<key hex>`: no plaintext passwords in a store that can be exported.
    ddl: `CREATE TABLE mgmt_users (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      login TEXT NOT NULL UNIQUE,
      password_hash TEXT NOT NULL,
      active INTEGER NOT NULL DEFAULT 1
    )`,
  },
  {
    name: 'mgmt_user_accounts',
    ddl: `CREATE TABLE mgmt_user_accounts (
      user_id INTEGER NOT NULL REFERENCES mgmt_users(id),
      account_id INTEGER NOT NULL REFERENCES mgmt_accounts(id),
      PRIMARY KEY (user_id, account_id)
    )`,
  },
  {
    name: 'mgmt_customers',
    ddl: `CREATE TABLE mgmt_customers (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      code TEXT NOT NULL,
      account_id INTEGER NOT NULL REFERENCES mgmt_accounts(id),
      title TEXT,
      first_name TEXT,
      middle_name TEXT,
      last_name TEXT,
      suffix TEXT,
      birth_date TEXT,
      gender TEXT,
      organization_name TEXT,
      email TEXT,
      phone TEXT,
      street TEXT,
      city TEXT,
      state TEXT,
      zip_code TEXT,
      country_code TEXT,
      created_at TEXT NOT NULL
    );
    CREATE INDEX mgmt_customers_account ON mgmt_customers(account_id, id)`,
  },
];

/** A customer as stored, in API field names. Absent fields are null. */
export interface MgmtCustomer {
  id: number;
  code: string;
  accountId: number;
  title: string | null;
  firstName: string | null;
  middleName: string | null;
  lastName: string | null;
  suffix: string | null;
  birthDate: string | null;
  gender: string | null;
  organizationName: string | null;
  email: string | null;
  phone: string | null;
  street: string | null;
  city: string | null;
  state: string | null;
  zipCode: string | null;
  countryCode: string | null;
}

/** API field name -> column, in the documented order (also the output order). */
export const CUSTOMER_COLUMNS = {
  id: 'id',
  code: 'code',
  accountId: 'account_id',
  title: 'title',
  firstName: 'first_name',
  middleName: 'middle_name',
  lastName: 'last_name',
  suffix: 'suffix',
  birthDate: 'birth_date',
  gender: 'gender',
  organizationName: 'organization_name',
  email: 'email',
  phone: 'phone',
  street: 'street',
  city: 'city',
  state: 'state',
  zipCode: 'zip_code',
  countryCode: 'country_code',
} as const satisfies Record<keyof MgmtCustomer, string>;

export type NewCustomer = Omit<MgmtCustomer, 'id' | 'code'> & { code: string | null };

/** How a find filter matches: `contains` = case-insensitive substring, `exact` = case-insensitive equality. */
export type MatchKind = 'contains' | 'exact';

export interface CustomerFilter {
  field: keyof typeof CUSTOMER_COLUMNS;
  match: MatchKind;
  value: string;
}

export interface MgmtUser {
  id: number;
  login: string;
  passwordHash: string;
  active: boolean;
}

/** The customer columns in CUSTOMER_COLUMNS order, read as raw rows (arrays) and made objects by customerOf. */
const SELECT_COLUMNS = Object.values(CUSTOMER_COLUMNS).join(', ');

/**
 * A raw row (SELECT_COLUMNS order) as a customer. An object literal of a fixed shape is made far
 * faster than the row objects better-sqlite3 builds property by property (a find's page of 20
 * customers cost about 35 us that way); the keys and their order are the same.
 */
function customerOf(r: unknown[]): MgmtCustomer {
  return {
    id: r[0] as number,
    code: r[1] as string,
    accountId: r[2] as number,
    title: r[3] as string | null,
    firstName: r[4] as string | null,
    middleName: r[5] as string | null,
    lastName: r[6] as string | null,
    suffix: r[7] as string | null,
    birthDate: r[8] as string | null,
    gender: r[9] as string | null,
    organizationName: r[10] as string | null,
    email: r[11] as string | null,
    phone: r[12] as string | null,
    street: r[13] as string | null,
    city: r[14] as string | null,
    state: r[15] as string | null,
    zipCode: r[16] as string | null,
    countryCode: r[17] as string | null,
  };
}

/** Text made of ASCII characters only (NUL included). */
const ASCII_ONLY = /^[\x00-\x7f]*$/;

/**
 * The characters beyond ASCII whose lower case (String.prototype.toLowerCase) is or holds an ASCII
 * character: U+0130 (to "i" and U+0307) and U+212A KELVIN SIGN (to "k"). No other code point does
 * (test/mgmt checks this against the running engine's Unicode data).
 */
export const FOLDS_TO_ASCII = ['\u0130', '\u212a'] as const;

const storedText = (v: unknown) => v === null || (typeof v === 'string' && storedAsGiven(v));

/** Whether reading the new row back would give exactly the values of `c` (see create). */
function storesAsGiven(c: NewCustomer): boolean {
  return (
    Number.isSafeInteger(c.accountId) &&
    storedText(c.code) &&
    storedText(c.title) &&
    storedText(c.firstName) &&
    storedText(c.middleName) &&
    storedText(c.lastName) &&
    storedText(c.suffix) &&
    storedText(c.birthDate) &&
    storedText(c.gender) &&
    storedText(c.organizationName) &&
    storedText(c.email) &&
    storedText(c.phone) &&
    storedText(c.street) &&
    storedText(c.city) &&
    storedText(c.state) &&
    storedText(c.zipCode) &&
    storedText(c.countryCode)
  );
}

/** Make a user's text literal inside a LIKE pattern (escape character `\`). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Accounts a find reads as one merged arm each (see find). */
const MAX_ARMS = 64;

export function createMgmtStore(db: DB) {
  // Unicode-aware case folding (SQLite's own lower()/LIKE only fold ASCII).
  db.function('mgmt_fold', { deterministic: true }, (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v));

  const userByLogin = db.prepare(
    'SELECT id, login, password_hash AS passwordHash, active FROM mgmt_users WHERE login = ?',
  );
  const accountsOfUser = db
    .prepare('SELECT account_id AS id FROM mgmt_user_accounts WHERE user_id = ? ORDER BY account_id')
    .pluck();
  const byId = db.prepare(`SELECT ${SELECT_COLUMNS} FROM mgmt_customers WHERE id = ?`).raw();
  const insert =
    db.prepare(`INSERT INTO mgmt_customers (code, account_id, title, first_name, middle_name, last_name, suffix,
      birth_date, gender, organization_name, email, phone, street, city, state, zip_code, country_code, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const setCode = db.prepare('UPDATE mgmt_customers SET code = ? WHERE id = ?');
  const findStatements = preparedByShape<{ count: Statement; step: Statement; marked: Statement }>();
  // Answers derived from reads only (find and load bodies, authenticated users, totals, page marks), kept until the
  // next write.
  const reads = readCache(db);

  const insertTx = db.transaction((c: NewCustomer, createdAt: string): number => {
    const id = insertedId(
      db,
      insert.run(
        c.code ?? '',
        c.accountId,
        c.title,
        c.firstName,
        c.middleName,
        c.lastName,
        c.suffix,
        c.birthDate,
        c.gender,
        c.organizationName,
        c.email,
        c.phone,
        c.street,
        c.city,
        c.state,
        c.zipCode,
        c.countryCode,
        createdAt,
      ),
    );
    if (c.code === null) setCode.run(String(id), id);
    return id;
  });

  return {
    userByLogin(login: string): MgmtUser | undefined {
      const row = userByLogin.get(login) as
        { id: number; login: string; passwordHash: string; active: number } | undefined;
      return row ? { ...row, active: row.active === 1 } : undefined;
    },

    accountsOf(userId: number): number[] {
      return accountsOfUser.all(userId) as number[];
    },

    get(id: number): MgmtCustomer | undefined {
      const r = byId.get(id) as unknown[] | undefined;
      return r === undefined ? undefined : customerOf(r);
    },

    /** Insert a customer; a null code becomes the new id. Returns the stored customer. */
    create(c: NewCustomer, createdAt: string): MgmtCustomer {
      const id = insertTx(c, createdAt);
      // The stored row holds exactly what was written (TEXT columns keep well-formed strings as
      // they are; the id and account are integers), so the answer is made from it without reading
      // the row back. Anything else (a lone surrogate becomes U+FFFD in the database) is read back.
      if (!storesAsGiven(c)) return customerOf(byId.get(id) as unknown[]);
      return {
        id,
        code: c.code ?? String(id),
        accountId: c.accountId,
        title: c.title,
        firstName: c.firstName,
        middleName: c.middleName,
        lastName: c.lastName,
        suffix: c.suffix,
        birthDate: c.birthDate,
        gender: c.gender,
        organizationName: c.organizationName,
        email: c.email,
        phone: c.phone,
        street: c.street,
        city: c.city,
        state: c.state,
        zipCode: c.zipCode,
        countryCode: c.countryCode,
      };
    },

    /** Customers of the given accounts matching every filter, by id, one page of them plus the total. */
    find(
      accountIds: number[],
      filters: CustomerFilter[],
      offset: number,
      limit: number,
    ): { total: number; items: MgmtCustomer[] } {
      if (accountIds.length === 0) return { total: 0, items: [] };
      const where: string[] = [`account_id IN (${accountIds.map(() => '?').join(', ')})`];
      const params: unknown[] = [...accountIds];
      for (const f of filters) {
        const col = CUSTOMER_COLUMNS[f.field];
        const folded = f.value.toLowerCase();
        if (f.match !== 'exact' && folded.includes('\u0000')) {
          // SQLite reads a LIKE pattern up to its first NUL ("\0" would match every row): instr()
          // compares bytes, NULs included, so the text stays literal.
          where.push(`instr(mgmt_fold(${col}), ?) > 0`);
          params.push(folded);
          continue;
        }
        if (ASCII_ONLY.test(folded)) {
          // An ASCII search text (the common case) needs mgmt_fold (a call into JavaScript) only for
          // values holding a character whose lower case is or holds ASCII (FOLDS_TO_ASCII): for every
          // other value, ASCII-folding lower()/LIKE give exactly what mgmt_fold gives (its non-ASCII
          // characters fold to non-ASCII ones, which can never equal or hold ASCII text). A plain
          // LIKE match is a match either way, so mgmt_fold runs only for rows with those characters.
          const special = FOLDS_TO_ASCII.map((ch) => `instr(${col}, '${ch}') > 0`).join(' OR ');
          if (f.match === 'exact') {
            where.push(`(lower(${col}) = ? OR (${special}) AND mgmt_fold(${col}) = ?)`);
            params.push(folded, folded);
          } else {
            const literal = escapeLike(folded);
            // Without \, % or _ in the text, the pattern needs no ESCAPE clause (same meaning, cheaper per row).
            const escape = literal === folded ? '' : " ESCAPE '\\'";
            const pattern = `%${literal}%`;
            where.push(
              `(${col} LIKE ${likeParam()}${escape} OR (${special}) AND mgmt_fold(${col}) LIKE ${likeParam()}${escape})`,
            );
            params.push(pattern, pattern);
          }
          continue;
        }
        // mgmt_fold (a call into JavaScript) only for values that are not plain ASCII text: for
        // those, lower() and LIKE's own case folding (ASCII) give exactly what mgmt_fold gives, at
        // a fraction of the cost. length() counts characters up to a NUL and octet_length() bytes,
        // so they are equal only for ASCII text without NUL; anything else takes mgmt_fold.
        const ascii = `typeof(${col}) = 'text' AND length(${col}) = octet_length(${col})`;
        if (f.match === 'exact') {
          where.push(`CASE WHEN ${ascii} THEN lower(${col}) = ? ELSE mgmt_fold(${col}) = ? END`);
          params.push(folded, folded);
        } else {
          const pattern = `%${escapeLike(folded)}%`;
          where.push(
            `CASE WHEN ${ascii} THEN ${col} LIKE ${likeParam()} ESCAPE '\\' ELSE mgmt_fold(${col}) LIKE ${likeParam()} ESCAPE '\\' END`,
          );
          params.push(pattern, pattern);
        }
      }
      const clause = where.join(' AND ');
      // The rows from id @from on, in id order: one arm per account, each read in order from the
      // account index and merged by SQLite (an IN list over the index would be sorted whole).
      const filterClause = where
        .slice(1)
        .map((w) => ` AND ${w}`)
        .join('');
      // Past MAX_ARMS accounts (SQLite takes at most 500 arms) the IN list is read and sorted instead.
      const merged = accountIds.length <= MAX_ARMS;
      const fromId = (cols: string) =>
        merged
          ? accountIds
              .map(() => `SELECT ${cols} FROM mgmt_customers WHERE account_id = ?${filterClause} AND id >= ?`)
              .join(' UNION ALL ')
          : `SELECT ${cols} FROM mgmt_customers WHERE ${clause} AND id >= ?`;
      const fromParams = (from: number) =>
        merged ? accountIds.flatMap((a) => [a, ...params.slice(accountIds.length), from]) : [...params, from];
      // The shape depends only on which filters are present (column names from a fixed table), so
      // there are few distinct statements: each is prepared once per database.
      const stmts = findStatements(clause, () => ({
        count: db.prepare(`SELECT COUNT(*) FROM mgmt_customers WHERE ${clause}`).pluck(),
        step: db.prepare(`${fromId('id')} ORDER BY id ${pageClause('1')}`).pluck(),
        marked: db.prepare(`${fromId(SELECT_COLUMNS)} ORDER BY id ${pageClause()}`).raw(),
      }));
      const listKey = `mgmt ${clause} ${JSON.stringify(params)}`;
      let rows: unknown[][];
      if (offset < MARK_EVERY)
        rows = stmts.marked.all(...fromParams(Number.MIN_SAFE_INTEGER), limit, offset) as unknown[][];
      else {
        // A deep page starts from a page mark (page-marks.ts), never walking the rows before it.
        const at = pageFrom(
          reads,
          {
            key: listKey,
            step: (from: [number] | null, skip: number) => {
              const id = stmts.step.get(...fromParams(from === null ? Number.MIN_SAFE_INTEGER : from[0]), skip) as
                number | undefined;
              return id === undefined ? undefined : ([id] as [number]);
            },
          },
          offset,
        );
        rows = at === null ? [] : (stmts.marked.all(...fromParams(at.from[0]), limit, at.skip) as unknown[][]);
      }
      const items: MgmtCustomer[] = new Array(rows.length);
      for (let i = 0; i < rows.length; i++) items[i] = customerOf(rows[i]);
      // A page that is not full ends the matches, so it tells the total: count only otherwise
      // (a full page, or an empty one past the start), once per data version.
      const total =
        items.length > 0 && items.length < limit
          ? offset + items.length
          : items.length === 0 && offset === 0
            ? 0
            : reads.get(
                `mgmt count ${listKey}`,
                () => stmts.count.get(...params) as number,
                () => 8,
              );
      return { total, items };
    },
  };
}

export type MgmtStore = ReturnType<typeof createMgmtStore>;
