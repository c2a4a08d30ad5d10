/**
 * The helper process of seed-parallel.ts (`node seed-worker.js <json>`): takes vendors from the
 * queue and loads their fixtures into a database file of its own, for the main process to copy
 * from. It loads the emulator's own vendors (vendor-data.ts; functions cannot be sent): a vendor
 * whose DDL differs from the one asked for (a caller's own vendor list) makes it take nothing,
 * leaving every vendor to the main process.
 */
import path from 'node:path';
import fs from 'node:fs';
import Database from 'better-sqlite3';
import type { DB } from './db.js';
import { applySchema } from './db.js';
import type { VendorData } from '../core/vendor.js';
import { checkForeignKeys, FixtureError, loadAllFixtures } from './fixtures.js';
import { claim, RESULT_FILE, type SeedWorkerData, type SeedWorkerResult } from './seed-parallel.js';

/**
 * The helper's database: its file, written by SQLite itself as each vendor's load commits (no
 * rollback journal: a failed load throws the file away), with a page cache big enough that no
 * page is written twice.
 */
function openPart(file: string, vendors: readonly VendorData[]): DB {
  const db = new Database(file);
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma(`cache_size = ${-16 * 1024 * 1024}`);
  db.pragma('foreign_keys = ON');
  applySchema(db, vendors);
  return db;
}

const data = JSON.parse(process.argv[2]) as SeedWorkerData;
const result: SeedWorkerResult = { taken: [], file: null };
let db: DB | null = null;
try {
  const { vendorData: vendors } = await import('./vendor-data.js');
  const own = data.queue.map((q) => {
    const v = vendors.find((x) => x.name === q.name);
    return v && v.tables.length === q.ddl.length && v.tables.every((t, i) => t.ddl === q.ddl[i]) ? v : null;
  });
  if (own.every((v) => v !== null)) {
    const file = path.join(data.tmpDir, 'part.sqlite');
    for (let at = 0; at < own.length; at++) {
      if (!claim(data.tmpDir, at)) continue;
      db ??= openPart(file, vendors);
      loadAllFixtures(db, data.dir, [own[at]!], { foreignKeyCheck: false });
      result.taken.push(at);
    }
    if (db !== null) {
      if (db.pragma('foreign_keys', { simple: true }) === 1) checkForeignKeys(db);
      db.close();
      db = null;
      result.file = file;
    }
  }
} catch (e) {
  result.error = { message: (e as Error).message, fixture: e instanceof FixtureError };
} finally {
  db?.close();
  const tmp = path.join(data.tmpDir, `${RESULT_FILE}.tmp`);
  try {
    fs.writeFileSync(tmp, JSON.stringify(result));
    fs.renameSync(tmp, path.join(data.tmpDir, RESULT_FILE));
  } catch {
    // The folder is gone: the main process stopped waiting (the cache held the seed).
  }
}
