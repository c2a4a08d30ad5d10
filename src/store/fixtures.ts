/**
 * Fixtures: `<dir>/<vendor>/<table>.json`, each an array of row objects whose keys are column
 * names, or `<table>.jsonl` (JSON Lines: one row object per line, or a header line of column
 * names and one array of values per line) for big tables: a JSON Lines file is streamed into the
 * table, so a million rows never sit in memory as one string. One layout for every vendor, so
 * loading, per-vendor reset and export (snapshots as a fixtures folder) are the same generic
 * code. Rows load in the vendor's table order, in one transaction; a missing file means an empty
 * table.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Statement } from 'better-sqlite3';
import type { DB } from './db.js';
import { setMeta } from './db.js';
import { FixtureError, forEachJsonLine, readJsonLines, scanPlainRowAt, type JsonLinesSink } from './jsonl.js';
import type { VendorData } from '../core/vendor.js';

export { FixtureError };

/**
 * With `EMULATOR_LOAD_TIMING` set, a function that prints to stderr how long it has been since its
 * previous call (or its creation), labelled; otherwise null.
 */
export function loadTiming(): ((label: string) => void) | null {
  if (!process.env.EMULATOR_LOAD_TIMING) return null;
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  return (label) => {
    const now = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    process.stderr.write(
      `${label}: ${Math.round(now - last)} ms (cpu ${Math.round((cpu.user + cpu.system) / 1000)} ms)\n`,
    );
    last = now;
    lastCpu = process.cpuUsage();
  };
}

export type VendorFixtures = Record<string, Record<string, unknown>[]>;

/** The fixture file of one table: `.json`, `.jsonl`, or null when there is none. */
export function fixtureFile(dir: string, vendor: VendorData, table: string): { file: string; lines: boolean } | null {
  const json = path.join(dir, vendor.name, `${table}.json`);
  const jsonl = path.join(dir, vendor.name, `${table}.jsonl`);
  const hasJson = fs.existsSync(json);
  const hasLines = fs.existsSync(jsonl);
  if (hasJson && hasLines) throw new FixtureError(`${json} and ${jsonl} both exist: keep one`);
  if (hasLines) return { file: jsonl, lines: true };
  return hasJson ? { file: json, lines: false } : null;
}

/** Read one vendor's fixture files (table name -> rows). */
export function readVendorFixtures(dir: string, vendor: VendorData): VendorFixtures {
  const out: VendorFixtures = {};
  for (const t of vendor.tables) {
    const found = fixtureFile(dir, vendor, t.name);
    if (!found) continue;
    const file = found.file;
    if (found.lines) {
      const rows: Record<string, unknown>[] = [];
      forEachJsonLine(file, (r) => rows.push(r));
      out[t.name] = rows;
      continue;
    }
    let rows: unknown;
    try {
      rows = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new FixtureError(`${file}: not valid JSON (${(e as Error).message})`);
    }
    if (!Array.isArray(rows)) throw new FixtureError(`${file}: expected an array of rows`);
    out[t.name] = rows as Record<string, unknown>[];
  }
  return out;
}

function toSqlValue(v: unknown): unknown {
  if (v === undefined) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v !== null && typeof v === 'object') return JSON.stringify(v);
  return v;
}

/** Rows per INSERT statement when streaming: one call binds many rows (the per-call cost is paid once). */
const BATCH_VALUES = 999;

/**
 * Insert rows streaming, in file order: one prepared statement per distinct list of keys (a
 * missing key takes the column's default, as with `.json`, where absent keys of a row insert NULL
 * only when another row names the column). Used for `.jsonl`, where the rows are not all known in
 * advance. Consecutive rows with the same keys (the usual case: a generated file) are inserted
 * many per statement; `flush()` writes the rows still waiting.
 */
function rowInserter(db: DB, table: string): JsonLinesSink & { flush: () => void } {
  type Shape = { cols: string[]; one: Statement; many: Statement; per: number };
  const shapes = new Map<string, Shape>();
  let shape: Shape | null = null;
  // The values of the rows waiting, written in place: `pending` holds one full statement's worth
  // (made once per shape and reused), `k` values of which are taken.
  let pending: unknown[] = [];
  let k = 0;
  let rows = 0;
  const statement = (cols: string[], n: number) => {
    const one = `(${cols.map(() => '?').join(', ')})`;
    return db.prepare(
      `INSERT INTO ${table} (${cols.map((c) => `"${c}"`).join(', ')}) VALUES ${new Array(n).fill(one).join(', ')}`,
    );
  };
  const flush = () => {
    if (shape === null || rows === 0) return;
    if (rows === shape.per) shape.many.run(...pending);
    else {
      const n = shape.cols.length;
      for (let i = 0; i < k; i += n) shape.one.run(...pending.slice(i, i + n));
    }
    k = 0;
    rows = 0;
  };
  const sameKeys = (keys: string[], cols: string[]) => {
    if (keys.length !== cols.length) return false;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== cols[i]) return false;
    return true;
  };
  const use = (keys: string[]): Shape => {
    flush();
    const key = keys.join(',');
    let s = shapes.get(key);
    if (!s) {
      for (const c of keys)
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(c)) throw new FixtureError(`${table}: bad column name "${c}"`);
      const per = Math.max(1, Math.floor(BATCH_VALUES / Math.max(1, keys.length)));
      s = { cols: keys, one: statement(keys, 1), many: statement(keys, per), per };
      shapes.set(key, s);
    }
    if (s !== shape) pending = new Array(s.per * s.cols.length);
    return (shape = s);
  };
  const object = (r: Record<string, unknown>) => {
    const keys = Object.keys(r);
    const s = shape !== null && sameKeys(keys, shape.cols) ? shape : use(keys);
    for (let i = 0; i < keys.length; i++) {
      const v = r[keys[i]];
      pending[k++] = typeof v === 'string' || typeof v === 'number' ? v : toSqlValue(v);
    }
    if (++rows === s.per) flush();
  };
  const values = (columns: string[], vals: unknown[]) => {
    const s = shape !== null && (shape.cols === columns || sameKeys(columns, shape.cols)) ? shape : use(columns);
    for (let i = 0; i < vals.length; i++) {
      const v = vals[i];
      pending[k++] = typeof v === 'string' || typeof v === 'number' ? v : toSqlValue(v);
    }
    if (++rows === s.per) flush();
  };
  // Only once `values` has made the header's shape the current one (its first row), so a bad
  // header or first row fails in `values`, with its checks and messages.
  const plainRow = (columns: string[], text: string, start: number, end: number) => {
    const s = shape;
    if (s === null || s.cols !== columns) return false;
    const n = columns.length;
    if (scanPlainRowAt(text, start, end, pending, k, n) !== n) return false;
    k += n;
    if (++rows === s.per) flush();
    return true;
  };
  return { object, values, plainRow, flush };
}

/** Insert rows into one table; columns are the union of the rows' keys. */
export function insertRows(db: DB, table: string, rows: Record<string, unknown>[]): void {
  if (rows.length === 0) return;
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  for (const c of cols)
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(c)) throw new FixtureError(`${table}: bad column name "${c}"`);
  const stmt = db.prepare(
    `INSERT INTO ${table} (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
  );
  for (const r of rows) stmt.run(...cols.map((c) => toSqlValue(r[c])));
}

/** Empty one vendor's tables (children first) and reset their id sequences. */
export function clearVendor(db: DB, vendor: VendorData): void {
  const hasSeq = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").get();
  for (const t of [...vendor.tables].reverse()) {
    if (isVirtual(db, t.name)) continue;
    db.prepare(`DELETE FROM ${t.name}`).run();
    if (hasSeq) db.prepare('DELETE FROM sqlite_sequence WHERE name = ?').run(t.name);
  }
}

const FTS5_DEFAULT_HASHSIZE = 1024 * 1024;
const BULK_FTS5_HASHSIZE = 32 * 1024 * 1024;

function isFts5(db: DB, table: string): boolean {
  const row = db.prepare('SELECT sql FROM sqlite_master WHERE name = ?').get(table) as { sql: string } | undefined;
  return !!row && /CREATE\s+VIRTUAL\s+TABLE\s[\s\S]*\bUSING\s+fts5\s*\(/i.test(row.sql);
}

function isVirtual(db: DB, table: string): boolean {
  const row = db.prepare('SELECT sql FROM sqlite_master WHERE name = ?').get(table) as { sql: string } | undefined;
  return !!row && /CREATE\s+VIRTUAL/i.test(row.sql);
}

/** Load one vendor's fixtures into its (empty) tables. Runs inside the caller's transaction. */
export function loadVendorFixtures(db: DB, vendor: VendorData, fixtures: VendorFixtures): void {
  for (const t of vendor.tables) {
    const rows = fixtures[t.name];
    if (!rows) continue;
    try {
      insertRows(db, t.name, rows);
    } catch (e) {
      if (e instanceof FixtureError) throw e;
      throw new FixtureError(`fixtures ${vendor.name}/${t.name}.json: ${(e as Error).message}`);
    }
  }
  vendor.afterFixtures?.(db);
}

const BULKABLE_TRIGGER =
  /^CREATE\s+TRIGGER\s+(?:IF\s+NOT\s+EXISTS\s+)?\S+\s+AFTER\s+INSERT\s+ON\s+"?(\w+)"?\s+BEGIN\s+INSERT\s+INTO\s+(\w+)\s*\(([^()]*)\)\s*VALUES\s*\(([\s\S]*)\)\s*;\s*END$/i;

/** The table's AFTER INSERT triggers whose whole body is one `INSERT INTO x (cols) VALUES (exprs of new.*)`. */
function bulkableTriggers(
  db: DB,
  table: string,
): { name: string; sql: string; target: string; cols: string; values: string }[] {
  const rows = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?").all(table) as {
    name: string;
    sql: string;
  }[];
  const out = [];
  for (const r of rows) {
    const m = BULKABLE_TRIGGER.exec(r.sql.trim());
    // A body with a second statement would not match: `[\s\S]*` then must end in exactly one `); END`.
    if (m && m[1] === table && !/;/.test(m[4]))
      out.push({ name: r.name, sql: r.sql, target: m[2], cols: m[3], values: m[4] });
  }
  return out;
}

function maxRowid(db: DB, table: string): number {
  return (db.prepare(`SELECT COALESCE(MAX(rowid), 0) AS m FROM ${table}`).get() as { m: number }).m;
}

/**
 * Load one vendor's fixtures straight from its folder, streaming `.jsonl` tables. Runs inside the caller's transaction.
 */
function streamVendorFixtures(db: DB, dir: string, vendor: VendorData, parsed: VendorFixtures): void {
  const vendorTiming = loadTiming();
  for (const t of vendor.tables) {
    const found = fixtureFile(dir, vendor, t.name);
    if (!found) continue;
    if (!found.lines) {
      loadVendorFixtures(db, { ...vendor, tables: [t], afterFixtures: undefined }, parsed);
      continue;
    }
    // A big table loads faster with its plain indexes built once at the end (a sort) than
    // maintained row by row; constraint indexes (UNIQUE, PRIMARY KEY) stay, so duplicates still fail.
    const indexes = db
      .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL")
      .all(t.name) as { name: string; sql: string }[];
    for (const ix of indexes) db.exec(`DROP INDEX "${ix.name}"`);
    // Likewise an AFTER INSERT trigger made of one INSERT ... VALUES (a search index kept in step)
    // runs once over all the new rows instead of once per row (ten times faster for FTS5).
    const triggers = bulkableTriggers(db, t.name);
    for (const tr of triggers) db.exec(`DROP TRIGGER "${tr.name}"`);
    const before = maxRowid(db, t.name);
    const timing = loadTiming();
    const insert = rowInserter(db, t.name);
    try {
      readJsonLines(found.file, insert);
      insert.flush();
    } catch (e) {
      if (e instanceof FixtureError) throw e;
      throw new FixtureError(`fixtures ${vendor.name}/${t.name}.jsonl: ${(e as Error).message}`);
    }
    timing?.(`${t.name}: rows`);
    for (const ix of indexes) {
      db.exec(ix.sql);
      timing?.(`${t.name}: index ${ix.name}`);
    }
    for (const tr of triggers) {
      // An FTS5 index writes its pending terms out as a new segment each time they pass its hash
      // size (1 MB by default), and merges segments as they pile up: for a million rows, a larger
      // hash while filling means far fewer segments to write and merge (about a third less time,
      // and a quicker search after). The default is put back for later writes.
      const fts5 = isFts5(db, tr.target);
      if (fts5) db.exec(`INSERT INTO ${tr.target} (${tr.target}, rank) VALUES ('hashsize', ${BULK_FTS5_HASHSIZE})`);
      db.prepare(
        `INSERT INTO ${tr.target} (${tr.cols}) SELECT ${tr.values} FROM ${t.name} AS new WHERE new.rowid > ?`,
      ).run(before);
      if (fts5) db.exec(`INSERT INTO ${tr.target} (${tr.target}, rank) VALUES ('hashsize', ${FTS5_DEFAULT_HASHSIZE})`);
      db.exec(tr.sql);
      timing?.(`${t.name}: ${tr.target}`);
    }
  }
  vendorTiming?.(`${vendor.name}: tables`);
  vendor.afterFixtures?.(db);
  vendorTiming?.(`${vendor.name}: after fixtures`);
}

/**
 * Load every vendor's fixtures from a folder, in one transaction, and mark the store seeded. With
 * `foreignKeyCheck: false` the references between rows of the JSON Lines tables are left for the
 * caller to check (checkForeignKeys), once over everything it loaded.
 */
export function loadAllFixtures(
  db: DB,
  dir: string,
  vendors: readonly VendorData[],
  opts: { foreignKeyCheck?: boolean } = {},
): void {
  if (!fs.existsSync(dir)) throw new FixtureError(`fixtures folder not found: ${dir}`);
  const timing = loadTiming();
  // Small (.json) tables are read and parsed up front, so a malformed file fails before any write.
  const parsed = vendors.map((v) => {
    const small = v.tables.filter((t) => fixtureFile(dir, v, t.name)?.lines === false);
    return readVendorFixtures(dir, { ...v, tables: small });
  });
  // With JSON Lines (big) tables, foreign keys are checked once over the whole load instead of
  // row by row: same outcome (a dangling reference fails the load, nothing is kept), much faster.
  const bulk = vendors.some((v) => v.tables.some((t) => fixtureFile(dir, v, t.name)?.lines === true));
  const fk = db.pragma('foreign_keys', { simple: true }) === 1;
  if (bulk && fk) db.pragma('foreign_keys = OFF');
  try {
    db.transaction(() => {
      // Foreign keys are checked at commit, so a fixture file may list children before parents.
      db.pragma('defer_foreign_keys = ON');
      vendors.forEach((v, i) => streamVendorFixtures(db, dir, v, parsed[i]));
      timing?.('rows and indexes');
      if (bulk && fk && opts.foreignKeyCheck !== false) {
        checkForeignKeys(db);
        timing?.('foreign key check');
      }
      setMeta(db, 'seeded', new Date(0).toISOString());
      setMeta(db, 'fixtures', path.resolve(dir));
    })();
    timing?.('commit');
  } finally {
    if (bulk && fk) db.pragma('foreign_keys = ON');
  }
}

/** Fail with a FixtureError naming the first row whose reference has no row to point to. */
export function checkForeignKeys(db: DB): void {
  const bad = db.prepare('PRAGMA foreign_key_check').get() as
    { table: string; rowid: number; parent: string } | undefined;
  if (bad)
    throw new FixtureError(
      `fixtures: ${bad.table} row ${bad.rowid}: FOREIGN KEY constraint failed (no such row in ${bad.parent})`,
    );
}

/** The bytes of a vendor's JSON Lines fixture files: about how long its load takes, to share loads out. */
export function jsonLinesBytes(dir: string, vendor: VendorData): number {
  let n = 0;
  for (const t of vendor.tables) {
    const found = fixtureFile(dir, vendor, t.name);
    if (found?.lines) n += fs.statSync(found.file).size;
  }
  return n;
}

/** Dump one vendor's tables as fixture content (table name -> rows), in id order. */
export function exportVendorFixtures(db: DB, vendor: VendorData): VendorFixtures {
  const out: VendorFixtures = {};
  for (const t of vendor.tables) {
    if (isVirtual(db, t.name)) continue;
    out[t.name] = db.prepare(`SELECT * FROM ${t.name} ORDER BY rowid`).all() as Record<string, unknown>[];
  }
  return out;
}
