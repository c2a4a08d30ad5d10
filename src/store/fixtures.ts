/**
 * Fixtures: `<dir>/<vendor>/<table>.json`, each an array of row objects whose keys are column
 * names, or `<table>.jsonl` (JSON Lines: one row object per line) for big tables: a JSON Lines
 * file is streamed into the table, so a million rows never sit in memory as one string. One layout for every vendor, so loading, per-vendor reset and export (snapshots as a
 * fixtures folder) are the same generic code. Rows load in the vendor's table order, in one
 * transaction; a missing file means an empty table.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DB } from './db.js';
import { setMeta } from './db.js';
import type { VendorModule } from '../routes/shared/vendor.js';

export class FixtureError extends Error {}

export type VendorFixtures = Record<string, Record<string, unknown>[]>;

/** The fixture file of one table: `.json`, `.jsonl`, or null when there is none. */
function fixtureFile(dir: string, vendor: VendorModule, table: string): { file: string; lines: boolean } | null {
  const json = path.join(dir, vendor.name, `${table}.json`);
  const jsonl = path.join(dir, vendor.name, `${table}.jsonl`);
  const hasJson = fs.existsSync(json);
  const hasLines = fs.existsSync(jsonl);
  if (hasJson && hasLines) throw new FixtureError(`${json} and ${jsonl} both exist: keep one`);
  if (hasLines) return { file: jsonl, lines: true };
  return hasJson ? { file: json, lines: false } : null;
}

/** Call `each` for every row of a JSON Lines file, reading it in large chunks. Blank lines are skipped. */
export function forEachJsonLine(file: string, each: (row: Record<string, unknown>) => void): void {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 24);
  let rest = '';
  let lineNo = 0;
  const handle = (line: string) => {
    lineNo++;
    if (line.trim() === '') return;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (e) {
      throw new FixtureError(`${file}:${lineNo}: not valid JSON (${(e as Error).message})`);
    }
    if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new FixtureError(`${file}:${lineNo}: expected a row object`);
    each(row as Record<string, unknown>);
  };
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      // Cut at the last newline so a multi-byte character or a row never straddles two chunks.
      const end = buf.lastIndexOf(10, n - 1);
      if (end < 0) {
        rest += buf.toString('utf8', 0, n);
        continue;
      }
      const text = rest + buf.toString('utf8', 0, end);
      rest = buf.toString('utf8', end + 1, n);
      let start = 0;
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', start)) {
        handle(text.slice(start, i));
        start = i + 1;
      }
      handle(text.slice(start));
    }
    if (rest !== '') handle(rest);
  } finally {
    fs.closeSync(fd);
  }
}

/** Read one vendor's fixture files (table name -> rows). */
export function readVendorFixtures(dir: string, vendor: VendorModule): VendorFixtures {
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

/**
 * Insert rows one by one, streaming: one prepared statement per distinct set of keys (a missing
 * key takes the column's default, as with `.json`, where absent keys of a row insert NULL only when
 * another row names the column). Used for `.jsonl`, where the rows are not all known in advance.
 */
function rowInserter(db: DB, table: string): (r: Record<string, unknown>) => void {
  const stmts = new Map<string, { cols: string[]; stmt: import('better-sqlite3').Statement }>();
  return (r) => {
    const cols = Object.keys(r);
    const key = cols.join(',');
    let s = stmts.get(key);
    if (!s) {
      for (const c of cols) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(c)) throw new FixtureError(`${table}: bad column name "${c}"`);
      s = { cols, stmt: db.prepare(`INSERT INTO ${table} (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`) };
      stmts.set(key, s);
    }
    const vals = new Array<unknown>(s.cols.length);
    for (let i = 0; i < vals.length; i++) vals[i] = toSqlValue(r[s.cols[i]]);
    s.stmt.run(vals);
  };
}

/** Insert rows into one table; columns are the union of the rows' keys. */
export function insertRows(db: DB, table: string, rows: Record<string, unknown>[]): void {
  if (rows.length === 0) return;
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  for (const c of cols) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(c)) throw new FixtureError(`${table}: bad column name "${c}"`);
  const stmt = db.prepare(`INSERT INTO ${table} (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
  for (const r of rows) stmt.run(...cols.map((c) => toSqlValue(r[c])));
}

/** Empty one vendor's tables (children first) and reset their id sequences. */
export function clearVendor(db: DB, vendor: VendorModule): void {
  const hasSeq = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").get();
  for (const t of [...vendor.tables].reverse()) {
    if (isVirtual(db, t.name)) continue;
    db.prepare(`DELETE FROM ${t.name}`).run();
    if (hasSeq) db.prepare('DELETE FROM sqlite_sequence WHERE name = ?').run(t.name);
  }
}

function isVirtual(db: DB, table: string): boolean {
  const row = db.prepare('SELECT sql FROM sqlite_master WHERE name = ?').get(table) as { sql: string } | undefined;
  return !!row && /CREATE\s+VIRTUAL/i.test(row.sql);
}

/** Load one vendor's fixtures into its (empty) tables. Runs inside the caller's transaction. */
export function loadVendorFixtures(db: DB, vendor: VendorModule, fixtures: VendorFixtures): void {
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

const BULKABLE_TRIGGER = /^CREATE\s+TRIGGER\s+(?:IF\s+NOT\s+EXISTS\s+)?\S+\s+AFTER\s+INSERT\s+ON\s+"?(\w+)"?\s+BEGIN\s+INSERT\s+INTO\s+(\w+)\s*\(([^()]*)\)\s*VALUES\s*\(([\s\S]*)\)\s*;\s*END$/i;

/** The table's AFTER INSERT triggers whose whole body is one `INSERT INTO x (cols) VALUES (exprs of new.*)`. */
function bulkableTriggers(db: DB, table: string): { name: string; sql: string; target: string; cols: string; values: string }[] {
  const rows = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?").all(table) as { name: string; sql: string }[];
  const out = [];
  for (const r of rows) {
    const m = BULKABLE_TRIGGER.exec(r.sql.trim());
    // A body with a second statement would not match: `[\s\S]*` then must end in exactly one `); END`.
    if (m && m[1] === table && !/;/.test(m[4])) out.push({ name: r.name, sql: r.sql, target: m[2], cols: m[3], values: m[4] });
  }
  return out;
}

/** Load one vendor's fixtures straight from its folder, streaming `.jsonl` tables. Runs inside the caller's transaction. */
function streamVendorFixtures(db: DB, dir: string, vendor: VendorModule, parsed: VendorFixtures): void {
  for (const t of vendor.tables) {
    const found = fixtureFile(dir, vendor, t.name);
    if (!found) continue;
    if (!found.lines) {
      loadVendorFixtures(db, { ...vendor, tables: [t], afterFixtures: undefined }, parsed);
      continue;
    }
    // A big table loads faster with its plain indexes built once at the end (a sort) than
    // maintained row by row; constraint indexes (UNIQUE, PRIMARY KEY) stay, so duplicates still fail.
    const indexes = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL")
      .all(t.name) as { name: string; sql: string }[];
    for (const ix of indexes) db.exec(`DROP INDEX "${ix.name}"`);
    // Likewise an AFTER INSERT trigger made of one INSERT ... VALUES (a search index kept in step)
    // runs once over all the new rows instead of once per row (ten times faster for FTS5).
    const triggers = bulkableTriggers(db, t.name);
    for (const tr of triggers) db.exec(`DROP TRIGGER "${tr.name}"`);
    const before = (db.prepare(`SELECT COALESCE(MAX(rowid), 0) AS m FROM ${t.name}`).get() as { m: number }).m;
    const tRows = Date.now();
    const insert = rowInserter(db, t.name);
    try {
      forEachJsonLine(found.file, insert);
    } catch (e) {
      if (e instanceof FixtureError) throw e;
      throw new FixtureError(`fixtures ${vendor.name}/${t.name}.jsonl: ${(e as Error).message}`);
    }
    const tIx = Date.now();
    for (const ix of indexes) db.exec(ix.sql);
    for (const tr of triggers) {
      db.prepare(`INSERT INTO ${tr.target} (${tr.cols}) SELECT ${tr.values} FROM ${t.name} AS new WHERE new.rowid > ?`).run(before);
      db.exec(tr.sql);
    }
    if (process.env.EMULATOR_LOAD_TIMING) process.stderr.write(`${t.name}: ${tIx - tRows} ms rows, ${Date.now() - tIx} ms indexes\n`);
  }
  vendor.afterFixtures?.(db);
}

/** Load every vendor's fixtures from a folder, in one transaction, and mark the store seeded. */
export function loadAllFixtures(db: DB, dir: string, vendors: readonly VendorModule[]): void {
  if (!fs.existsSync(dir)) throw new FixtureError(`fixtures folder not found: ${dir}`);
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
      if (bulk && fk) {
        const bad = db.prepare('PRAGMA foreign_key_check').get() as { table: string; rowid: number; parent: string } | undefined;
        if (bad) throw new FixtureError(`fixtures: ${bad.table} row ${bad.rowid}: FOREIGN KEY constraint failed (no such row in ${bad.parent})`);
      }
      setMeta(db, 'seeded', new Date(0).toISOString());
      setMeta(db, 'fixtures', path.resolve(dir));
    })();
  } finally {
    if (bulk && fk) db.pragma('foreign_keys = ON');
  }
}

/** Dump one vendor's tables as fixture content (table name -> rows), in id order. */
export function exportVendorFixtures(db: DB, vendor: VendorModule): VendorFixtures {
  const out: VendorFixtures = {};
  for (const t of vendor.tables) {
    if (isVirtual(db, t.name)) continue;
    out[t.name] = db.prepare(`SELECT * FROM ${t.name} ORDER BY rowid`).all() as Record<string, unknown>[];
  }
  return out;
}
