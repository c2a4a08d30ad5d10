/**
 * Moving vendor data between databases: the one mechanism behind reset, per-vendor reset,
 * snapshots and restore. An in-memory state simply gets a new database (opened from an image);
 * the file-backed default state (`--db`) keeps its file and has its vendor tables rewritten in
 * one transaction, so it stays persistent.
 */
import type { DB } from '../../store/db.js';
import { openImage } from '../../store/db.js';
import { clearVendor } from '../../store/fixtures.js';
import type { EmulatorState, StateRegistry } from '../../store/state.js';
import type { VendorModule } from '../../routes/shared/vendor.js';

function realTables(db: DB, vendor: VendorModule): string[] {
  return vendor.tables
    .map((t) => t.name)
    .filter((name) => {
      const row = db.prepare('SELECT sql FROM sqlite_master WHERE type = ? AND name = ?').get('table', name) as { sql: string } | undefined;
      return !!row && !/CREATE\s+VIRTUAL/i.test(row.sql);
    });
}

/** Replace `vendors`' rows (and id sequences) in `target` with those of `source`, in one transaction. */
export function copyVendorData(target: DB, source: DB, vendors: readonly VendorModule[]): void {
  const hasSeq = (db: DB) => !!db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").get();
  target.transaction(() => {
    // Tables of one vendor may point at another's (or at later tables): check keys at commit.
    target.pragma('defer_foreign_keys = ON');
    for (const v of vendors) {
      clearVendor(target, v);
      const tables = realTables(target, v);
      for (const t of tables) {
        const rows = source.prepare(`SELECT * FROM ${t} ORDER BY rowid`).raw(true).all() as unknown[][];
        if (rows.length === 0) continue;
        const cols = source.prepare(`SELECT * FROM ${t} LIMIT 0`).columns().map((c) => c.name);
        const ins = target.prepare(`INSERT INTO ${t} (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
        for (const r of rows) ins.run(...r);
      }
      if (hasSeq(source) && hasSeq(target)) {
        const get = source.prepare('SELECT seq FROM sqlite_sequence WHERE name = ?');
        const put = target.prepare('INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)');
        target.prepare(`DELETE FROM sqlite_sequence WHERE name IN (${tables.map(() => '?').join(', ') || "''"})`).run(...tables);
        for (const t of tables) {
          const row = get.get(t) as { seq: number } | undefined;
          if (row) put.run(t, row.seq);
        }
      }
    }
  })();
}

/** Put the state's data back to the fixtures: every vendor, or only `vendor`. */
export function resetState(registry: StateRegistry, state: EmulatorState, vendor?: VendorModule): void {
  if (!vendor && state.db.memory) {
    state.replaceDb(registry.freshDb());
    return;
  }
  const fresh = registry.freshDb();
  try {
    copyVendorData(state.db, fresh, vendor ? [vendor] : registry.vendors);
  } finally {
    fresh.close();
  }
}

/** A serialized image of the state's vendor data (nothing else: no snapshots table of a --db file). */
export function imageOf(registry: StateRegistry, state: EmulatorState): Buffer {
  if (state.db.memory) return state.db.serialize();
  const copy = registry.freshDb();
  try {
    copyVendorData(copy, state.db, registry.vendors);
    return copy.serialize();
  } finally {
    copy.close();
  }
}

/** Make the state hold the data of an image. */
export function restoreImage(registry: StateRegistry, state: EmulatorState, image: Buffer): void {
  if (state.db.memory) {
    state.replaceDb(openImage(image));
    return;
  }
  const src = openImage(image);
  try {
    copyVendorData(state.db, src, registry.vendors);
  } finally {
    src.close();
  }
}
