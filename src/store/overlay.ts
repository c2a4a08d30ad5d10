/**
 * Copy-on-write sessions. A session does not copy the seeded data: its connection ATTACHes the
 * seeded database file (`seed`, never written) and keeps in its own in-memory main database only
 * what the session changed. Per vendor table T, main holds:
 *   - `T`, an empty table of T's columns: the session's own rows (inserted ones, and its changed
 *     copies of seed rows);
 *   - `_ovl_gone_T`: the primary keys of the seed rows the session deleted or changed;
 * and a TEMP VIEW named T (`seed.T` without the gone keys, UNION ALL `main.T`) with INSTEAD OF
 * triggers stands in front of them. SQLite resolves an unqualified name in temp first, so the
 * stores' SQL reads and writes the view without knowing. What a plain table would do for itself
 * the triggers do: UNIQUE across both arms, ON DELETE CASCADE to child tables, column defaults
 * (a view has none), ids that continue after the seed's (main's sqlite_sequence starts at the
 * seed's). All of it is generated from the seed's schema (table_info, index_list,
 * foreign_key_list), not written per table.
 *
 * What a view cannot give the stores ask for here: `insertedId()` (after an INSTEAD OF trigger,
 * `lastInsertRowid` is the one from before it), `rowOrder()` (a view has no rowid), `isOverlay()`
 * (the few searches through an FTS5 index read the session's own rows beside the seed's index).
 * A plain `SELECT COUNT(*) FROM T WHERE ...` is rewritten to counts on the tables (see
 * countRewrite); a LEFT JOIN to a view is materialized whole, so the stores avoid one on a big table.
 * Not reproduced: NO ACTION/RESTRICT foreign keys (where a plain database would fail a write with
 * a foreign key error, a session takes it; the stores write only rows whose parents they checked),
 * and the error code of a UNIQUE violation (SQLITE_CONSTRAINT_TRIGGER; no caller looks at it).
 *
 * Measured at 100k customers per vendor (see docs/performance.md): a new session opens in about
 * 1.3 ms and answers its first request in about 1.4 ms more; point reads through the views plan
 * as index searches on both arms.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database, { type Statement } from 'better-sqlite3';
import type { DB } from './db.js';
import type { VendorData } from '../core/vendor.js';

/** Marker table of an overlay database (and of its serialized image). */
const MARKER = '_ovl_meta';

/**
 * Tables of the seed that stand for "rows of T not in the search index yet": in a session the
 * session's own rows of T are exactly those (the seed's index never sees them), so the name is a
 * view of them. RackCorp's keyword search reads it beside the index (see rackcorp.ts).
 */
const UNINDEXED_VIEWS: Record<string, string> = {
  fts_rackcorp_unindexed: 'SELECT id FROM main.rackcorp_customers',
};

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

interface ColumnInfo {
  name: string;
  type: string;
  notnull: number;
  dflt_value: string | null;
  pk: number;
}
interface ForeignKey {
  table: string;
  from: string;
  to: string | null;
  on_delete: string;
}

/** What every session of one seed shares: the image of an empty overlay, and the TEMP schema to run on each. */
export interface OverlayTemplate {
  seedFile: string;
  image: Buffer;
  tempDdl: string;
  /** Per table: its INSTEAD OF triggers, made on the first write to it (see openOverlay). */
  triggers: Map<string, string>;
  /** Per table: the tables its deletes cascade to (their triggers are needed with its own). */
  cascadesTo: Map<string, string[]>;
  /** Primary key columns of each overlaid table (the order rows are listed in). */
  keys: Map<string, string[]>;
  /** The seed's share of rewritten counts, by statement and values (see seedCounted), and their bytes. */
  seedCounts: Map<string, unknown>;
  seedCountBytes: number;
}

const overlays = new WeakMap<DB, OverlayTemplate>();

/** Whether `db` is a session overlay (else a plain database holding all its rows). */
export function isOverlay(db: DB): boolean {
  return overlays.has(db);
}

/**
 * Strip what an own-rows table cannot hold: references to tables that are views here, and UNIQUE (checked across both
 * arms by the triggers).
 */
function ownTableDdl(sql: string): string {
  return sql
    .replace(/,\s*UNIQUE\s*\([^)]*\)/gi, '')
    .replace(
      /\bREFERENCES\s+\w+\s*\([^)]*\)(\s+ON\s+(DELETE|UPDATE)\s+(CASCADE|SET\s+NULL|SET\s+DEFAULT|RESTRICT|NO\s+ACTION))*/gi,
      '',
    )
    .replace(/\bUNIQUE\b/gi, '');
}

/** Build, from the seed file's schema, what each session over it needs. */
export function overlayTemplate(seedFile: string, vendors: readonly VendorData[]): OverlayTemplate {
  const seed = new Database(seedFile, { readonly: true });
  const tpl = new Database(':memory:');
  try {
    const vendorTables = new Set(vendors.flatMap((v) => v.tables.map((t) => t.name)));
    const master = seed
      .prepare('SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid')
      .all() as { type: string; name: string; tbl_name: string; sql: string }[];
    const virtual = new Set(
      master.filter((m) => m.type === 'table' && /^CREATE\s+VIRTUAL/i.test(m.sql)).map((m) => m.name),
    );
    // FTS5 shadow tables (fts_x_data, ...) belong to their index: read through it in the seed.
    const shadow = (name: string) => [...virtual].some((v) => name.startsWith(`${v}_`));
    const keys = new Map<string, string[]>();
    const triggers = new Map<string, string>();
    const temp: string[] = [`CREATE TEMP TABLE _ovl_last (k INTEGER PRIMARY KEY, id INTEGER)`];
    const children = new Map<string, { child: string; from: string; to: string; action: string }[]>();
    for (const t of vendorTables) {
      for (const fk of seed.pragma(`foreign_key_list(${q(t)})`) as ForeignKey[]) {
        if (!vendorTables.has(fk.table)) continue;
        const parentKey =
          fk.to ?? (seed.pragma(`table_info(${q(fk.table)})`) as ColumnInfo[]).find((c) => c.pk === 1)!.name;
        const list = children.get(fk.table) ?? [];
        list.push({ child: t, from: fk.from, to: parentKey, action: fk.on_delete.toUpperCase() });
        children.set(fk.table, list);
      }
    }
    tpl.exec(`CREATE TABLE ${MARKER} (key TEXT PRIMARY KEY, value TEXT)`);
    for (const m of master) {
      if (m.type !== 'table' || m.name.startsWith('sqlite_') || virtual.has(m.name) || shadow(m.name)) continue;
      if (m.name in UNINDEXED_VIEWS) {
        temp.push(`CREATE TEMP VIEW ${q(m.name)} AS ${UNINDEXED_VIEWS[m.name]}`);
        continue;
      }
      if (!vendorTables.has(m.name)) {
        // Not a vendor table (the emulator's own metadata): the session gets its own copy.
        tpl.exec(m.sql);
        const rows = seed
          .prepare(`SELECT * FROM ${q(m.name)}`)
          .raw()
          .all() as unknown[][];
        if (rows.length) {
          const ins = tpl.prepare(`INSERT INTO ${q(m.name)} VALUES (${rows[0].map(() => '?').join(', ')})`);
          for (const r of rows) ins.run(...r);
        }
        continue;
      }
      const t = m.name;
      tpl.exec(ownTableDdl(m.sql));
      for (const ix of master) {
        if (ix.type === 'index' && ix.tbl_name === t && !/^CREATE\s+UNIQUE/i.test(ix.sql)) tpl.exec(ix.sql);
      }
      const cols = seed.pragma(`table_info(${q(t)})`) as ColumnInfo[];
      const pk = cols
        .filter((c) => c.pk > 0)
        .sort((a, b) => a.pk - b.pk)
        .map((c) => c.name);
      if (pk.length === 0) throw new Error(`overlay: table ${t} has no primary key`);
      keys.set(t, pk);
      const gone = q(`_ovl_gone_${t}`);
      tpl.exec(`CREATE TABLE ${gone} (${pk.map(q).join(', ')}, PRIMARY KEY (${pk.map(q).join(', ')})) WITHOUT ROWID`);
      const pkTuple = (p: string) =>
        pk.length === 1 ? `${p}${q(pk[0])}` : `(${pk.map((c) => `${p}${q(c)}`).join(', ')})`;
      const pkEq = (a: string, b: string) => pk.map((c) => `${a}${q(c)} = ${b}${q(c)}`).join(' AND ');
      temp.push(`CREATE TEMP VIEW ${q(t)} AS SELECT * FROM seed.${q(t)} WHERE ${pkTuple('')} NOT IN (SELECT ${pk.map(q).join(', ')} FROM main.${gone})
        UNION ALL SELECT * FROM main.${q(t)}`);

      // UNIQUE constraints (and a primary key given explicitly) hold across both arms.
      const uniques: string[][] = [pk];
      for (const ix of seed.pragma(`index_list(${q(t)})`) as { name: string; unique: number; origin: string }[]) {
        if (!ix.unique || ix.origin === 'pk') continue;
        uniques.push((seed.pragma(`index_info(${q(ix.name)})`) as { name: string }[]).map((c) => c.name));
      }
      const uniqueChecks = (update: boolean) =>
        uniques
          .map((u) => {
            const match = u.map((c) => `${q(c)} = new.${q(c)}`).join(' AND ');
            const notSelf = update ? ` AND NOT (${pkEq('', 'old.')})` : '';
            const changed = update ? ` AND (${u.map((c) => `new.${q(c)} IS NOT old.${q(c)}`).join(' OR ')})` : '';
            return `SELECT RAISE(ABORT, 'UNIQUE constraint failed: ${u.map((c) => `${t}.${c}`).join(', ')}')
          WHERE ${u.map((c) => `new.${q(c)} IS NOT NULL`).join(' AND ')}${changed}
          AND (EXISTS (SELECT 1 FROM seed.${q(t)} WHERE ${match}${notSelf} AND ${pkTuple('')} NOT IN (SELECT ${pk.map(q).join(', ')} FROM main.${gone}))
            OR EXISTS (SELECT 1 FROM main.${q(t)} WHERE ${match}${notSelf}));`;
          })
          .join('\n');
      // A view has no column defaults: an omitted column arrives as NULL, so a NOT NULL column takes its default.
      const values = cols
        .map((c) =>
          c.notnull && c.dflt_value !== null ? `COALESCE(new.${q(c.name)}, ${c.dflt_value})` : `new.${q(c.name)}`,
        )
        .join(', ');
      const colList = cols.map((c) => q(c.name)).join(', ');
      const hideSeedRow = `INSERT OR IGNORE INTO main.${gone} SELECT ${pk.map((c) => `old.${q(c)}`).join(', ')} WHERE EXISTS (SELECT 1 FROM seed.${q(t)} WHERE ${pkEq('', 'old.')});
        DELETE FROM main.${q(t)} WHERE ${pkEq('', 'old.')};`;
      const cascade = (children.get(t) ?? [])
        .map((ch) => {
          if (ch.action === 'CASCADE') return `DELETE FROM ${q(ch.child)} WHERE ${q(ch.from)} = old.${q(ch.to)};`;
          if (ch.action === 'SET NULL')
            return `UPDATE ${q(ch.child)} SET ${q(ch.from)} = NULL WHERE ${q(ch.from)} = old.${q(ch.to)};`;
          return '';
        })
        .join('\n');
      triggers.set(
        t,
        `CREATE TEMP TRIGGER IF NOT EXISTS ${q(`_ovl_ins_${t}`)} INSTEAD OF INSERT ON ${q(t)} BEGIN
        ${uniqueChecks(false)}
        INSERT INTO main.${q(t)} (${colList}) VALUES (${values});
        INSERT OR REPLACE INTO temp._ovl_last (k, id) VALUES (0, last_insert_rowid());
      END;
      CREATE TEMP TRIGGER IF NOT EXISTS ${q(`_ovl_upd_${t}`)} INSTEAD OF UPDATE ON ${q(t)} BEGIN
        ${uniqueChecks(true)}
        ${hideSeedRow}
        INSERT INTO main.${q(t)} (${colList}) VALUES (${cols.map((c) => `new.${q(c.name)}`).join(', ')});
      END;
      CREATE TEMP TRIGGER IF NOT EXISTS ${q(`_ovl_del_${t}`)} INSTEAD OF DELETE ON ${q(t)} BEGIN
        ${cascade}
        ${hideSeedRow}
      END;`,
      );
    }
    // New ids continue after the seed's, as they would in a copy of it.
    if (seed.prepare("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").get()) {
      if (tpl.prepare("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").get()) {
        const put = tpl.prepare('INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)');
        for (const r of seed.prepare('SELECT name, seq FROM sqlite_sequence').all() as { name: string; seq: number }[])
          put.run(r.name, r.seq);
      }
    }
    const cascadesTo = new Map(
      [...children].map(([parent, list]) => [
        parent,
        list.filter((c) => c.action === 'CASCADE' || c.action === 'SET NULL').map((c) => c.child),
      ]),
    );
    return {
      seedFile,
      image: tpl.serialize(),
      tempDdl: temp.join(';\n') + ';',
      keys,
      triggers,
      cascadesTo,
      seedCounts: new Map(),
      seedCountBytes: 0,
    };
  } finally {
    seed.close();
    tpl.close();
  }
}

const VIEW_WRITE = /^cannot modify (\w+) because it is a view$/;
/** `SELECT COUNT(*) [AS n] FROM <table> [[AS] alias] WHERE <condition>`, nothing else. */
const PLAIN_COUNT =
  /^\s*SELECT\s+COUNT\(\*\)(\s+AS\s+\w+)?\s+FROM\s+(\w+)(?:\s+(?:AS\s+)?(?!WHERE\b)(\w+))?\s+WHERE\s+([\s\S]+)$/i;

/** Number the anonymous `?` parameters of `sql` (outside string literals) from 1: `?1`, `?2`, ... and say how many. */
function numberParameters(sql: string): { sql: string; n: number } {
  let out = '';
  let n = 0;
  let quote: string | null = null;
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i];
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
    } else if (ch === '?' && !/[0-9]/.test(sql[i + 1] ?? '')) {
      out += `?${++n}`;
      continue;
    }
    out += ch;
  }
  return { sql: out, n };
}

/**
 * A count over a view walks every row through the UNION ALL (about 7 times the plain count at 100
 * thousand rows). The same number comes from counts on the tables themselves: the seed's rows
 * matching, less those the session hid (looked up from its short list, CROSS JOIN keeps that
 * order), plus its own. The seed's count is a statement of its own, made once per values for
 * every session (seedCounted). The condition appears in each, so its `?` parameters become
 * numbered ones and the statements take positional values as `{1: .., 2: ..}`.
 */
function countRewrite(tpl: OverlayTemplate, sql: string): { seed: string; rest: string; numbered: boolean } | null {
  const m = PLAIN_COUNT.exec(sql);
  if (!m) return null;
  const [, as = '', table, alias, where] = m;
  const pk = tpl.keys.get(table);
  if (!pk || pk.length !== 1 || /\b(JOIN|ORDER|GROUP|LIMIT|UNION)\b/i.test(where)) return null;
  const { sql: w, n } = numberParameters(where);
  const a = q(alias ?? table);
  const key = `${a}.${q(pk[0])}`;
  return {
    seed: `SELECT COUNT(*) FROM seed.${q(table)} AS ${a} WHERE ${w}`,
    // The seed's count comes last: a named parameter takes the number after those before it.
    rest: `SELECT (SELECT COUNT(*) FROM main.${q(table)} AS ${a} WHERE ${w})
      - (SELECT COUNT(*) FROM (SELECT ${q(pk[0])} AS _ovl_k FROM main.${q(`_ovl_gone_${table}`)}) AS _ovl_g
          CROSS JOIN seed.${q(table)} AS ${a} ON ${key} = _ovl_g._ovl_k WHERE ${w})
      + @${SEED_COUNT}${as}`,
    numbered: n > 0,
  };
}

/** The parameter of a rewritten count that takes the seed's own count. */
const SEED_COUNT = '_ovl_seed_count';
/** Bytes of seed counts kept per template (keys are a statement and its values: a caller's text). */
const SEED_COUNTS_BYTES = 1 << 20;

/**
 * The seed's share of a count (its matching rows) never changes, so it is counted once per
 * statement and values for every session of the template, and remembered (bounded in bytes,
 * oldest first out); only the session's hidden and own rows are counted on each call.
 */
function seedCounted<S extends object>(
  tpl: OverlayTemplate,
  seedSql: string,
  seedStmt: Statement,
  stmt: S,
  numbered: boolean,
): S {
  const bind = (args: unknown[]): Record<string, unknown> | null => {
    if (args.length === 0) return {};
    if (args.length === 1 && args[0] !== null && typeof args[0] === 'object' && !Buffer.isBuffer(args[0]))
      return { ...(args[0] as Record<string, unknown>) };
    if (numbered && args.every((v) => v === null || typeof v !== 'object' || Buffer.isBuffer(v)))
      return Object.fromEntries(args.map((v, i) => [i + 1, v]));
    return null;
  };
  const seedCount = (values: Record<string, unknown>): unknown => {
    let key: string;
    try {
      key = `${seedSql}\0${JSON.stringify(values)}`;
    } catch {
      return seedStmt.get(values);
    }
    const counts = tpl.seedCounts;
    const hit = counts.get(key);
    if (hit !== undefined) return hit;
    const n = seedStmt.get(values);
    const bytes = 2 * key.length + 64;
    if (bytes <= SEED_COUNTS_BYTES / 8) {
      for (const [k] of counts) {
        if (tpl.seedCountBytes + bytes <= SEED_COUNTS_BYTES) break;
        counts.delete(k);
        tpl.seedCountBytes -= 2 * k.length + 64;
      }
      counts.set(key, n);
      tpl.seedCountBytes += bytes;
    }
    return n;
  };
  const proxy: S = new Proxy(stmt, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      if (prop === 'get' || prop === 'all' || prop === 'iterate' || prop === 'run') {
        return (...args: unknown[]) => {
          const values = bind(args);
          // A form of binding this does not know (Buffer values bound by name, ...) gets SQLite's own error.
          if (values === null) return (v as (...a: unknown[]) => unknown).apply(target, args);
          const seedValues = { ...values };
          return (v as (...a: unknown[]) => unknown).apply(target, [
            { ...values, [SEED_COUNT]: seedCount(seedValues) },
          ]);
        };
      }
      return (...args: unknown[]) => {
        const r = (v as (...a: unknown[]) => unknown).apply(target, args);
        return r === target ? proxy : r;
      };
    },
  });
  return proxy;
}
const WRITE_TARGET =
  /\b(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+"?(\w+)/gi;

/**
 * A session's database: an empty overlay over the seed (or the overlay of a snapshot, `image`).
 *
 * The views are made at once; a table's INSTEAD OF triggers (three quarters of the schema's
 * parse time, measured: about 5 of 7 ms for every table) when a statement first writes to it.
 * Preparing a write to a view without them fails with "cannot modify T because it is a view"
 * (so nothing can reach the seed): prepare and exec make the table's triggers then and try again.
 */
export function openOverlay(tpl: OverlayTemplate, image: Buffer = tpl.image): DB {
  const db = new Database(image);
  try {
    db.pragma('foreign_keys = ON');
    db.prepare('ATTACH DATABASE ? AS seed').run(tpl.seedFile);
    // The seed file is never written: the shared lock taken on its first read is kept. Otherwise
    // every statement reading it locks the file, looks for a hot journal and rereads its change
    // counter, then unlocks (system calls: measured 6.4 -> 0.3 us for a point read of the seed).
    db.pragma('seed.locking_mode = EXCLUSIVE');
    db.exec(tpl.tempDdl);
  } catch (e) {
    db.close();
    throw e;
  }
  const prepare = db.prepare.bind(db);
  const exec = db.exec.bind(db);
  const install = (table: string, seen = new Set<string>()): boolean => {
    const ddl = tpl.triggers.get(table);
    if (ddl === undefined || seen.has(table)) return false;
    seen.add(table);
    for (const child of tpl.cascadesTo.get(table) ?? []) install(child, seen);
    exec(ddl);
    return true;
  };
  // A statement names the tables it writes after INSERT INTO / UPDATE / DELETE FROM: their
  // triggers are made before it is prepared (a failed prepare is also retried once per table, for
  // a form this misses; exec is never retried, it may have run part of its statements).
  const writesTo = (sql: string) => {
    for (const m of sql.matchAll(WRITE_TARGET)) install(m[1]);
  };
  db.prepare = ((sql: string) => {
    const count = countRewrite(tpl, sql);
    if (count) return seedCounted(tpl, count.seed, prepare(count.seed).pluck(), prepare(count.rest), count.numbered);
    writesTo(sql);
    for (let tries = 0; ; tries++) {
      try {
        return prepare(sql);
      } catch (e) {
        const m = VIEW_WRITE.exec((e as Error).message);
        if (!m || tries > 8 || !install(m[1])) throw e;
      }
    }
  }) as typeof db.prepare;
  db.exec = ((sql: string) => {
    writesTo(sql);
    return exec(sql);
  }) as typeof db.exec;
  overlays.set(db, tpl);
  return db;
}

/**
 * Put `tables` of an overlay back to the seed's rows: forget the session's own rows and hidden seed rows, ids continue
 * after the seed's again.
 */
export function resetOverlayTables(db: DB, tables: readonly string[]): void {
  const tpl = overlays.get(db)!;
  db.transaction(() => {
    for (const t of tables) {
      if (!tpl.keys.has(t)) continue;
      db.exec(`DELETE FROM main.${q(t)}; DELETE FROM main.${q(`_ovl_gone_${t}`)};`);
      db.prepare('DELETE FROM main.sqlite_sequence WHERE name = ?').run(t);
      db.prepare(
        'INSERT INTO main.sqlite_sequence (name, seq) SELECT name, seq FROM seed.sqlite_sequence WHERE name = ?',
      ).run(t);
    }
  })();
}

/**
 * Apply an overlay's changes to `target`, a plain copy of the same seed, so that it holds what the
 * session sees. Rows keep their place (a changed seed row is updated where it is, a new row is
 * added after the others), as they would in a plain database the same writes went to, so an
 * export lists them in the same order. Foreign keys are off meanwhile: the overlay already holds
 * what a cascade did, and a changed parent must not take its children with it.
 */
export function applyOverlay(target: DB, overlay: DB): void {
  const tpl = overlays.get(overlay)!;
  const fk = target.pragma('foreign_keys', { simple: true });
  target.pragma('foreign_keys = OFF');
  try {
    target.transaction(() => {
      for (const [t, pk] of tpl.keys) {
        const gone = overlay
          .prepare(`SELECT ${pk.map(q).join(', ')} FROM main.${q(`_ovl_gone_${t}`)}`)
          .raw()
          .all() as unknown[][];
        const match = pk.map((c) => `${q(c)} = ?`).join(' AND ');
        if (gone.length) {
          const del = target.prepare(`DELETE FROM ${q(t)} WHERE ${match}`);
          const own = overlay.prepare(`SELECT 1 FROM main.${q(t)} WHERE ${match}`);
          for (const k of gone) if (!own.get(...k)) del.run(...k);
        }
        const stmt = overlay.prepare(`SELECT * FROM main.${q(t)} ORDER BY rowid`);
        const cols = stmt.columns().map((c) => c.name);
        const rows = stmt.raw().all() as unknown[][];
        if (rows.length === 0) continue;
        const rest = cols.filter((c) => !pk.includes(c));
        const put =
          target.prepare(`INSERT INTO ${q(t)} (${cols.map(q).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})
          ON CONFLICT (${pk.map(q).join(', ')}) DO ${rest.length ? `UPDATE SET ${rest.map((c) => `${q(c)} = excluded.${q(c)}`).join(', ')}` : 'NOTHING'}`);
        for (const r of rows) put.run(...r);
      }
      if (target.prepare("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").get()) {
        const seqs = overlay.prepare('SELECT name, seq FROM main.sqlite_sequence').raw().all() as [string, number][];
        const del = target.prepare('DELETE FROM sqlite_sequence WHERE name = ?');
        const ins = target.prepare('INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)');
        for (const [name, seq] of seqs)
          if (tpl.keys.has(name)) {
            del.run(name);
            ins.run(name, seq);
          }
      }
    })();
  } finally {
    target.pragma(`foreign_keys = ${fk ? 'ON' : 'OFF'}`);
  }
}

/** Whether a serialized database image is an overlay (a snapshot of a session): it has the marker table. */
export function isOverlayImage(db: DB): boolean {
  return !!db.prepare('SELECT 1 FROM sqlite_master WHERE name = ?').get(MARKER);
}

/** The id a just-run INSERT gave its row: through a view the trigger's insert is read back here. */
export function insertedId(db: DB, result: { lastInsertRowid: number | bigint }): number {
  if (!overlays.has(db)) return Number(result.lastInsertRowid);
  // Prepared once per session (an insert is the commonest write; preparing costs more than the read).
  let stmt = lastIds.get(db);
  if (stmt === undefined) {
    stmt = db.prepare('SELECT id FROM temp._ovl_last WHERE k = 0').pluck();
    lastIds.set(db, stmt);
  }
  return stmt.get() as number;
}
const lastIds = new WeakMap<DB, Statement>();

/**
 * For a list read in an index's order: the two arms of a table's view, to be written as a compound
 * SELECT (`SELECT .. FROM ${seed} cond UNION ALL SELECT .. FROM ${main} cond ORDER BY ..`), whose
 * ORDER BY SQLite meets by merging the arms, each read in order from its index. Through the view,
 * an ORDER BY that is not plain columns (a COLLATE) keeps SQLite from flattening it, and the whole
 * list is sorted before the first page. Null for a plain database, or a table of more than one key column.
 */
export function overlayArms(db: DB, table: string): { seed: string; main: string } | null {
  const pk = overlays.get(db)?.keys.get(table);
  if (!pk || pk.length !== 1) return null;
  return {
    seed: `seed.${q(table)} WHERE ${q(pk[0])} NOT IN (SELECT ${q(pk[0])} FROM main.${q(`_ovl_gone_${table}`)}) AND`,
    main: `main.${q(table)} WHERE`,
  };
}

/** `ORDER BY` text listing a table's rows in storage order: rowid for a table, the primary key for a view. */
export function rowOrder(db: DB, table: string, desc = false): string {
  const tpl = overlays.get(db);
  const cols = tpl?.keys.get(table) ?? ['rowid'];
  return cols.map((c) => `${c === 'rowid' ? c : q(c)}${desc ? ' DESC' : ''}`).join(', ');
}

const seedDirs = new Set<string>();
let exitHook = false;

/**
 * The seeded database as a private temp file for sessions to attach (until the compiled seed cache
 * provides one): removed by `removeSeedFile`, or when the process exits.
 */
export function writeSeedFile(image: Buffer): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vendor-api-emulator-seed-'));
  const file = path.join(dir, 'seed.sqlite');
  fs.writeFileSync(file, image, { mode: 0o600 });
  if (!exitHook)
    process.once('exit', () => {
      for (const d of seedDirs) fs.rmSync(d, { recursive: true, force: true });
    });
  exitHook = true;
  seedDirs.add(dir);
  return file;
}

/**
 * Remove a file made by writeSeedFile (the sessions still attached to it keep reading it: an unlinked file lives on
 * while open).
 */
export function removeSeedFile(file: string): void {
  const dir = path.dirname(file);
  if (!seedDirs.delete(dir)) return;
  fs.rmSync(dir, { recursive: true, force: true });
}
