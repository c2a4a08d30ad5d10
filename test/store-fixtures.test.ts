/**
 * Loading fixtures into the store: JSON Lines tables (row objects, or a header line and row
 * arrays) give exactly the rows the same data gives as a `.json` file, in file order, with the
 * same SQL types; bad lines fail the load naming file and line; search indexes built after a
 * bulk load answer like ones kept row by row; the default state is the loaded database itself,
 * and the image that sessions and reset start from does not see its writes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { vendors } from '../src/vendors.js';
import { rowOrder } from '../src/store/overlay.js';
import { StateRegistry } from '../src/store/state.js';
import { flushKeywordIndex } from '../src/store/rackcorp.js';
import type { DB } from '../src/store/db.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'store-fx-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let seq = 0;

/** A fixtures folder holding `files` (path under the folder -> content). */
function folder(files: Record<string, string>): string {
  const dir = path.join(tmp, `f${seq++}`);
  for (const [f, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), content);
  }
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

const registries: StateRegistry[] = [];
afterAll(() => registries.forEach((r) => r.close()));
function load(dir: string): StateRegistry {
  const r = new StateRegistry({ vendors, fixturesDir: dir, dbFile: null, sessionIdleMs: 0 });
  registries.push(r);
  return r;
}

/** Every row of `table` in rowid order, each column as SQL text with its type (quote()). */
function dump(db: DB, table: string): string[] {
  const cols = db
    .prepare(`SELECT * FROM ${table} LIMIT 0`)
    .columns()
    .map((c) => c.name);
  return db
    .prepare(
      `SELECT ${cols.map((c) => `quote("${c}")`).join(` || ',' || `)} AS r FROM ${table} ORDER BY ${rowOrder(db, table)}`,
    )
    .pluck()
    .all() as string[];
}

const lines = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

// Rackspace accounts: a reseller and customers whose values cover the JSON types: a number and
// a boolean in a TEXT column, null, escapes, non-ASCII text and an object (stored as JSON text).
const RESELLER = {
  account_number: 460180,
  name: 'Reseller',
  reference_number: null,
  reseller_account: null,
  is_reseller: 1,
};
const accounts: Record<string, unknown>[] = [RESELLER];
for (let i = 1; i <= 300; i++) {
  accounts.push({
    account_number: 460180 + i,
    name: i % 7 === 0 ? `Quote "${i}" back\\slash\nline é ✓` : `Customer ${i}`,
    reference_number: i % 5 === 0 ? i : i % 5 === 1 ? null : i % 5 === 2 ? true : i % 5 === 3 ? { ref: i } : `R-${i}`,
    reseller_account: 460180,
    is_reseller: 0,
  });
}
const COLS = ['account_number', 'name', 'reference_number', 'reseller_account', 'is_reseller'];

describe('JSON Lines fixtures', () => {
  const fromJson = load(folder({ 'emailsrvr/emailsrvr_accounts.json': JSON.stringify(accounts) }));
  const expected = dump(fromJson.defaultState.db, 'emailsrvr_accounts');

  it('row objects load exactly the rows and types of the same .json data', () => {
    const r = load(folder({ 'emailsrvr/emailsrvr_accounts.jsonl': lines(accounts) }));
    expect(dump(r.defaultState.db, 'emailsrvr_accounts')).toEqual(expected);
  });

  it('a header line and row arrays load the same rows as row objects', () => {
    const text = JSON.stringify(COLS) + '\n' + lines(accounts.map((a) => COLS.map((c) => a[c])));
    const r = load(folder({ 'emailsrvr/emailsrvr_accounts.jsonl': text }));
    expect(dump(r.defaultState.db, 'emailsrvr_accounts')).toEqual(expected);
  });

  it('the header may list the columns in any order, and blank lines are skipped', () => {
    const cols = [...COLS].reverse();
    const text =
      '\n' + JSON.stringify(cols) + '\n\n' + accounts.map((a) => JSON.stringify(cols.map((c) => a[c]))).join('\n  \n');
    const r = load(folder({ 'emailsrvr/emailsrvr_accounts.jsonl': text }));
    expect(dump(r.defaultState.db, 'emailsrvr_accounts')).toEqual(expected);
  });

  it('keeps file order across rows of different keys, arrays and objects mixed, absent keys taking the default', () => {
    // Shapes change every few rows, across the statement batches: order and defaults must hold.
    const rows: string[] = [
      JSON.stringify(COLS),
      JSON.stringify(COLS.map((c) => RESELLER[c as keyof typeof RESELLER])),
    ];
    const want: Record<string, unknown>[] = [RESELLER];
    for (let i = 1; i <= 500; i++) {
      const full = {
        account_number: 460180 + i,
        name: `N${i}`,
        reference_number: `R${i}`,
        reseller_account: 460180,
        is_reseller: 0,
      };
      if (i % 3 === 0) {
        rows.push(JSON.stringify(COLS.map((c) => full[c as keyof typeof full])));
        want.push(full);
      } else if (i % 3 === 1) {
        rows.push(JSON.stringify({ name: full.name, account_number: full.account_number, reseller_account: 460180 }));
        want.push({ ...full, reference_number: null, is_reseller: 0 });
      } else {
        rows.push(JSON.stringify(full));
        want.push(full);
      }
    }
    const r = load(folder({ 'emailsrvr/emailsrvr_accounts.jsonl': rows.join('\n') }));
    const plain = load(folder({ 'emailsrvr/emailsrvr_accounts.json': JSON.stringify(want) }));
    expect(dump(r.defaultState.db, 'emailsrvr_accounts')).toEqual(dump(plain.defaultState.db, 'emailsrvr_accounts'));
    expect(r.defaultState.db.prepare('SELECT COUNT(*) FROM emailsrvr_accounts').pluck().get()).toBe(501);
  });

  it('reads every kind of value in a row array as JSON.parse does', () => {
    // Values the fast path takes (plain strings, integers, null, booleans) and ones it leaves to
    // JSON.parse (escapes, floats, exponents, long integers, white space, nested values).
    const values: unknown[] = [
      '',
      'plain',
      '[a, b]',
      'comma, "quoted"',
      'tab\there',
      'back\\slash',
      'é ✓ 𝄞',
      '{"x": 1}',
      0,
      -0,
      7,
      -42,
      123456789012345,
      1234567890123456,
      12345678901234567000,
      1.5,
      -0.25,
      1e21,
      2e-7,
      null,
      true,
      false,
      { nested: [1, 'two'] },
      [1, 2],
    ];
    const rows = values.map((v, i) => [460181 + i, `N${i}`, v, 460180, i % 3 === 0 ? true : i % 3 === 1 ? -3 : 0]);
    const cols = ['account_number', 'name', 'reference_number', 'reseller_account', 'is_reseller'];
    const text = [
      JSON.stringify(cols),
      JSON.stringify(COLS.map((c) => RESELLER[c as keyof typeof RESELLER])),
      ...rows.map((r, i) => (i % 4 === 0 ? JSON.stringify(r, null, 1).replace(/\n/g, ' ') : JSON.stringify(r))),
    ].join('\n');
    const asObjects = [RESELLER, ...rows.map((r) => Object.fromEntries(cols.map((c, i) => [c, r[i]])))];
    const viaLines = load(folder({ 'emailsrvr/emailsrvr_accounts.jsonl': text }));
    const viaJson = load(folder({ 'emailsrvr/emailsrvr_accounts.json': JSON.stringify(asObjects) }));
    expect(dump(viaLines.defaultState.db, 'emailsrvr_accounts')).toEqual(
      dump(viaJson.defaultState.db, 'emailsrvr_accounts'),
    );
  });

  it.each([
    ['ASCII', ''],
    ['non-ASCII', ' é ✓ 𝄞'],
  ])('reads plain values in place in a %s file as JSON.parse does', (_kind, extra) => {
    // A file with no escape and no control character: every row goes through the in-place scan
    // (booleans and integers in a TEXT column, -0, the longest integer it takes, empty strings).
    const values: unknown[] = ['', `plain${extra}`, '[a, b]', '{x}', 0, -0, 7, -42, 123456789012345, null, true, false];
    const rows = values.map((v, i) => [
      460181 + i,
      `N${i}${extra}`,
      v,
      460180,
      i % 3 === 0 ? true : i % 3 === 1 ? -3 : false,
    ]);
    const text =
      [
        JSON.stringify(COLS),
        JSON.stringify(COLS.map((c) => RESELLER[c as keyof typeof RESELLER])),
        ...rows.map((r) => JSON.stringify(r)),
      ].join('\n') + '\n';
    const asObjects = [RESELLER, ...rows.map((r) => Object.fromEntries(COLS.map((c, i) => [c, r[i]])))];
    const viaLines = load(folder({ 'emailsrvr/emailsrvr_accounts.jsonl': text }));
    const viaJson = load(folder({ 'emailsrvr/emailsrvr_accounts.json': JSON.stringify(asObjects) }));
    expect(dump(viaLines.defaultState.db, 'emailsrvr_accounts')).toEqual(
      dump(viaJson.defaultState.db, 'emailsrvr_accounts'),
    );
  });

  it.each([
    '[01, "a"]',
    '[1, "a",]',
    '[1 "a"]',
    '[1, nul]',
    '[1, "a"b"]',
    '[-, "a"]',
    '[1, "a"]]',
    '[1, "a"',
    '[1, "a\u0001"]',
    '[1, tru]',
    '[1, "a"] x',
  ])('refuses the row array %s as JSON.parse would', (line) => {
    expect(() => JSON.parse(line)).toThrow();
    const text = '["account_number", "name"]\n[460181, "ok"]\n' + line.replace(/ /g, '') + '\n';
    expect(() => load(folder({ 'emailsrvr/emailsrvr_accounts.jsonl': text }))).toThrow(
      /emailsrvr_accounts\.jsonl:3: not valid JSON/,
    );
  });

  it.each([
    [
      'a line that is not JSON',
      '{"account_number": 1, "name": "a"}\n{"account_number": 2,\n',
      /emailsrvr_accounts\.jsonl:2: not valid JSON/,
    ],
    [
      'a row array without a header line',
      '[1, "a", null, null, 1]\n',
      /emailsrvr_accounts\.jsonl:1: a row array needs a header line first/,
    ],
    [
      'a header after the first line',
      '{"account_number": 1, "name": "a"}\n["account_number", "name"]\n',
      /emailsrvr_accounts\.jsonl:2: a row array needs a header line first/,
    ],
    [
      'a row array of the wrong length',
      '["account_number", "name"]\n[1, "a"]\n[2]\n',
      /emailsrvr_accounts\.jsonl:3: expected 2 values .* found 1/,
    ],
    [
      'a header naming a column twice',
      '["account_number", "name", "name"]\n',
      /emailsrvr_accounts\.jsonl:1: the header line names a column twice/,
    ],
    [
      'a line that is not a row',
      '{"account_number": 1, "name": "a"}\n42\n',
      /emailsrvr_accounts\.jsonl:2: expected a row object/,
    ],
    ['an unknown column', '["account_number", "nmae"]\n[1, "a"]\n', /emailsrvr\/emailsrvr_accounts\.jsonl: .*nmae/],
    [
      'a duplicate id',
      '["account_number", "name"]\n[1, "a"]\n[1, "b"]\n',
      /emailsrvr\/emailsrvr_accounts\.jsonl: UNIQUE constraint failed/,
    ],
    [
      'a missing NOT NULL value',
      '["account_number", "name"]\n[1, null]\n',
      /emailsrvr\/emailsrvr_accounts\.jsonl: NOT NULL constraint failed/,
    ],
    [
      'a dangling reference',
      '["account_number", "name", "reseller_account"]\n[1, "a", 999]\n',
      /FOREIGN KEY constraint failed/,
    ],
  ])('refuses %s, naming the file', (_name, text, message) => {
    expect(() => load(folder({ 'emailsrvr/emailsrvr_accounts.jsonl': text }))).toThrow(message);
  });
});

describe('search indexes after a bulk load', () => {
  const customers: {
    id: number;
    parentID: number | null;
    companyName: string;
    stdName: string;
    dateCreated: number;
    dateModified: number;
  }[] = [{ id: 1, parentID: null, companyName: 'Root', stdName: 'Root', dateCreated: 1, dateModified: 1 }];
  for (let i = 2; i <= 400; i++) {
    const companyName = i % 10 === 0 ? `Harbour Robotics ${i}` : `Company ${i}`;
    customers.push({ id: i, parentID: 1, companyName, stdName: companyName, dateCreated: i, dateModified: i });
  }
  const keys = Object.keys(customers[0]);
  const viaLines = load(
    folder({
      'rackcorp/rackcorp_customers.jsonl':
        JSON.stringify(keys) + '\n' + lines(customers.map((c) => keys.map((k) => c[k as keyof typeof c]))),
    }),
  );
  const viaJson = load(folder({ 'rackcorp/rackcorp_customers.json': JSON.stringify(customers) }));

  it('finds the same rows as an index kept row by row', () => {
    const q = (db: DB, text: string) =>
      db.prepare('SELECT rowid FROM fts_rackcorp_customers(?) ORDER BY rowid').pluck().all(text);
    for (const text of ['"Har" AND "rob"', '"ics"', '"Com" AND "pan"', '"oot"']) {
      expect(q(viaLines.defaultState.db, text)).toEqual(q(viaJson.defaultState.db, text));
    }
    expect(q(viaLines.defaultState.db, '"Har" AND "rob"')).toHaveLength(40);
    viaLines.defaultState.db
      .prepare("INSERT INTO fts_rackcorp_customers (fts_rackcorp_customers) VALUES ('integrity-check')")
      .run();
  });

  it('leaves the index set up as before the load (hash size, triggers kept in step)', () => {
    const db = viaLines.defaultState.db;
    const hashsize = db.prepare("SELECT v FROM fts_rackcorp_customers_config WHERE k = 'hashsize'").pluck().get();
    expect(hashsize === undefined || hashsize === 1024 * 1024).toBe(true);
    const triggers = (d: DB) =>
      d.prepare("SELECT name, sql FROM sqlite_master WHERE type IN ('trigger', 'index') ORDER BY name").all();
    expect(triggers(db)).toEqual(triggers(viaJson.defaultState.db));
    // Nothing waits out of the keyword index after the load; a later row waits there (keyword
    // searches scan those rows too) until a batch of them is written to the index.
    expect(db.prepare('SELECT id FROM fts_rackcorp_unindexed').pluck().all()).toEqual([]);
    db.prepare(
      "INSERT INTO rackcorp_customers (id, parentID, companyName, stdName, dateCreated, dateModified) VALUES (999, 1, 'Harbour Late', 'Harbour Late', 1, 1)",
    ).run();
    expect(db.prepare('SELECT id FROM fts_rackcorp_unindexed').pluck().all()).toEqual([999]);
    flushKeywordIndex(db);
    expect(db.prepare('SELECT rowid FROM fts_rackcorp_customers(?)').pluck().all('"Lat"')).toEqual([999]);
    expect(db.prepare('SELECT id FROM fts_rackcorp_unindexed').pluck().all()).toEqual([]);
  });
});

describe('the default state and the image', () => {
  it('the default state holds the loaded data, and its writes reach neither sessions nor reset', () => {
    const r = load(folder({ 'emailsrvr/emailsrvr_accounts.jsonl': lines(accounts) }));
    const before = dump(r.defaultState.db, 'emailsrvr_accounts');
    expect(dump(r.freshDb(), 'emailsrvr_accounts')).toEqual(before);
    r.defaultState.db
      .prepare("INSERT INTO emailsrvr_accounts (account_number, name, reseller_account) VALUES (1, 'late', 460180)")
      .run();
    expect(dump(r.get('s1').db, 'emailsrvr_accounts')).toEqual(before);
    const fresh = r.freshDb();
    expect(dump(fresh, 'emailsrvr_accounts')).toEqual(before);
    fresh.close();
    expect(r.defaultState.db.memory).toBe(true);
  });
});
