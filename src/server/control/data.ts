/**
 * Moving vendor data between databases: the one mechanism behind reset, per-vendor reset,
 * snapshots and restore. An in-memory state simply gets a new database (opened from an image);
 * the file-backed default state (`--db`) keeps its file and has its vendor tables rewritten in
 * one transaction, so it stays persistent.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { DB } from '../../store/db.js';
import { openImage, pageClause } from '../../store/db.js';
import { applyOverlay, isOverlay, isOverlayImage, resetOverlayTables, rowOrder } from '../../store/overlay.js';
import { clearVendor } from '../../store/fixtures.js';
import type { EmulatorState, StateRegistry } from '../../store/state.js';
import type { VendorData } from '../../core/vendor.js';
import { ControlError, controlSessionId, controlState } from './common.js';

function realTables(db: DB, vendor: VendorData): string[] {
  return vendor.tables
    .map((t) => t.name)
    .filter((name) => {
      const row = db.prepare('SELECT sql FROM sqlite_master WHERE type = ? AND name = ?').get('table', name) as
        { sql: string } | undefined;
      return !!row && !/CREATE\s+VIRTUAL/i.test(row.sql);
    });
}

/** Replace `vendors`' rows (and id sequences) in `target` with those of `source`, in one transaction. */
export function copyVendorData(target: DB, source: DB, vendors: readonly VendorData[]): void {
  const hasSeq = (db: DB) => !!db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").get();
  target.transaction(() => {
    // Tables of one vendor may point at another's (or at later tables): check keys at commit.
    target.pragma('defer_foreign_keys = ON');
    for (const v of vendors) {
      clearVendor(target, v);
      const tables = realTables(target, v);
      for (const t of tables) {
        const rows = source
          .prepare(`SELECT * FROM ${t} ORDER BY ${rowOrder(source, t)}`)
          .raw(true)
          .all() as unknown[][];
        if (rows.length === 0) continue;
        const cols = source
          .prepare(`SELECT * FROM ${t} LIMIT 0`)
          .columns()
          .map((c) => c.name);
        const ins = target.prepare(
          `INSERT INTO ${t} (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
        );
        for (const r of rows) ins.run(...r);
      }
      if (hasSeq(source) && hasSeq(target)) {
        const get = source.prepare('SELECT seq FROM sqlite_sequence WHERE name = ?');
        const put = target.prepare('INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)');
        target
          .prepare(`DELETE FROM sqlite_sequence WHERE name IN (${tables.map(() => '?').join(', ') || "''"})`)
          .run(...tables);
        for (const t of tables) {
          const row = get.get(t) as { seq: number } | undefined;
          if (row) put.run(t, row.seq);
        }
      }
      // What a fixture load does once the rows are in (RackCorp writes waiting rows to its keyword
      // index, NeuCRM keeps its id floor): a reset or restore is a load from another source.
      v.afterFixtures?.(target);
    }
  })();
}

/** Put the state's data back to the fixtures: every vendor, or only `vendor`. */
export function resetState(registry: StateRegistry, state: EmulatorState, vendor?: VendorData): void {
  if (isOverlay(state.db)) {
    if (vendor)
      resetOverlayTables(
        state.db,
        vendor.tables.map((t) => t.name),
      );
    else state.replaceDb(registry.sessionDb());
    return;
  }
  if (!vendor && state.db.memory) {
    state.replaceDb(state === registry.defaultState ? registry.freshDb() : registry.sessionDb());
    return;
  }
  const fresh = registry.freshDb();
  try {
    copyVendorData(state.db, fresh, vendor ? [vendor] : registry.vendors);
  } finally {
    fresh.close();
  }
}

/** A plain in-memory database holding all the data of `db` (a copy of it, or the seed with an overlay's changes). */
export function plainCopy(registry: StateRegistry, db: DB): DB {
  if (!isOverlay(db)) return openImage(db.serialize());
  const copy = registry.freshDb();
  try {
    applyOverlay(copy, db);
    for (const v of registry.vendors) v.afterFixtures?.(copy);
  } catch (e) {
    copy.close();
    throw e;
  }
  return copy;
}

/**
 * A serialized image of the state's vendor data (nothing else: no snapshots table of a --db file).
 * A session's is only its changes (small), except with --db, where snapshots are kept in the file
 * and outlive this process's seed: there it is all of the data, as the default state's is.
 */
export function imageOf(registry: StateRegistry, state: EmulatorState): Buffer {
  if (isOverlay(state.db) && !registry.persistent) return state.db.serialize();
  if (state.db.memory && !isOverlay(state.db)) return state.db.serialize();
  const copy = state.db.memory ? plainCopy(registry, state.db) : registry.freshDb();
  try {
    if (!state.db.memory) copyVendorData(copy, state.db, registry.vendors);
    return copy.serialize();
  } finally {
    copy.close();
  }
}

/** Open an image made by imageOf: a plain database, or a session's changes over the seed. */
export function openAnyImage(registry: StateRegistry, image: Buffer): DB {
  const db = openImage(image);
  if (!isOverlayImage(db)) return db;
  db.close();
  return registry.sessionDb(image);
}

/** Make the state hold the data of an image. */
export function restoreImage(registry: StateRegistry, state: EmulatorState, image: Buffer): void {
  const src = openAnyImage(registry, image);
  // A session takes the image's database as it is (changes over the seed, or a plain copy).
  if (state !== registry.defaultState) {
    state.replaceDb(src);
    return;
  }
  if (state.db.memory) {
    if (!isOverlay(src)) {
      state.replaceDb(src);
      return;
    }
    const plain = plainCopy(registry, src);
    src.close();
    state.replaceDb(plain);
    return;
  }
  try {
    copyVendorData(state.db, src, registry.vendors);
  } finally {
    src.close();
  }
}

// ---- routes: the data browser (read only) ----

const DataQuery = Type.Object(
  {
    session: Type.Optional(Type.String()),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
    offset: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

/** A row as JSON: BLOBs become a short description (their bytes are no use in a browser). */
function plainRow(row: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(row)) if (Buffer.isBuffer(v)) row[k] = `[blob, ${v.length} bytes]`;
  return row;
}

/**
 *   GET /_emulator/data                          row counts: `{ session, vendors: { <vendor>: { <table>: n } } }`
 *   GET /_emulator/data/<vendor>/<table>         `{ vendor, table, columns, total, limit, offset, rows }` (rowid order)
 * Only tables a vendor declares can be named, so the name is safe to put in SQL.
 */
export async function dataRoutes(app: FastifyInstance, scope: FastifyInstance): Promise<void> {
  scope.get(
    '/data',
    {
      schema: { querystring: Type.Object({ session: Type.Optional(Type.String()) }, { additionalProperties: false }) },
    },
    async (request) => {
      const db = controlState(app, request).db;
      const out: Record<string, Record<string, number>> = {};
      for (const v of app.registry.vendors) {
        out[v.name] = {};
        for (const t of v.tables)
          out[v.name][t.name] = (db.prepare(`SELECT COUNT(*) AS n FROM "${t.name}"`).get() as { n: number }).n;
      }
      return { session: controlSessionId(request), vendors: out };
    },
  );
  scope.get(
    '/data/:vendor/:table',
    {
      schema: { params: Type.Object({ vendor: Type.String(), table: Type.String() }), querystring: DataQuery },
    },
    async (request) => {
      const { vendor: name, table } = request.params as { vendor: string; table: string };
      const { limit = 50, offset = 0 } = request.query as Static<typeof DataQuery>;
      const vendor = app.registry.vendors.find((v) => v.name === name);
      if (!vendor)
        throw new ControlError(
          404,
          `Unknown vendor "${name}"; one of ${app.registry.vendors.map((v) => v.name).join(', ')}`,
        );
      if (!vendor.tables.some((t) => t.name === table)) {
        throw new ControlError(
          404,
          `Vendor ${name} has no table "${table}"; its tables: ${vendor.tables.map((t) => t.name).join(', ')}`,
        );
      }
      const db = controlState(app, request).db;
      const stmt = db.prepare(`SELECT * FROM "${table}" ORDER BY ${rowOrder(db, table)} ${pageClause()}`);
      const rows = (stmt.all(limit, offset) as Record<string, unknown>[]).map(plainRow);
      const total = (db.prepare(`SELECT COUNT(*) AS n FROM "${table}"`).get() as { n: number }).n;
      return {
        session: controlSessionId(request),
        vendor: name,
        table,
        columns: stmt.columns().map((c) => c.name),
        total,
        limit,
        offset,
        rows,
      };
    },
  );
}
