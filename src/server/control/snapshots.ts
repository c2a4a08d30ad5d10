/**
 * Snapshots: named copies of a state's vendor data, global to the instance (take one in a session,
 * restore it into any session or the default state). With `--db` they are also written to the
 * `_emulator_snapshots` table of that file and survive restarts. A snapshot holds data only: a
 * restore leaves the target's clock, journal and fault rules alone.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { DB } from '../../store/db.js';
import { exportVendorFixtures, type VendorFixtures } from '../../store/fixtures.js';
import { SESSION_ID_PATTERN, type StateRegistry } from '../../store/state.js';
import { ControlError, controlSessionId, controlState } from './common.js';
import { imageOf, openAnyImage, plainCopy, restoreImage } from './data.js';
import { isOverlay } from '../../store/overlay.js';

export interface SnapshotInfo {
  name: string;
  createdAt: string;
  /** The session it was taken from (null = default state). */
  session: string | null;
  bytes: number;
}

/** What the snapshots may hold together (--max-snapshots, --max-snapshot-bytes). */
export interface SnapshotLimits {
  maxSnapshots: number;
  maxBytes: number;
}

export class SnapshotStore {
  private mem = new Map<string, { info: SnapshotInfo; image: Buffer }>();
  private file: DB | null;
  /** Bytes of the images held. */
  private bytes = 0;

  constructor(
    registry: StateRegistry,
    private readonly limits: SnapshotLimits = { maxSnapshots: Infinity, maxBytes: Infinity },
  ) {
    this.file = registry.persistent ? registry.defaultState.db : null;
    if (this.file) {
      this.file.exec(
        'CREATE TABLE IF NOT EXISTS _emulator_snapshots (name TEXT PRIMARY KEY, image BLOB NOT NULL, createdAt TEXT NOT NULL, session TEXT)',
      );
      const rows = this.file
        .prepare('SELECT name, image, createdAt, session FROM _emulator_snapshots ORDER BY createdAt, name')
        .all() as { name: string; image: Buffer; createdAt: string; session: string | null }[];
      for (const r of rows) {
        this.mem.set(r.name, {
          info: { name: r.name, createdAt: r.createdAt, session: r.session, bytes: r.image.length },
          image: r.image,
        });
        this.bytes += r.image.length;
      }
    }
  }

  save(name: string, image: Buffer, session: string | null): SnapshotInfo {
    const old = this.mem.get(name);
    if (!old && this.mem.size >= this.limits.maxSnapshots) {
      throw new ControlError(
        409,
        `${this.mem.size} snapshots are kept, the most allowed (--max-snapshots ${this.limits.maxSnapshots}); DELETE /_emulator/snapshots/<name> one you no longer need, or save over one`,
      );
    }
    const held = this.bytes - (old?.image.length ?? 0);
    if (held + image.length > this.limits.maxBytes) {
      throw new ControlError(
        413,
        `This snapshot (${image.length} bytes) would take the snapshots past ${this.limits.maxBytes} bytes (--max-snapshot-bytes; ${held} held by the others)`,
      );
    }
    const info: SnapshotInfo = { name, createdAt: new Date().toISOString(), session, bytes: image.length };
    this.mem.delete(name);
    this.mem.set(name, { info, image });
    this.bytes = held + image.length;
    if (this.file?.open) {
      this.file
        .prepare(
          'INSERT INTO _emulator_snapshots (name, image, createdAt, session) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET image = excluded.image, createdAt = excluded.createdAt, session = excluded.session',
        )
        .run(name, image, info.createdAt, session);
    }
    return info;
  }

  get(name: string): Buffer {
    const s = this.mem.get(name);
    if (!s) throw new ControlError(404, `No snapshot named "${name}" (GET /_emulator/snapshots lists them)`);
    return s.image;
  }

  list(): SnapshotInfo[] {
    return [...this.mem.values()].map((s) => s.info);
  }

  delete(name: string): boolean {
    if (this.file?.open) this.file.prepare('DELETE FROM _emulator_snapshots WHERE name = ?').run(name);
    const s = this.mem.get(name);
    if (!s) return false;
    this.bytes -= s.image.length;
    return this.mem.delete(name);
  }
}

/**
 * Rows of a table that points at itself (a customer's parent) in an order the fixtures loader can
 * insert one by one with foreign keys on: every referenced row before the rows referring to it.
 */
function parentsFirst(db: DB, table: string, rows: Record<string, unknown>[]): Record<string, unknown>[] {
  const fks = (db.pragma(`foreign_key_list(${table})`) as { table: string; from: string; to: string | null }[]).filter(
    (f) => f.table === table,
  );
  if (fks.length === 0 || rows.length === 0) return rows;
  const byKey = new Map<string, Map<unknown, Record<string, unknown>>>();
  for (const f of fks) {
    const to = f.to ?? 'rowid';
    if (!byKey.has(to)) byKey.set(to, new Map(rows.map((r) => [r[to], r])));
  }
  const out: Record<string, unknown>[] = [];
  const state = new Map<Record<string, unknown>, 1 | 2>();
  const visit = (r: Record<string, unknown>) => {
    if (state.get(r)) return; // done, or a cycle (left to the loader to refuse)
    state.set(r, 1);
    for (const f of fks) {
      const v = r[f.from];
      if (v === null || v === undefined) continue;
      const parent = byKey.get(f.to ?? 'rowid')!.get(v);
      if (parent && parent !== r) visit(parent);
    }
    state.set(r, 2);
    out.push(r);
  };
  for (const r of rows) visit(r);
  return out;
}

/** The fixtures-folder content of an image: `{ <vendor>: { <table>: rows } }`. */
export function fixturesOfImage(registry: StateRegistry, image: Buffer): Record<string, VendorFixtures> {
  let db = openAnyImage(registry, image);
  if (isOverlay(db)) {
    // A session's changes: exported as the whole data they make with the seed, as any snapshot is.
    const overlay = db;
    try {
      db = plainCopy(registry, overlay);
    } finally {
      overlay.close();
    }
  }
  try {
    const out: Record<string, VendorFixtures> = {};
    for (const v of registry.vendors) {
      const tables = exportVendorFixtures(db, v);
      for (const [t, rows] of Object.entries(tables)) tables[t] = parentsFirst(db, t, rows);
      out[v.name] = tables;
    }
    return out;
  } finally {
    db.close();
  }
}

const Name = Type.Object({ name: Type.String({ pattern: SESSION_ID_PATTERN.source }) });

export async function snapshotRoutes(
  app: FastifyInstance,
  scope: FastifyInstance,
  store: SnapshotStore,
): Promise<void> {
  scope.get('/snapshots', async () => ({ snapshots: store.list() }));
  scope.post('/snapshots/:name', { schema: { params: Name } }, async (request, reply) => {
    const { name } = request.params as { name: string };
    const state = controlState(app, request);
    return reply.code(201).send(store.save(name, imageOf(app.registry, state), controlSessionId(request)));
  });
  scope.post('/snapshots/:name/restore', { schema: { params: Name } }, async (request) => {
    const { name } = request.params as { name: string };
    const image = store.get(name);
    restoreImage(app.registry, controlState(app, request), image);
    return { restored: name, session: controlSessionId(request) };
  });
  scope.get('/snapshots/:name/fixtures', { schema: { params: Name } }, async (request) => {
    const { name } = request.params as { name: string };
    return fixturesOfImage(app.registry, store.get(name));
  });
  scope.delete('/snapshots/:name', { schema: { params: Name } }, async (request) => {
    const { name } = request.params as { name: string };
    if (!store.delete(name)) throw new ControlError(404, `No snapshot named "${name}"`);
    return { deleted: name };
  });
}
