/**
 * Fixtures: `<dir>/<vendor>/<table>.json`, each an array of row objects whose keys are column
 * names. One layout for every vendor, so loading, per-vendor reset and export (snapshots as a
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

/** Read one vendor's fixture files (table name -> rows). */
export function readVendorFixtures(dir: string, vendor: VendorModule): VendorFixtures {
  const out: VendorFixtures = {};
  for (const t of vendor.tables) {
    const file = path.join(dir, vendor.name, `${t.name}.json`);
    if (!fs.existsSync(file)) continue;
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

/** Load every vendor's fixtures from a folder, in one transaction, and mark the store seeded. */
export function loadAllFixtures(db: DB, dir: string, vendors: readonly VendorModule[]): void {
  if (!fs.existsSync(dir)) throw new FixtureError(`fixtures folder not found: ${dir}`);
  const all = vendors.map((v) => [v, readVendorFixtures(dir, v)] as const);
  db.transaction(() => {
    // Foreign keys are checked at commit, so a fixture file may list children before parents.
    db.pragma('defer_foreign_keys = ON');
    for (const [v, f] of all) loadVendorFixtures(db, v, f);
    setMeta(db, 'seeded', new Date(0).toISOString());
    setMeta(db, 'fixtures', path.resolve(dir));
  })();
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
