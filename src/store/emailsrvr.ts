/**
 * Rackspace Email & Apps store: accounts (resellers and their customers, one table) and the API
 * keys that sign requests. Account numbers are the rowid with AUTOINCREMENT, so the account the
 * next Add makes is always the next number after the highest one ever used.
 */
import { readCache } from './read-cache.js';
import { MARK_EVERY, pageFrom, type MarkedList } from './page-marks.js';
import { pageClause, preparedOnUse, storedAsGiven, type DB } from './db.js';
import type { VendorTable } from '../core/vendor.js';
import { insertedId, overlayArms } from './overlay.js';

export const emailsrvrTables: VendorTable[] = [
  {
    name: 'emailsrvr_accounts',
    ddl: `CREATE TABLE emailsrvr_accounts (
      account_number INTEGER PRIMARY KEY AUTOINCREMENT,
      name TEXT NOT NULL,
      reference_number TEXT,
      -- The reseller this account is a customer of; NULL for a top-level (reseller) account.
      reseller_account INTEGER REFERENCES emailsrvr_accounts(account_number),
      is_reseller INTEGER NOT NULL DEFAULT 0
    );
    -- In Index's order (name without case, then name, then account number: the rowid every index
    -- entry ends with), so a page is read in order and stops at its end, with no sort of the whole
    -- list (which would sort every customer of one name, case aside, before the first page).
    CREATE INDEX emailsrvr_accounts_reseller ON emailsrvr_accounts (reseller_account, name COLLATE NOCASE, name);`,
  },
  {
    name: 'emailsrvr_api_keys',
    ddl: `CREATE TABLE emailsrvr_api_keys (
      user_key TEXT PRIMARY KEY,
      secret_key TEXT NOT NULL,
      account_number INTEGER NOT NULL REFERENCES emailsrvr_accounts(account_number)
    );`,
  },
];

export interface AccountRow {
  account_number: number;
  name: string;
  reference_number: string | null;
  reseller_account: number | null;
  is_reseller: number;
}

export interface ApiKeyRow {
  user_key: string;
  secret_key: string;
  account_number: number;
}

export interface CustomerSearch {
  startswith?: string;
  contains?: string;
}

/** What Index lists of an account: its number, name and reference number. */
export interface CustomerListRow {
  account_number: number;
  name: string;
  reference_number: string | null;
}

/** One page of a reseller's customers and how many there are in all. Shared: never change it. */
export interface CustomerPage {
  readonly total: number;
  readonly rows: readonly Readonly<CustomerListRow>[];
}

export function createEmailsrvrStore(db: DB) {
  // One condition per search parameter; each matches the name, the account number or the reference number.
  // Plain string functions, not LIKE: the text is literal (no escaping), and a search longer than
  // SQLite's LIKE pattern limit (50,000 bytes) is just a search that matches nothing, not an error.
  // lower() folds ASCII only, as LIKE's case-insensitivity does.
  const starts = (col: string) => `substr(lower(${col}), 1, length(@sw)) = lower(@sw)`;
  const has = (col: string) => `instr(lower(${col}), lower(@ct)) > 0`;
  const cols = ['name', 'CAST(account_number AS TEXT)', 'reference_number'];
  const where = `reseller_account = @reseller
      AND (@sw IS NULL OR ${cols.map(starts).join(' OR ')})
      AND (@ct IS NULL OR ${cols.map(has).join(' OR ')})`;
  const ORDER = 'ORDER BY name COLLATE NOCASE, name, account_number';
  // At or after the row whose name and account number are @name and @account, in that order.
  // Spelled out (not as a row value) so SQLite reads it as a range of the reseller index.
  const FROM_KEY = `name COLLATE NOCASE >= @name AND (name COLLATE NOCASE > @name
      OR name COLLATE NOCASE = @name AND (name > @name OR name = @name AND account_number >= @account))`;
  // Only the three listed columns, as arrays: SQLite hands over rows far faster that way than as
  // objects of every column (the objects are made below, in JS).
  const LISTED = 'account_number, name, reference_number';
  type ListedRow = [number, string, string | null];
  // Prepared on first use: a state (a session) prepares only the statements its requests need.
  const s = preparedOnUse({
    byKey: () => db.prepare<[string], ApiKeyRow>('SELECT * FROM emailsrvr_api_keys WHERE user_key = ?'),
    byNumber: () => db.prepare<[number], AccountRow>('SELECT * FROM emailsrvr_accounts WHERE account_number = ?'),
    customerOf: () =>
      db.prepare<[number, number], AccountRow>(
        'SELECT * FROM emailsrvr_accounts WHERE account_number = ? AND reseller_account = ?',
      ),
    byReference: () =>
      db.prepare<[number, string], AccountRow>(
        'SELECT * FROM emailsrvr_accounts WHERE reseller_account = ? AND reference_number = ? ORDER BY account_number LIMIT 1',
      ),
    countStmt: () =>
      db.prepare<Record<string, unknown>, number>(`SELECT COUNT(*) FROM emailsrvr_accounts WHERE ${where}`).pluck(),
    pageStmt: () =>
      db
        .prepare<Record<string, unknown>, ListedRow>(
          `SELECT ${LISTED} FROM emailsrvr_accounts WHERE ${where} ${ORDER} ${pageClause('@limit', '@offset')}`,
        )
        .raw(),
    // The same with no search (the usual Index): no search conditions to evaluate on every row.
    countAll: () =>
      db.prepare<[number], number>('SELECT COUNT(*) FROM emailsrvr_accounts WHERE reseller_account = ?').pluck(),
    // A page from a page mark: the key (name, account number) in Index's order.
    firstKey: () =>
      db
        .prepare<Record<string, unknown>, [string, number]>(
          `SELECT name, account_number FROM emailsrvr_accounts WHERE ${where} ${ORDER} ${pageClause('1', '@skip')}`,
        )
        .raw(),
    stepKey: () =>
      db
        .prepare<Record<string, unknown>, [string, number]>(
          `SELECT name, account_number FROM emailsrvr_accounts WHERE ${where} AND ${FROM_KEY} ${ORDER} ${pageClause('1', '@skip')}`,
        )
        .raw(),
    markedPage: () =>
      db
        .prepare<Record<string, unknown>, ListedRow>(
          `SELECT ${LISTED} FROM emailsrvr_accounts WHERE ${where} AND ${FROM_KEY} ${ORDER} ${pageClause('@limit', '@skip')}`,
        )
        .raw(),
    pageAll: () => {
      const arms = overlayArms(db, 'emailsrvr_accounts');
      // In a session, the seed's rows and the session's own are merged in order (see overlayArms).
      const from = arms
        ? `${arms.seed} reseller_account = @reseller UNION ALL SELECT ${LISTED} FROM ${arms.main} reseller_account = @reseller
        ORDER BY name COLLATE NOCASE, name, account_number`
        : `emailsrvr_accounts WHERE reseller_account = @reseller ${ORDER}`;
      return db
        .prepare<{ reseller: number; limit: number; offset: number }, ListedRow>(
          `SELECT ${LISTED} FROM ${from} ${pageClause('@limit', '@offset')}`,
        )
        .raw();
    },
    insert: () =>
      db.prepare<[string, string | null, number]>(
        'INSERT INTO emailsrvr_accounts (name, reference_number, reseller_account, is_reseller) VALUES (?, ?, ?, 0)',
      ),
    updateName: () => db.prepare<[string, number]>('UPDATE emailsrvr_accounts SET name = ? WHERE account_number = ?'),
    updateRef: () =>
      db.prepare<[string | null, number]>(
        'UPDATE emailsrvr_accounts SET reference_number = ? WHERE account_number = ?',
      ),
    remove: () => db.prepare<[number]>('DELETE FROM emailsrvr_accounts WHERE account_number = ?'),
    removeKeys: () => db.prepare<[number]>('DELETE FROM emailsrvr_api_keys WHERE account_number = ?'),
    edit: () =>
      db.transaction((accountNumber: number, changes: { name?: string; referenceNumber?: string | null }) => {
        if (changes.name !== undefined) s.updateName.run(changes.name, accountNumber);
        if (changes.referenceNumber !== undefined) s.updateRef.run(changes.referenceNumber, accountNumber);
      }),
    del: () =>
      db.transaction((accountNumber: number) => {
        s.removeKeys.run(accountNumber);
        s.remove.run(accountNumber);
      }),
  });

  // Reads remembered until the database changes, in the database's read cache (read-cache.ts).
  const reads = readCache(db);

  /** The value remembered under `key` while the database is unchanged (a read that found nothing is not kept). */
  function remember<T extends object>(key: string, make: () => T | undefined, bytes = 256): T | undefined {
    return reads.get(key, make, () => bytes);
  }

  /** A reseller's number of customers, counted once per data version. */
  const customerCount = (reseller: number): number =>
    reads.get(
      `es count ${reseller}`,
      () => s.countAll.get(reseller)!,
      () => 8,
    );

  /**
   * The rows of a page at or past MARK_EVERY, read from a page mark (page-marks.ts): the key of
   * Index's order (name without case, name, account number) is a range of the reseller index, so
   * the rows before the mark are never walked.
   */
  function markedPage(
    reseller: number,
    sw: string | null,
    ct: string | null,
    offset: number,
    limit: number,
  ): ListedRow[] {
    const params = { reseller, sw, ct };
    const list: MarkedList<[string, number]> = {
      key: `es ${JSON.stringify([reseller, sw, ct])}`,
      step: (from, skip) => {
        const r = (
          from === null
            ? s.firstKey.get({ ...params, skip })
            : s.stepKey.get({ ...params, name: from[0], account: from[1], skip })
        ) as [string, number] | undefined;
        return r === undefined ? undefined : [r[0], r[1]];
      },
    };
    const at = pageFrom(reads, list, offset);
    if (at === null) return [];
    return s.markedPage.all({ ...params, name: at.from[0], account: at.from[1], skip: at.skip, limit });
  }

  function customerPage(reseller: number, search: CustomerSearch, offset: number, limit: number): CustomerPage {
    const sw = search.startswith ?? null;
    const ct = search.contains ?? null;
    let total: number;
    let raw: ListedRow[];
    if (sw === null && ct === null) {
      total = customerCount(reseller);
      raw =
        offset >= MARK_EVERY ? markedPage(reseller, sw, ct, offset, limit) : s.pageAll.all({ reseller, limit, offset });
    } else {
      const params = { reseller, sw, ct };
      total = reads.get(
        `es count ${JSON.stringify([reseller, sw, ct])}`,
        () => s.countStmt.get(params)!,
        () => 8,
      );
      raw =
        offset >= MARK_EVERY
          ? markedPage(reseller, sw, ct, offset, limit)
          : s.pageStmt.all({ ...params, limit, offset });
    }
    const rows: CustomerListRow[] = new Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const r = raw[i];
      rows[i] = { account_number: r[0], name: r[1], reference_number: r[2] };
    }
    return { total, rows };
  }

  return {
    /**
     * A value derived from the database (a page, a serialized document), remembered until the
     * next change to the database. The value is shared: callers must never change it.
     */
    /** The API key, or undefined; remembered until the database changes (shared: never change it). */
    apiKey(userKey: string): Readonly<ApiKeyRow> | undefined {
      return remember(`key\0${userKey}`, () => s.byKey.get(userKey));
    },
    /** The account, or undefined; remembered until the database changes (shared: never change it). */
    account(accountNumber: number): Readonly<AccountRow> | undefined {
      return remember(`account\0${accountNumber}`, () => s.byNumber.get(accountNumber));
    },
    /** A customer of the given reseller, or undefined (unknown, or someone else's). */
    customer(reseller: number, accountNumber: number): AccountRow | undefined {
      return s.customerOf.get(accountNumber, reseller);
    },
    customerByReference(reseller: number, referenceNumber: string): AccountRow | undefined {
      return s.byReference.get(reseller, referenceNumber);
    },
    /** One page of the reseller's customers, ordered by name (then account number), and the total. */
    customers(reseller: number, search: CustomerSearch, offset: number, limit: number): CustomerPage {
      return customerPage(reseller, search, offset, limit);
    },
    addCustomer(reseller: number, name: string, referenceNumber: string | null): AccountRow {
      const r = s.insert.run(name, referenceNumber, reseller);
      const accountNumber = insertedId(db, r);
      // A text with a lone surrogate is stored otherwise than given (U+FFFD): read such a row back.
      // Any other is the row as just written (TEXT keeps the strings given).
      if (!storedAsGiven(name) || (referenceNumber !== null && !storedAsGiven(referenceNumber)))
        return s.byNumber.get(accountNumber)!;
      return {
        account_number: accountNumber,
        name,
        reference_number: referenceNumber,
        reseller_account: reseller,
        is_reseller: 0,
      };
    },
    editAccount(accountNumber: number, changes: { name?: string; referenceNumber?: string | null }): AccountRow {
      s.edit(accountNumber, changes);
      return s.byNumber.get(accountNumber)!;
    },
    deleteAccount(accountNumber: number): void {
      s.del(accountNumber);
    },
  };
}

export type EmailsrvrStore = ReturnType<typeof createEmailsrvrStore>;
