/**
 * The helper process of seed-parallel.ts (`node seed-worker.js <json>`): takes vendors from the
 * queue and loads their fixtures into a database of its own, written to a file for the main process
 * to copy from. It loads the emulator's own vendors (vendor-data.ts; functions cannot be sent): a vendor whose DDL
 * differs from the one asked for (a caller's own vendor list) makes it take nothing, leaving every
 * vendor to the main process.
 */
import path from 'node:path';
import fs from 'node:fs';
import type { DB } from './db.js';
import { openMemory } from './db.js';
import { checkForeignKeys, FixtureError, loadAllFixtures } from './fixtures.js';
import { claim, RESULT_FILE, type SeedWorkerData, type SeedWorkerResult } from './seed-parallel.js';

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
    for (let at = 0; at < own.length; at++) {
      if (!claim(data.tmpDir, at)) continue;
      db ??= openMemory(vendors);
      loadAllFixtures(db, data.dir, [own[at]!], { foreignKeyCheck: false });
      result.taken.push(at);
    }
    if (db !== null) {
      if (db.pragma('foreign_keys', { simple: true }) === 1) checkForeignKeys(db);
      const file = path.join(data.tmpDir, 'part.sqlite');
      fs.writeFileSync(file, db.serialize(), { mode: 0o600 });
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
