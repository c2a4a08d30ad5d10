/**
 * Opening a database and giving it the schema of every vendor.
 *
 * Durability with `--db`: the file runs in WAL mode with `synchronous = NORMAL`. A transaction
 * that has returned is in the WAL, which the operating system holds even if this process is
 * killed (SIGKILL included), so every acknowledged write survives a crash of the emulator; only a
 * power loss or kernel crash can lose the last few transactions, which is the right trade for a
 * test double (FULL would fsync on every commit and cost an order of magnitude in write speed).
 */
import { closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { VendorData } from '../core/vendor.js';

export type DB = Database.Database;

/**
 * The `LIMIT ... OFFSET ...` of a page, each parameter written `<param> + 0`. SQLite (3.53) reads a
 * bare LIMIT parameter's value when it plans, so a statement with `LIMIT ?` is marked to be
 * prepared again whenever that parameter is bound, that is on every run: measured 3.3 -> 0.9 us for
 * a small UniPay page in isolation, about 4 us a Rackspace Index page. The sum is the same integer.
 */
export function pageClause(limit = '?', offset = '?'): string {
  return `LIMIT ${limit} + 0 OFFSET ${offset} + 0`;
}

/**
 * A LIKE pattern parameter, written `+<param>`. As with LIMIT, SQLite reads a bare pattern parameter when it plans (a
 * pattern with a literal prefix may use an index range), so a statement with `x LIKE ?` is prepared again on every run:
 * 12 -> 9 us for a 300-row scan in isolation, and in a session (where answers are not remembered across writes) the
 * re-preparation was 4 us of every request of the mixed bench (perf). The emulator's patterns start with a wildcard or
 * run on trigram-index candidates, so that plan is never the one wanted; unary plus leaves the bound text as it is.
 */
export function likeParam(param = '?'): string {
  return `+${param}`;
}

/** A lone surrogate: not valid Unicode text, so SQLite stores U+FFFD in its place. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Whether a TEXT value reads back exactly as it was bound: any string without a lone surrogate.
 * A store that builds its answer from what it wrote (instead of reading the row back) checks this.
 */
export function storedAsGiven(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

const META_DDL = `CREATE TABLE IF NOT EXISTS _emulator_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`;

function applyPragmas(db: DB, file: boolean): void {
  if (file) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
  }
  db.pragma('foreign_keys = ON');
}

/** Create every vendor's tables in an empty database. */
export function applySchema(db: DB, vendors: readonly VendorData[]): void {
  db.transaction(() => {
    db.exec(META_DDL);
    for (const v of vendors) for (const t of v.tables) db.exec(t.ddl);
  })();
}

/** A fresh in-memory database holding the schema only. */
export function openMemory(vendors: readonly VendorData[]): DB {
  const db = new Database(':memory:');
  applyPragmas(db, false);
  applySchema(db, vendors);
  return db;
}

/** An in-memory database copied from a serialized image (cheap: no schema or fixture work). */
export function openImage(image: Buffer): DB {
  const db = new Database(image);
  applyPragmas(db, false);
  return db;
}

/** A database file; `seeded` tells whether it already holds a fixture load. */
export function openFile(file: string, vendors: readonly VendorData[]): { db: DB; seeded: boolean } {
  // The file holds the sandbox secrets and every session's data: readable by its owner only.
  // SQLite gives the -wal and -shm files it makes the mode of the database file. A file that
  // already exists keeps the mode its owner chose.
  closeSync(openSync(file, 'a', 0o600));
  const db = new Database(file);
  applyPragmas(db, true);
  applySchema(
    db,
    vendors.map((v) => ({ ...v, tables: v.tables.map((t) => ({ ...t, ddl: ifNotExists(t.ddl) })) })),
  );
  return { db, seeded: getMeta(db, 'seeded') !== null };
}

/** Make DDL idempotent so an existing file can be reopened. */
function ifNotExists(ddl: string): string {
  return ddl
    .replace(/CREATE\s+TABLE\s+(?!IF\s+NOT\s+EXISTS)/gi, 'CREATE TABLE IF NOT EXISTS ')
    .replace(
      /CREATE\s+(UNIQUE\s+)?INDEX\s+(?!IF\s+NOT\s+EXISTS)/gi,
      (_m, u: string | undefined) => `CREATE ${u ?? ''}INDEX IF NOT EXISTS `,
    )
    .replace(/CREATE\s+VIRTUAL\s+TABLE\s+(?!IF\s+NOT\s+EXISTS)/gi, 'CREATE VIRTUAL TABLE IF NOT EXISTS ')
    .replace(/CREATE\s+TRIGGER\s+(?!IF\s+NOT\s+EXISTS)/gi, 'CREATE TRIGGER IF NOT EXISTS ');
}

export function getMeta(db: DB, key: string): string | null {
  const row = db.prepare('SELECT value FROM _emulator_meta WHERE key = ?').get(key) as { value: string } | undefined;
  return row ? row.value : null;
}

export function setMeta(db: DB, key: string, value: string): void {
  db.prepare(
    'INSERT INTO _emulator_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
  ).run(key, value);
}

/**
 * Statements whose SQL depends on a request's shape (which filters it has, its order, how many
 * values an IN list takes), each prepared once per shape: `stmt(shape, make)` is `make()`'s
 * statement, made the first time `shape` is asked for. Shapes come from fixed vocabularies (column
 * names, filter kinds), never from a request's values, so there are few of them.
 */
export function preparedByShape<S>(): (shape: string, make: () => S) => S {
  const made = new Map<string, S>();
  return (shape, make) => {
    let stmt = made.get(shape);
    if (stmt === undefined) {
      stmt = make();
      made.set(shape, stmt);
    }
    return stmt;
  };
}

/**
 * An object whose properties are made by `defs` on first read (then kept). A store is made per
 * state (so per session) and most of its statements are never used in a given session: preparing
 * them all up front would be most of the time of a new session's first RackCorp request.
 */
export function preparedOnUse<T extends Record<string, () => unknown>>(
  defs: T,
): { readonly [K in keyof T]: ReturnType<T[K]> } {
  const out = {} as Record<string, unknown>;
  for (const key of Object.keys(defs)) {
    Object.defineProperty(out, key, {
      configurable: true,
      enumerable: true,
      get() {
        const value = defs[key]();
        Object.defineProperty(out, key, { value, enumerable: true });
        return value;
      },
    });
  }
  return out as { readonly [K in keyof T]: ReturnType<T[K]> };
}
